package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/jaeger"
	"github.com/canary-gate/canary/results"
)

// TestTraceSampler: pages of note keep the newest, with links only for
// sampled ones; the check's sample takes only sampled, classified pages
// and stays uniform (every page equally likely, whatever its position).
func TestTraceSampler(t *testing.T) {
	t.Parallel()
	e, _ := decide.ParseExpect("v1=50,v3=50")
	jc, _ := jaeger.New("http://jaeger:16686", nil)
	o := &Options{Criteria: decide.DefaultCriteria(e), Service: "reviews", Traces: &Traces{Jaeger: jc, Check: 10}}
	ts := newTraceSampler(o)
	tp := func(i int, flags string) string { return fmt.Sprintf("00-%032x-00f067aa0ba902b7-%s", i+1, flags) }
	ts.observe(&results.Record{Version: "v2", Outcome: classify.OK, ID: "stray", Trace: tp(0, "01")})
	ts.observe(&results.Record{Version: "v1", Outcome: classify.RatingsUnavailable, ID: "failed", Trace: tp(1, "00")})
	for i := range 30 {
		ts.observe(&results.Record{Outcome: classify.HTTPError, Status: 503, ID: fmt.Sprint("e", i), Trace: tp(2+i, "01")})
	}
	if kept := ts.notable.List(); ts.notable.Total() != 32 || len(kept) != keepNotable || kept[keepNotable-1].RequestID != "e29" {
		t.Errorf("%d pages of note, %d kept, newest %+v; want 32, %d, e29", ts.notable.Total(), len(kept), kept[len(kept)-1], keepNotable)
	}
	first := newTraceSampler(o)
	first.observe(&results.Record{Version: "v2", Outcome: classify.OK, ID: "stray", Trace: tp(0, "01")})
	first.observe(&results.Record{Version: "v1", Outcome: classify.RatingsUnavailable, ID: "failed", Trace: tp(1, "00")})
	if p := first.notable.List()[0]; !strings.HasPrefix(p.Why, "stray") || p.Link != "http://jaeger:16686/trace/"+fmt.Sprintf("%032x", 1) {
		t.Errorf("stray page %+v; want a stray with its trace link", p)
	}
	if p := first.notable.List()[1]; !strings.HasPrefix(p.Why, "failed") || p.Link != "" || p.Sampled {
		t.Errorf("failed, unsampled page %+v; want no link", p)
	}
	if ts.seen != 1 {
		t.Errorf("%d check candidates; want 1: the stray (classified, sampled), not the failures", ts.seen)
	}
	// Uniformity: 100 pages, 10 picked, 2000 runs: each page picked about
	// 200 times (sd 13.4); the first and last tenth alike within 5 sd.
	counts := make([]int, 100)
	for range 2000 {
		s := newTraceSampler(o)
		for i := range 100 {
			s.observe(&results.Record{Version: "v1", Outcome: classify.OK, ID: fmt.Sprint(i), Trace: tp(i, "01")})
			s.observe(&results.Record{Version: "v1", Outcome: classify.OK, Trace: tp(i, "00")}) // not sampled: never picked
		}
		for _, p := range s.pick {
			var i int
			fmt.Sscan(p.id, &i)
			counts[i]++
		}
	}
	head, tail := 0, 0
	for i := range 10 {
		head += counts[i]
		tail += counts[90+i]
	}
	if head < 2000-5*42 || head > 2000+5*42 || tail < 2000-5*42 || tail > 2000+5*42 {
		t.Errorf("first ten pages picked %d times, last ten %d; want about 2000 each", head, tail)
	}
}

func TestTraceVerdict(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		tc       TraceCheck
		want     decide.Verdict
		says     string
		reporter string
	}{
		{"all agree", TraceCheck{Wanted: 20, Sampled: 500, Checked: 20, Agreed: 20}, decide.Pass, "all 20 traces checked agree", ""},
		{"fewer sampled than wanted", TraceCheck{Wanted: 20, Sampled: 7, Checked: 7, Agreed: 7}, decide.Pass, "only 7 sampled pages of the 20 wanted", ""},
		{"one disagrees", TraceCheck{Wanted: 20, Sampled: 500, Checked: 20, Agreed: 19,
			Disagreements: []TraceDisagreement{{TraceID: "abc", RequestID: "req-1", Page: "v3", Trace: "v1", Pod: "reviews-v1-x"}}},
			decide.Fail, "trace abc says reviews v1 (pod reviews-v1-x) served request req-1, its page shows v3", ""},
		{"some missing", TraceCheck{Wanted: 20, Sampled: 500, Checked: 15, Agreed: 15, Missing: 5}, decide.Inconclusive, "5 did not arrive", ""},
		{"none arrived", TraceCheck{Jaeger: "http://j", Wanted: 20, Sampled: 500, Missing: 20}, decide.Inconclusive, "is the mesh tracing to http://j?", ""},
		{"jaeger down", TraceCheck{Wanted: 20, Sampled: 500, Missing: 20, Error: "jaeger unavailable"}, decide.Inconclusive, "could be read: jaeger unavailable", ""},
		{"nothing sampled", TraceCheck{Wanted: 20}, decide.Inconclusive, "--trace-sample 0", ""},
		{"ambient", TraceCheck{Wanted: 20, Sampled: 500, Checked: 0, Unreadable: []string{"no reviews server span"}}, decide.Inconclusive,
			"ambient mode: the pods of reviews have no sidecar to report their server span", "waypoint"},
	} {
		o := &Options{Service: "reviews", Reporter: c.reporter}
		v, reason := traceVerdict(o, &c.tc, 30*time.Second)
		if v != c.want || !strings.Contains(reason, c.says) {
			t.Errorf("%s: %s %q; want %s saying %q", c.name, v, reason, c.want, c.says)
		}
	}
}

