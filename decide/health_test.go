package decide

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/results"
)

func TestHealthValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expect string
		edit         func(*Health)
		want         string // "" for valid
	}{
		{"default", "v1=50,v3=50", func(*Health) {}, ""},
		{"three versions", "v1=80,v2=10,v3=10", func(*Health) {}, ""},
		{"no baseline", "v1=50,v3=50", func(h *Health) { h.Baseline = "" }, "no baseline version"},
		{"baseline not listed", "v1=50,v3=50", func(h *Health) { h.Baseline = "v2" }, "baseline v2 is not in the expectation"},
		{"baseline at 0%", "v1=0,v3=100", func(*Health) {}, "baseline v1 is expected at 0%"},
		{"no canary", "v1=100,v3=0", func(*Health) {}, "no canary"},
		{"error ratio below 1", "v1=50,v3=50", func(h *Health) { h.ErrorRatio = 0.5 }, "error ratio 0.5"},
		{"latency ratio NaN", "v1=50,v3=50", func(h *Health) { h.LatencyRatio = math.NaN() }, "latency ratio NaN"},
		{"negative latency difference", "v1=50,v3=50", func(h *Health) { h.LatencyDiff = -time.Millisecond }, "latency difference -1ms"},
		{"quantile 1", "v1=50,v3=50", func(h *Health) { h.Quantiles = []float64{1} }, "latency quantile 1 is not in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, tt.expect))
			c.Health = DefaultHealth("v1")
			tt.edit(c.Health)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v; want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid)):
				t.Fatalf("Validate: %v; want an ErrInvalid saying %q", err, tt.want)
			}
		})
	}
}

func TestParseHealthFlags(t *testing.T) {
	t.Parallel()
	qs := []struct {
		in   string
		want []float64
		err  string
	}{
		{"p50,p90,p99", []float64{0.5, 0.9, 0.99}, ""},
		{"0.99, p50", []float64{0.5, 0.99}, ""},
		{"p99.9", []float64{0.999}, ""},
		{"none", nil, ""},
		{"p50,p50", nil, "listed twice"},
		{"p100", nil, "not from p1 to p99.9"},
		{"p50,", nil, "an empty quantile"},
		{"median", nil, "is not a quantile"},
	}
	for _, tt := range qs {
		got, err := ParseQuantiles(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseQuantiles(%q) = %v, %v; want one line saying %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseQuantiles(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if r, d, err := ParseErrorMargin("2x,0.1"); err != nil || r != 2 || d != 0.001 {
		t.Errorf("ParseErrorMargin(2x,0.1) = %g, %g, %v", r, d, err)
	}
	if r, d, err := ParseErrorMargin("1.5, 0.5%"); err != nil || r != 1.5 || d != 0.005 {
		t.Errorf("ParseErrorMargin(1.5, 0.5%%) = %g, %g, %v", r, d, err)
	}
	for _, bad := range []string{"2x", "0.5x,0.1", "2x,-1", "x,y", "2x,100"} {
		if _, _, err := ParseErrorMargin(bad); err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseErrorMargin(%q): %v; want ErrInvalid", bad, err)
		}
	}
	if r, d, err := ParseLatencyMargin("10%,2ms"); err != nil || math.Abs(r-1.1) > 1e-12 || d != 2*time.Millisecond {
		t.Errorf("ParseLatencyMargin(10%%,2ms) = %g, %s, %v", r, d, err)
	}
	for _, bad := range []string{"10,2ms", "10%", "10%,2", "-5%,1ms", "10%,2h"} {
		if _, _, err := ParseLatencyMargin(bad); err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseLatencyMargin(%q): %v; want ErrInvalid", bad, err)
		}
	}
}

func FuzzParseHealthFlags(f *testing.F) {
	for _, s := range []string{"p50,p90,p99", "0.5", "none", "2x,0.1", "10%,2ms", "p99.9,", ",", "1e309%,1ms", "NaNx,0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if qs, err := ParseQuantiles(s); err == nil {
			if len(qs) > 8 || !slices.IsSorted(qs) {
				t.Fatalf("ParseQuantiles(%q) = %v: want at most 8, ascending", s, qs)
			}
			for _, q := range qs {
				if !(q >= 0.01 && q <= 0.999) {
					t.Fatalf("ParseQuantiles(%q) gave %g", s, q)
				}
			}
		} else if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("ParseQuantiles(%q): %v", s, err)
		}
		if r, d, err := ParseErrorMargin(s); err == nil {
			h := DefaultHealth("v1")
			h.ErrorRatio, h.ErrorDiff = r, d
			if err := h.validate(mustExpect(t, "v1=50,v3=50")); err != nil {
				t.Fatalf("ParseErrorMargin(%q) = %g, %g, which Validate refuses: %v", s, r, d, err)
			}
		}
		if r, d, err := ParseLatencyMargin(s); err == nil {
			h := DefaultHealth("v1")
			h.LatencyRatio, h.LatencyDiff = r, d
			if err := h.validate(mustExpect(t, "v1=50,v3=50")); err != nil {
				t.Fatalf("ParseLatencyMargin(%q) = %g, %s, which Validate refuses: %v", s, r, d, err)
			}
		}
	})
}

