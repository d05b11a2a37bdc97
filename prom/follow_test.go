package prom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// followFrom is From in the accounting tests: 100 s. Pod a is scraped at
// 95, 105, 115, 125, 135 s and pod b at 98, 108, 118, 128 s.
var followFrom = time.Unix(100, 0)

// stream is one istio_requests_total series of a pod's sidecar, with
// samples given as seconds and values.
func stream(pod, version string, samples ...[2]float64) *model.SampleStream {
	ss := &model.SampleStream{Metric: model.Metric{
		"__name__": "istio_requests_total", "job": "kubernetes-pods", "instance": model.LabelValue(pod + ":15020"),
		"pod": model.LabelValue(pod), "destination_version": model.LabelValue(version),
	}}
	for _, s := range samples {
		ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.Time(s[0] * 1000), Value: model.SampleValue(s[1])})
	}
	return ss
}

// counted keys a result's series by pod/version, without their labels.
func counted(r Result) map[string]Series {
	out := map[string]Series{}
	for _, s := range r.Series {
		k := s.Labels["pod"] + "/" + s.Labels["destination_version"]
		s.Labels = nil
		out[k] = s
	}
	return out
}

func TestTally(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		polls            []model.Matrix // one answer per poll
		want             map[string]Series
		targets, scrapes int
	}{
		{
			name:  "baseline at the first scrape at or after From, not before",
			polls: []model.Matrix{{stream("a", "v1", [2]float64{95, 10}, [2]float64{105, 12}, [2]float64{115, 15}, [2]float64{125, 20})}},
			want:  map[string]Series{"a/v1": {Increase: 8}}, targets: 1, scrapes: 2,
		},
		{
			name: "series first at its target's first scrape is a baseline: requests before From never count",
			polls: []model.Matrix{{
				stream("a", "v1", [2]float64{95, 1}, [2]float64{105, 2}, [2]float64{115, 4}),
				stream("a", "v2", [2]float64{105, 7}, [2]float64{115, 9}),
			}},
			want: map[string]Series{"a/v1": {Increase: 2}, "a/v2": {Increase: 2}}, targets: 1, scrapes: 1,
		},
		{
			name: "series first at a later scrape was born inside: counts from 0",
			polls: []model.Matrix{{
				stream("a", "v1", [2]float64{95, 1}, [2]float64{105, 2}, [2]float64{115, 4}),
				stream("a", "v2", [2]float64{115, 3}, [2]float64{125, 5}),
			}},
			want: map[string]Series{"a/v1": {Increase: 2}, "a/v2": {Increase: 5, Born: true}}, targets: 1, scrapes: 2,
		},
		{
			name:  "a drop is a reset: the new value counts",
			polls: []model.Matrix{{stream("a", "v1", [2]float64{105, 10}, [2]float64{115, 12}, [2]float64{125, 3}, [2]float64{135, 4})}},
			want:  map[string]Series{"a/v1": {Increase: 6, Resets: 1}}, targets: 1, scrapes: 3,
		},
		{
			// One timeline for both would start at 105 and take b/v2's
			// 40, at b's first scrape, for requests born inside.
			name: "each target counts from its own first scrape",
			polls: []model.Matrix{{
				stream("a", "v1", [2]float64{95, 0}, [2]float64{105, 2}, [2]float64{115, 6}),
				stream("b", "v1", [2]float64{98, 3}, [2]float64{108, 4}, [2]float64{118, 4}),
				stream("b", "v2", [2]float64{108, 40}, [2]float64{118, 45}),
			}},
			want: map[string]Series{"a/v1": {Increase: 4}, "b/v1": {}, "b/v2": {Increase: 5}}, targets: 2, scrapes: 2,
		},
		{
			name: "overlapping polls count once",
			polls: []model.Matrix{
				{stream("a", "v1", [2]float64{95, 1}, [2]float64{105, 2}, [2]float64{115, 4})},
				{stream("a", "v1", [2]float64{105, 2}, [2]float64{115, 4}, [2]float64{125, 9}), stream("a", "v2", [2]float64{125, 1})},
				{stream("a", "v1", [2]float64{115, 4}, [2]float64{125, 9}), stream("a", "v2", [2]float64{125, 1})},
			},
			want: map[string]Series{"a/v1": {Increase: 7}, "a/v2": {Increase: 1, Born: true}}, targets: 1, scrapes: 2,
		},
		{
			name: "target first seen after From starts at its own first scrape",
			polls: []model.Matrix{
				{stream("a", "v1", [2]float64{95, 1}, [2]float64{105, 2})},
				{
					stream("a", "v1", [2]float64{105, 2}, [2]float64{115, 4}),
					stream("c", "v3", [2]float64{122, 50}, [2]float64{132, 55}),
					stream("c", "v1", [2]float64{132, 2}),
				},
			},
			want: map[string]Series{"a/v1": {Increase: 2}, "c/v1": {Increase: 2, Born: true}, "c/v3": {Increase: 5}}, targets: 2, scrapes: 2,
		},
		{
			name: "target's first scrape after From seen on a later poll",
			polls: []model.Matrix{
				{stream("a", "v1", [2]float64{95, 1})},
				{stream("a", "v1", [2]float64{95, 1}, [2]float64{105, 3}, [2]float64{115, 4}), stream("a", "v2", [2]float64{115, 2})},
			},
			want: map[string]Series{"a/v1": {Increase: 1}, "a/v2": {Increase: 2, Born: true}}, targets: 1, scrapes: 1,
		},
		{
			// Born or baseline is decided by the target's first scrape,
			// not by the poll that shows the series first.
			name: "series first shown by a later poll is judged by its target's first scrape",
			polls: []model.Matrix{
				{stream("a", "v1", [2]float64{105, 2})},
				{stream("a", "v1", [2]float64{105, 2}, [2]float64{115, 3}), stream("a", "v2", [2]float64{105, 5}, [2]float64{115, 6})},
			},
			want: map[string]Series{"a/v1": {Increase: 1}, "a/v2": {Increase: 1}}, targets: 1, scrapes: 1,
		},
		{
			name:  "nothing at or after From yet",
			polls: []model.Matrix{{stream("a", "v1", [2]float64{95, 1})}},
			want:  map[string]Series{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tl := newTally(followFrom)
			for _, m := range tc.polls {
				tl.add(m)
			}
			got := tl.result(Result{})
			if diff := cmp.Diff(tc.want, counted(got)); diff != "" {
				t.Errorf("series mismatch (-want +got):\n%s", diff)
			}
			if got.Targets != tc.targets || got.Scrapes != tc.scrapes {
				t.Errorf("%d scrapes of %d targets, want %d of %d", got.Scrapes, got.Targets, tc.scrapes, tc.targets)
			}
		})
	}
}

