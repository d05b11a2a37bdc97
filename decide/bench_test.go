package decide

import (
	"testing"

	"github.com/canary-gate/canary/internal/textfmt"
)

// BenchmarkAdd is the per-page hot path: Add plus the verdict check.
func BenchmarkAdd(b *testing.B) {
	s := mustSequential(b, DefaultCriteria(mustExpect(b, "v1=50,v3=50")))
	versions := [...]string{"v1", "v3", "v1", "", "v3"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Add(versions[i%len(versions)], i%97 != 0, 0)
		if s.Verdict() != Pending {
			s.Reset()
		}
		i++
	}
}

// BenchmarkDecision is a full explanation of a pending two-version check.
func BenchmarkDecision(b *testing.B) {
	for _, expect := range []string{"v1=50,v3=50", "v1=34,v2=33,v3=33"} {
		b.Run(expect, func(b *testing.B) {
			s := mustSequential(b, DefaultCriteria(mustExpect(b, expect)))
			for _, p := range roundRobin(300, mustExpect(b, expect).Versions()...) {
				s.Add(p.version, p.ok, 0)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = s.Decision()
			}
		})
	}
}

// BenchmarkNewSequential is the one-off threshold precomputation.
func BenchmarkNewSequential(b *testing.B) {
	c := DefaultCriteria(mustExpect(b, "v1=50,v3=50"))
	b.ReportAllocs()
	for b.Loop() {
		_ = mustSequential(b, c)
	}
}

// BenchmarkPlan is canary plan: table precomputation plus simulation.
func BenchmarkPlan(b *testing.B) {
	for _, tc := range []struct {
		expect string
		tol    float64
	}{{"v1=50,v3=50", 5}, {"v1=90,v2=10", 2}, {"v1=50,v3=50", 1}} {
		b.Run(textfmt.Num(tc.tol)+"/"+tc.expect, func(b *testing.B) {
			c := DefaultCriteria(mustExpect(b, tc.expect))
			c.Tolerance = tc.tol
			for b.Loop() {
				_ = Plan(c, 0)
			}
		})
	}
}
