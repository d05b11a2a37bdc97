package decide

import (
	"math/rand/v2"
	"testing"
)

// TestTablesMatchDirect checks the precomputed thresholds, including the
// mirrored ones of a second version, against each part's test computed
// directly, for every count at every n up to a limit.
func TestTablesMatchDirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		expect string
		tol    float64
	}{
		{name: "50/50", expect: "v1=50,v3=50", tol: 5},
		{name: "90/10 wide", expect: "v1=90,v2=10", tol: 10},
		{name: "90/10 narrow", expect: "v1=90,v2=10", tol: 2},
		{name: "34/33/33", expect: "v1=34,v2=33,v3=33", tol: 5},
		{name: "97/3", expect: "v1=97,v2=3", tol: 5},
	}
	maxN := 600
	if testing.Short() {
		maxN = 200
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, tc.expect))
			c.Tolerance, c.MaxRequests = tc.tol, maxN
			s := mustSequential(t, c)
			for _, i := range s.split {
				tr := s.tracks[i]
				ts := tr.tests
				for n := 0; n <= maxN; n++ {
					for S := 0; S <= n; S++ {
						s32 := int32(S)
						got := [4]bool{s32 >= tr.t.passLo[n], s32 <= tr.t.passHi[n], s32 >= tr.t.failHi[n], s32 <= tr.t.failLo[n]}
						want := [4]bool{ts.above.rejects(S, n), ts.below.rejects(S, n), ts.high.rejects(S, n), ts.low.rejects(S, n)}
						if got != want {
							t.Fatalf("%s: tables at S=%d, n=%d say above, below, high, low = %v; want %v (direct)", tr.name, S, n, got, want)
						}
					}
				}
			}
		})
	}
}

// TestDecisionMatchesVerdict checks, after every page of simulated runs,
// that Decision agrees with the table-driven Verdict and that each status
// agrees with the printed interval.
func TestDecisionMatchesVerdict(t *testing.T) {
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	c.MaxRequests = 1500
	s := mustSequential(t, c)
	names := []string{"v1", "v3", "v2"}
	truths := [][]float64{{0.5, 0.5, 0}, {0.56, 0.44, 0}, {0.62, 0.38, 0}, {0.47, 0.53, 0}, {0.5, 0.497, 0.003}}
	runs := 20
	if testing.Short() {
		runs = 4
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, truth := range truths {
		for range runs {
			s.Reset()
			for s.Verdict() == Pending {
				s.Add(names[draw(truth, rng)], rng.IntN(200) != 0, 0)
				checkDecision(t, s, c)
			}
		}
	}
}

func draw(truth []float64, rng *rand.Rand) int {
	u := rng.Float64()
	for i, p := range truth {
		if u < p {
			return i
		}
		u -= p
	}
	return 0
}

func checkDecision(t *testing.T, s *Sequential, c Criteria) {
	t.Helper()
	d := s.Decision()
	if d.Verdict != s.Verdict() {
		t.Fatalf("Decision().Verdict = %v; want %v (Verdict())", d.Verdict, s.Verdict())
	}
	within, outside := true, false
	for _, v := range d.Versions {
		lo, hi := v.Expected-c.Tolerance, v.Expected+c.Tolerance
		switch v.Status {
		case Within:
			for _, e := range v.Tests {
				if e.ShownAt == 0 || e.ShownAt > d.N || e.Ratio < e.Threshold {
					t.Fatalf("%s within but its %s part is not shown: %+v", v.Version, e.Side, e)
				}
			}
		case Outside:
			outside = true
			if v.Low < hi-1e-9 && v.High > lo+1e-9 {
				t.Fatalf("%s outside but interval [%v, %v] meets [%v, %v]", v.Version, v.Low, v.High, lo, hi)
			}
		case Stray:
			outside = true
		default:
			within = false
		}
	}
	if d.Errors.Status == Outside {
		outside = true
	}
	switch {
	case d.Verdict == Fail && !outside:
		t.Fatalf("FAIL with no version outside and errors within budget: %s", d.Reason)
	case d.Verdict == Pass && (!within || outside):
		t.Fatalf("PASS with a version not within: %s", d.Reason)
	case d.Verdict == Pass && heldErrors(d.Errors, "pages") != "":
		t.Fatalf("PASS with an error rate above the budget: %s", d.Reason)
	case d.Verdict == Pending && (within && heldErrors(d.Errors, "pages") == "" || outside):
		t.Fatalf("PENDING but decided: %s", d.Reason)
	}
}
