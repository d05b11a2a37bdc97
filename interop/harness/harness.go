// Package harness runs canary for the interop tests: it builds the binary
// from the repository, starts the local Bookinfo mesh and `canary serve`
// on free loopback ports, and stops them when the test ends.
//
// It is a module of its own, with the standard library only, so that the
// interop modules (interop/flagger, interop/argo) share it through a local
// replace without pulling each other's, or the main module's, dependencies.
package harness

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mainModule is the module whose repository root holds cmd/canary,
// examples/ and, beside it, the shared workspace.
const mainModule = "github.com/canary-gate/canary"

// Root is the repository root: the nearest directory above the working
// directory (go test runs in the package's) whose go.mod is the main
// module's.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && firstLine(b) == "module "+mainModule {
			return d
		}
	}
	t.Fatalf("no go.mod of %s above %s", mainModule, dir)
	return ""
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

// Shared returns the path of parts under the shared workspace beside the
// repository (internal/sharedtest's rule): a clone without it skips the
// test, but under CI=true, where CI ships it, its absence fails the test.
func Shared(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Root(t), "..", "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared workspace file %s missing under CI: %v", p, err)
		}
		t.Skipf("shared workspace not found at %s (it ships beside the project in CI); skipping", p)
	}
	return p
}

// Example reads a file of the repository's examples/.
func Example(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Env is a running local mesh with the routing applied and `canary serve`.
type Env struct {
	// Target is the mesh's productpage URL, for the gates' target setting.
	Target string
	// Serve is canary serve's base URL (http://127.0.0.1:PORT).
	Serve string
}

// Start builds canary from the repository, starts the local mesh with no
// propagation delay, applies the manifests to it and starts canary serve.
func Start(t testing.TB, manifests ...string) *Env {
	t.Helper()
	root := Root(t)
	bin := filepath.Join(t.TempDir(), "canary")
	build := exec.Command("go", "build", "-o", bin, "./cmd/canary")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/canary: %v\n%s", err, out)
	}
	mesh := start(t, bin, regexp.MustCompile(`ingress (http://\S+/productpage), admin http://(\S+) `),
		"bookinfo", "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--propagation-delay", "0")
	for _, f := range manifests {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, bin, "bookinfo", "apply", "--admin-addr", mesh[2], "-f", f).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("canary bookinfo apply -f %s: %v\n%s", f, err, out)
		}
	}
	srv := start(t, bin, regexp.MustCompile(`listening on (http://\S+) `), "serve", "--addr", "127.0.0.1:0")
	return &Env{Target: mesh[1], Serve: srv[1]}
}

// DecisivePages is the page budget for a gate whose split is right. The
// sequential test stops as soon as it decides (usually within 1,000-3,000
// pages on a 50/50 split), but with a budget of 3,000 an unlucky run of the
// mesh's random routing (47% after 3,000 pages) was still undecided and the
// test failed about one run in twenty-five. At 20,000 the interval is ±1.2
// points, so the share would have to stray 3.8 points (10 sigma) to leave
// it undecided; on the local mesh at rate 0 that many pages take about 6s.
const DecisivePages = "20000"

// GateSettings are the settings that keep a gate on the local mesh fast:
// no rate limit, no settling, and no Prometheus (there is none here).
func (e *Env) GateSettings(maxRequests string) map[string]string {
	return map[string]string{"target": e.Target, "rate": "0", "max-requests": maxRequests, "settle": "0", "require-prometheus": "false"}
}

// start runs canary with args until the test ends, returning the
// submatches of want in its first line of output. At the end it sends
// SIGTERM and fails the test unless canary exits 0 within 15s.
func start(t testing.TB, bin string, want *regexp.Regexp, args ...string) []string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// stderr goes to a file, read only to show it when something failed.
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close() // the child keeps its own descriptor
	cmd.Stderr = errFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	name := "canary " + strings.Join(args[:min(2, len(args))], " ")
	stderr := func() string { b, _ := os.ReadFile(errFile.Name()); return string(b) }
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		_ = cmd.Wait()
		t.Fatalf("%s printed nothing; stderr: %s", name, stderr())
	}
	m := want.FindStringSubmatch(lines.Text())
	if m == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("%s: first line %q does not match %s", name, lines.Text(), want)
	}
	done := make(chan error, 1)
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v after SIGTERM; stderr:\n%s", name, err, stderr())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop within 15s of SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, stderr())
		}
	})
	return m
}