// TestLatenciesOrderStatistics checks the Fenwick tree's order statistics
// and counts against a sorted slice.
func TestLatenciesOrderStatistics(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	l := newLatencies()
	var all []time.Duration
	for range 3000 {
		d := time.Duration(math.Exp(rng.NormFloat64()*1.5) * float64(time.Millisecond))
		l.add(d)
		all = append(all, d.Truncate(time.Microsecond))
	}
	slices.Sort(all)
	for _, k := range []int{1, 2, 500, 1500, 2999, 3000} {
		b := l.bucket(k)
		if want := results.LatencyBucket(all[k-1]); b != want {
			t.Errorf("bucket(%d) = %d; want %d (value %s)", k, b, want, all[k-1])
		}
		lo, _ := results.LatencyBucketRange(b)
		below := 0
		for _, d := range all {
			if d < lo {
				below++
			}
		}
		if got := l.before(b); got != below {
			t.Errorf("before(%d) = %d; want %d", b, got, below)
		}
	}
	l.reset()
	if l.n != 0 || l.quantile(0.5) != 0 || l.before(results.LatencyBuckets) != 0 {
		t.Error("reset left values behind")
	}
}

// TestSplitWindow: the split-point test that looks only where neither
// side alone is decisive decides exactly as a look at every split point.
func TestSplitWindow(t *testing.T) {
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	c.Health = DefaultHealth("v1")
	s := mustSequential(t, c)
	hs := s.health
	rng := rand.New(rand.NewPCG(11, 12))
	agree, rejected := 0, 0
	for run := range 300 {
		hs.reset()
		lb, lc := &hs.lat[hs.base], &hs.lat[1]
		slower := 1 + float64(run%6)*0.08
		n := 20 + rng.IntN(400)
		for range n {
			x := 20 * math.Exp(0.5*rng.NormFloat64())
			lb.add(time.Duration(x * float64(time.Millisecond)))
			lc.add(time.Duration(x * slower * float64(time.Millisecond)))
		}
		for qi := range hs.lt {
			full, _ := hs.latencyEvidence(qi, lb, lc)
			want := full >= hs.lt[qi].logC
			got := hs.maybePast(qi, lb, lc) && hs.latencyRegressed(qi, lb, lc)
			if got != want {
				t.Fatalf("run %d, quantile %g: windowed test %v, every split point %v (log e %g)", run, hs.lt[qi].p, got, want, full)
			}
			agree++
			if got {
				rejected++
			}
		}
	}
	if rejected == 0 || rejected == agree {
		t.Errorf("%d of %d states rejected: the comparison did not cover both outcomes", rejected, agree)
	}
}

// TestErrorNullMax checks the constrained maximum against a fine grid over
// the null: the supremum must never be underestimated (which would make
// the e-value too large).
func TestErrorNullMax(t *testing.T) {
	t.Parallel()
	h := DefaultHealth("v1")
	for _, c := range []struct{ ec, nc, eb, nb int }{{12, 400, 0, 400}, {8, 169, 1, 170}, {30, 1000, 10, 1000}, {3, 100, 0, 5}} {
		sc, fc, sb, fb := float64(c.ec), float64(c.nc-c.ec), float64(c.eb), float64(c.nb-c.eb)
		got := math.Max(lineMax(sc, fc, sb, fb, h.ErrorRatio, 0), lineMax(sc, fc, sb, fb, 1, h.ErrorDiff))
		grid := math.Inf(-1)
		for i := 1; i < 20000; i++ {
			rb := float64(i) / 20000 * 0.5
			rc := h.errorLimit(rb)
			grid = math.Max(grid, loglik(sb, fb, rb)+loglik(sc, fc, rc))
		}
		if got < grid-1e-9 {
			t.Errorf("%+v: null maximum %g below the grid's %g", c, got, grid)
		}
		if got > grid+0.01 {
			t.Errorf("%+v: null maximum %g far above the grid's %g", c, got, grid)
		}
	}
	if e := h.errorLogE(1, 1000, 5, 1000); e > 0 {
		t.Errorf("a canary with fewer errors than its baseline has log e-value %g; want ≤ 0", e)
	}
}