// TestTraceCheckDisagreement: a trace that names another version than its
// page fails the check, naming both witnesses. The fake Jaeger answers
// every id with a recorded trace of a page served by reviews v3.
func TestTraceCheckDisagreement(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("..", "jaeger", "testdata", "trace-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v3/") {
			http.NotFound(w, r) // an older Jaeger: v1 only
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	jc, _ := jaeger.New(srv.URL, nil)
	e, _ := decide.ParseExpect("v1=50,v3=50")
	o := &Options{Criteria: decide.DefaultCriteria(e), Service: "reviews", Traces: &Traces{Jaeger: jc, Check: 3, Wait: time.Second}}
	ts := newTraceSampler(o)
	for i, v := range []string{"v1", "v3", "v1"} {
		ts.observe(&results.Record{Version: v, Outcome: classify.OK, ID: fmt.Sprint("req-", i), Trace: fmt.Sprintf("00-%032x-00f067aa0ba902b7-01", i+1)})
	}
	tc := ts.check(context.Background())
	if tc.Verdict != decide.Fail || tc.Checked != 3 || tc.Agreed != 1 || len(tc.Disagreements) != 2 || tc.API != "v1" {
		t.Fatalf("check %+v; want FAIL with 2 of 3 traces disagreeing, read through API v1", tc)
	}
	d := tc.Disagreements[0]
	if d.Page != "v1" || d.Trace != "v3" || !strings.HasPrefix(d.Pod, "reviews-v3-") || d.Link != srv.URL+"/trace/"+d.TraceID {
		t.Errorf("disagreement %+v; want page v1, trace v3 with its pod and link", d)
	}
	if !strings.Contains(tc.Reason, "says reviews v3") || !strings.Contains(tc.Reason, "its page shows v1") {
		t.Errorf("reason %q; want both witnesses named", tc.Reason)
	}
}

// TestTraceCheckPartialTrace: a trace found before all its spans arrived
// (they come in several export batches) is fetched again, not judged on
// the part that came first; one still partial at the deadline is reported
// as unreadable, with why.
func TestTraceCheckPartialTrace(t *testing.T) {
	t.Parallel()
	full, err := os.ReadFile(filepath.Join("..", "jaeger", "testdata", "trace-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	// only keeps the spans of the recorded trace that keep says to.
	only := func(keep func(service, kind string) bool) []byte {
		var doc map[string]any
		if err := json.Unmarshal(full, &doc); err != nil {
			t.Fatal(err)
		}
		trace := doc["data"].([]any)[0].(map[string]any)
		var kept []any
		for _, sp := range trace["spans"].([]any) {
			span := sp.(map[string]any)
			service := trace["processes"].(map[string]any)[span["processID"].(string)].(map[string]any)["serviceName"].(string)
			kind := ""
			for _, tg := range span["tags"].([]any) {
				if tg.(map[string]any)["key"] == "span.kind" {
					kind = tg.(map[string]any)["value"].(string)
				}
			}
			if keep(service, kind) {
				kept = append(kept, sp)
			}
		}
		trace["spans"] = kept
		b, _ := json.Marshal(doc)
		return b
	}
	gatewayOnly := only(func(service, _ string) bool { return strings.HasPrefix(service, "istio-ingressgateway") })
	noReviewsServer := only(func(service, kind string) bool { return service != "reviews.default" || kind != "server" })
	for _, c := range []struct {
		name          string
		partial       []byte
		partialFor    int32 // calls answered with the partial trace
		want          decide.Verdict
		checked, read int
	}{
		{"complete on the third fetch", gatewayOnly, 2, decide.Pass, 1, 0},
		{"reviews' server span on the third fetch", noReviewsServer, 2, decide.Pass, 1, 0},
		{"no hop until the deadline", gatewayOnly, 1 << 30, decide.Inconclusive, 0, 1},
		// As with a reviews without a sidecar: at the deadline the caller's
		// upstream_cluster subset is taken.
		{"only the caller's span until the deadline", noReviewsServer, 1 << 30, decide.Pass, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/api/v3/") {
					http.NotFound(w, r)
					return
				}
				if calls.Add(1) <= c.partialFor {
					w.Write(c.partial)
					return
				}
				w.Write(full)
			}))
			defer srv.Close()
			jc, _ := jaeger.New(srv.URL, nil)
			e, _ := decide.ParseExpect("v1=50,v3=50")
			o := &Options{Criteria: decide.DefaultCriteria(e), Service: "reviews", Traces: &Traces{Jaeger: jc, Check: 1, Wait: 2500 * time.Millisecond}}
			ts := newTraceSampler(o)
			ts.observe(&results.Record{Version: "v3", Outcome: classify.OK, ID: "req", Trace: fmt.Sprintf("00-%032x-00f067aa0ba902b7-01", 1)})
			tc := ts.check(context.Background())
			if tc.Verdict != c.want || tc.Checked != c.checked || len(tc.Unreadable) != c.read {
				t.Errorf("check %s %q, %d checked, unreadable %v; want %s, %d checked, %d unreadable", tc.Verdict, tc.Reason, tc.Checked, tc.Unreadable, c.want, c.checked, c.read)
			}
		})
	}
}
