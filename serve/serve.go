// Package serve runs canary as a service that rollout controllers call:
// Flagger's webhooks and Argo Rollouts' web metric provider ask it for a
// gate's verdict over HTTP, and Prometheus scrapes the gates' counts.
//
// The gate itself is injected (Options.Gate): the settings a controller
// sends are the flags of `canary verify`, so one definition of what a gate
// takes serves the command line and the service alike.
package serve

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Verdicts a gate reaches.
const (
	Pass         = "PASS"
	Fail         = "FAIL"
	Inconclusive = "INCONCLUSIVE"
)

// Outcome is one gate's result.
type Outcome struct {
	// Verdict is Pass, Fail or Inconclusive; empty when the gate could
	// not run (Err).
	Verdict string
	// Reason says why, in one line.
	Reason string
	// Report is the gate's JSON report (verify --format json), or nil.
	Report []byte
	// Usage is set when the settings were refused: the caller's mistake.
	Usage bool
	// Err is set when the gate could not run or decide.
	Err error
}

// Gate runs one gate with settings named like `canary verify`'s flags
// (expect, target, tolerance, …) and returns its outcome.
type Gate func(ctx context.Context, settings map[string]string) Outcome

// Options configure the service.
type Options struct {
	Gate Gate
	// Load, when set, drives steady load for Flagger's rollout hook, as
	// flagger-loadtester does, with settings named like `canary attack`'s
	// flags; its Report is the attack's JSON summary.
	Load Gate
	// Token, when set, is the bearer token every request but /healthz and
	// /metrics must carry. It is compared in constant time, never logged.
	Token string
	// MaxGates bounds the gates running at once; more get 429.
	MaxGates int
	// GateTimeout bounds one gate.
	GateTimeout time.Duration
	// MaxBody bounds a request body.
	MaxBody int64
	// Log receives one structured line per request and per verdict.
	Log *slog.Logger
}

// Defaults for Options.
const (
	DefaultMaxGates    = 4
	DefaultGateTimeout = 10 * time.Minute
	DefaultMaxBody     = 64 << 10
)

// Server answers controllers.
type Server struct {
	opts    Options
	base    context.Context // ends background loads at Close
	stop    context.CancelFunc
	loads   map[string]time.Time // canary with a load running, since
	slots   chan struct{}
	mu      sync.Mutex
	running map[string]bool     // canary namespace/name with a gate in flight
	results map[string]*Outcome // by canary, hook and checksum
	reg     *prometheus.Registry
	gates   *prometheus.CounterVec
	pages   *prometheus.CounterVec
	gateDur *prometheus.HistogramVec
	pageDur *latencies
}

// New checks the options and makes a server.
func New(opts Options) (*Server, error) {
	if opts.Gate == nil {
		return nil, errors.New("serve: no gate")
	}
	if opts.MaxGates <= 0 {
		opts.MaxGates = DefaultMaxGates
	}
	if opts.GateTimeout <= 0 {
		opts.GateTimeout = DefaultGateTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, slots: make(chan struct{}, opts.MaxGates), running: map[string]bool{}, results: map[string]*Outcome{},
		loads: map[string]time.Time{}}
	s.base, s.stop = context.WithCancel(context.Background())
	s.metrics()
	return s, nil
}

// Close stops the loads the rollout hook started.
func (s *Server) Close() { s.stop() }

// startLoad starts a load for key unless one is running, and says which.
func (s *Server) startLoad(key string, settings map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if since, ok := s.loads[key]; ok {
		return fmt.Sprintf("load for %s running since %s", key, since.Format(time.RFC3339))
	}
	s.loads[key] = time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(s.base, s.opts.GateTimeout)
		defer cancel()
		start := time.Now()
		out := s.opts.Load(ctx, settings)
		s.record("flagger/rollout", key, out, time.Since(start))
		s.mu.Lock()
		delete(s.loads, key)
		s.mu.Unlock()
	}()
	return "load for " + key + " started"
}

