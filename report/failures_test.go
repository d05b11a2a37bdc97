package report

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

// TestFailures: the newest KeepFailed failed requests, oldest first, the
// total of all, and links only for requests that asked for a trace; each
// format shows them.
func TestFailures(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	var f Failures
	for i := range 30 {
		r := results.Record{At: start.Add(time.Duration(i) * time.Second), Status: 200, Version: "v1", Outcome: classify.OK, ID: fmt.Sprint("ok-", i)}
		if i >= 5 {
			flags := "01"
			if i%2 == 0 {
				flags = "00"
			}
			r.Outcome, r.Status, r.ID = classify.HTTPError, 503, fmt.Sprint("req-", i)
			r.Trace = fmt.Sprintf("00-%032x-00f067aa0ba902b7-%s", i, flags)
		}
		f.Add(&r)
	}
	list, total := f.List(func(id string) string { return "http://jaeger/trace/" + id })
	if total != 25 || len(list) != KeepFailed || list[0].RequestID != "req-10" || list[KeepFailed-1].RequestID != "req-29" {
		t.Fatalf("%d failed, kept %d from %s to %s; want 25, %d from req-10 to req-29", total, len(list), list[0].RequestID, list[len(list)-1].RequestID, KeepFailed)
	}
	for _, fr := range list {
		if fr.Sampled != (fr.Link != "") || fr.TraceID == "" {
			t.Errorf("%+v: a link exactly when sampled, and the trace id always", fr)
		}
	}
	rep := withVerdict(&Report{Title: "failures", Failed: list, FailedTotal: total,
		Windows: []results.Window{{Start: start, End: start.Add(time.Minute)}}})
	for format, want := range map[string][]string{
		"text":     {"failed requests (25 in all; the newest 20, oldest first)", "x-request-id req-29 http://jaeger/trace/" + fmt.Sprintf("%032x", 29), "req-28 trace " + fmt.Sprintf("%032x", 28) + " (not sampled)"},
		"markdown": {"### Failed requests (25 in all; the newest 20)"},
		"json":     {`"failed_total": 25`, `"link": "http://jaeger/trace/`},
		"html":     {"<h2>Failed requests: 25 in all; the newest 20, oldest first</h2>", `<a href="http://jaeger/trace/` + fmt.Sprintf("%032x", 29) + `">`},
	} {
		var buf bytes.Buffer
		if err := Render(&buf, format, rep); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, w := range want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s lacks %q", format, w)
			}
		}
	}
}

// TestNewest: the newest Keep values, oldest first, and the count of all.
func TestNewest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		keep, add int
		want      []int
	}{
		{0, 3, nil},
		{1, 3, []int{2}},
		{3, 2, []int{0, 1}},
		{3, 7, []int{4, 5, 6}},
	}
	for _, tc := range tests {
		var n Newest[int]
		n.Keep = tc.keep
		for i := range tc.add {
			n.Add(i)
		}
		if got := n.List(); !slices.Equal(got, tc.want) || n.Total() != tc.add {
			t.Errorf("Newest{Keep: %d} after %d: %v, total %d; want %v, %d", tc.keep, tc.add, got, n.Total(), tc.want, tc.add)
		}
	}
}
