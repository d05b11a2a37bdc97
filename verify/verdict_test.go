package verify

import (
	"strings"
	"testing"

	"github.com/canary-gate/canary/decide"
)

// TestFailsAlike: a FAIL that only error budgets caused, every serving
// version over its budget, blames no version; one version failing alone,
// a split outside its band, or a single serving version still FAILs.
func TestFailsAlike(t *testing.T) {
	t.Parallel()
	feed := func(expect string, pages map[string][2]int) decide.Decision {
		c := decide.DefaultCriteria(mustParse(t, expect))
		s, err := decide.NewCounted(c)
		if err != nil {
			t.Fatal(err)
		}
		batch := map[string]decide.Counts{}
		for v, n := range pages {
			batch[v] = decide.Counts{Requests: float64(n[0]), Errors: float64(n[1])}
		}
		s.AddCounts(batch)
		return s.Decision()
	}
	for _, tc := range []struct {
		name   string
		expect string
		pages  map[string][2]int
		alike  bool
	}{
		{"both versions fail alike", "v1=50,v3=50", map[string][2]int{"v1": {500, 100}, "v3": {500, 98}}, true},
		{"only the canary fails", "v1=50,v3=50", map[string][2]int{"v1": {500, 0}, "v3": {500, 100}}, false},
		{"one serving version", "v3=100", map[string][2]int{"v3": {500, 100}}, false},
		{"a split outside its band too", "v1=50,v3=50", map[string][2]int{"v1": {800, 160}, "v3": {200, 40}}, false},
	} {
		d := feed(tc.expect, tc.pages)
		if d.Verdict != decide.Fail {
			t.Fatalf("%s: the decision is %s, want FAIL to start from", tc.name, d.Verdict)
		}
		got := failsAlike(d)
		if (got != "") != tc.alike || (tc.alike && !strings.HasPrefix(got, "every version fails alike (v1 20.0%, v3 19.6%")) {
			t.Errorf("%s: failsAlike = %q; want alike %v", tc.name, got, tc.alike)
		}
	}
}
