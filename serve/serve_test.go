package serve

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGate answers by the expect setting, so each row picks its verdict.
func fakeGate(_ context.Context, s map[string]string) Outcome {
	switch s["expect"] {
	case "pass":
		return Outcome{Verdict: Pass, Reason: "within", Report: []byte(`{"load":{"versions":[{"name":"v1","outcomes":[{"outcome":"ok","count":6}],"latency":{"histogram":{"le_seconds":[0.005,0.01,0.025],"counts":[2,5,5],"count":6,"sum_seconds":0.5}}},{"name":"v3","outcomes":[{"outcome":"ok","count":3},{"outcome":"ratings-unavailable","count":1}]},{"name":"","outcomes":[{"outcome":"http-503","count":2}]}]}}`)}
	case "fail":
		return Outcome{Verdict: Fail, Reason: "v3 share 80% is above 50% ± 5"}
	case "inconclusive":
		return Outcome{Verdict: Inconclusive, Reason: "too few pages"}
	case "bad":
		return Outcome{Usage: true, Err: errors.New(`--expect "bad": want VERSION=PERCENT`), Reason: "bad expect"}
	}
	return Outcome{Err: errors.New("target unreachable"), Reason: "target unreachable"}
}

func newTest(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	if opts.Gate == nil {
		opts.Gate = fakeGate
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func payload(expect string) string {
	return `{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"c1","metadata":{"expect":"` + expect + `"}}`
}

// TestFlaggerHooks: each hook and verdict gets the status Flagger acts on.
func TestFlaggerHooks(t *testing.T) {
	t.Parallel()
	ts := newTest(t, Options{})
	tests := []struct {
		name, hook, body string
		want             int
		say              string
	}{
		{"pass", "confirm-traffic-increase", payload("pass"), 200, "PASS  within"},
		{"fail", "confirm-promotion", payload("fail"), 403, "FAIL  v3 share 80%"},
		{"inconclusive holds", "confirm-traffic-increase", payload("inconclusive"), 503, "INCONCLUSIVE  too few pages"},
		{"bad settings", "pre-rollout", payload("bad"), 400, `--expect "bad"`},
		{"gate error", "confirm-rollout", payload("error"), 500, "target unreachable"},
		{"rollout without a load runner", "rollout", payload("fail"), 200, "acknowledged"},
		{"unknown hook", "confirm-everything", payload("pass"), 404, "unknown Flagger hook"},
		{"not JSON", "confirm-promotion", "{", 400, "flagger payload"},
		{"no name", "confirm-promotion", `{"namespace":"test"}`, 400, "want name and namespace"},
	}
	for _, tc := range tests {
		code, body := post(t, ts.URL+"/flagger/"+tc.hook, "", tc.body)
		if code != tc.want || !strings.Contains(body, tc.say) {
			t.Errorf("%s: POST /flagger/%s = %d %q; want %d with %q", tc.name, tc.hook, code, body, tc.want, tc.say)
		}
	}
}

// TestRollbackFollowsTheLastGate: Flagger rolls back on a 2xx from the
// rollback hook, so it gets one only after a failed gate.
func TestRollbackFollowsTheLastGate(t *testing.T) {
	t.Parallel()
	ts := newTest(t, Options{})
	if code, _ := post(t, ts.URL+"/flagger/rollback", "", payload("")); code == 200 {
		t.Errorf("rollback before any gate: 200; want a refusal")
	}
	post(t, ts.URL+"/flagger/confirm-promotion", "", payload("pass"))
	if code, _ := post(t, ts.URL+"/flagger/rollback", "", payload("")); code == 200 {
		t.Errorf("rollback after a PASS: 200; want a refusal")
	}
	post(t, ts.URL+"/flagger/confirm-promotion", "", payload("fail"))
	if code, body := post(t, ts.URL+"/flagger/rollback", "", payload("")); code != 200 || !strings.Contains(body, "v3 share 80%") {
		t.Errorf("rollback after a FAIL: %d %q; want 200 with the reason", code, body)
	}
}

// TestVerdictForArgo: the web metric gets 200 and the verdict for every
// decided gate, so Argo's conditions (not the status) judge it.
func TestVerdictForArgo(t *testing.T) {
	t.Parallel()
	ts := newTest(t, Options{})
	for _, tc := range []struct {
		expect  string
		code    int
		verdict string
	}{{"pass", 200, Pass}, {"fail", 200, Fail}, {"inconclusive", 200, Inconclusive}, {"bad", 400, ""}, {"error", 500, ""}} {
		resp, err := http.Get(ts.URL + "/v1/verdict?expect=" + tc.expect + "&target=http://x")
		if err != nil {
			t.Fatal(err)
		}
		var ans verdictAnswer
		err = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.code || ans.Verdict != tc.verdict {
			t.Errorf("GET /v1/verdict?expect=%s = %d %+v (%v); want %d verdict %q", tc.expect, resp.StatusCode, ans, err, tc.code, tc.verdict)
		}
	}
	code, body := post(t, ts.URL+"/v1/verdict", "", `{"expect":"pass","target":"http://x"}`)
	if code != 200 || !strings.Contains(body, `"verdict":"PASS"`) || !strings.Contains(body, `"versions"`) {
		t.Errorf("POST /v1/verdict = %d %s; want 200 PASS with the report", code, body)
	}
}

// TestBounds: the token, the body limit, one gate per canary and the
// concurrent-gate limit.
func TestBounds(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	slow := func(ctx context.Context, s map[string]string) Outcome {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return Outcome{Verdict: Pass}
	}
	ts := newTest(t, Options{Gate: slow, Token: "s3cret", MaxGates: 2, MaxBody: 512})
	if code, _ := post(t, ts.URL+"/flagger/confirm-promotion", "", payload("x")); code != http.StatusUnauthorized {
		t.Errorf("no token: %d; want 401", code)
	}
	if code, _ := post(t, ts.URL+"/flagger/confirm-promotion", "wrong", payload("x")); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d; want 401", code)
	}
	big := `{"name":"a","namespace":"b","metadata":{"expect":"` + strings.Repeat("x", 1024) + `"}}`
	if code, _ := post(t, ts.URL+"/flagger/confirm-promotion", "s3cret", big); code != http.StatusBadRequest {
		t.Errorf("a body over the limit: %d; want 400", code)
	}
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := post(t, ts.URL+"/flagger/confirm-promotion", "s3cret", `{"name":"`+name+`","namespace":"ns"}`)
			codes <- code
		}()
	}
	<-started
	<-started
	if code, body := post(t, ts.URL+"/flagger/confirm-promotion", "s3cret", `{"name":"a","namespace":"ns"}`); code != http.StatusConflict || !strings.Contains(body, "ns/a is already running") {
		t.Errorf("a second gate for one canary: %d %q; want 409", code, body)
	}
	if code, body := post(t, ts.URL+"/flagger/confirm-promotion", "s3cret", `{"name":"c","namespace":"ns"}`); code != http.StatusConflict || !strings.Contains(body, "2 gates already running") {
		t.Errorf("a third gate over --max-gates 2: %d %q; want 409", code, body)
	}
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 200 {
			t.Errorf("a released gate answered %d; want 200", code)
		}
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz needs no token: %v %v", resp.Status, err)
	}
	resp.Body.Close()
}

