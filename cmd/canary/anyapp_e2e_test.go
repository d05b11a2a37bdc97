package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/canary-gate/canary/internal/promtest"
)

// testApp is a small service of one's own, not Bookinfo: v1 and v2 behind
// one address, v2 answering a random share of requests, the version in an
// X-App-Version header, in a JSON body ({"meta":{"version":"v2"}}, as the
// README's rules file reads it) and in an HTML <meta>, and errors that name
// their version in their body. It counts what it served in its own
// http_requests_total{version,code} for Prometheus; lie makes that counter
// report every request as v1's, a metrics bug the server check must catch.
type testApp struct {
	addr    string
	errRate sync.Map // version -> float64, the share answered 503
	lie     atomic.Bool
}

func startTestApp(t *testing.T, v2Share float64) *testApp {
	t.Helper()
	app := &testApp{}
	reg := prometheus.NewRegistry()
	served := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests served, by version and status."}, []string{"version", "code"})
	reg.MustRegister(served)
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, r *http.Request, html bool) {
		v := "v1"
		if rand.Float64() < v2Share {
			v = "v2"
		}
		code := http.StatusOK
		if rate, ok := app.errRate.Load(v); ok && rand.Float64() < rate.(float64) {
			code = http.StatusServiceUnavailable
		}
		counted := v
		if app.lie.Load() {
			counted = "v1"
		}
		served.WithLabelValues(counted, fmt.Sprint(code)).Inc()
		w.Header().Set("X-App-Version", v)
		if html {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(code)
			fmt.Fprintf(w, `<html><head><meta name="app-version" content="%s"></head><body>hello</body></html>`, v)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"meta": map[string]string{"version": v}, "ok": code == http.StatusOK})
	}
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) { answer(w, r, false) })
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) { answer(w, r, true) })
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	app.addr = ln.Addr().String()
	return app
}

// TestAnyApp: the gate on an app that is not Bookinfo. Its own counter in
// a real Prometheus confirms the pages' split, and fails the gate when it
// disagrees; a wrong --version-header is a usage error within BlindAfter
// responses, with a hint; a rule reading a JSON body by path attributes
// 503s to the version that sent them.
func TestAnyApp(t *testing.T) {
	t.Parallel()
	promtest.Binary(t)
	app := startTestApp(t, 0.5)
	prom := promtest.Start(t, fmt.Sprintf(`global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
- job_name: myapp
  static_configs: [{targets: [%q]}]
`, app.addr))
	gate := []string{"verify", "--target", "http://" + app.addr + "/api", "--version-header", "X-App-Version", "--expect", "v1=50,v2=50",
		"--rate", "200/s", "--settle", "0", "--max-requests", "20000", "--format", "json",
		"--prometheus", prom.URL, "--server-series", `http_requests_total{job="myapp"}`, "--server-version-label", "version", "--server-wait", "20s"}
	verdict := func(out string) (string, string) {
		var r struct{ Verdict, Reason string }
		_ = json.Unmarshal([]byte(out), &r)
		return r.Verdict, r.Reason
	}
	out, stderr, code := run(t, "", gate...)
	if v, reason := verdict(out); code != ExitPass {
		t.Errorf("the app's own counter confirming the split: exit %d, %s: %s\n%s", code, v, reason, stderr)
	} else if !strings.Contains(reason, "server split") {
		t.Errorf("PASS without the server check: %s", reason)
	}
	app.lie.Store(true)
	out, stderr, code = run(t, "", gate...)
	app.lie.Store(false)
	if v, reason := verdict(out); code != ExitFail || !strings.Contains(reason, "server") {
		t.Errorf("the app's counter calling every request v1's: exit %d, %s: %s; want FAIL from the server check\n%s", code, v, reason, stderr)
	}

	// A wrong header name: exit 2 after BlindAfter responses, saying so.
	start := time.Now()
	_, stderr, code = run(t, "", "verify", "--target", "http://"+app.addr+"/api", "--version-header", "X-Version", "--expect", "v1=50,v2=50",
		"--rate", "0", "--max-requests", "400", "--require-prometheus=false")
	if code != ExitUsage || !strings.Contains(stderr, "none of the first 50 responses answered 200 named a version") ||
		!strings.Contains(stderr, "X-App-Version") || !strings.Contains(stderr, "--version-header X-Version") {
		t.Errorf("a wrong --version-header: exit %d, want 2 with a hint naming the headers seen:\n%s", code, stderr)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("a wrong --version-header took %s to be told", took)
	}

	// Errors with their version in a JSON body count against that version.
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("rules:\n- name: build\n  json: meta.version\n  regex: '^(v[0-9]+)$'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	app.errRate.Store("v2", 0.3)
	defer app.errRate.Delete("v2")
	out, stderr, code = run(t, "", "verify", "--target", "http://"+app.addr+"/api", "--rules", rules, "--expect", "v1=50,v2=50",
		"--rate", "0", "--settle", "0", "--max-requests", "20000", "--require-prometheus=false", "--format", "json")
	if v, reason := verdict(out); code != ExitFail || !strings.Contains(reason, "v2 error rate") && !strings.Contains(reason, "v2's error rate") {
		t.Errorf("v2 answering 30%% with 503 {\"meta\":{\"version\":\"v2\"}}: exit %d, %s: %s; want FAIL naming v2's errors\n%s", code, v, reason, stderr)
	}

	// And in soak and report: the alarm and the per-version errors name
	// v2, and v1 has none; the text speaks of requests, never of pages.
	results := filepath.Join(t.TempDir(), "soak.jsonl")
	out, stderr, code = run(t, "", "soak", "--target", "http://"+app.addr+"/api", "--rules", rules, "--expect", "v1=50,v2=50",
		"--rate", "100/s", "--duration", "3s", "--window", "1s", "--results", results)
	if code != ExitFail || !strings.Contains(stderr, "ALARM") || !strings.Contains(stderr, "v2 errors") || strings.Contains(stderr, "v1 errors") {
		t.Errorf("soak with v2 answering 30%% with 503: exit %d, want 1 with alarms on v2's errors only\n%s\n%s", code, out, stderr)
	}
	out, stderr, code = run(t, "", "report", "--expect", "v1=50,v2=50", "--format", "json", results)
	var rep struct {
		Totals struct {
			Versions []struct {
				Version  string
				Requests int
				Outcomes map[string]int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitFail {
		t.Fatalf("report of the soak: exit %d, %v\n%s", code, err, stderr)
	}
	errs := map[string]int{}
	for _, v := range rep.Totals.Versions {
		errs[v.Version] = v.Outcomes["http-error"]
		if v.Requests == 0 {
			t.Errorf("report: %s has no requests", v.Version)
		}
	}
	if errs["v2"] == 0 || errs["v1"] != 0 || len(errs) != 2 {
		t.Errorf("report's errors by version: %v; want v2's only, and no version unnamed", errs)
	}
	out, _, _ = run(t, "", "report", "--expect", "v1=50,v2=50", results)
	if strings.Contains(out, "page") {
		t.Errorf("report of an app that is not Bookinfo speaks of pages:\n%s", out)
	}
}
