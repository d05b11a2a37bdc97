package decide

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// page is one simulated page.
type page struct {
	version string
	ok      bool
}

// evenly returns n pages whose versions follow shares exactly (a
// deterministic low-discrepancy sequence over versions a and b).
func evenly(n int, p float64, a, b string) []page {
	out := make([]page, n)
	for i := range out {
		out[i] = page{b, true}
		if int(float64(i+1)*p) > int(float64(i)*p) {
			out[i].version = a
		}
	}
	return out
}

// feed adds pages until a verdict and returns the decision.
func feed(s *Sequential, pages []page) Decision {
	for _, p := range pages {
		if s.Verdict() != Pending {
			break
		}
		s.Add(p.version, p.ok, 0)
	}
	return s.Decision()
}

// with returns pages with p at index i.
func with(pages []page, i int, p page) []page {
	pages[i] = p
	return pages
}

// every puts p at every k-th index, starting at 3.
func every(pages []page, k int, p page) []page {
	for i := 3; i < len(pages); i += k {
		pages[i] = p
	}
	return pages
}

func TestExactVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		expect string
		pages  []page
		want   Verdict
		wantN  int
	}{
		{name: "100%: stray fails at once", expect: "v1=100", pages: with(evenly(30, 1, "v1", ""), 20, page{"v2", true}), want: Fail, wantN: 21},
		{name: "100%: 58 clean pages pend", expect: "v1=100", pages: evenly(58, 1, "v1", ""), want: Pending, wantN: 58},
		{name: "100%: 59 clean pages pass", expect: "v1=100", pages: evenly(80, 1, "v1", ""), want: Pass, wantN: 59},
		{name: "100%: unknown version is no stray", expect: "v1=100", pages: []page{{"v1", true}, {"", true}, {"", false}}, want: Pending, wantN: 1},
		{name: "50/50: unlisted v2 fails at once", expect: "v1=50,v3=50", pages: with(evenly(100, 0.5, "v1", "v3"), 40, page{"v2", true}), want: Fail, wantN: 41},
		{name: "50/50: listed zero fails at once", expect: "v1=50,v2=0,v3=50", pages: with(evenly(100, 0.5, "v1", "v3"), 0, page{"v2", true}), want: Fail, wantN: 1},
		{name: "stray fails even with an error", expect: "v1=50,v3=50", pages: []page{{"v4", false}}, want: Fail, wantN: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustSequential(t, DefaultCriteria(mustExpect(t, tc.expect)))
			d := feed(s, tc.pages)
			if d.Verdict != tc.want || d.N != tc.wantN {
				t.Errorf("verdict after pages = %v with N = %d; want %v with N = %d (%s)", d.Verdict, d.N, tc.want, tc.wantN, d.Reason)
			}
		})
	}
}

func TestErrorBudget(t *testing.T) {
	t.Parallel()
	split := func(n int, bad func(i int, v string) bool) []page {
		pages := evenly(n, 0.5, "v1", "v3")
		for i := range pages {
			pages[i].ok = !bad(i, pages[i].version)
		}
		return pages
	}
	tests := []struct {
		name       string
		budget     float64
		pages      []page
		want       Verdict
		wantBucket string // the bucket over budget, "-" for none
		wantN      int
	}{
		{name: "two unknown-version errors pend", budget: 0.01,
			pages: with(with(split(400, func(int, string) bool { return false }), 5, page{"", false}), 9, page{"", false}),
			want:  Pending, wantBucket: "-", wantN: 398},
		{name: "unknown-version errors fail", budget: 0.01,
			pages: every(split(1000, func(int, string) bool { return false }), 10, page{"", false}),
			want:  Fail, wantBucket: "", wantN: 48},
		{name: "one version's errors fail", budget: 0.01,
			pages: split(1000, func(i int, v string) bool { return v == "v3" && i%7 == 0 }),
			want:  Fail, wantBucket: "v3", wantN: 57},
		{name: "errors within budget still pass", budget: 0.01,
			pages: split(2000, func(i int, _ string) bool { return i%250 == 0 }),
			want:  Pass, wantBucket: "-", wantN: 620},
		{name: "errors over budget hold PASS back", budget: 0.01,
			pages: split(2000, func(i int, _ string) bool { return i%150 == 0 }),
			want:  Pending, wantBucket: "-", wantN: 2000},
		{name: "errors over budget fail in the end", budget: 0.01,
			pages: split(5000, func(i int, _ string) bool { return i%60 == 0 }),
			want:  Fail, wantBucket: "v3", wantN: 781},
		{name: "zero budget fails on one error", budget: 0,
			pages: split(100, func(i int, _ string) bool { return i == 30 }),
			want:  Fail, wantBucket: "v3", wantN: 31},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
			c.MaxErrorRate = tc.budget
			d := feed(mustSequential(t, c), tc.pages)
			over := "-"
			for _, k := range d.Errors.Buckets {
				if k.Status == Outside {
					over = k.Version
				}
			}
			if d.Verdict != tc.want || over != tc.wantBucket || d.N != tc.wantN {
				t.Errorf("got %v, bucket over budget %q, N = %d; want %v, %q, %d (%s)", d.Verdict, over, d.N, tc.want, tc.wantBucket, tc.wantN, d.Reason)
			}
		})
	}
}

