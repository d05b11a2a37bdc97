package main

import (
	"context"
	"encoding/json"
	"github.com/canary-gate/canary/internal/sharedtest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/internal/promtest"
)

// verifyRun runs canary verify against the mesh and returns its JSON
// result's verdict and reason, the exit code and stderr.
func verifyRun(t *testing.T, mp *meshProc, promURL string, args ...string) (string, string, int, string) {
	t.Helper()
	full := append([]string{"verify", "--target", mp.url("/productpage"), "--format", "json", "--rate", "100/s", "--timeout", "90s"}, args...)
	if promURL != "" {
		full = append(full, "--prometheus", promURL)
	}
	out, stderr, code := run(t, "", full...)
	var res struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
	}
	if out != "" {
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("verify output is not JSON: %v\n%s", err, out)
		}
	}
	return res.Verdict, res.Reason, code, stderr
}

// TestVerifyWalkthrough: at every walkthrough stage, with the mesh's config
// propagation delay and a real Prometheus, the right expectation passes and
// a wrong one fails, both client and server side; mirroring passes with
// --mirror v2; a version without sidecar gets the telemetry diagnosis; and a
// Prometheus that dies mid-run makes the gate INCONCLUSIVE with the reason.
func TestVerifyWalkthrough(t *testing.T) {
	seed := sharedtest.Dir(t, "seed-manifests")
	promtest.Binary(t)
	mp := startMesh(t) // default propagation delay: the gate must settle
	prom := promtest.Start(t, mp.ctl(t, "prometheus-config", "--scrape-interval", "1s"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// As in a cluster, Prometheus is already scraping when the gate runs.
	if err := prom.WaitScraped(ctx, time.Now(), 7); err != nil {
		t.Fatal(err)
	}
	stages := []struct {
		file         string
		right, wrong []string
	}{
		{"virtual-service-all-v1.yaml", []string{"--expect", "v1=100"}, []string{"--expect", "v1=50,v3=50", "--settle-timeout", "5s"}},
		{"virtual-service-reviews-50-50.yaml", []string{"--expect", "v1=50,v3=50", "--tolerance", "10"}, []string{"--expect", "v1=80,v3=20"}},
		{"virtual-service-reviews-v3.yaml", []string{"--expect", "v3=100"}, []string{"--expect", "v1=100", "--settle-timeout", "5s"}},
		{"virtual-service-all-v1.yaml", []string{"--expect", "v1=100"}, nil},
		// Adding a mirror changes no page, so only a fixed delay can wait out
		// the config push (1 s in this mesh).
		{"virtual-service-mirroring.yaml", []string{"--expect", "v1=100", "--mirror", "v2", "--settle-min", "2s"}, []string{"--expect", "v1=100", "--mirror", "v2=50", "--settle-min", "2s"}},
	}
	for _, st := range stages {
		mp.ctl(t, "apply", "-f", filepath.Join(seed, st.file))
		verdict, reason, code, stderr := verifyRun(t, mp, prom.URL, st.right...)
		if code != ExitPass || verdict != "PASS" {
			t.Errorf("%s, %v: %s (exit %d), want PASS: %s %s", st.file, st.right, verdict, code, reason, stderr)
		}
		if st.wrong == nil {
			continue
		}
		verdict, reason, code, stderr = verifyRun(t, mp, prom.URL, st.wrong...)
		if code != ExitFail || verdict != "FAIL" {
			t.Errorf("%s, %v: %s (exit %d), want FAIL: %s %s", st.file, st.wrong, verdict, code, reason, stderr)
		}
	}

	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-50-50.yaml"))
	mp.ctl(t, "sidecar", "reviews-v3=off")
	verdict, reason, code, _ := verifyRun(t, mp, prom.URL, "--expect", "v1=50,v3=50", "--tolerance", "10")
	if code != ExitInconclusive || !strings.Contains(reason, "no telemetry from reviews-v3: is its sidecar injected?") {
		t.Errorf("reviews-v3 without sidecar: %s (exit %d): %s; want INCONCLUSIVE with the telemetry diagnosis", verdict, code, reason)
	}
	mp.ctl(t, "sidecar", "reviews-v3=on")

	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-all-v1.yaml"))
	go func() {
		time.Sleep(3 * time.Second)
		prom.Stop()
	}()
	// A 1-point tolerance needs about 300 clean pages after settling: the
	// gate outlives the Prometheus that is killed 3 s in.
	verdict, reason, code, _ = verifyRun(t, mp, prom.URL, "--expect", "v1=100", "--tolerance", "1", "--rate", "50/s", "--server-wait", "10s")
	if code != ExitInconclusive || !strings.Contains(reason, "server-side check could not confirm") || !strings.Contains(reason, "prometheus unavailable") {
		t.Errorf("Prometheus stopped mid-run: %s (exit %d): %s; want INCONCLUSIVE saying Prometheus was unavailable", verdict, code, reason)
	}
	_, stderr, code := run(t, "", "verify", "--target", mp.url("/productpage"), "--expect", "v1=100", "--prometheus", prom.URL)
	if code != ExitError || !strings.Contains(stderr, "prometheus unavailable") {
		t.Errorf("Prometheus down at the start: exit %d, stderr %q; want exit %d", code, stderr, ExitError)
	}
}

// TestVerifyExpectErrors: every malformed --expect is a one-line error and
// exit 2, before any request is sent.
func TestVerifyExpectErrors(t *testing.T) {
	t.Parallel()
	for _, expect := range []string{"v1=50,v3=40", "v1=-10,v3=110", "v1=50,v1=50", "v1", "v1=abc", "=100", "v1=50,,v3=50"} {
		t.Run(expect, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := run(t, "", "verify", "--target", "http://127.0.0.1:1/productpage", "--expect", expect)
			if code != ExitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--expect") {
				t.Errorf("--expect %q: exit %d, stderr %q; want exit %d and one line naming --expect", expect, code, stderr, ExitUsage)
			}
		})
	}
}

