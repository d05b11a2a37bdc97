package verify

import (
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/prom"
)

// passiveSeries builds one look's cumulative series: the callers' counts
// per version, all answered (productpage's retry hid retried 503s), the
// destination sidecars' (the 503s on top), and the callers' latency
// buckets.
func passiveSeries(v1, v3, retried3 float64) prom.Result {
	series := func(labels map[string]string, n float64) prom.Series {
		l := map[string]string{"destination_service_name": "reviews", "destination_service_namespace": "default"}
		for k, v := range labels {
			l[k] = v
		}
		return prom.Series{Labels: l, Increase: n}
	}
	count := func(rep, v, code, flags string, n float64) prom.Series {
		return series(map[string]string{"__name__": "istio_requests_total", "reporter": rep, "destination_version": v,
			"response_code": code, "response_flags": flags}, n)
	}
	bucket := func(v, le string, n float64) prom.Series {
		return series(map[string]string{"__name__": prom.DurationMetric + "_bucket", "reporter": "source", "destination_version": v, "le": le}, n)
	}
	var out prom.Result
	out.Series = append(out.Series,
		count("source", "v1", "200", "-", v1), count("source", "v3", "200", "-", v3),
		count("destination", "v1", "200", "-", v1), count("destination", "v3", "200", "-", v3), count("destination", "v3", "503", "UF", retried3))
	for _, le := range []string{"1", "5", "+Inf"} {
		out.Series = append(out.Series, bucket("v1", le, v1), bucket("v3", le, v3))
	}
	out.Query, out.Targets, out.Scrapes = "{…}[62s]", 3, 40
	return out
}

// passiveResult is a passive gate's result from canned looks: 50/50 by
// the callers' counts, with a few retried 503s on v3.
func passiveResult(t testing.TB) *Result {
	c := decide.DefaultCriteria(mustParse(t, "v1=50,v3=50"))
	c.Health = decide.DefaultHealth("v1")
	c.Health.Quantiles = []float64{0.5}
	o := &Options{Criteria: c, Passive: true, Timeout: time.Minute}
	o.defaults()
	seq, err := decide.NewCounted(c)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	p := &Passive{Source: "prometheus http://prometheus:9090", Reporter: "source", PerVersion: o.perVersionQuery(), From: start.Add(time.Second),
		FromWhy: "the gate's start", Poll: time.Second, Query: o.passiveSelector() + "[62s]"}
	w := &watch{o: o, p: p, seq: seq, prev: map[string]decide.Counts{}}
	for i := 1; seq.Verdict() == decide.Pending && i < 100; i++ {
		w.observe(passiveSeries(float64(20*i+i%3), float64(20*i-i%3), float64(i/3)), start.Add(time.Duration(i)*time.Second))
	}
	res := &Result{Client: seq.Decision(), Passive: p, Start: start, End: start.Add(time.Duration(p.Polls+1) * time.Second)}
	res.Verdict, res.Reason = passiveVerdict(o, res, seq.MorePages())
	return res
}

func TestPassiveObserve(t *testing.T) {
	t.Parallel()
	r := passiveResult(t)
	p := r.Passive
	if r.Verdict != decide.Pass || r.Client.Unit != "request" {
		t.Fatalf("canned 50/50: %s, %s", r.Verdict, r.Reason)
	}
	if got, want := p.Requests["v1"]+p.Requests["v3"], float64(r.Client.Pages); got != want {
		t.Errorf("requests per version sum to %g; the decision counted %g", got, want)
	}
	if p.Destination["v3"] <= p.Requests["v3"] {
		t.Errorf("destination v3 %g, callers %g: want the retries on top", p.Destination["v3"], p.Requests["v3"])
	}
	for _, want := range []string{"retries (each attempt reaches a destination"} {
		if !strings.Contains(strings.Join(p.Notes, "; "), want) || !strings.Contains(r.Reason, want) {
			t.Errorf("notes %q and reason do not say %q", p.Notes, want)
		}
	}
	if h := r.Client.Health; h == nil || h.Witness != "requests" || len(h.Checks) != 2 {
		t.Errorf("health from the callers' counts and buckets: %+v", h)
	}
}

func TestPassiveVerdict(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	o := &Options{Service: "reviews", Timeout: 10 * time.Minute}
	for _, tc := range []struct {
		name  string
		pages int
		err   string
		end   time.Duration
		more  int
		want  string
	}{
		{"no traffic", 0, "", 10 * time.Minute, 0, `no decision within --timeout 10m0s: no requests to reviews reported by reporter="source" since 2026-12-07T10:00:00Z`},
		{"slow traffic", 300, "", 10 * time.Minute, 600, "no decision within --timeout 10m0s: 300 requests arrived in 10m0s (0.50/s): undecided; about 600 more requests would likely decide, 20m0s at the observed rate"},
		{"prometheus died", 300, "query: prometheus unavailable", 2 * time.Minute, 0, "Prometheus stopped answering after 7 looks (query: prometheus unavailable): 300 requests arrived in 2m0s (2.50/s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &Result{Client: decide.Decision{Verdict: decide.Pending, Pages: tc.pages, Reason: "undecided"}, Start: start, End: start.Add(tc.end),
				Passive: &Passive{Reporter: "source", From: start, Polls: 7, Error: tc.err}, Interrupted: tc.err == ""}
			v, reason := passiveVerdict(o, r, tc.more)
			if v != decide.Inconclusive || !strings.Contains(reason, tc.want) {
				t.Errorf("passiveVerdict = %s, %q; want INCONCLUSIVE saying %q", v, reason, tc.want)
			}
		})
	}
}

// TestPassiveSelector: one query selects every reporter's requests and
// buckets for the Service and its backends, nothing of other Services.
func TestPassiveSelector(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		backends []string
		want     string
	}{
		{nil, `{__name__=~"istio_requests_total|istio_request_duration_milliseconds_bucket",destination_service_name="reviews",destination_service_namespace="default"}`},
		{[]string{"reviews-v1", "reviews-v3"}, `{__name__=~"istio_requests_total|istio_request_duration_milliseconds_bucket",destination_service_name=~"reviews|reviews-v1|reviews-v3",destination_service_namespace="default"}`},
	} {
		o := &Options{Backends: tc.backends}
		o.defaults()
		if got := o.passiveSelector(); got != tc.want {
			t.Errorf("passiveSelector(%v) = %s; want %s", tc.backends, got, tc.want)
		}
	}
	o := &Options{Passive: true, Criteria: decide.DefaultCriteria(mustParse(t, "v1=100"))}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--passive: needs --prometheus") {
		t.Errorf("Validate() without Prometheus = %v", err)
	}
}
