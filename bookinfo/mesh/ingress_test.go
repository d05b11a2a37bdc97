package mesh

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/canary-gate/canary/bookinfo/app"
	"github.com/canary-gate/canary/internal/devcert"
)

// ingressCert writes a certificate for 127.0.0.1 signed by a new CA and
// returns its files and a pool that trusts the CA.
func ingressCert(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	ca, err := devcert.NewCA("bookinfo test CA")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ca.Issue("127.0.0.1", "bookinfo.example")
	if err != nil {
		t.Fatal(err)
	}
	if certFile, keyFile, err = p.WriteFiles(dir, "ingress"); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	return certFile, keyFile, roots
}

// ingressSeries is the ingress's istio_requests_total, one line a series.
func ingressSeries(t *testing.T, m *Mesh) []string {
	t.Helper()
	body := string(fetch(t, nil, "http://"+m.AdminAddr()+"/sidecars/"+ingressPeer.workload+"/stats/prometheus"))
	var lines []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "istio_requests_total{") {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

// TestIngressProtocols checks the product page over HTTP/1.1 and HTTP/2,
// on a plain and on a TLS ingress, and that the ingress reports the same
// telemetry whichever protocol the page came over.
func TestIngressProtocols(t *testing.T) {
	t.Parallel()
	certFile, keyFile, roots := ingressCert(t, t.TempDir())
	tests := []struct {
		name   string
		tls    bool
		proto  int // HTTP major version
		scheme string
	}{
		{"http/1.1", false, 1, "http"},
		{"h2c", false, 2, "http"},
		{"https http/1.1", true, 1, "https"},
		{"https h2", true, 2, "https"},
	}
	var want []string // the telemetry of one page over plain HTTP/1.1
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { // not parallel: the first row sets want
			o := Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Markup: app.Markup122}
			if tc.tls {
				o.TLSCertFile, o.TLSKeyFile = certFile, keyFile
			}
			m := startMesh(t, o)
			if m.Scheme() != tc.scheme {
				t.Errorf("Scheme() = %q; want %q", m.Scheme(), tc.scheme)
			}
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, Protocols: new(http.Protocols)}
			tr.Protocols.SetHTTP1(tc.proto == 1)
			tr.Protocols.SetHTTP2(tc.proto == 2)
			tr.Protocols.SetUnencryptedHTTP2(tc.proto == 2)
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(m.Scheme() + "://" + m.Addr() + "/productpage")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<title>Simple Bookstore App</title>")) {
				t.Fatalf("GET /productpage = %s, %d bytes, error %v; want the product page", resp.Status, len(body), err)
			}
			if got := resp.ProtoMajor; got != tc.proto {
				t.Errorf("page came over %s; want HTTP/%d", resp.Proto, tc.proto)
			}
			got := ingressSeries(t, m)
			if want == nil {
				want = got
			}
			if diff := cmp.Diff(want, got); diff != "" || len(got) == 0 {
				t.Errorf("ingress istio_requests_total differs from HTTP/1.1's (-http/1.1 +%s):\n%s", tc.name, diff)
			}
		})
	}
}

// TestStartTLSErrors checks that a bad certificate or key stops Start
// with an error naming the option.
func TestStartTLSErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, _ := ingressCert(t, dir)
	_, otherKey, _ := ingressCert(t, t.TempDir())
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name       string
		cert, key  string
		wantPrefix string
	}{
		{"cert alone", certFile, "", "tls-cert and tls-key: give both or neither"},
		{"key alone", "", keyFile, "tls-cert and tls-key: give both or neither"},
		{"cert missing", missing, keyFile, "tls-cert: open " + missing + ": no such file"},
		{"key missing", certFile, missing, "tls-key: open " + missing + ": no such file"},
		{"key of another cert", certFile, otherKey, "tls-cert and tls-key: tls: private key does not match public key"},
		{"key as cert", keyFile, keyFile, "tls-cert and tls-key: tls: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := Start(Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", TLSCertFile: tc.cert, TLSKeyFile: tc.key})
			if err == nil {
				_ = m.Shutdown(context.Background())
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantPrefix) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Start() error = %v; want one line starting %q", err, tc.wantPrefix)
			}
		})
	}
}