func TestUnknownVersionsLeaveSplit(t *testing.T) {
	t.Parallel()
	s := mustSequential(t, DefaultCriteria(mustExpect(t, "v1=50,v3=50")))
	for _, p := range []page{{"v1", true}, {"", true}, {"v3", false}, {"", false}} {
		s.Add(p.version, p.ok, 0)
	}
	d := s.Decision()
	got := []int{d.N, d.Pages, d.Versions[0].Count, d.Versions[1].Count, d.Errors.Buckets[1].Errors, d.Errors.Buckets[2].Errors, d.Errors.Buckets[2].Pages}
	want := []int{2, 4, 1, 1, 1, 1, 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("[N Pages v1 v3 v3-errors unknown-errors unknown-pages] mismatch (-want +got):\n%s", diff)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	s := mustSequential(t, c)
	feed(s, []page{{"v1", true}, {"v2", false}, {"", false}})
	if s.Verdict() != Fail {
		t.Fatalf("Verdict() = %v after a stray; want FAIL", s.Verdict())
	}
	s.Add("v1", true, 0) // ignored after a verdict
	if got := s.Decision().N; got != 2 {
		t.Errorf("N = %d after a verdict and another Add; want 2", got)
	}
	s.Reset()
	if diff := cmp.Diff(mustSequential(t, c).Decision(), s.Decision()); diff != "" {
		t.Errorf("Decision() after Reset differs from a new Sequential (-want +got):\n%s", diff)
	}
	if d := feed(s, evenly(2000, 0.5, "v1", "v3")); d.Verdict != Pass || d.N != 620 {
		t.Errorf("after Reset: %v at N = %d; want PASS at 620", d.Verdict, d.N)
	}
}

func TestInconclusive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		expect   string
		pages    []page
		wantMore [2]int // MorePages range, [0 0] for no estimate
	}{
		{name: "50/50 needs more", expect: "v1=50,v3=50", pages: evenly(400, 0.5, "v1", "v3"), wantMore: [2]int{150, 600}},
		{name: "on the edge: no estimate", expect: "v1=50,v3=50", pages: evenly(400, 0.55, "v1", "v3")},
		{name: "just outside: fails later", expect: "v1=50,v3=50", pages: evenly(400, 0.6, "v1", "v3"), wantMore: [2]int{200, 2000}},
		{name: "no versions", expect: "v1=50,v3=50", pages: evenly(400, 0, "", "")},
		{name: "exact needs clean pages", expect: "v1=100", pages: evenly(100, 0.5, "v1", ""), wantMore: [2]int{18, 18}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, tc.expect))
			c.MaxRequests = len(tc.pages)
			d := feed(mustSequential(t, c), tc.pages)
			if d.Verdict != Inconclusive {
				t.Fatalf("verdict = %v; want INCONCLUSIVE (%s)", d.Verdict, d.Reason)
			}
			if d.MorePages < tc.wantMore[0] || d.MorePages > tc.wantMore[1] {
				t.Errorf("MorePages = %d; want in %v", d.MorePages, tc.wantMore)
			}
			// The estimate must be right about the same evidence continued.
			if tc.wantMore[0] > 0 && !strings.Contains(tc.name, "exact") {
				c.MaxRequests = len(tc.pages) + 2*d.MorePages
				p := evenly(c.MaxRequests, float64(d.Versions[0].Count)/float64(d.N), "v1", "v3")
				if got := feed(mustSequential(t, c), p); got.Verdict == Inconclusive || got.Verdict == Pending {
					t.Errorf("with %d pages the same split is still %v; the estimate said %d more would likely do", c.MaxRequests, got.Verdict, d.MorePages)
				}
			}
		})
	}
}
