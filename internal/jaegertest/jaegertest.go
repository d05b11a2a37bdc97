// Package jaegertest starts a real Jaeger (v2, an OpenTelemetry collector
// distribution, built from its Go module by scripts/jaeger.sh) for
// end-to-end tests: in-memory storage, every listener on a free loopback
// port, and its log kept for the test's failure message.
package jaegertest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Env names the environment variable that points at the jaeger binary.
const Env = "CANARY_JAEGER"

// readyTimeout bounds Jaeger's start; it is ready in about a second when
// idle, but a loaded 2-core CI machine running the lab beside it is slow.
const readyTimeout = 60 * time.Second

// Server is a running Jaeger.
type Server struct {
	// QueryURL is the query service's base URL (UI, /api/..., /api/v3/...),
	// e.g. http://127.0.0.1:41234.
	QueryURL string
	// OTLPHTTP is the OTLP/HTTP receiver's base URL; traces go to
	// OTLPHTTP+"/v1/traces".
	OTLPHTTP string
	// OTLPGRPC is the OTLP/gRPC receiver's host:port.
	OTLPGRPC string
	// Zipkin is the Zipkin receiver's base URL; spans go to
	// Zipkin+"/api/v2/spans".
	Zipkin string
	// queryGRPC is the query service's gRPC address, which cannot be
	// turned off; only the test of the listeners needs it.
	queryGRPC string
	pid       int
}

// Binary returns the jaeger binary named by CANARY_JAEGER. Without one the
// test is skipped with the way to build it, but under CI=true a missing
// dependency fails the test: .ci/run must provide it.
func Binary(t testing.TB) string {
	t.Helper()
	path := os.Getenv(Env)
	var why string
	if path == "" {
		why = Env + " is not set"
	} else if fi, err := os.Stat(path); err != nil {
		why = fmt.Sprintf("%s=%s: %v", Env, path, err)
	} else if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		why = fmt.Sprintf("%s=%s is not an executable file", Env, path)
	} else {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no jaeger binary: %s; CI must build it with scripts/jaeger.sh and export %s", why, Env)
	}
	t.Skipf("no jaeger binary (%s): run `export %s=$(scripts/jaeger.sh)` to build it (5 to 8 minutes, once) and run this end-to-end test", why, Env)
	return ""
}

// Start runs Jaeger with in-memory storage until the test ends and waits
// until its query API and receivers answer.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	// The ports are free when picked but taken only when Jaeger binds them,
	// so a parallel test can grab one in between: then start again on new
	// ports rather than fail.
	const attempts = 3
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		var p *proc
		p, err = start(bin, filepath.Join(dir, fmt.Sprint(attempt)))
		if err == nil {
			t.Cleanup(func() {
				p.stop()
				if t.Failed() {
					t.Logf("jaeger log (%s), last lines:\n%s", p.log, tail(p.log))
				}
			})
			t.Logf("jaeger ready in %s (query %s)", p.took.Round(time.Millisecond), p.srv.QueryURL)
			return p.srv
		}
		if !errors.Is(err, errPortTaken) {
			t.Fatal(err)
		}
	}
	t.Fatalf("%d starts in a row: %v", attempts, err)
	return nil
}

var errPortTaken = errors.New("a port was taken before jaeger bound it")

// proc is one run of the jaeger binary.
type proc struct {
	srv    *Server
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has been waited for
	log    string
	took   time.Duration
}

func (p *proc) stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// start writes the configuration into dir, starts jaeger and waits until
// it serves; on failure the process is gone and the error holds its log's
// tail.
func start(bin, dir string) (*proc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var ports [5]string
	for i := range ports {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		ports[i] = addr
	}
	query, queryGRPC, otlpGRPC, otlpHTTP, zipkin := ports[0], ports[1], ports[2], ports[3], ports[4]
	cfg := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfg, []byte(Config(query, queryGRPC, otlpGRPC, otlpHTTP, zipkin)), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "jaeger.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "--config=file:"+cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start jaeger: %w", err)
	}
	p := &proc{
		srv: &Server{
			QueryURL:  "http://" + query,
			OTLPHTTP:  "http://" + otlpHTTP,
			OTLPGRPC:  otlpGRPC,
			Zipkin:    "http://" + zipkin,
			queryGRPC: queryGRPC,
			pid:       cmd.Process.Pid,
		},
		cmd:    cmd,
		exited: make(chan struct{}),
		log:    logPath,
	}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(p.exited)
	}()
	// The collector starts its extensions (the query service among them)
	// before its receivers, so an answering query API alone does not mean
	// spans can be sent yet: wait for the receivers' ports too.
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := began.Add(readyTimeout)
	for {
		ready, why := isReady(client, p.srv)
		if ready {
			p.took = time.Since(began)
			return p, nil
		}
		select {
		case <-p.exited:
			out := tail(logPath)
			if strings.Contains(out, "address already in use") {
				return nil, fmt.Errorf("%w: %v; jaeger log, last lines:\n%s", errPortTaken, waitErr, out)
			}
			return nil, fmt.Errorf("jaeger exited before it was ready: %v; log %s, last lines:\n%s", waitErr, logPath, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("jaeger not ready after %s (%s); log %s, last lines:\n%s", readyTimeout, why, logPath, tail(logPath))
		}
	}
}

// isReady reports whether the query API answers and every receiver
// accepts connections, and if not, what it waits for.
func isReady(client *http.Client, s *Server) (bool, string) {
	resp, err := client.Get(s.QueryURL + "/api/services")
	if err != nil {
		return false, err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, "GET /api/services: " + resp.Status
	}
	for _, addr := range []string{s.OTLPGRPC, strings.TrimPrefix(s.OTLPHTTP, "http://"), strings.TrimPrefix(s.Zipkin, "http://")} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, "receiver " + err.Error()
		}
		c.Close()
	}
	return true, ""
}

// Config is the jaeger configuration Start runs: the all-in-one pipeline
// (OTLP gRPC and HTTP, Zipkin, memory storage, the query service) with
// every listener on the given host:port addresses. Left out, so that they
// open no port of their own: the collector's Prometheus metrics (:8888),
// the Jaeger protocol receivers, remote sampling, health check, expvar and
// zpages. Also left out is the batch processor, so a span is in storage
// when its POST returns rather than up to 200 ms later. And the query
// service's tracing of itself is off: on by default in v2, it sends its
// spans over OTLP to localhost:4317, whoever listens there.
func Config(query, queryGRPC, otlpGRPC, otlpHTTP, zipkin string) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp, zipkin]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info

extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: %s
    grpc:
      endpoint: %s

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
  zipkin:
    endpoint: %s

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, query, queryGRPC, otlpGRPC, otlpHTTP, zipkin)
}

// freeAddr returns a loopback address whose port is free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tail returns the last lines of a log file, enough for the error that
// stopped Jaeger without the whole start-up chatter.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
