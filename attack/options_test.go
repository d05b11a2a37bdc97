package attack

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Options{Target: "http://127.0.0.1:9080/productpage"}
	p, other := newPKI(t, "canary"), newPKI(t, "other")
	missing := filepath.Join(t.TempDir(), "missing.pem")
	https := func(o *Options) { o.Target = "https://127.0.0.1:9443/productpage" }
	tests := []struct {
		name string
		edit func(*Options)
		want string // prefix of the error; "" for none
	}{
		{"defaults", func(*Options) {}, ""},
		{"no target", func(o *Options) { o.Target = "" }, "target: want an http or https URL, got nothing"},
		{"relative target", func(o *Options) { o.Target = "/productpage" }, "target: want an absolute http or https URL"},
		{"ftp target", func(o *Options) { o.Target = "ftp://x/" }, "target: want an absolute http or https URL"},
		{"bad target", func(o *Options) { o.Target = "http://[::1" }, "target: parse"},
		{"negative rate", func(o *Options) { o.Rate = -1 }, "rate: want a finite number >= 0"},
		{"NaN rate", func(o *Options) { o.Rate = math.NaN() }, "rate: want a finite number >= 0"},
		{"tiny rate", func(o *Options) { o.Rate = 1e-9 }, "rate: 1e-09/s is below"},
		{"negative duration", func(o *Options) { o.Duration = -time.Second }, "duration: want >= 0"},
		{"negative workers", func(o *Options) { o.Workers = -1 }, "workers: want >= 0"},
		{"max below workers", func(o *Options) { o.Workers, o.MaxWorkers = 10, 5 }, "max-workers: 5 is below workers (10)"},
		{"negative timeout", func(o *Options) { o.Timeout = -1 }, "timeout: want >= 0"},
		{"negative max body", func(o *Options) { o.MaxBody = -1 }, "max-body: want >= 0 bytes"},
		{"negative every", func(o *Options) { o.Every = -1 }, "every: want >= 0"},
		{"empty login user", func(o *Options) { o.Login = ":secret" }, "login: want user or user:password"},
		{"every tls option", func(o *Options) {
			https(o)
			o.CAFile, o.CertFile, o.KeyFile, o.ServerName, o.HTTP2 = p.caFile, p.clientCert, p.clientKey, "bookinfo.example", true
		}, ""},
		{"insecure mtls", func(o *Options) { https(o); o.Insecure, o.CertFile, o.KeyFile = true, p.clientCert, p.clientKey }, ""},
		{"http2 over http", func(o *Options) { o.HTTP2 = true }, ""},
		{"ca-file missing", func(o *Options) { https(o); o.CAFile = missing }, "ca-file: open " + missing + ": no such file"},
		{"ca-file not pem", func(o *Options) { https(o); o.CAFile = p.clientKey }, "ca-file: want PEM certificates in " + p.clientKey},
		{"cert-file alone", func(o *Options) { https(o); o.CertFile = p.clientCert }, "cert and key: give both, got only cert"},
		{"key-file alone", func(o *Options) { https(o); o.KeyFile = p.clientKey }, "cert and key: give both, got only key"},
		{"cert-file missing", func(o *Options) { https(o); o.CertFile, o.KeyFile = missing, p.clientKey }, "cert: open " + missing},
		{"key-file missing", func(o *Options) { https(o); o.CertFile, o.KeyFile = p.clientCert, missing }, "key: open " + missing},
		{"key of another cert", func(o *Options) { https(o); o.CertFile, o.KeyFile = p.clientCert, other.clientKey },
			"cert and key: tls: private key does not match public key"},
		{"insecure with ca-file", func(o *Options) { https(o); o.Insecure, o.CAFile = true, p.caFile }, "insecure: skips verification, so ca-file"},
		{"server-name with port", func(o *Options) { https(o); o.ServerName = "bookinfo.example:443" }, "sni: want a host name without port"},
		{"ca-file over http", func(o *Options) { o.CAFile = p.caFile }, "ca-file: want an https target, got http://127.0.0.1:9080/productpage"},
		{"cert-file over http", func(o *Options) { o.CertFile, o.KeyFile = p.clientCert, p.clientKey }, "cert: want an https target"},
		{"insecure over http", func(o *Options) { o.Insecure = true }, "insecure: want an https target"},
		{"server-name over http", func(o *Options) { o.ServerName = "bookinfo.example" }, "sni: want an https target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := ok
			tc.edit(&o)
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("Validate() = %v; want prefix %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("Validate() = %q; want one line", err)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		err  bool
	}{
		{in: "20", want: 20},
		{in: "20/s", want: 20},
		{in: "1/s", want: 1},
		{in: "500/1m", want: 500.0 / 60},
		{in: "5/100ms", want: 50},
		{in: "0", want: 0},
		{in: "0.5", want: 0.5},
		{in: " 10/1s ", want: 10},
		{in: "3/m", want: 3.0 / 60},
		{in: "", err: true},
		{in: "fast", err: true},
		{in: "-1/s", err: true},
		{in: "10/", err: true},
		{in: "10/0s", err: true},
		{in: "10/lightyear", err: true},
		{in: "Inf", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRate(tc.in)
			if (err != nil) != tc.err || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestConstantPacer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rate     float64
		interval time.Duration
	}{
		{"integer", 20000, 50 * time.Microsecond},
		{"one per second", 1, time.Second},
		{"fraction", 500.0 / 60, 120 * time.Millisecond},
		{"half", 0.5, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := constantPacer(tc.rate)
			if got := p.Per / time.Duration(p.Freq); got != tc.interval {
				t.Errorf("constantPacer(%v) interval = %v; want %v", tc.rate, got, tc.interval)
			}
		})
	}
}

// TestTraceSampling: the sampled flag of the traceparent follows the
// unsampled percent, at the extremes exactly and in between within a
// binomial margin (10,000 draws at 25%: sd 0.43 points; 3 points is 7 sd).
func TestTraceSampling(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		unsampled, wantPct float64
	}{{0, 0}, {100, 100}, {25, 25}, {99.99, 99.99}} {
		g := newIDGen(c.unsampled)
		n := 10_000
		off := 0
		for range n {
			_, tp := g.next()
			if !traceparent.MatchString(tp) {
				t.Fatalf("traceparent %q malformed", tp)
			}
			if strings.HasSuffix(tp, "-00") {
				off++
			}
		}
		got := 100 * float64(off) / float64(n)
		if (c.wantPct == 0 || c.wantPct == 100) && got != c.wantPct || math.Abs(got-c.wantPct) > 3 {
			t.Errorf("unsampled %v%%: %.2f%% of traceparents say not sampled", c.unsampled, got)
		}
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	g := newIDGen(0)
	seen := map[string]bool{}
	for range 1000 {
		id, tp := g.next()
		if !uuidV4.MatchString(id) || !traceparent.MatchString(tp) || !strings.HasSuffix(tp, "-01") {
			t.Fatalf("next() = %q, %q; want a UUIDv4 and a sampled traceparent", id, tp)
		}
		if seen[id] || seen[tp] {
			t.Fatalf("next() repeated %q or %q", id, tp)
		}
		seen[id], seen[tp] = true, true
	}
}