// fakeQuerier answers queries in turn with canned values or errors.
type fakeQuerier struct {
	mu      sync.Mutex
	answers []any // model.Value or error
	queries []string
}

func (q *fakeQuerier) Query(_ context.Context, query string, _ time.Time, _ ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queries = append(q.queries, query)
	a := q.answers[0]
	q.answers = q.answers[1:]
	if err, ok := a.(error); ok {
		return nil, nil, nil, err
	}
	return a.(model.Value), nil, nil, nil
}

func (q *fakeQuerier) Targets(context.Context) (v1.TargetsResult, error) {
	return v1.TargetsResult{}, errors.New("not served")
}

// TestFollowFailedPollChangesNothing: a poll that fails, for an
// unavailable server or an answer of the wrong type, leaves the state as
// it was, and the next poll reads again from the last successful one.
func TestFollowFailedPollChangesNothing(t *testing.T) {
	t.Parallel()
	fq := &fakeQuerier{answers: []any{
		model.Matrix{stream("a", "v1", [2]float64{95, 1}, [2]float64{105, 2})},
		errors.New("connection refused"),
		model.Vector{},
		model.Matrix{stream("a", "v1", [2]float64{105, 2}, [2]float64{115, 4}, [2]float64{125, 9})},
	}}
	c := &Client{api: fq, url: "http://fake", timeout: time.Second}
	f := c.Follow("istio_requests_total", followFrom)
	ctx := context.Background()
	at := func(s int) time.Time { return followFrom.Add(time.Duration(s) * time.Second) }
	if _, err := f.Poll(ctx, at(10)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Poll(ctx, at(20)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Poll() on a dead server = %v, want ErrUnavailable", err)
	}
	if _, err := f.Poll(ctx, at(30)); err == nil || !strings.Contains(err.Error(), "vector") {
		t.Errorf("Poll() answered with a vector = %v, want an error naming it", err)
	}
	res, err := f.Poll(ctx, at(40))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]Series{"a/v1": {Increase: 7}}, counted(res)); diff != "" {
		t.Errorf("series mismatch (-want +got):\n%s", diff)
	}
	// From the poll at 110 s less the margin to 140 s.
	if want := "istio_requests_total[91s]"; fq.queries[3] != want || res.Query != want {
		t.Errorf("query after failed polls = %q (result says %q), want %q", fq.queries[3], res.Query, want)
	}
}

// TestFollowQueryRange: each poll sends one query whose range is the gap
// since the last successful poll plus the margin, however long the gate
// has run, and answers that overlap are counted once.
func TestFollowQueryRange(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var queries []string
	c := promServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		queries = append(queries, r.Form.Get("query"))
		n := len(queries)
		mu.Unlock()
		// Every answer repeats all earlier samples: the server here does
		// not cut to the range asked for.
		var vals []string
		for i := range n + 1 {
			vals = append(vals, fmt.Sprintf(`[%d,"%d"]`, 105+10*i, 10*i))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"__name__":"istio_requests_total","job":"j","instance":"i","destination_version":"v1"},"values":[%s]}]}}`, strings.Join(vals, ","))
	})
	f := c.Follow(`istio_requests_total{reporter="source"}`, followFrom)
	polls := []struct {
		after time.Duration // since From
		rng   string
	}{
		{5 * time.Second, "[66s]"},
		{65 * time.Second, "[121s]"},
		{time.Hour, "[3596s]"}, // a poll an hour late reads the hour, once
		{time.Hour + 15*time.Second, "[76s]"},
		{time.Hour + 30*time.Second, "[76s]"},
	}
	for i, p := range polls {
		res, err := f.Poll(context.Background(), followFrom.Add(p.after))
		if err != nil {
			t.Fatal(err)
		}
		if want := `istio_requests_total{reporter="source"}` + p.rng; res.Query != want || queries[i] != want {
			t.Errorf("poll at From+%s sent %q (result says %q), want %q", p.after, queries[i], res.Query, want)
		}
		if got, want := res.Sum("destination_version")["v1"], float64(10*(i+1)); got != want {
			t.Errorf("poll at From+%s: v1 = %v, want %v", p.after, got, want)
		}
	}
}