func (s *Server) metrics() {
	s.reg = prometheus.NewRegistry()
	s.gates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canary_gates_total", Help: "Gates run by canary serve, by caller and verdict (error: could not decide).",
	}, []string{"caller", "verdict"})
	s.pages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canary_pages_total", Help: "Pages the gates classified, by version and outcome (the client's view, beside istio_requests_total).",
	}, []string{"version", "outcome"})
	s.gateDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "canary_gate_duration_seconds", Help: "Time to a verdict.", Buckets: prometheus.ExponentialBuckets(1, 2, 12),
	}, []string{"caller"})
	s.pageDur = newLatencies()
	s.reg.MustRegister(s.gates, s.pages, s.gateDur, s.pageDur)
}

// Handler routes the service's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) { _, _ = rw.Write([]byte("ok\n")) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /flagger/{hook}", s.auth(s.flagger))
	mux.HandleFunc("GET /v1/verdict", s.auth(s.verdict))
	mux.HandleFunc("POST /v1/verdict", s.auth(s.verdict))
	return s.logged(mux)
}

// auth requires the bearer token, when one is set.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if s.opts.Token != "" {
			got := []byte(r.Header.Get("Authorization"))
			want := []byte("Bearer " + s.opts.Token)
			if subtle.ConstantTimeCompare(got, want) != 1 {
				rw.Header().Set("WWW-Authenticate", `Bearer realm="canary"`)
				http.Error(rw, "missing or wrong bearer token", http.StatusUnauthorized)
				return
			}
		}
		r.Body = http.MaxBytesReader(rw, r.Body, s.opts.MaxBody)
		h(rw, r)
	}
}

// logged writes one structured line per request.
func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: rw, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		if r.URL.Path == "/metrics" || r.URL.Path == "/healthz" {
			return
		}
		s.opts.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.code,
			"duration_ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// run runs a gate for key (one at a time per key, at most MaxGates at
// once) and records it; busy says why it did not run.
func (s *Server) run(ctx context.Context, caller, key string, settings map[string]string) (out Outcome, busy string) {
	s.mu.Lock()
	if s.running[key] {
		s.mu.Unlock()
		return Outcome{}, fmt.Sprintf("a gate for %s is already running", key)
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.mu.Unlock()
		return Outcome{}, fmt.Sprintf("%d gates already running (--max-gates)", s.opts.MaxGates)
	}
	s.running[key] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, key)
		s.mu.Unlock()
		<-s.slots
	}()
	ctx, cancel := context.WithTimeout(ctx, s.opts.GateTimeout)
	defer cancel()
	start := time.Now()
	out = s.opts.Gate(ctx, settings)
	s.record(caller, key, out, time.Since(start))
	return out, ""
}

func (s *Server) record(caller, key string, out Outcome, d time.Duration) {
	verdict := out.Verdict
	switch {
	case verdict != "":
	case out.Err == nil && !out.Usage:
		verdict = "done" // a load, not a gate
	case out.Usage:
		verdict = "refused" // the caller's settings
	default:
		verdict = "error"
	}
	s.gates.WithLabelValues(caller, verdict).Inc()
	s.gateDur.WithLabelValues(caller).Observe(d.Seconds())
	vs := versionsOf(out.Report)
	for _, c := range pageCounts(vs) {
		s.pages.WithLabelValues(c.version, c.outcome).Add(float64(c.n))
	}
	attrs := []any{"caller", caller, "gate", key, "verdict", verdict, "reason", out.Reason, "duration_ms", d.Milliseconds()}
	for _, v := range vs {
		if h := v.Latency.Histogram; h != nil && !s.pageDur.add(v.Name, *h) {
			attrs = append(attrs, "latency_dropped", "version "+v.Name+": histogram bounds differ from the ones summed so far")
		}
	}
	if out.Err != nil {
		attrs = append(attrs, "error", out.Err.Error())
	}
	s.opts.Log.Info("verdict", attrs...)
}
