package decide

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSettle(t *testing.T) {
	t.Parallel()
	type step struct {
		version string
		at      time.Duration
	}
	// run repeats version n times, one page per 100 ms from `from`.
	run := func(version string, n int, from time.Duration) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = step{version, from + time.Duration(i)*100*time.Millisecond}
		}
		return out
	}
	// alt alternates v1 and v3, as a 50/50 split in force does.
	alt := func(n int, from time.Duration) []step {
		out := run("v1", n, from)
		for i := 1; i < n; i += 2 {
			out[i].version = "v3"
		}
		return out
	}
	tests := []struct {
		name         string
		expect       string
		timeout      time.Duration
		steps        []step
		wantEvidence []int // indices of steps that are evidence
		wantSettled  bool
		wantTimedOut bool
	}{
		{name: "window of clean pages settles", expect: "v1=50,v3=50", timeout: time.Minute,
			steps: alt(61, 0), wantEvidence: []int{59, 60}, wantSettled: true},
		{name: "old routing without a new version does not settle", expect: "v1=50,v3=50", timeout: time.Minute,
			steps: run("v1", 100, 0)},
		{name: "one short of the window", expect: "v1=50,v3=50", timeout: time.Minute,
			steps: run("v3", 58, 0)},
		{name: "stray restarts the window", expect: "v1=50,v3=50", timeout: time.Minute,
			steps:        slices.Concat(alt(30, 0), run("v2", 1, 3*time.Second), alt(59, 4*time.Second), run("v2", 1, 10*time.Second)),
			wantEvidence: []int{90}, wantSettled: true},
		{name: "unknown versions are neutral", expect: "v1=50,v3=50", timeout: time.Minute,
			steps:        slices.Concat(run("v1", 30, 0), run("", 5, 3*time.Second), run("v3", 29, 4*time.Second), run("", 1, 7*time.Second)),
			wantEvidence: []int{64}, wantSettled: true},
		{name: "listed zero is a stray", expect: "v1=50,v2=0,v3=50", timeout: time.Minute,
			steps: slices.Concat(run("v1", 58, 0), run("v2", 1, 6*time.Second), run("v1", 1, 7*time.Second))},
		{name: "any other version restarts against 100%", expect: "v1=100", timeout: time.Minute,
			steps: slices.Concat(run("v1", 58, 0), run("v3", 1, 6*time.Second), run("v1", 1, 7*time.Second))},
		{name: "timeout ends settling; strays then count", expect: "v1=50,v3=50", timeout: 2 * time.Second,
			steps: run("v2", 25, 0), wantEvidence: seqFrom(20, 25), wantSettled: true, wantTimedOut: true},
		{name: "no timeout: strays restart forever", expect: "v1=50,v3=50",
			steps: run("v2", 25, time.Hour)},
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewSettle(DefaultCriteria(mustExpect(t, tc.expect)), tc.timeout)
			if s.Window() != 59 {
				t.Fatalf("Window() = %d; want 59 at 5 points and 95%%", s.Window())
			}
			var evidence []int
			for i, st := range tc.steps {
				if s.Observe(st.version, base.Add(st.at)) {
					evidence = append(evidence, i)
				}
			}
			if diff := cmp.Diff(tc.wantEvidence, evidence, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("evidence steps mismatch (-want +got):\n%s", diff)
			}
			if s.Settled() != tc.wantSettled || s.TimedOut() != tc.wantTimedOut {
				t.Errorf("Settled(), TimedOut() = %v, %v; want %v, %v", s.Settled(), s.TimedOut(), tc.wantSettled, tc.wantTimedOut)
			}
		})
	}
}

// seqFrom returns from, from+1, ..., to-1.
func seqFrom(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestSettleKeepsGuarantee runs the settle rule and the sequential check
// together against a split that never settles: v1=100 expected while 5%
// of pages (the tolerance) still come from v2. Settling often ends by a
// lucky clean run, yet a PASS must stay at most 1 − confidence.
func TestSettleKeepsGuarantee(t *testing.T) {
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=100"))
	s := mustSequential(t, c)
	rng := rand.New(rand.NewPCG(5, 6))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	runs, passes, lucky := simRunsPerRow(), 0, 0
	for range runs {
		st := NewSettle(c, time.Minute)
		s.Reset()
		for i := 0; s.Verdict() == Pending; i++ {
			v := "v1"
			if rng.Float64() < 0.05 {
				v = "v2"
			}
			if st.Observe(v, base.Add(time.Duration(i)*50*time.Millisecond)) {
				s.Add(v, true, 0)
			}
		}
		if s.Verdict() == Pass {
			passes++
		}
		if !st.TimedOut() {
			lucky++
		}
	}
	alpha := c.alpha()
	rate := float64(passes) / float64(runs)
	limit := alpha + 3*math.Sqrt(alpha*(1-alpha)/float64(runs))
	t.Logf("settled by a clean run in %d of %d runs; PASS rate %.4f (limit %.4f)", lucky, runs, rate, limit)
	if rate > limit {
		t.Errorf("PASS rate with settling = %.4f; want ≤ %.4f", rate, limit)
	}
}
