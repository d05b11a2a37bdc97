package decide

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
	"github.com/google/go-cmp/cmp"
)

// t0 is the start of the tests' first window.
var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// mix describes requests of one version: how many, how many not ok, and
// how many slow (2 s instead of 50 ms).
type mix struct {
	version         string
	n, errors, slow int
}

func windowOf(t testing.TB, mixes ...mix) results.Window {
	t.Helper()
	a, err := results.NewAggregator(time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mixes {
		for i := range m.n {
			o, lat := classify.OK, 50*time.Millisecond
			if i < m.errors {
				o = classify.HTTPError
			}
			if i >= m.n-m.slow {
				lat = 2 * time.Second
			}
			r := results.Record{At: t0.Add(time.Duration(i) * time.Millisecond), Version: m.version,
				Outcome: o, Status: 200, Latency: lat}
			a.Add(&r)
		}
	}
	if ws := a.Close(); len(ws) > 0 {
		return ws[0]
	}
	return results.Window{Start: t0, End: t0.Add(time.Minute)}
}

func criteriaFor(t testing.TB, expect string) WindowCriteria {
	return WindowCriteria{Expect: mustExpect(t, expect), Tolerance: 5, MaxErrorRate: 0.01,
		LatencyP99: 500 * time.Millisecond, Confidence: 0.95}
}

type kindVersion struct {
	Kind    AlarmKind
	Version string
}

func TestJudge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		expect  string
		windows int
		latency time.Duration // overrides 500 ms when set; -1 turns it off
		mixes   []mix
		want    []kindVersion
	}{
		{name: "healthy 50/50", expect: "v1=50,v3=50", mixes: []mix{{version: "v1", n: 1000}, {version: "v3", n: 1000}}},
		{name: "empty window", expect: "v1=50,v3=50"},
		{name: "70/30 alarms once", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 700}, {version: "v3", n: 300}},
			want:  []kindVersion{{AlarmSplit, "v1"}}},
		{name: "tiny window all one version is noise", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 5}}},
		{name: "57/43 inside the interval stays silent", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 114}, {version: "v3", n: 86}}},
		{name: "70/30 split over 5000 windows needs more evidence", expect: "v1=50,v3=50", windows: 5000,
			mixes: []mix{{version: "v1", n: 140}, {version: "v3", n: 60}}},
		{name: "70/30 split in one window of 200", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 140}, {version: "v3", n: 60}},
			want:  []kindVersion{{AlarmSplit, "v1"}}},
		{name: "three versions", expect: "v1=34,v2=33,v3=33",
			mixes: []mix{{version: "v1", n: 600}, {version: "v2", n: 200}, {version: "v3", n: 200}},
			want:  []kindVersion{{AlarmSplit, "v1"}, {AlarmSplit, "v2"}, {AlarmSplit, "v3"}}},
		{name: "one stray is proof", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 10}, {version: "v3", n: 10}, {version: "v2", n: 1}},
			want:  []kindVersion{{AlarmStray, "v2"}}},
		{name: "stray against 100%", expect: "v1=100",
			mixes: []mix{{version: "v1", n: 100}, {version: "v3", n: 1}},
			want:  []kindVersion{{AlarmStray, "v3"}}},
		{name: "listed at 0%", expect: "v1=100,v2=0",
			mixes: []mix{{version: "v1", n: 100}, {version: "v2", n: 2}},
			want:  []kindVersion{{AlarmStray, "v2"}}},
		{name: "error budget", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 1000}, {version: "v3", n: 1000, errors: 100}},
			want:  []kindVersion{{AlarmErrors, "v3"}}},
		{name: "one error in a tiny window is noise", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 5, errors: 1}, {version: "v3", n: 5}}},
		{name: "errors without a version", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 500}, {version: "v3", n: 500}, {version: "", n: 100, errors: 100}},
			want:  []kindVersion{{AlarmErrors, ""}}},
		{name: "p99 over the limit", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 1000, slow: 60}, {version: "v3", n: 1000}},
			want:  []kindVersion{{AlarmLatency, "v1"}}},
		{name: "p99 just at the limit stays silent", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 1000, slow: 12}, {version: "v3", n: 1000}}},
		{name: "a slow request among 100 is noise", expect: "v1=50,v3=50",
			mixes: []mix{{version: "v1", n: 100, slow: 2}, {version: "v3", n: 100}}},
		{name: "latency off", expect: "v1=50,v3=50", latency: -1,
			mixes: []mix{{version: "v1", n: 1000, slow: 500}, {version: "v3", n: 1000}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := criteriaFor(t, tc.expect)
			c.Windows = tc.windows
			switch {
			case tc.latency < 0:
				c.LatencyP99 = 0
			case tc.latency > 0:
				c.LatencyP99 = tc.latency
			}
			alarms := Judge(windowOf(t, tc.mixes...), c)
			var got []kindVersion
			for _, a := range alarms {
				got = append(got, kindVersion{a.Kind, a.Version})
				if !a.Start.Equal(t0) || strings.Contains(a.Message, "\n") {
					t.Errorf("alarm %+v: want start %v and a one-line message", a, t0)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Judge(%s) alarms (-want +got):\n%s\n%v", tc.name, diff, alarms)
			}
		})
	}
}

