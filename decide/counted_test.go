package decide

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCountedOneByOne: counts fed one request at a time decide exactly as
// pages do, at the same request, with the same numbers: the counted path
// is the page path looked at less often, nothing else.
func TestCountedOneByOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expect string
		shares []float64
	}{
		{"v1=50,v3=50", []float64{.5, .5}},
		{"v1=50,v3=50", []float64{.62, .38}},
		{"v1=90,v2=10", []float64{.9, .1}},
		{"v1=34,v2=33,v3=33", []float64{.34, .33, .33}},
	} {
		t.Run(tc.expect+strings.Repeat("'", int(tc.shares[0]*100)%7), func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, tc.expect))
			pages := mustSequential(t, c)
			counted, err := NewCounted(c)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, uint64(len(tc.expect))))
			names := c.Expect.Versions()
			for pages.Verdict() == Pending {
				u, v := rng.Float64(), names[len(names)-1]
				for i, p := range tc.shares {
					if u < p {
						v = names[i]
						break
					}
					u -= p
				}
				ok := rng.Float64() > 0.002
				pages.Add(v, ok, 0)
				errs := 0.0
				if !ok {
					errs = 1
				}
				counted.AddCounts(map[string]Counts{v: {Requests: 1, Errors: errs}})
				if pages.Verdict() != counted.Verdict() {
					t.Fatalf("after %d: pages %s, counts %s", pages.pages, pages.Verdict(), counted.Verdict())
				}
			}
			want, got := pages.Decision(), counted.Decision()
			want.Unit, want.Reason = "request", strings.ReplaceAll(strings.ReplaceAll(want.Reason, "pages", "requests"), "page", "request")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decisions differ (-pages +counts):\n%s", diff)
			}
		})
	}
}

// TestCountedPastTables: one batch larger than MaxRequests is judged by
// the tests themselves, then ends the run if it did not decide.
func TestCountedPastTables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		batch  map[string]Counts
		want   Verdict
		reason string
	}{
		{"even split", map[string]Counts{"v1": {Requests: 2510}, "v3": {Requests: 2490}}, Pass, "after 5000 requests"},
		{"60/40", map[string]Counts{"v1": {Requests: 3000}, "v3": {Requests: 2000}}, Fail, "v1 share 60.0%"},
		{"errors over budget", map[string]Counts{"v1": {Requests: 2500, Errors: 100}, "v3": {Requests: 2500}}, Fail, "v1 error rate 4.0%"},
		{"on the edge", map[string]Counts{"v1": {Requests: 2750}, "v3": {Requests: 2250}}, Inconclusive, "undecided"},
		{"a stray", map[string]Counts{"v1": {Requests: 2500}, "v3": {Requests: 2499}, "v2": {Requests: 1}}, Fail, "1 request from v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
			c.MaxRequests = 1000
			s, err := NewCounted(c)
			if err != nil {
				t.Fatal(err)
			}
			s.AddCounts(tc.batch)
			d := s.Decision()
			if d.Verdict != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("got %s: %s; want %s saying %q", d.Verdict, d.Reason, tc.want, tc.reason)
			}
		})
	}
}

// TestCountedHealth: the health checks read the batches' buckets. A
// canary whose requests all sit two buckets above the baseline's fails on
// latency; without buckets the checks have no data and a PASS waits.
func TestCountedHealth(t *testing.T) {
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	c.Health = DefaultHealth("v1")
	s, err := NewCounted(c)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		s.AddCounts(map[string]Counts{
			"v1": {Requests: 100, Buckets: []Bucket{{Le: 5 * time.Millisecond, Count: 100}, {Le: 10 * time.Millisecond, Count: 100}, {Le: 25 * time.Millisecond, Count: 100}, {Le: Inf, Count: 100}}},
			"v3": {Requests: 100, Buckets: []Bucket{{Le: 5 * time.Millisecond}, {Le: 10 * time.Millisecond}, {Le: 25 * time.Millisecond, Count: 100}, {Le: Inf, Count: 100}}},
		})
		if s.Verdict() != Pending {
			break
		}
	}
	d := s.Decision()
	if d.Verdict != Fail || !strings.Contains(d.Reason, "v3's latency p50 is past v1's") || d.Health.Witness != "requests" {
		t.Errorf("slow canary by counts: %s: %s", d.Verdict, d.Reason)
	}
	s, _ = NewCounted(c)
	s.AddCounts(map[string]Counts{"v1": {Requests: 1500}, "v3": {Requests: 1500}})
	if d := s.Decision(); d.Verdict != Pending || !strings.Contains(d.Reason, "PASS waits") || !strings.Contains(d.Reason, "no latency p50 data") {
		t.Errorf("split decided without latency buckets: %s: %s; want PENDING waiting on the health checks", d.Verdict, d.Reason)
	}
}
