package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFileFlagsBounded: every flag that names a file refuses a device
// (/dev/zero would fill memory) and a FIFO nobody writes to (it would hold
// the process forever) at once, in one line naming the flag or file.
func TestFileFlagsBounded(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	target := []string{"--target", "http://127.0.0.1:1/productpage", "--expect", "v1=100"}
	cases := []struct {
		name string
		args func(file string) []string
	}{
		{"run SCENARIO", func(f string) []string { return []string{"run", f, "--target", "http://127.0.0.1:1/"} }},
		{"demo --scenario", func(f string) []string { return []string{"demo", "--scenario", f} }},
		{"verify --expect-from", func(f string) []string {
			return []string{"verify", "--target", "http://127.0.0.1:1/productpage", "--expect-from", f}
		}},
		{"verify --rules", func(f string) []string { return append([]string{"verify", "--rules", f}, target...) }},
		{"verify --prom-bearer-token-file", func(f string) []string {
			return append([]string{"verify", "--prometheus", "http://127.0.0.1:1", "--prom-bearer-token-file", f}, target...)
		}},
		{"verify --prom-basic-auth-file", func(f string) []string {
			return append([]string{"verify", "--prometheus", "http://127.0.0.1:1", "--prom-basic-auth-file", f}, target...)
		}},
		{"verify --ca-file", func(f string) []string {
			return []string{"verify", "--ca-file", f, "--target", "https://127.0.0.1:1/productpage", "--expect", "v1=100"}
		}},
		{"attack --cert", func(f string) []string {
			return []string{"attack", "--target", "https://127.0.0.1:1/", "--cert", f, "--key", f}
		}},
		{"classify FILE", func(f string) []string { return []string{"classify", f} }},
		{"bookinfo apply -f", func(f string) []string { return []string{"bookinfo", "apply", "--admin-addr", "127.0.0.1:1", "-f", f} }},
		{"serve --token-file", func(f string) []string { return []string{"serve", "--addr", "127.0.0.1:0", "--token-file", f} }},
		{"bookinfo serve --tls-cert", func(f string) []string {
			return []string{"bookinfo", "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--tls-cert", f, "--tls-key", f}
		}},
	}
	for _, tc := range cases {
		for _, file := range []string{"/dev/zero", fifo} {
			t.Run(tc.name+" "+filepath.Base(file), func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				_, _, err := runAppTimeout(t, 5*time.Second, tc.args(file)...)
				if took := time.Since(start); took > 5*time.Second {
					t.Fatalf("took %s: want it refused at once", took)
				}
				if err == nil || !strings.Contains(err.Error(), "not a regular file") || strings.Contains(oneLine(err), "\n") {
					t.Errorf("canary %s = %v; want one line saying it is not a regular file", strings.Join(tc.args(file), " "), err)
				}
				if code := exitCode(err); code != ExitUsage && code != ExitError {
					t.Errorf("exit %d; want %d or %d", code, ExitUsage, ExitError)
				}
			})
		}
	}
}

// runAppTimeout is runApp bounded in time, so a read that blocks fails the
// test instead of hanging it.
func runAppTimeout(t *testing.T, d time.Duration, args ...string) (string, string, error) {
	t.Helper()
	type result struct {
		out, errOut string
		err         error
	}
	done := make(chan result, 1)
	go func() {
		o, e, err := runApp(t, args...)
		done <- result{o, e, err}
	}()
	select {
	case r := <-done:
		return r.out, r.errOut, r.err
	case <-time.After(d):
		return "", "", errors.New("still running after " + d.String())
	}
}

