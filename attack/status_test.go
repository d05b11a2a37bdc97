package attack

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/canary-gate/canary/classify"
)

var update = flag.Bool("update", false, "update golden files")

func outcomes(cs ...Count) []Count { return cs }

func oc(o classify.Outcome, n uint64) Count { return countOf(o, n) }

// fixedSummary is a final summary with two versions and a few failures.
func fixedSummary() *Summary {
	at := time.Date(2026, 11, 25, 8, 24, 0, 0, time.UTC)
	return &Summary{
		Target: "http://127.0.0.1:9080/productpage", Requested: 100, Start: at, Elapsed: 10 * time.Second,
		Rate: 99.9, Throughput: 99.8, Sent: 1000, Completed: 999, Dropped: 0, Workers: 12, PeakWorkers: 14, MaxWorkers: 512,
		Done: true,
		Latency: Latency{P50: 420 * time.Microsecond, P90: 900 * time.Microsecond, P99: 3 * time.Millisecond,
			Max: 12 * time.Millisecond, Mean: 500 * time.Microsecond},
		Versions: []Version{
			{Name: "v1", Count: 899, Share: 0.8999, Outcomes: outcomes(oc(classify.OK, 899)),
				Latency: Latency{P50: 400 * time.Microsecond, P90: 800 * time.Microsecond, P99: 2 * time.Millisecond, Max: 9 * time.Millisecond}},
			{Name: "v3", Count: 98, Share: 0.0981, Outcomes: outcomes(oc(classify.OK, 97), oc(classify.RatingsUnavailable, 1)),
				Latency: Latency{P50: 600 * time.Microsecond, P90: time.Millisecond, P99: 4 * time.Millisecond, Max: 12 * time.Millisecond}},
			{Name: "", Count: 2, Share: 0.002, Outcomes: outcomes(oc(classify.TransportError, 2)),
				Latency: Latency{P50: 10 * time.Second, P90: 10 * time.Second, P99: 10 * time.Second, Max: 10 * time.Second}},
		},
		Outcomes: outcomes(oc(classify.OK, 996), oc(classify.RatingsUnavailable, 1), oc(classify.TransportError, 2)),
		Status:   map[int]uint64{0: 2, 200: 997},
		Failures: []Failure{{At: at.Add(3 * time.Second), Latency: 10 * time.Second, Outcome: classify.TransportError,
			Name: "transport-error", Reason: "no response: context deadline exceeded",
			ID: "0f1e2d3c-1234-4abc-8def-0123456789ab", Trace: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
	}
}

func TestSummaryTextGolden(t *testing.T) {
	got := fixedSummary().String()
	path := filepath.Join("testdata", t.Name()+".golden.txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("Summary.String() mismatch (-want +got):\n%s", diff)
	}
}

func TestStatusLine(t *testing.T) {
	t.Parallel()
	base := fixedSummary()
	down := *base
	down.Elapsed, down.Sent, down.Completed = 11*time.Second, 1100, 1099
	down.Outcomes = outcomes(oc(classify.OK, 996), oc(classify.RatingsUnavailable, 1), oc(classify.TransportError, 102))
	failing := *base
	failing.Elapsed, failing.Sent, failing.Completed = 11*time.Second, 1100, 1099
	failing.Outcomes = outcomes(oc(classify.OK, 996), oc(classify.RatingsUnavailable, 1), oc(classify.HTTPError, 100), oc(classify.TransportError, 2))
	stuck := *base
	stuck.Elapsed, stuck.Sent = 11*time.Second, 1100
	tests := []struct {
		name      string
		prev, cur *Summary
		want      []string
		not       []string
	}{
		{"whole run", nil, base, []string{"10s  rate 100/s of 100/s", "done 999 (1 in flight)", "v1 90% v3 9.8% (none) 0.2%",
			"ok 100% ratings-unavailable 0.1% transport-error 0.2%", "p50 420µs p99 3ms", "errors 3"}, []string{"target"}},
		{"target went down", base, &down, []string{"rate 100/s", "target down? 100% transport errors in the last 1s"}, nil},
		{"target failing", base, &failing, []string{"target failing? 100% HTTP errors in the last 1s"}, nil},
		{"target stuck", base, &stuck, []string{"target slow? no responses in the last 1s, 101 in flight"}, nil},
		{"first second, nothing back", nil, &Summary{Requested: 5, Elapsed: time.Second, Sent: 5},
			[]string{"1s  rate 5/s of 5/s  done 0 (5 in flight) | no responses yet | target slow?"}, []string{"p50"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			line := StatusLine(tc.prev, tc.cur)
			if strings.Contains(line, "\n") {
				t.Errorf("StatusLine() = %q; want one line", line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("StatusLine() = %q; want it to contain %q", line, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(line, w) {
					t.Errorf("StatusLine() = %q; want no %q", line, w)
				}
			}
		})
	}
}

func TestSummaryJSON(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := fixedSummary().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"requested_rate": 100`, `"outcome": "ratings-unavailable"`, `"x_request_id": "0f1e2d3c-`, `"200": 997`} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("WriteJSON() = %s; want it to contain %s", b.String(), w)
		}
	}
}
