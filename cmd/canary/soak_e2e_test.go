package main

import (
	"bytes"
	"github.com/canary-gate/canary/internal/sharedtest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var requestsLine = regexp.MustCompile(`(?m)^requests\s+(\d+),`)

func reportedRequests(t *testing.T, text string) int {
	t.Helper()
	m := requestsLine.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no requests line in report:\n%s", text)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// TestSoakAndReport: a soak across a weight change alarms only in the
// windows after it; a soak killed with -9 leaves a results file that
// canary report reads up to the last flush; two files merge to the sum.
func TestSoakAndReport(t *testing.T) {
	t.Parallel()
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "0")
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-50-50.yaml"))
	dir := t.TempDir()
	first := filepath.Join(dir, "a.jsonl")
	go func() {
		time.Sleep(4 * time.Second)
		mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-all-v1.yaml"))
		time.Sleep(4 * time.Second)
		mp.ctl(t, "scale", "reviews-v1=0")
	}()
	var scrape []string
	for _, v := range []string{"v1", "v2", "v3"} {
		scrape = append(scrape, "--scrape", "http://"+mp.admin+"/sidecars/reviews-"+v+"/stats/prometheus")
	}
	start := time.Now()
	out, stderr, code := run(t, "", append([]string{"soak", "--target", mp.url("/productpage"), "--rate", "100/s", "--duration", "12s",
		"--window", "1s", "--expect", "v1=50,v3=50", "--results", first}, scrape...)...)
	if code != ExitFail || !strings.Contains(stderr, "ALARM") {
		t.Fatalf("soak across a weight change: exit %d, want %d with alarms\n%s\n%s", code, ExitFail, out, stderr)
	}
	if !regexp.MustCompile(`ALARM .*error`).MatchString(stderr) {
		t.Errorf("no error-rate alarm after reviews-v1 was scaled to 0:\n%s", stderr)
	}
	if !strings.Contains(out, "server") {
		t.Errorf("soak report shows no server-side counts:\n%s", out)
	}
	for _, line := range strings.Split(stderr, "\n") {
		i := strings.Index(line, "ALARM ")
		if i < 0 {
			continue
		}
		at, err := time.ParseInLocation(time.TimeOnly, line[i+6:i+14], time.Local)
		if err != nil {
			t.Fatalf("alarm line %q: %v", line, err)
		}
		at = time.Date(start.Year(), start.Month(), start.Day(), at.Hour(), at.Minute(), at.Second(), 0, time.Local)
		if at.Before(start.Add(3 * time.Second)) {
			t.Errorf("alarm in a window before the weight change (start %s): %s", start.Format(time.TimeOnly), line)
		}
	}
	if n := reportedRequests(t, out); n != lines(t, first) {
		t.Errorf("soak report counts %d requests, results file has %d lines", n, lines(t, first))
	}

	second := filepath.Join(dir, "b.jsonl")
	cmd := exec.Command(canaryBin, "soak", "--target", mp.url("/productpage"), "--rate", "100/s", "--window", "1s", "--expect", "v1=100", "--results", second)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	flushed := lines(t, second)
	if flushed < 150 {
		t.Fatalf("after 3.5 s at 100/s and kill -9, %d records were on disk; want at least 2 s worth", flushed)
	}
	out, stderr, code = run(t, "", "report", "--window", "1s", second)
	if n := reportedRequests(t, out); n != flushed || code == ExitError || code == ExitUsage {
		t.Errorf("report of the killed soak: %d requests (exit %d, %s), want the %d flushed records", n, code, stderr, flushed)
	}
	out, _, _ = run(t, "", "report", "--window", "1s", first, second)
	if n := reportedRequests(t, out); n != lines(t, first)+flushed {
		t.Errorf("merged report: %d requests, want %d + %d", n, lines(t, first), flushed)
	}
}

// TestSoakDiskFull: a results file that cannot be written stops the soak
// with a clear error (exit 4) instead of running on blind.
func TestSoakDiskFull(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	mp := startMesh(t, "--propagation-delay", "0")
	start := time.Now()
	_, stderr, code := run(t, "", "soak", "--target", mp.url("/productpage"), "--rate", "100/s", "--duration", "30s",
		"--window", "1s", "--expect", "v1=100", "--results", "/dev/full")
	if code != ExitError || !strings.Contains(stderr, "no space left on device") || time.Since(start) > 10*time.Second {
		t.Errorf("soak writing to a full disk: exit %d after %v, stderr %q; want exit %d within seconds", code, time.Since(start), stderr, ExitError)
	}
}
