package decide

import (
	"encoding/json"
	"testing"
)

func TestReason(t *testing.T) {
	t.Parallel()
	fiftyFifty := func(n int) []page { return evenly(n, 0.5, "v1", "v3") }
	tests := []struct {
		name   string
		expect string
		max    int // MaxRequests, 0 for the default
		pages  []page
		want   string
	}{
		{name: "pass", expect: "v1=50,v3=50", pages: fiftyFifty(2000),
			want: "every share is within its expected value ± 5 at 95% confidence after 620 pages, each side shown by a one-sided test at 95% (intersection-union): v1 50.0% (expected 50%) above 45% from page 620 and below 55% from page 601, v3 50.0% (expected 50%) above 45% from page 601 and below 55% from page 620; no page came from another version"},
		{name: "inconclusive on errors", expect: "v1=50,v3=50", max: 2000, pages: every(fiftyFifty(2000), 150, page{"v3", false}),
			want: "after 2000 pages every share is within its band, but PASS waits: v3 error rate 1.4% [0.3%, 3.4%] (14 of 1014 pages not ok) is above the 1% budget, not yet shown above it at 99.5% confidence; about 26,000 more pages would likely decide"},
		{name: "pass with errors", expect: "v1=50,v3=50", pages: every(fiftyFifty(2000), 250, page{"v3", false}),
			want: "every share is within its expected value ± 5 at 95% confidence after 736 pages, each side shown by a one-sided test at 95% (intersection-union): v1 49.6% (expected 50%) above 45% from page 736 and below 55% from page 504, v3 50.4% (expected 50%) above 45% from page 504 and below 55% from page 736; no page came from another version; error rates v3 0.8% [0.0%, 4.2%], not shown above the 1% budget"},
		{name: "pass exact", expect: "v1=100", pages: evenly(100, 1, "v1", ""),
			want: "all 59 pages came from v1, which should get 100%, so any other version's share is below 5% at 95% confidence"},
		{name: "fail above", expect: "v1=50,v3=50", pages: evenly(2000, 0.7, "v1", "v3"),
			want: "v1 share 70.0% [55.2%, 82.3%] is above 50% ± 5 at 95% confidence after 110 pages"},
		{name: "fail below", expect: "v1=50,v3=50", pages: evenly(2000, 0.38, "v1", "v3"),
			want: "v1 share 37.8% [31.0%, 45.0%] is below 50% ± 5 at 95% confidence after 476 pages"},
		{name: "fail stray", expect: "v1=50,v3=50", pages: with(fiftyFifty(100), 40, page{"v2", true}),
			want: "1 page from v2, which should get 0%"},
		{name: "fail stray against 100%", expect: "v1=100", pages: with(evenly(100, 1, "v1", ""), 20, page{"v2", true}),
			want: "1 page from v2, which should get 0%"},
		{name: "fail unknown-version errors", expect: "v1=50,v3=50", pages: every(fiftyFifty(1000), 10, page{"", false}),
			want: "unknown-version error rate 11.1% [1.0%, 36.1%] (6 of 54 pages not ok) is above the 1% budget at 95% confidence"},
		{name: "inconclusive with estimate", expect: "v1=50,v3=50", max: 400, pages: fiftyFifty(400),
			want: "after 400 pages v1's share 50.0% [42.2%, 57.8%] is still undecided; about 240 more pages would likely decide"},
		{name: "inconclusive on edge", expect: "v1=50,v3=50", max: 400, pages: evenly(400, 0.55, "v1", "v3"),
			want: "after 400 pages v1's share 55.0% [47.1%, 62.7%] (above 45% shown, below 55% not yet) is still undecided; the observed split sits on a tolerance edge, so more pages may not decide either"},
		{name: "inconclusive three versions", expect: "v1=34,v2=33,v3=33", max: 600, pages: roundRobin(600, "v1", "v2", "v3"),
			want: "after 600 pages v1's share 33.3% [26.7%, 40.4%] (above 29% not yet, below 39% shown), v2's share 33.3% [26.7%, 40.4%] (above 28% shown, below 38% not yet) and v3's share 33.3% [26.7%, 40.4%] (above 28% shown, below 38% not yet) are still undecided; about 120 more pages would likely decide"},
		{name: "inconclusive without versions", expect: "v1=50,v3=50", max: 400, pages: evenly(400, 0, "", ""),
			want: "after 400 pages none had a known version, so the split is undecided"},
		{name: "inconclusive exact", expect: "v1=100", max: 100, pages: evenly(100, 0.5, "v1", ""),
			want: "after 100 pages only 50 had a version; 59 clean pages are needed to show other versions below 5%; about 18 more pages would likely decide"},
		{name: "pending", expect: "v1=50,v3=50", pages: fiftyFifty(300),
			want: "undecided after 300 pages: v1 50.0% [41.0%, 59.0%], v3 50.0% [41.0%, 59.0%]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, tc.expect))
			if tc.max > 0 {
				c.MaxRequests = tc.max
			}
			d := feed(mustSequential(t, c), tc.pages)
			if d.Reason != tc.want {
				t.Errorf("Reason =\n%s\nwant\n%s", d.Reason, tc.want)
			}
			if _, err := json.Marshal(d); err != nil {
				t.Errorf("json.Marshal(Decision) = %v", err)
			}
		})
	}
}

func roundRobin(n int, versions ...string) []page {
	out := make([]page, n)
	for i := range out {
		out[i] = page{versions[i%len(versions)], true}
	}
	return out
}

func TestVerdictAndStatusText(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(struct {
		V []Verdict
		S []Status
	}{[]Verdict{Pending, Pass, Fail, Inconclusive, 9}, []Status{Undecided, Within, Outside, Stray, -1}})
	want := `{"V":["PENDING","PASS","FAIL","INCONCLUSIVE","UNKNOWN"],"S":["undecided","within","outside","stray","unknown"]}`
	if err != nil || string(got) != want {
		t.Errorf("json.Marshal = %s, %v; want %s", got, err, want)
	}
}