// TestOutputsCheckedFirst: files a command will write are checked before
// any load, and a report never overwrites what it reports on.
func TestOutputsCheckedFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	results := filepath.Join(dir, "run.jsonl")
	if err := os.WriteFile(results, []byte(`{"t":"2026-11-25T08:24:00.123456Z","l":1000,"s":200,"v":"v1","o":"ok"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	target := []string{"--target", "http://127.0.0.1:1/productpage", "--expect", "v1=100"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"verify --output in a missing directory", append([]string{"verify", "--output", "/nonexistent/r.html"}, target...), ExitError, "--output /nonexistent/r.html: cannot write it"},
		{"soak --output in a missing directory", append([]string{"soak", "--duration", "8h", "--output", "/nonexistent/r.html"}, target...), ExitError, "--output /nonexistent/r.html: cannot write it"},
		{"verify --results and --output the same", append([]string{"verify", "--results", results, "--output", results}, target...), ExitUsage, "both name"},
		{"attack --results into a FIFO nobody reads", []string{"attack", "--target", "http://127.0.0.1:1/", "--results", fifo}, ExitError, "--results " + fifo + ": cannot write it"},
		{"report over its own input", []string{"report", results, "--output", results}, ExitUsage, "also a file this command reads"},
		{"run --output over its scenario", []string{"run", filepath.Join("testdata", "scenarios", "wrong-stage.yaml"), "--output", filepath.Join("testdata", "scenarios", "wrong-stage.yaml")}, ExitUsage, "also a file this command reads"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runAppTimeout(t, 5*time.Second, tc.args...)
			if code := exitCode(err); code != tc.code || err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("canary %s = exit %d, %v; want exit %d saying %q", strings.Join(tc.args, " "), code, err, tc.code, tc.err)
			}
		})
	}
	if _, err := os.Stat("/nonexistent/r.html"); err == nil {
		t.Error("a check left a file behind")
	}
}

// TestReportSkipsTornLines: a results file with a torn and an interleaved
// line is reported from what can be read, saying how many lines were
// skipped and where; a file with nothing readable is refused.
func TestReportSkipsTornLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	line := `{"t":"2026-11-25T08:24:00.123456Z","l":1000,"s":200,"v":"v1","o":"ok"}`
	torn := filepath.Join(dir, "torn.jsonl")
	body := line + "\n" + line[:20] + line + "\n" + line + "\n" + line[:30]
	if err := os.WriteFile(torn, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runApp(t, "report", torn, "--format", "text")
	if err != nil || !strings.Contains(out+errOut, "2 unreadable lines skipped, the first "+torn+":2:") || !strings.Contains(out, "requests  2") {
		t.Errorf("report of a torn file: %v\n%s\n%s", err, out, errOut)
	}
	// Without --expect nothing is judged, so nothing "passes" and nothing
	// was expected at 0%.
	if !strings.HasPrefix(out, "REPORT: 1 window shown, none judged") || strings.Contains(out, " 0% ") {
		t.Errorf("report without --expect: want a REPORT headline and no expected share:\n%s", out)
	}
	junk := filepath.Join(dir, "junk.jsonl")
	if err := os.WriteFile(junk, []byte("not a record\nnor this\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runApp(t, "report", junk); exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "no readable record") {
		t.Errorf("report of a file with no record: %v; want a usage error saying so", err)
	}
}

// TestFlagSyntax: negative durations and malformed addresses are usage
// errors in every command alike.
func TestFlagSyntax(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"verify", "--timeout", "-5s", "--expect", "v1=100", "--target", "http://127.0.0.1:1/"}, "--timeout -5s: want a duration of 0 or more"},
		{[]string{"soak", "--duration", "-2s", "--expect", "v1=100", "--target", "http://127.0.0.1:1/"}, "--duration -2s: want a duration of 0 or more"},
		{[]string{"attack", "--request-timeout", "-1s", "--target", "http://127.0.0.1:1/"}, "--request-timeout -1s: want a duration of 0 or more"},
		{[]string{"serve", "--gate-timeout", "-1m"}, "--gate-timeout -1m0s: want a duration of 0 or more"},
		{[]string{"bookinfo", "serve", "--addr", "nonsense"}, `--addr "nonsense": want HOST:PORT`},
		{[]string{"serve", "--addr", "8080"}, `--addr "8080": want HOST:PORT`},
		{[]string{"bookinfo", "scale", "reviews-v3=0", "--admin-addr", "localhost"}, `--admin-addr "localhost": want HOST:PORT`},
		{[]string{"verify", "--listen", "localhost", "--expect", "v1=100", "--target", "http://127.0.0.1:1/"}, `--listen: want HOST:PORT or PORT`},
		{[]string{"soak", "--listen", "127.0.0.1:99999", "--expect", "v1=100", "--target", "http://127.0.0.1:1/"}, `--listen: want HOST:PORT or PORT`},
	} {
		_, _, err := runAppTimeout(t, 5*time.Second, tc.args...)
		if exitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("canary %s = exit %d, %v; want a usage error saying %q", strings.Join(tc.args, " "), exitCode(err), err, tc.err)
		}
	}
}
