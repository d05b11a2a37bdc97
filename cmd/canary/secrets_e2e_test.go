package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// echoProm is a Prometheus (or a proxy in front of one) that answers
// vector(1) and rejects every other request with the whole request echoed
// in its error, headers included: what a careless proxy does.
func echoProm(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("query") == "vector(1)" {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}`)
			return
		}
		dump, _ := httputil.DumpRequest(r, false)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":%q}`, "bad request: "+string(dump))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSecretsNeverPrinted: every secret canary is given (URL passwords of
// the target and Prometheus, the Prometheus bearer token file and header
// values, an Authorization header) stays out of stdout, stderr and every
// report format, even when Prometheus echoes the request back in its
// error.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	mp := startMesh(t, "--propagation-delay", "0")
	prom := echoProm(t)
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("PROMTOKEN-s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := []string{"PROMTOKEN-s3cr3t", "URLPASS-s3cr3t", "TGTPASS-s3cr3t", "HEADER-s3cr3t", "AUTH-s3cr3t"}
	target := strings.Replace(mp.url("/productpage"), "://", "://u:TGTPASS-s3cr3t@", 1)
	promURL := strings.Replace(prom.URL, "://", "://u:URLPASS-s3cr3t@", 1)
	common := []string{"--expect", "v1=34,v2=33,v3=33", "--tolerance", "20", "--rate", "0", "--max-requests", "200", "--settle", "0",
		"--server-wait", "2s", "--target", target, "--prometheus", promURL, "--prom-bearer-token-file", token,
		"--prom-header", "X-Scope-OrgID=HEADER-s3cr3t", "--header", "Authorization: Bearer AUTH-s3cr3t"}
	for _, format := range []string{"text", "json", "junit", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "report."+format)
			stdout, stderr, code := run(t, "", append([]string{"verify", "--format", format, "--output", out}, common...)...)
			report, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("verify exit %d wrote no report: %v\n%s", code, err, stderr)
			}
			if !strings.Contains(string(report), "bad request") || !strings.Contains(string(report), "***") {
				t.Errorf("the report does not carry Prometheus' echoed error, masked:\n%.2000s", report)
			}
			for _, s := range secrets {
				for name, text := range map[string]string{"stdout": stdout, "stderr": stderr, format + " report": string(report)} {
					if strings.Contains(text, s) {
						t.Errorf("%s shows %s:\n%.3000s", name, s, text)
					}
				}
			}
		})
	}
	// Prometheus rejecting the first query: the one error line is masked.
	bad := strings.Replace(promURL, prom.URL[len("http://"):], "127.0.0.1:1", 1)
	_, stderr, code := run(t, "", append(append([]string{"verify"}, common...), "--prometheus", bad)...)
	if code != ExitError || !strings.Contains(stderr, "http://***@127.0.0.1:1") {
		t.Errorf("an unreachable Prometheus with a password in its URL: exit %d, stderr %q; want exit 4 naming it masked", code, stderr)
	}
	// A scenario's Prometheus URL, as canary run prints it in every form.
	scenario := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(scenario, []byte("name: s\ndefaults:\n  prometheus: {url: \""+promURL+"\"}\nstages:\n- name: one\n  expect: v1=100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		stdout, stderr, _ := run(t, "", "run", scenario, "--target", target, "--format", format)
		for _, s := range secrets {
			if strings.Contains(stdout+stderr, s) {
				t.Errorf("run --format %s shows %s:\n%s\n%s", format, s, stdout, stderr)
			}
		}
	}
	stdout, stderr, _ := run(t, "", "attack", "--target", target, "--requests", "5", "--format", "json")
	for _, s := range secrets {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("attack --format json shows %s:\n%s\n%s", s, stdout, stderr)
		}
	}
}