// TestVerifyExpectFrom takes the expectation from the VirtualService file a
// pipeline just applied, and refuses files whose split depends on headers.
func TestVerifyExpectFrom(t *testing.T) {
	t.Parallel()
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "0")
	file := filepath.Join(seed, "virtual-service-reviews-50-50.yaml")
	mp.ctl(t, "apply", "-f", file)
	verdict, reason, code, stderr := verifyRun(t, mp, "", "--expect-from", file, "--tolerance", "10", "--require-prometheus=false")
	if code != ExitPass || verdict != "PASS" {
		t.Errorf("--expect-from %s: %s (exit %d) %s %s, want PASS", file, verdict, code, reason, stderr)
	}
	_, stderr, code = run(t, "", "verify", "--target", mp.url("/productpage"), "--expect-from", filepath.Join(seed, "virtual-service-reviews-jason-v2.yaml"))
	if code != ExitUsage || !strings.Contains(stderr, "match") {
		t.Errorf("--expect-from a header-routing file: exit %d, stderr %q; want exit 2 explaining the match", code, stderr)
	}
}

// TestRateZero: --rate 0 means what --help says, a closed loop as fast as
// the workers go, in attack and in verify (which once turned 0 into 20/s).
func TestRateZero(t *testing.T) {
	t.Parallel()
	mp := startMesh(t, "--propagation-delay", "0")
	for _, args := range [][]string{
		{"attack", "--target", mp.url("/productpage"), "--rate", "0", "--requests", "300", "--format", "json"},
		// ±5 points with three versions takes far more than 300 pages to
		// pass, so the gate runs its load to the cap (INCONCLUSIVE): at ±15
		// a lucky split passed after 79.
		{"verify", "--target", mp.url("/productpage"), "--rate", "0", "--expect", "v1=34,v2=33,v3=33", "--tolerance", "5",
			"--settle", "0", "--max-requests", "300", "--require-prometheus=false", "--format", "json"},
	} {
		out, stderr, code := run(t, "", args...)
		var sum struct {
			Requested  *float64 `json:"requested_rate"`
			Workers    int      `json:"workers"`
			MaxWorkers int      `json:"max_workers"`
			Completed  int      `json:"completed"`
			Load       *struct {
				Requested  *float64 `json:"requested_rate"`
				MaxWorkers int      `json:"max_workers"`
				Completed  int      `json:"completed"`
			} `json:"load"`
		}
		if err := json.Unmarshal([]byte(out), &sum); err != nil || code > ExitInconclusive {
			t.Fatalf("canary %s: exit %d, %v; stderr %s", args[0], code, err, stderr)
		}
		if l := sum.Load; l != nil {
			sum.Requested, sum.MaxWorkers, sum.Completed = l.Requested, l.MaxWorkers, l.Completed
		}
		if sum.Requested == nil || *sum.Requested != 0 || sum.MaxWorkers != 10 || sum.Completed < 100 {
			t.Errorf("canary %s --rate 0: requested rate %v, max workers %d, %d completed; want 0 (closed loop), the 10 workers and at least 100 pages",
				args[0], sum.Requested, sum.MaxWorkers, sum.Completed)
		}
	}
}
