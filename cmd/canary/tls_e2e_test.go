package main

import (
	"github.com/canary-gate/canary/internal/sharedtest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canary-gate/canary/internal/devcert"
)

// TestHTTPSIngress: an https ingress (the local mesh with --tls-cert) passes
// the gate with --ca-file or --insecure, and without a way to trust it the
// gate stops before any load with one x509 line and exit 4; --sni and
// --host-header reach a certificate issued for a host name; --http2 works
// over h2 and h2c.
func TestHTTPSIngress(t *testing.T) {
	t.Parallel()
	allV1 := filepath.Join(sharedtest.Dir(t, "seed-manifests"), "virtual-service-all-v1.yaml")
	dir := t.TempDir()
	ca, err := devcert.NewCA("canary test CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Issue("127.0.0.1", "bookinfo.example")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := pair.WriteFiles(dir, "ingress")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := devcert.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	otherFile := filepath.Join(dir, "other-ca.pem")
	if err := os.WriteFile(otherFile, other.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--tls-cert", filepath.Join(dir, "nope.pem"), "--tls-key", keyFile}, {"--tls-cert", certFile}, {"--tls-cert", keyFile, "--tls-key", keyFile}} {
		_, stderr, code := run(t, "", append([]string{"bookinfo", "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...)...)
		if code != ExitUsage || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "canary: --tls-") {
			t.Errorf("bookinfo serve %v: exit %d, stderr %q; want exit 2 and one line naming the flag", args, code, stderr)
		}
	}
	mp := startMesh(t, "--propagation-delay", "0", "--tls-cert", certFile, "--tls-key", keyFile)
	if mp.scheme != "https" {
		t.Fatalf("bookinfo serve --tls-cert: ingress scheme %q, want https", mp.scheme)
	}
	plain := startMesh(t, "--propagation-delay", "0")
	// A split that decides in about 60 pages, so the verdict is certain.
	mp.ctl(t, "apply", "-f", allV1)
	plain.ctl(t, "apply", "-f", allV1)
	gate := []string{"--expect", "v1=100", "--settle", "0", "--max-requests", "1000", "--rate", "0", "--require-prometheus=false"}
	for _, tc := range []struct {
		name   string
		target string
		args   []string
		code   int
		stderr string // a substring of the one line on stderr
	}{
		{"ca-file", mp.url("/productpage"), []string{"--ca-file", caFile}, ExitPass, ""},
		{"insecure", mp.url("/productpage"), []string{"--insecure"}, ExitPass, ""},
		{"untrusted", mp.url("/productpage"), nil, ExitError, "x509: certificate signed by unknown authority (give --ca-file FILE, or --insecure"},
		{"another CA", mp.url("/productpage"), []string{"--ca-file", otherFile}, ExitError, "x509: certificate signed by unknown authority"},
		{"sni", mp.url("/productpage"), []string{"--ca-file", caFile, "--sni", "bookinfo.example"}, ExitPass, ""},
		{"host-header gives the sni", mp.url("/productpage"), []string{"--ca-file", caFile, "--host-header", "bookinfo.example"}, ExitPass, ""},
		{"wrong sni", mp.url("/productpage"), []string{"--ca-file", caFile, "--sni", "reviews.example"}, ExitError, "not reviews.example (give --sni NAME"},
		{"http2 over https", mp.url("/productpage"), []string{"--ca-file", caFile, "--http2"}, ExitPass, ""},
		{"http2 over http (h2c)", plain.url("/productpage"), []string{"--http2"}, ExitPass, ""},
		{"missing ca-file", mp.url("/productpage"), []string{"--ca-file", filepath.Join(dir, "nope.pem")}, ExitUsage, "ca-file: open "},
		{"ca-file over http", plain.url("/productpage"), []string{"--ca-file", caFile}, ExitUsage, "ca-file: want an https target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"verify", "--target", tc.target}, gate...), tc.args...)
			out, stderr, code := run(t, "", args...)
			if code != tc.code {
				t.Fatalf("canary %s: exit %d, want %d\nstdout %s\nstderr %s", strings.Join(args, " "), code, tc.code, out, stderr)
			}
			if tc.stderr != "" && (strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.stderr)) {
				t.Errorf("canary %s: stderr %q, want one line containing %q", strings.Join(args, " "), stderr, tc.stderr)
			}
			if tc.code == ExitError && out != "" {
				t.Errorf("canary %s: a gate that could not start printed a report:\n%s", strings.Join(args, " "), out)
			}
		})
	}
}
