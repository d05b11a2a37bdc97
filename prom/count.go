package prom

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Series is one time series' increase over the window.
type Series struct {
	Labels   map[string]string `json:"labels"`
	Increase float64           `json:"increase"`
	Resets   int               `json:"resets,omitempty"` // counter drops seen (counted, not lost)
	Born     bool              `json:"born,omitempty"`   // no sample before the window: counted from 0
}

// Result is what a window's counters grew by, with what is needed to
// explain it: the exact query and the series behind every number.
type Result struct {
	Query     string    `json:"query"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Series    []Series  `json:"series"`
	Restarted []string  `json:"restarted,omitempty"` // proxies that started inside the window: counts may be short
	// Targets and Scrapes say what a Follow's counts rest on, for a report
	// of "N scrapes of M targets": the scrape targets counted, and their
	// scrapes after each one's first at or after Start, summed.
	Targets int `json:"targets,omitempty"`
	Scrapes int `json:"scrapes,omitempty"`
}

// Sum adds the increases up by the value of one label ("" when absent).
func (r Result) Sum(label string) map[string]float64 {
	out := make(map[string]float64)
	for _, s := range r.Series {
		out[s.Labels[label]] += s.Increase
	}
	return out
}

// Filter keeps the series whose labels satisfy keep.
func (r Result) Filter(keep func(map[string]string) bool) Result {
	out := r
	out.Series = nil
	for _, s := range r.Series {
		if keep(s.Labels) {
			out.Series = append(out.Series, s)
		}
	}
	return out
}

// Increase returns how much every series selected by selector (a PromQL
// instant vector selector, e.g. istio_requests_total{reporter="destination"})
// grew from just before start to end, by walking its raw samples: the last
// sample before start is the baseline, a series without one counts from 0,
// and a drop is a reset. Call WaitScraped first so that end's counts are in.
func (c *Client) Increase(ctx context.Context, selector string, start, end time.Time) (Result, error) {
	// Five minutes of lookback find the baseline of a series Prometheus
	// scrapes as rarely as Istio's slow job does.
	q := rangeSelector(selector, end.Sub(start)+5*time.Minute)
	res := Result{Query: q, Start: start, End: end}
	m, err := c.samples(ctx, q, end)
	if err != nil {
		return res, err
	}
	first := model.TimeFromUnixNano(start.UnixNano())
	for _, ss := range m {
		s := walk(ss.Values, first)
		s.Labels = labelMap(ss.Metric)
		res.Series = append(res.Series, s)
	}
	sort.Slice(res.Series, func(i, j int) bool { return seriesKey(res.Series[i].Labels) < seriesKey(res.Series[j].Labels) })
	return res, nil
}

// rangeSelector is selector's range vector over rng, in whole seconds
// rounded up.
func rangeSelector(selector string, rng time.Duration) string {
	return selector + "[" + strconv.FormatInt(int64(rng/time.Second)+1, 10) + "s]"
}

// samples runs a range-vector query at the time at: the raw samples of
// every series it selects.
func (c *Client) samples(ctx context.Context, q string, at time.Time) (model.Matrix, error) {
	var val model.Value
	err := c.retry(ctx, "query "+q, func(ctx context.Context) error {
		var err error
		val, _, _, err = c.api.Query(ctx, q, at)
		return err
	})
	if err != nil {
		return nil, err
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %s: got a %s, want a range of raw samples", q, val.Type())
	}
	return m, nil
}

// walk sums a counter's increments after first.
func walk(vals []model.SamplePair, first model.Time) Series {
	var s Series
	var prev float64
	seen := false
	for _, v := range vals {
		cur := float64(v.Value)
		switch {
		case v.Timestamp < first:
			prev, seen = cur, true
			continue
		case !seen:
			s.Born = true
			s.Increase += cur
		case cur >= prev:
			s.Increase += cur - prev
		default:
			s.Resets++
			s.Increase += cur
		}
		prev, seen = cur, true
	}
	return s
}

func labelMap(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

func seriesKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + l[k] + ",")
	}
	return b.String()
}

// WaitScraped waits until every target of the jobs that export selector's
// series was scraped after the given time, so that counts up to it are in
// Prometheus. A version with no series yet is covered because all targets of
// the job are waited for, not just those with series. A target discovered
// but not yet scraped (health "unknown", e.g. a pod that just started) is
// waited for too: a window that starts before its first scrape would count
// its counters' whole value, requests from before the window included. Only
// targets that are down are not waited for.
func (c *Client) WaitScraped(ctx context.Context, selector string, after time.Time) error {
	jobs, err := c.jobs(ctx, selector, after)
	if err != nil {
		return err
	}
	var lagging []string
	for {
		var tr v1.TargetsResult
		err := c.retry(ctx, "targets", func(ctx context.Context) error {
			var err error
			tr, err = c.api.Targets(ctx)
			return err
		})
		if err != nil {
			return err
		}
		lagging = lagging[:0]
		for _, t := range tr.Active {
			if (len(jobs) == 0 || jobs[string(t.Labels["job"])]) && t.Health != v1.HealthBad && !t.LastScrape.After(after) {
				lagging = append(lagging, string(t.Labels["instance"])+" ("+t.ScrapeURL+")")
			}
		}
		if len(lagging) == 0 && len(tr.Active) > 0 {
			// A sample is queryable a few tens of ms after its scrape starts.
			time.Sleep(150 * time.Millisecond)
			return nil
		}
		select {
		case <-ctx.Done():
			if len(lagging) == 0 {
				return fmt.Errorf("waiting for the scrape after %s: Prometheus has no active targets: %w", after.Format(time.RFC3339), ctx.Err())
			}
			return fmt.Errorf("waiting for the scrape after %s: %d targets not scraped yet, e.g. %s: %w",
				after.Format(time.RFC3339), len(lagging), lagging[0], ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// jobs are the scrape jobs that export selector's series.
func (c *Client) jobs(ctx context.Context, selector string, at time.Time) (map[string]bool, error) {
	q := "count by (job) (" + selector + ")"
	var val model.Value
	err := c.retry(ctx, "query "+q, func(ctx context.Context) error {
		var err error
		val, _, _, err = c.api.Query(ctx, q, at)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	if vec, ok := val.(model.Vector); ok {
		for _, s := range vec {
			out[string(s.Metric["job"])] = true
		}
	}
	return out, nil
}

// Restarts names the proxies (by pod, else instance) among result's series
// whose envoy_server_uptime says they started after the window began: their
// counts may miss requests made before an unobserved restart.
func (c *Client) Restarts(ctx context.Context, r Result) ([]string, error) {
	q := "envoy_server_uptime"
	var val model.Value
	err := c.retry(ctx, "query "+q, func(ctx context.Context) error {
		var err error
		val, _, _, err = c.api.Query(ctx, q, r.End)
		return err
	})
	if err != nil {
		return nil, err
	}
	ours := map[string]bool{}
	for _, s := range r.Series {
		ours[proxyName(s.Labels)] = true
	}
	var out []string
	window := r.End.Sub(r.Start).Seconds()
	if vec, ok := val.(model.Vector); ok {
		for _, s := range vec {
			name := proxyName(labelMap(s.Metric))
			if ours[name] && float64(s.Value) < window {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func proxyName(l map[string]string) string {
	if p := l["pod"]; p != "" {
		return p
	}
	return l["instance"]
}
