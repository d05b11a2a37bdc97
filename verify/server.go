package verify

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/prom"
)

// server reads the server-side counts for the evidence phase and judges
// them with the same sequential test as the client's pages.
func (g *gate) server(ctx context.Context, b base) *Server {
	g.mu.Lock()
	last := g.lastDone
	pages := make(map[string]int, len(g.pages))
	for v, n := range g.pages {
		pages[v] = n
	}
	g.mu.Unlock()
	s := &Server{Source: "sidecar scrape", Query: g.o.selector(), Start: b.at, ClientPages: pages}
	if g.o.Prometheus != nil {
		s.Source = "prometheus " + g.o.Prometheus.URL()
	}
	if b.err != nil {
		s.Error = "no baseline for the server window: " + b.err.Error()
		return s
	}
	ctx, cancel := context.WithTimeout(ctx, g.o.ServerWait)
	defer cancel()
	res, buckets, err := g.fetch(ctx, b, last)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Ran, s.Query, s.End, s.Restarted = true, res.Query, res.End, res.Restarted
	g.judge(s, res, buckets)
	return s
}

// fetch waits for the counts of the last request to be in and reads the
// window's increase of the requests and, when health is judged, of the
// latency histogram's buckets (nil when they could not be read: the
// latency checks then have no server data, and say so).
func (g *gate) fetch(ctx context.Context, b base, last time.Time) (res prom.Result, buckets *prom.Result, err error) {
	health := g.o.Criteria.Health != nil
	if c := g.o.Prometheus; c != nil {
		if err := c.WaitScraped(ctx, g.o.selector(), last); err != nil {
			return prom.Result{}, nil, err
		}
		end := time.Now()
		res, err := c.Increase(ctx, g.o.selector(), b.at, end)
		if err != nil {
			return res, nil, err
		}
		if res.Restarted, err = c.Restarts(ctx, res); err != nil {
			return res, nil, err
		}
		if health && g.o.ServerSeries == "" {
			if br, err := c.Increase(ctx, g.o.serverQuery().BucketSelector(), b.at, end); err == nil {
				buckets = &br
			}
		}
		return res, buckets, nil
	}
	after, err := (&prom.Scraper{URLs: g.o.Scrape}).Settle(ctx, 250*time.Millisecond)
	if err != nil {
		return prom.Result{}, nil, err
	}
	if health {
		br := prom.DiffBuckets(b.snap, after).Filter(g.o.serverQuery().Matches)
		buckets = &br
	}
	return prom.Diff(b.snap, after).Filter(g.o.serverQuery().Matches), buckets, nil
}

// judge fills the server check from the window's series.
func (g *gate) judge(s *Server, res prom.Result, buckets *prom.Result) {
	s.Counts = map[string]float64{}
	okCounts, bad := map[string]float64{}, map[string]float64{}
	byCode := map[[3]string]float64{}
	for _, se := range res.Series {
		v, code := se.Labels[g.o.versionLabel()], statusCode(se.Labels)
		byCode[[3]string{v, code, se.Labels["response_flags"]}] += se.Increase
		if g.o.Mirror != nil && v == g.o.Mirror.Version {
			continue
		}
		s.Counts[v] += se.Increase
		if strings.HasPrefix(code, "5") {
			bad[v] += se.Increase
		} else {
			okCounts[v] += se.Increase
		}
	}
	for k, n := range byCode {
		if n > 0 {
			s.Responses = append(s.Responses, Responses{Version: k[0], Code: k[1], Flags: k[2], Count: n})
		}
	}
	sort.Slice(s.Responses, func(i, j int) bool { return s.Responses[i].Count > s.Responses[j].Count })
	total, clientTotal := 0.0, 0
	for v, n := range s.Counts {
		total += n
		if n == 0 && s.ClientPages[v] > 0 {
			s.NoTelemetry = append(s.NoTelemetry, v)
		}
	}
	for v, n := range s.ClientPages {
		if v == "" || (g.o.Mirror != nil && v == g.o.Mirror.Version) {
			continue
		}
		clientTotal += n
		if _, ok := s.Counts[v]; !ok && n > 0 {
			s.NoTelemetry = append(s.NoTelemetry, v)
		}
	}
	sort.Strings(s.NoTelemetry)
	s.Extra = total - float64(clientTotal)
	d := serverDecision(g.o.Criteria, okCounts, bad)
	s.Decision = &d
	s.Health = decide.CountHealth(g.o.Criteria, serverCounts(okCounts, bad, buckets, g.o.Mirror))
	if g.o.ServerSeries != "" && s.Health != nil {
		s.Health = errorsOnly(s.Health) // an app's counter has no latency histogram
	}
	s.Agreement = agreement(g.o.Criteria, s.ClientPages, s.Counts, g.o.Mirror)
	s.Verdict, s.Reason = serverVerdict(g.o, s)
}

