package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canary-gate/canary/internal/promtest"
)

// TestTargetDiesMidway: the ingress killed or frozen while a gate runs is
// the target's fault, not any version's: the gate ends INCONCLUSIVE saying
// since when the target answered nothing, never FAIL ("roll back").
func TestTargetDiesMidway(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		hurt func(mp *meshProc)
	}{
		{"killed", func(mp *meshProc) { _ = mp.cmd.Process.Kill(); <-mp.done }},
		{"frozen", func(mp *meshProc) { _ = mp.cmd.Process.Signal(syscall.SIGSTOP) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mp := startMesh(t, "--propagation-delay", "0")
			t.Cleanup(func() { _ = mp.cmd.Process.Signal(syscall.SIGCONT) })
			hurt := make(chan struct{})
			go func() {
				defer close(hurt)
				time.Sleep(1500 * time.Millisecond)
				tc.hurt(mp)
			}()
			// The mesh's cleanup reads what its Wait wrote: wait for the
			// goroutine that received Wait's result first.
			defer func() { <-hurt }()
			start := time.Now()
			out, stderr, code := run(t, "", "verify", "--target", mp.url("/productpage"), "--expect", "v1=34,v2=33,v3=33", "--rate", "50/s",
				"--request-timeout", "1s", "--settle", "0", "--max-requests", decisivePages, "--format", "json")
			var res struct {
				Verdict, Reason, Unreachable string
			}
			_ = json.Unmarshal([]byte(out), &res)
			if code != ExitInconclusive || res.Verdict != "INCONCLUSIVE" || !strings.HasPrefix(res.Reason, "target unreachable since") {
				t.Errorf("verify with the target %s midway: exit %d, %s: %s; want INCONCLUSIVE, target unreachable\n%s", tc.name, code, res.Verdict, res.Reason, stderr)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("the gate took %s to notice", took)
			}
		})
	}
}

// TestSoakServerSide: a soak's server side is checked before any load and
// read as the windows close: Prometheus unreachable at the start is exit 4;
// a Prometheus that dies midway marks the windows it misses and makes a
// clean soak INCONCLUSIVE, and the soak still ends on time.
func TestSoakServerSide(t *testing.T) {
	t.Parallel()
	promtest.Binary(t)
	mp := startMesh(t, "--propagation-delay", "0")
	_, stderr, code := run(t, "", "soak", "--target", mp.url("/productpage"), "--expect", "v1=34,v2=33,v3=33", "--tolerance", "20",
		"--prometheus", "http://127.0.0.1:1", "--duration", "5s")
	if code != ExitError || !strings.Contains(stderr, "server side:") {
		t.Errorf("soak with Prometheus unreachable at the start: exit %d, want 4 naming it:\n%s", code, stderr)
	}
	prom := promtest.Start(t, mp.ctl(t, "prometheus-config", "--scrape-interval", "1s"))
	go func() {
		time.Sleep(4 * time.Second)
		prom.Stop()
	}()
	start := time.Now()
	out, stderr, code := run(t, "", "soak", "--target", mp.url("/productpage"), "--expect", "v1=34,v2=33,v3=33", "--tolerance", "20",
		"--prometheus", prom.URL, "--duration", "10s", "--window", "2s", "--rate", "50")
	if code != ExitInconclusive || !strings.Contains(out, "windows is missing") {
		t.Errorf("soak whose Prometheus died midway: exit %d, want 3 saying which windows miss their server side:\n%s\n%s", code, out, stderr)
	}
	if took := time.Since(start); took > 25*time.Second {
		t.Errorf("a 10 s soak took %s: the server queries did not keep pace", took)
	}
}

// TestStageCommandTimeout: a stage's apply command that outlives its
// timeout is killed with its whole process group, and the run says ERROR
// with one canary: line and exit 4.
func TestStageCommandTimeout(t *testing.T) {
	t.Parallel()
	scenario := filepath.Join(t.TempDir(), "slow.yaml")
	if err := os.WriteFile(scenario, []byte(`name: slow-apply
stages:
- name: hangs
  apply: {command: sleep 100, timeout: 2s}
  expect: v1=100
`), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, stderr, code := run(t, "", "run", scenario, "--target", "http://127.0.0.1:1/productpage")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the stage took %s: the command was not cut at its 2s timeout", took)
	}
	if code != ExitError || !strings.HasPrefix(out, "ERROR") || !strings.Contains(stderr, "canary: stage \"hangs\" could not run:") {
		t.Errorf("run with a hanging apply: exit %d, want 4, ERROR and a canary: line\n%s\n%s", code, out, stderr)
	}
}
