package decide

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		expect        string
		tol, conf     float64
		wantFailTruth string
		wantOneLook   int
		passRange     [2]int // PassMedian range
	}{
		{name: "50/50", expect: "v1=50,v3=50", tol: 5, conf: 0.95, wantFailTruth: "v1=40,v3=60", wantOneLook: 857, passRange: [2]int{700, 1000}},
		{name: "90/10 at 2 points", expect: "v1=90,v2=10", tol: 2, conf: 0.95, wantFailTruth: "v1=86,v2=14", wantOneLook: 1927, passRange: [2]int{1500, 2600}},
		{name: "three versions", expect: "v1=34,v2=33,v3=33", tol: 5, conf: 0.95, wantFailTruth: "v1=24,v2=43,v3=33", wantOneLook: 769, passRange: [2]int{900, 2000}},
		{name: "exact", expect: "v1=100", tol: 5, conf: 0.95, wantFailTruth: "v1=90,other=10", wantOneLook: 59, passRange: [2]int{59, 59}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, tc.expect))
			c.Tolerance, c.Confidence = tc.tol, tc.conf
			got := Plan(c, 0)
			t.Logf("%+v", got)
			if got.FailTruth != tc.wantFailTruth || got.OneLook != tc.wantOneLook {
				t.Errorf("Plan() FailTruth, OneLook = %q, %d; want %q, %d", got.FailTruth, got.OneLook, tc.wantFailTruth, tc.wantOneLook)
			}
			if got.Runs < planMinRuns || got.Runs > planRuns {
				t.Errorf("Plan() Runs = %d; want in [%d, %d]", got.Runs, planMinRuns, planRuns)
			}
			if got.PassMedian < tc.passRange[0] || got.PassMedian > tc.passRange[1] || got.PassP90 < got.PassMedian || got.PassP90 >= got.Limit {
				t.Errorf("Plan() PassMedian, PassP90 = %d, %d; want median in %v, p90 above it and below Limit %d", got.PassMedian, got.PassP90, tc.passRange, got.Limit)
			}
			if got.FailMedian <= 0 || got.FailP90 < got.FailMedian || got.FailP90 >= got.Limit {
				t.Errorf("Plan() FailMedian, FailP90 = %d, %d; want positive, ordered, below Limit %d", got.FailMedian, got.FailP90, got.Limit)
			}
			if tc.name == "50/50" {
				if diff := cmp.Diff(got, Plan(c, 0)); diff != "" {
					t.Errorf("Plan() is not deterministic (-first +second):\n%s", diff)
				}
			}
		})
	}
}

// TestPlanErrors checks that errors near the budget slow a PASS down, as
// verify's PASS waits while an observed error rate is above the budget.
func TestPlanErrors(t *testing.T) {
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	clean, near := Plan(c, 0), Plan(c, 0.007)
	t.Logf("clean: %+v", clean)
	t.Logf("0.7%% errors against a 1%% budget: %+v", near)
	if near.ErrorRate != 0.7 || near.Budget != 1 {
		t.Errorf("Plan(0.7%%) ErrorRate, Budget = %v, %v; want 0.7, 1", near.ErrorRate, near.Budget)
	}
	if near.PassMedian <= clean.PassMedian {
		t.Errorf("Plan(0.7%% errors) PassMedian = %d; want above %d (no errors)", near.PassMedian, clean.PassMedian)
	}
}

func TestPlanInvalid(t *testing.T) {
	t.Parallel()
	if got := Plan(DefaultCriteria(Expectation{}), 0); got != (PlanResult{}) {
		t.Errorf("Plan(zero expectation) = %+v; want zero", got)
	}
	zeroTol := DefaultCriteria(mustExpect(t, "v1=100"))
	zeroTol.Tolerance = 0
	if got := Plan(zeroTol, 0); got != (PlanResult{}) {
		t.Errorf("Plan(tolerance 0) = %+v; want zero", got)
	}
	if got := Plan(DefaultCriteria(mustExpect(t, "v1=100")), 1); got != (PlanResult{}) {
		t.Errorf("Plan(error rate 1) = %+v; want zero", got)
	}
}