// serverCounts are the server's counts per version for the health checks:
// requests and 5xx answers, and the window's latency buckets.
func serverCounts(ok, bad map[string]float64, buckets *prom.Result, m *Mirror) map[string]decide.Counts {
	out := map[string]decide.Counts{}
	for v, n := range ok {
		c := out[v]
		c.Requests += n
		out[v] = c
	}
	for v, n := range bad {
		c := out[v]
		c.Requests, c.Errors = c.Requests+n, c.Errors+n
		out[v] = c
	}
	if buckets == nil {
		return out
	}
	byEdge := map[string]map[time.Duration]float64{}
	for _, se := range buckets.Series {
		v := se.Labels["destination_version"]
		if m != nil && v == m.Version {
			continue
		}
		le, err := bucketEdge(se.Labels["le"])
		if err != nil {
			continue
		}
		if byEdge[v] == nil {
			byEdge[v] = map[time.Duration]float64{}
		}
		byEdge[v][le] += se.Increase
	}
	for v, edges := range byEdge {
		c := out[v]
		for le, n := range edges {
			c.Buckets = append(c.Buckets, decide.Bucket{Le: le, Count: n})
		}
		out[v] = c
	}
	return out
}

// bucketEdge reads a histogram's le label, in milliseconds.
func bucketEdge(le string) (time.Duration, error) {
	if le == "+Inf" {
		return decide.Inf, nil
	}
	ms, err := strconv.ParseFloat(le, 64)
	if err != nil || ms < 0 || ms > 1e9 {
		return 0, fmt.Errorf("le %q: want milliseconds", le)
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

// serverDecision feeds the server counts to a fresh Sequential, interleaved
// so that every prefix has the final proportions: the server counts come as
// one batch, and feeding them version by version would look like a stray
// burst at the start.
func serverDecision(c decide.Criteria, ok, bad map[string]float64) decide.Decision {
	c.MaxRequests = decide.DefaultMaxRequests * 40
	c.Health = nil // counts carry no latency; the health checks read pages
	seq, err := decide.NewSequential(c)
	if err != nil {
		return decide.Decision{Verdict: decide.Inconclusive, Reason: err.Error()}
	}
	type bucket struct {
		v    string
		ok   bool
		n    float64
		done float64
	}
	var bs []*bucket
	var total float64
	for v, n := range ok {
		bs = append(bs, &bucket{v: v, ok: true, n: n})
		total += n
	}
	for v, n := range bad {
		bs = append(bs, &bucket{v: v, n: n})
		total += n
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].v+fmt.Sprint(bs[i].ok) < bs[j].v+fmt.Sprint(bs[j].ok) })
	for i := 1; i <= int(total) && i <= c.MaxRequests; i++ {
		// The bucket furthest behind its share of i pages goes next.
		var next *bucket
		for _, b := range bs {
			if b.done < b.n && (next == nil || b.n*float64(i)/total-b.done > next.n*float64(i)/total-next.done) {
				next = b
			}
		}
		if next == nil {
			break
		}
		next.done++
		seq.Add(next.v, next.ok, 0)
	}
	return seq.Decision()
}

// agreement compares client and server shares per version.
func agreement(c decide.Criteria, client map[string]int, server map[string]float64, m *Mirror) []Agreement {
	var ct, st float64
	versions := map[string]bool{}
	for v, n := range client {
		if v != "" && (m == nil || v != m.Version) {
			ct += float64(n)
			versions[v] = true
		}
	}
	for v, n := range server {
		st += n
		versions[v] = true
	}
	var out []Agreement
	if ct == 0 || st == 0 {
		return out
	}
	for v := range versions {
		a := Agreement{Version: v, Client: 100 * float64(client[v]) / ct, Server: 100 * server[v] / st}
		a.OK = math.Abs(a.Client-a.Server) <= c.Tolerance
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// errorsOnly keeps a health result's error checks: latency checks without
// a histogram would only ever say "no data".
func errorsOnly(h *decide.HealthResult) *decide.HealthResult {
	out := *h
	out.Checks = nil
	for _, k := range h.Checks {
		if k.Quantile == 0 {
			out.Checks = append(out.Checks, k)
		}
	}
	return &out
}
