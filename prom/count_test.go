package prom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
)

func TestWalk(t *testing.T) {
	t.Parallel()
	const first = model.Time(1000)
	pairs := func(vs ...float64) []model.SamplePair {
		out := make([]model.SamplePair, len(vs))
		for i, v := range vs {
			out[i] = model.SamplePair{Timestamp: model.Time(500 + 250*i), Value: model.SampleValue(v)}
		}
		return out
	}
	tests := []struct {
		name string
		vals []model.SamplePair
		want Series
	}{
		{"baseline before the window", pairs(5, 5, 7, 9, 12), Series{Increase: 7}},
		{"born inside the window", []model.SamplePair{{Timestamp: 1200, Value: 3}, {Timestamp: 1400, Value: 8}}, Series{Increase: 8, Born: true}},
		{"reset counted from zero", pairs(5, 5, 10, 2, 4), Series{Increase: 9, Resets: 1}},
		{"only old samples", pairs(5, 6), Series{}},
		{"no samples", nil, Series{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, walk(tc.vals, first)); diff != "" {
				t.Errorf("walk() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// promServer answers the Prometheus HTTP API with canned envelopes.
func promServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(handler))
	t.Cleanup(srv.Close)
	c, err := New(Options{URL: srv.URL, Timeout: 2 * time.Second, Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = 10 * time.Millisecond
	return c
}

const matrixEnvelope = `{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"destination_version":"v1","pod":"reviews-v1-a"},"values":[[9.0,"10"],[11.0,"15"],[12.0,"30"]]},
 {"metric":{"destination_version":"v3","pod":"reviews-v3-a"},"values":[[11.0,"4"],[12.0,"9"]]}]}}`

func TestIncrease(t *testing.T) {
	t.Parallel()
	var query string
	c := promServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		query = r.Form.Get("query")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, matrixEnvelope)
	})
	start, end := time.Unix(10, 0), time.Unix(13, 0)
	res, err := c.Increase(context.Background(), `istio_requests_total{reporter="destination"}`, start, end)
	if err != nil {
		t.Fatal(err)
	}
	if want := `istio_requests_total{reporter="destination"}[304s]`; query != want || res.Query != want {
		t.Errorf("query = %q (result says %q), want %q", query, res.Query, want)
	}
	if diff := cmp.Diff(map[string]float64{"v1": 20, "v3": 9}, res.Sum("destination_version")); diff != "" {
		t.Errorf("Sum mismatch (-want +got):\n%s", diff)
	}
}

func TestRetryThenUnavailable(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c := promServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	})
	_, err := c.Increase(context.Background(), "up", time.Unix(0, 0), time.Unix(10, 0))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("server called %d times, want 3 (first try + 2 retries)", got)
	}
}

func TestBadQueryNotRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c := promServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"parse error"}`)
	})
	_, err := c.Increase(context.Background(), "up{", time.Unix(0, 0), time.Unix(10, 0))
	if err == nil || errors.Is(err, ErrUnavailable) || calls.Load() != 1 {
		t.Errorf("err = %v after %d calls; want a bad-query error after 1 call", err, calls.Load())
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    Options
		want string // substring of the error; "" = valid
	}{
		{"ok", Options{URL: "http://prometheus:9090"}, ""},
		{"https ok", Options{URL: "https://prom.example/", Insecure: true}, ""},
		{"no scheme", Options{URL: "prometheus:9090"}, "--prometheus"},
		{"empty", Options{}, "--prometheus"},
		{"two auths", Options{URL: "http://p", BearerTokenFile: "a", BasicAuthFile: "b"}, "give one"},
		{"bad header", Options{URL: "http://p", Headers: map[string]string{"X Bad": "secret-value"}}, "--prom-header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "secret-value"):
				t.Errorf("Validate() printed a header value: %v", err)
			}
		})
	}
}

// TestWaitScrapedTargetStates: WaitScraped waits for every target of the
// job that has not been scraped since the given time, including one just
// discovered and never scraped (health "unknown"): a baseline taken before
// that target's first scrape has no sample for its series, and the whole
// counter, requests from before the window included, would then count as
// the window's. Only a target that is down is not waited for.
func TestWaitScrapedTargetStates(t *testing.T) {
	t.Parallel()
	after := time.Unix(1000, 0)
	target := func(health string, scraped time.Time) string {
		return fmt.Sprintf(`{"labels":{"job":"kubernetes-pods","instance":"i-%s"},"scrapeUrl":"http://x/%s","health":%q,"lastScrape":%q}`,
			health, health, health, scraped.Format(time.RFC3339Nano))
	}
	for _, c := range []struct {
		name    string
		pending string // the target's state until the third targets call
		waits   bool
	}{
		{"new target, not scraped yet", target("unknown", time.Time{}), true},
		{"up, last scraped before", target("up", after.Add(-time.Second)), true},
		{"down", target("down", after.Add(-time.Second)), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			c2 := promServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if strings.HasSuffix(r.URL.Path, "/targets") {
					state := c.pending
					if calls.Add(1) > 2 {
						state = target("up", after.Add(time.Second))
					}
					fmt.Fprintf(w, `{"status":"success","data":{"activeTargets":[%s,%s]}}`, target("up", after.Add(time.Second)), state)
					return
				}
				fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"kubernetes-pods"},"value":[1000,"2"]}]}}`)
			})
			if err := c2.WaitScraped(context.Background(), "istio_requests_total", after); err != nil {
				t.Fatal(err)
			}
			if waited := calls.Load() > 1; waited != c.waits {
				t.Errorf("asked for the targets %d times; waited = %v, want %v", calls.Load(), waited, c.waits)
			}
		})
	}
}