func TestJudgeMessages(t *testing.T) {
	t.Parallel()
	c := criteriaFor(t, "v1=50,v3=50")
	c.Windows = 60
	w := windowOf(t, mix{version: "v1", n: 1400, slow: 100}, mix{version: "v3", n: 600, errors: 60}, mix{version: "v2", n: 3})
	var got []string
	for _, a := range Judge(w, c) {
		got = append(got, string(a.Kind)+": "+a.Message)
	}
	want := []string{
		"split: v1 share 69.9% of 2003, interval [65.3%, 74.2%] at 95% over 60 windows, expected 50% ± 5",
		"stray: v2 served 3 of 2003 requests, expected at 0%",
		"errors: v3 errors 10.0% of 600, interval [4.6%, 18.1%] at 95% over 60 windows, budget 1%",
		"latency: v1 p99 2.01s over 500ms: 7.1% of 1400 slower, interval [4.0%, 11.4%] at 95% over 60 windows, at most 1% may be",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Judge messages (-want +got):\n%s", diff)
	}
}

// TestJudgeFalseAlarms: windows of random sizes whose truth sits on the
// band edge (55/45) alarm in at most 1 − Confidence of them; with
// Windows set, a run whose truth is the expectation raises no alarm.
func TestJudgeFalseAlarms(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	draw := func(p float64) results.Window {
		n, v1 := 1+rng.IntN(400), 0
		for range n {
			if rng.Float64() < p {
				v1++
			}
		}
		return windowOf(t, mix{version: "v1", n: v1}, mix{version: "v3", n: n - v1})
	}
	const runs = 1000
	c := criteriaFor(t, "v1=50,v3=50")
	edge := 0
	for range runs {
		edge += len(Judge(draw(0.55), c))
	}
	if rate := float64(edge) / runs; rate > 0.05 {
		t.Errorf("false alarm rate on the band edge = %.3f; want ≤ 0.05", rate)
	}
	c.Windows = runs
	for i := range runs {
		if alarms := Judge(draw(0.5), c); len(alarms) > 0 {
			t.Fatalf("window %d of a healthy run alarmed: %v", i, alarms)
		}
	}
}

func TestWindowCriteriaValidate(t *testing.T) {
	t.Parallel()
	ok := criteriaFor(t, "v1=50,v3=50")
	tests := []struct {
		name string
		edit func(*WindowCriteria)
	}{
		{"no expectation", func(c *WindowCriteria) { c.Expect = Expectation{} }},
		{"tolerance", func(c *WindowCriteria) { c.Tolerance = 0 }},
		{"confidence", func(c *WindowCriteria) { c.Confidence = 1 }},
		{"error rate", func(c *WindowCriteria) { c.MaxErrorRate = -0.1 }},
		{"latency", func(c *WindowCriteria) { c.LatencyP99 = -time.Second }},
		{"windows", func(c *WindowCriteria) { c.Windows = -1 }},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	for _, tc := range tests {
		c := ok
		tc.edit(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate() = %v; want ErrInvalid", tc.name, err)
		}
	}
}

func TestSoakVerdict(t *testing.T) {
	t.Parallel()
	w := windowOf(t, mix{version: "v1", n: 10})
	later := w
	later.Start = w.Start.Add(time.Minute)
	alarms := []Alarm{{Start: later.Start, Kind: AlarmSplit, Version: "v1"},
		{Start: w.Start, Kind: AlarmErrors, Version: "v3"}, {Start: w.Start, Kind: AlarmLatency, Version: "v3"}}
	tests := []struct {
		name    string
		windows []results.Window
		alarms  []Alarm
		want    Verdict
		reason  string
	}{
		{"pass", []results.Window{w, later}, nil, Pass, "no alarm in 2 windows (20 requests)"},
		{"fail", []results.Window{w, later}, alarms, Fail, "2 of 2 windows alarmed: 08:00:00 (errors v3, latency v3), 08:01:00 (split v1)"},
		{"no requests", []results.Window{{Start: t0, End: t0.Add(time.Minute)}}, nil, Inconclusive, "no requests"},
		{"nothing", nil, nil, Inconclusive, "no requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, reason := SoakVerdict(tc.windows, tc.alarms)
			if got != tc.want || reason != tc.reason {
				t.Errorf("SoakVerdict() = %v, %q; want %v, %q", got, reason, tc.want, tc.reason)
			}
		})
	}
}
