package attack

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Options{Target: "http://127.0.0.1:9080/productpage"}
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

func TestIDs(t *testing.T) {
	t.Parallel()
	g := newIDGen()
	seen := map[string]bool{}
	for range 1000 {
		id, tp := g.next()
		if !uuidV4.MatchString(id) || !traceparent.MatchString(tp) {
			t.Fatalf("next() = %q, %q; want a UUIDv4 and a traceparent", id, tp)
		}
		if seen[id] || seen[tp] {
			t.Fatalf("next() repeated %q or %q", id, tp)
		}
		seen[id], seen[tp] = true, true
	}
}
