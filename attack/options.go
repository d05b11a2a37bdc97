// Package attack sends HTTP load at an exact open-loop rate (or as fast as
// a bounded pool of workers allows), classifies every response in the worker
// that received it and keeps only counters and latency histograms.
//
// Pacing uses vegeta's ConstantPacer; the workers are our own, over one
// shared fasthttp client (net/http's Transport when a proxy applies or for
// HTTP/2), so requests, responses and bodies live in reused per-worker
// buffers and bodies are dropped right after classification.
//
// Before the load, Run checks what would fail every request alike: a TLS
// certificate one side cannot verify (ErrTLS), or HTTP/2 refused
// (ErrNoHTTP2). Those are errors; what each request meets is data.
package attack

import (
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/redact"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

// Defaults used when the matching Options field is zero.
const (
	// DefaultWorkers is the closed-loop concurrency, and the number of
	// workers started up front for an open-loop attack.
	DefaultWorkers = 10
	// DefaultMaxWorkers bounds open-loop growth. vegeta without a bound
	// reached 787 MB at 20k/s; 512 workers stay under about 30 MB.
	DefaultMaxWorkers = 512
	// DefaultTimeout bounds each request, body included.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBody covers the 15 KB Bookinfo page with room to spare.
	DefaultMaxBody = 64 << 10
	// DefaultPassword is sent by Login when no ":password" is given;
	// Bookinfo accepts any password.
	DefaultPassword = "password"
)

// Options configure an attack. The zero value of every field but Target
// means "use the default".
type Options struct {
	Target   string        // absolute http or https URL, requested with GET
	Rate     float64       // requests per second; 0 = closed loop, as fast as Workers allow
	Duration time.Duration // stop after this long; 0 = until ctx is done or Requests are sent
	Requests uint64        // stop after this many requests (open loop: ticks, dropped ones too); 0 = no limit

	Workers    int // closed-loop concurrency; open loop: the least started up front (2 ms of ticks if more)
	MaxWorkers int // open-loop bound; ticks that find every worker busy are dropped and counted

	Timeout           time.Duration // per request, body included
	MaxBody           int64         // body bytes read and classified; the rest is drained
	DisableKeepAlives bool          // a new connection for every request
	Headers           http.Header   // added to every request; "Host" sets the Host header (and SNI; see ServerName)
	Login             string        // "user" or "user:password": POST /login once per worker

	// Classify turns a response into a Result; nil means classify.Page,
	// which reads no header, so that then none are collected for it.
	// It runs in the worker and must not keep body after returning.
	Classify func(status int, header http.Header, body []byte) classify.Result

	// Results, if not nil, receives one record per request. A write error
	// stops the attack and is returned by Run.
	Results *results.Writer

	// Observe, if not nil, is called with every request's record, from the
	// worker that made it (concurrently), after classification. The gate
	// feeds its sequential test from here. It must not keep the pointer.
	Observe func(*results.Record)

	// Progress, if not nil, is called with a snapshot every Every
	// (default 1s) while the attack runs, from a goroutine of its own.
	Progress func(*Summary)
	Every    time.Duration

	// TLS to an https target. Both clients share the one *tls.Config
	// built from these, and Run checks the handshake before the load.
	CAFile   string // PEM bundle trusted instead of the system roots
	Insecure bool   // skip verifying the target's certificate
	CertFile string // client certificate (PEM) for an ingress that requires mTLS; with KeyFile
	KeyFile  string // the client certificate's private key (PEM)
	// ServerName is sent as SNI and is the name the target's certificate
	// must be valid for, as with a Gateway that routes by host. Empty:
	// the hostname of Headers["Host"] if one is given, else the target's.
	ServerName string

	// Unsampled is the percent of requests whose traceparent says "not
	// sampled" (flags 00). The mesh's tracer honours that flag, so these
	// make no trace; 0, the default, asks for a trace of every request,
	// which is what links every failed page to its trace.
	Unsampled float64

	// HTTP2 sends with HTTP/2 only: ALPN h2 over TLS, prior knowledge
	// (h2c) over plain http. fasthttp has no HTTP/2, so requests go
	// through net/http's Transport, as with a proxy.
	HTTP2 bool

	// viaTransport sends through net/http's Transport even when no proxy
	// applies, so tests cover both clients.
	viaTransport bool
}

// Validate reports the first invalid option in one line that names it.
// It reads the TLS files, so a missing or malformed one is reported here.
func (o *Options) Validate() error {
	_, _, err := o.validate()
	return err
}

// validate is Validate that also returns what it parsed and built: the
// target and the TLS configuration for it.
func (o *Options) validate() (*url.URL, *tls.Config, error) {
	for name, values := range o.Headers {
		if sensitiveHeader(name) {
			redact.Add(values...)
		}
	}
	u, err := parseTarget(o.Target)
	if err != nil {
		return nil, nil, err
	}
	if err := o.validateLoad(); err != nil {
		return nil, nil, err
	}
	cfg, err := o.tlsConfig(u)
	if err != nil {
		return nil, nil, err
	}
	return u, cfg, nil
}

// validateLoad checks the options that shape the load.
func (o *Options) validateLoad() error {
	switch {
	case math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate < 0:
		return fmt.Errorf("rate: want a finite number >= 0, got %v", o.Rate)
	case o.Rate > 0 && o.Rate < 1e-6:
		return fmt.Errorf("rate: %v/s is below one request per 11 days", o.Rate)
	case o.Rate > 1e9:
		return fmt.Errorf("rate: %v/s is above one request per nanosecond", o.Rate)
	case o.Duration < 0:
		return fmt.Errorf("duration: want >= 0, got %v", o.Duration)
	case o.Workers < 0:
		return fmt.Errorf("workers: want >= 0, got %d", o.Workers)
	case o.MaxWorkers < 0:
		return fmt.Errorf("max-workers: want >= 0, got %d", o.MaxWorkers)
	case o.MaxWorkers > 0 && o.MaxWorkers < o.Workers:
		return fmt.Errorf("max-workers: %d is below workers (%d)", o.MaxWorkers, o.Workers)
	case o.Timeout < 0:
		return fmt.Errorf("timeout: want >= 0, got %v", o.Timeout)
	case o.MaxBody < 0:
		return fmt.Errorf("max-body: want >= 0 bytes, got %d", o.MaxBody)
	case o.Every < 0:
		return fmt.Errorf("every: want >= 0, got %v", o.Every)
	case !(o.Unsampled >= 0 && o.Unsampled <= 100):
		return fmt.Errorf("trace-sample: want a percent from 0 to 100, got %v", 100-o.Unsampled)
	case o.Login != "" && strings.HasPrefix(o.Login, ":"):
		return errors.New("login: want user or user:password, got an empty user")
	}
	return nil
}

func parseTarget(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("target: want an http or https URL, got nothing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("target: want an absolute http or https URL, got %q", s)
	}
	return u, nil
}

// withDefaults returns o with zero fields replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.MaxWorkers == 0 {
		o.MaxWorkers = max(DefaultMaxWorkers, o.Workers)
	}
	if o.Rate == 0 {
		o.MaxWorkers = o.Workers // closed loop: the pool never grows
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Classify == nil {
		o.Classify = classify.Page
	}
	if o.Every == 0 {
		o.Every = time.Second
	}
	return o
}

// ParseRate parses a rate such as "20", "20/s", "1/s", "500/1m", "5/100ms"
// or "0" (as fast as possible) into requests per second.
func ParseRate(s string) (float64, error) {
	num, per, hasPer := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("rate %q: want a number >= 0, optionally followed by /unit (20/s, 500/1m)", s)
	}
	if !hasPer {
		return n, nil
	}
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "/s" means "/1s"
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("rate %q: want a positive duration after '/', such as 1s or 1m", s)
	}
	return n / d.Seconds(), nil
}

// sensitiveHeader reports whether a header's values are credentials that
// must never be printed: Authorization, cookies, and any header whose name
// says token, key, secret, session or password.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"authorization", "cookie", "token", "key", "secret", "session", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