// TestMetrics: gates and the pages they classified are counted.
func TestMetrics(t *testing.T) {
	t.Parallel()
	ts := newTest(t, Options{GateTimeout: time.Minute})
	post(t, ts.URL+"/flagger/confirm-promotion", "", payload("pass"))
	post(t, ts.URL+"/flagger/confirm-promotion", "", payload("bad"))
	post(t, ts.URL+"/flagger/confirm-traffic-increase", "", payload("pass"))
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`canary_gates_total{caller="flagger/confirm-promotion",verdict="PASS"} 1`,
		`canary_gates_total{caller="flagger/confirm-promotion",verdict="refused"} 1`,
		`canary_pages_total{outcome="ok",version="v1"} 12`,
		`canary_pages_total{outcome="ok",version="v3"} 6`,
		`canary_pages_total{outcome="ratings-unavailable",version="v3"} 2`,
		`canary_pages_total{outcome="http-503",version=""} 4`,
		`canary_gate_duration_seconds_count{caller="flagger/confirm-promotion"} 2`,
		// Two gates' histograms, summed bucket by bucket.
		`canary_page_duration_seconds_bucket{version="v1",le="0.005"} 4`,
		`canary_page_duration_seconds_bucket{version="v1",le="0.01"} 10`,
		`canary_page_duration_seconds_bucket{version="v1",le="0.025"} 10`,
		`canary_page_duration_seconds_bucket{version="v1",le="+Inf"} 12`,
		`canary_page_duration_seconds_sum{version="v1"} 1`,
		`canary_page_duration_seconds_count{version="v1"} 12`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestRolloutLoad: Flagger's rollout hook starts one load per canary, as
// flagger-loadtester would, and its pages are counted when it ends.
func TestRolloutLoad(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	load := func(ctx context.Context, s map[string]string) Outcome {
		<-done
		return Outcome{Report: []byte(`{"versions":[{"name":"v1","outcomes":[{"outcome":"ok","count":50}]}]}`)}
	}
	s, err := New(Options{Gate: fakeGate, Load: load})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Close()
	if code, body := post(t, ts.URL+"/flagger/rollout", "", payload("")); code != 200 || !strings.Contains(body, "load for test/podinfo started") {
		t.Errorf("first rollout hook: %d %q; want the load started", code, body)
	}
	if code, body := post(t, ts.URL+"/flagger/rollout", "", payload("")); code != 200 || !strings.Contains(body, "running since") {
		t.Errorf("second rollout hook: %d %q; want the running load named", code, body)
	}
	close(done)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `canary_pages_total{outcome="ok",version="v1"} 50`) && strings.Contains(string(b), `canary_gates_total{caller="flagger/rollout",verdict="done"} 1`) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("the finished load's pages are not in /metrics")
}

// TestLatencySums: histograms add up only when their bounds agree; one
// with other bounds (or a malformed one) is refused, not misfiled.
func TestLatencySums(t *testing.T) {
	t.Parallel()
	l := newLatencies()
	h := func(bounds []float64, counts ...uint64) histogram {
		return histogram{Bounds: bounds, Counts: counts, Count: counts[len(counts)-1] + 1, Sum: 1}
	}
	for _, c := range []struct {
		name string
		h    histogram
		ok   bool
	}{
		{"first", h([]float64{0.1, 1}, 1, 2), true},
		{"same bounds", h([]float64{0.1, 1}, 3, 4), true},
		{"other bounds", h([]float64{0.2, 1}, 1, 2), false},
		{"counts without bounds", histogram{Counts: []uint64{1}}, false},
		{"fewer counts than bounds", histogram{Bounds: []float64{0.1, 1}, Counts: []uint64{1}}, false},
	} {
		if got := l.add("v1", c.h); got != c.ok {
			t.Errorf("%s: add = %v, want %v", c.name, got, c.ok)
		}
	}
	got := l.by["v1"]
	if !slices.Equal(got.Counts, []uint64{4, 6}) || got.Count != 8 || got.Sum != 2 {
		t.Errorf("summed histogram %+v; want counts [4 6], count 8, sum 2", got)
	}
}