// TestCountHealth judges server counts: errors, latency from buckets, and
// no data.
func TestCountHealth(t *testing.T) {
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	c.Health = DefaultHealth("v1")
	edges := []time.Duration{500 * time.Microsecond, time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, Inf}
	cum := func(counts ...float64) []Bucket {
		var out []Bucket
		total := 0.0
		for i, n := range counts {
			total += n
			out = append(out, Bucket{Le: edges[i], Count: total})
		}
		return out
	}
	fast := cum(2000, 0, 0, 0, 0, 0)
	slow := cum(0, 0, 0, 1990, 10, 0)
	tests := []struct {
		name   string
		counts map[string]Counts
		want   map[string]string // check → status
	}{
		{"healthy", map[string]Counts{"v1": {Requests: 2000, Buckets: fast}, "v3": {Requests: 2000, Buckets: fast}},
			map[string]string{"errors": HealthOK, "latency p50": HealthOK, "latency p99": HealthOK}},
		{"errors", map[string]Counts{"v1": {Requests: 2000, Buckets: fast}, "v3": {Requests: 2000, Errors: 100, Buckets: fast}},
			map[string]string{"errors": HealthRegressed, "latency p50": HealthOK}},
		{"slow", map[string]Counts{"v1": {Requests: 2000, Buckets: fast}, "v3": {Requests: 2000, Buckets: slow}},
			map[string]string{"errors": HealthOK, "latency p50": HealthRegressed, "latency p90": HealthRegressed}},
		// A p99 that crossed the 1 ms edge is not past the 2 ms margin:
		// its bucket starts at 1 ms.
		{"tail crosses an edge", map[string]Counts{"v1": {Requests: 2000, Buckets: fast}, "v3": {Requests: 2000, Buckets: cum(1960, 0, 40, 0, 0, 0)}},
			map[string]string{"latency p99": HealthOK, "latency p50": HealthOK}},
		{"few beyond p99", map[string]Counts{"v1": {Requests: 500, Buckets: cum(500, 0, 0, 0, 0, 0)}, "v3": {Requests: 500, Buckets: cum(500, 0, 0, 0, 0, 0)}},
			map[string]string{"latency p99": HealthFew, "latency p50": HealthOK}},
		{"no canary", map[string]Counts{"v1": {Requests: 2000, Buckets: fast}},
			map[string]string{"errors": HealthNoData, "latency p50": HealthNoData}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := CountHealth(c, tt.counts)
			got := map[string]string{}
			for _, k := range r.Checks {
				got[k.Check] = k.Status
			}
			for check, want := range tt.want {
				if got[check] != want {
					t.Errorf("%s: %s; want %s (all: %v)", check, got[check], want, got)
				}
			}
			if regs := r.Regressions(); (len(regs) > 0) != strings.Contains(strings.Join(statuses(got), ","), HealthRegressed) {
				t.Errorf("Regressions() = %q for %v", regs, got)
			}
		})
	}
}

func statuses(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestHealthDecision: a gate whose canary is 5 ms slower fails on latency
// with a reason giving both bounds and the margin, and a healthy one
// passes saying no canary was shown worse.
func TestHealthDecision(t *testing.T) {
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	c.Health = DefaultHealth("v1")
	for _, tt := range []struct {
		slower time.Duration
		want   Verdict
		says   string
	}{
		{0, Pass, "no canary shown worse than baseline v1 by more than the margins"},
		{5 * time.Millisecond, Fail, "v3's latency p50 is past v1's by more than the margin: 6."},
	} {
		s := mustSequential(t, c)
		for i := 0; s.Verdict() == Pending; i++ {
			v, lat := "v1", time.Millisecond+time.Duration(i*37%400)*time.Microsecond
			if i%2 == 1 {
				v, lat = "v3", 1150*time.Microsecond+tt.slower+time.Duration(i*53%500)*time.Microsecond
			}
			s.Add(v, true, lat)
		}
		d := s.Decision()
		if d.Verdict != tt.want || !strings.Contains(d.Reason, tt.says) || d.Health == nil {
			t.Errorf("v3 %s slower: %s %q; want %s saying %q", tt.slower, d.Verdict, d.Reason, tt.want, tt.says)
		}
	}
}
