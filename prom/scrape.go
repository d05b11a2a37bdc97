package prom

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Snapshot is one reading of a set of sidecar endpoints: every
// istio_requests_total series, keyed by endpoint and labels, and each
// endpoint's proxy uptime when it exports envoy_server_uptime.
type Snapshot struct {
	At     time.Time
	Values map[string]float64           // endpoint + label set → counter value
	Labels map[string]map[string]string // same key → labels, plus "endpoint"
	Uptime map[string]float64           // endpoint → seconds, when exported
	// Buckets are the istio_request_duration_milliseconds histogram's
	// cumulative bucket counts, keyed and labelled like Values with "le"
	// added, so a diff of two snapshots gives a window's latency buckets.
	Buckets      map[string]float64
	BucketLabels map[string]map[string]string
}

// Scraper reads sidecar metrics endpoints directly, for clusters without a
// Prometheus server the tool can query.
type Scraper struct {
	URLs   []string
	Client *http.Client // nil: a client with a 10 s timeout
}

// Snapshot scrapes every endpoint once. A failed endpoint fails the whole
// snapshot: a diff with a hole in it would undercount silently.
func (s *Scraper) Snapshot(ctx context.Context) (Snapshot, error) {
	snap := newSnapshot()
	snap.At = time.Now()
	for _, u := range s.URLs {
		if err := s.scrapeOne(ctx, u, &snap); err != nil {
			return snap, fmt.Errorf("scrape %s: %w", u, err)
		}
	}
	return snap, nil
}

func (s *Scraper) scrapeOne(ctx context.Context, url string, snap *Snapshot) error {
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s (is the sidecar injected and the URL its /stats/prometheus?)", resp.Status)
	}
	return parseInto(resp.Body, url, snap)
}

// parseInto reads Prometheus text exposition (untrusted input: fuzzed).
func parseInto(r io.Reader, endpoint string, snap *Snapshot) error {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(r, 64<<20))
	if err != nil {
		return err
	}
	for _, m := range fams["istio_requests_total"].GetMetric() {
		labels := metricLabels(m, endpoint)
		key := seriesKey(labels)
		snap.Values[key] = counterValue(m)
		snap.Labels[key] = labels
	}
	for _, m := range fams[DurationMetric].GetMetric() {
		labels := metricLabels(m, endpoint)
		h := m.GetHistogram()
		for _, b := range h.GetBucket() {
			bl := maps.Clone(labels)
			bl["le"] = strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)
			key := seriesKey(bl)
			snap.Buckets[key], snap.BucketLabels[key] = float64(b.GetCumulativeCount()), bl
		}
		labels["le"] = "+Inf"
		key := seriesKey(labels)
		snap.Buckets[key], snap.BucketLabels[key] = float64(h.GetSampleCount()), labels
	}
	if up := fams["envoy_server_uptime"].GetMetric(); len(up) > 0 {
		snap.Uptime[endpoint] = gaugeValue(up[0])
	}
	return nil
}

// metricLabels are m's labels plus the endpoint it was scraped from.
func metricLabels(m *dto.Metric, endpoint string) map[string]string {
	labels := map[string]string{"endpoint": endpoint}
	for _, lp := range m.GetLabel() {
		labels[lp.GetName()] = lp.GetValue()
	}
	return labels
}

func counterValue(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetUntyped().GetValue()
}

func gaugeValue(m *dto.Metric) float64 {
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetUntyped().GetValue()
}

// Settle scrapes until two consecutive snapshots are identical, so that
// responses still being counted when the load stopped are included.
func (s *Scraper) Settle(ctx context.Context, interval time.Duration) (Snapshot, error) {
	prev, err := s.Snapshot(ctx)
	if err != nil {
		return prev, err
	}
	for {
		select {
		case <-ctx.Done():
			return prev, fmt.Errorf("sidecar counters still changing: %w", ctx.Err())
		case <-time.After(interval):
		}
		cur, err := s.Snapshot(ctx)
		if err != nil {
			return cur, err
		}
		if sameValues(prev.Values, cur.Values) && sameValues(prev.Buckets, cur.Buckets) {
			return cur, nil
		}
		prev = cur
	}
}

func sameValues(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Diff is what every series grew by from before to after, with the same
// rules as the Prometheus walk: a series absent before counts from 0, a
// drop is a reset, and a proxy whose uptime went down restarted in between.
func Diff(before, after Snapshot) Result {
	return Result{Query: "scrape diff of istio_requests_total", Start: before.At, End: after.At,
		Series: diffSeries(before.Values, after.Values, after.Labels), Restarted: restarted(before, after)}
}

// DiffBuckets is Diff for the latency histogram's buckets: what each
// cumulative bucket grew by, with label "le".
func DiffBuckets(before, after Snapshot) Result {
	return Result{Query: "scrape diff of " + DurationMetric + "_bucket", Start: before.At, End: after.At,
		Series: diffSeries(before.Buckets, after.Buckets, after.BucketLabels), Restarted: restarted(before, after)}
}

// restarted lists the endpoints whose proxy uptime went down in between.
func restarted(before, after Snapshot) []string {
	var out []string
	for ep, up := range after.Uptime {
		if was, ok := before.Uptime[ep]; ok && up < was {
			out = append(out, ep)
		}
	}
	sort.Strings(out)
	return out
}

// diffSeries is what every counter in after grew by since before.
func diffSeries(before, after map[string]float64, labels map[string]map[string]string) []Series {
	var out []Series
	for key, v := range after {
		s := Series{Labels: labels[key]}
		prev, ok := before[key]
		switch {
		case !ok:
			s.Born, s.Increase = true, v
		case v >= prev:
			s.Increase = v - prev
		default:
			s.Resets, s.Increase = 1, v
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return seriesKey(out[i].Labels) < seriesKey(out[j].Labels) })
	return out
}

// DurationMetric is Istio's request latency histogram.
const DurationMetric = "istio_request_duration_milliseconds"

func newSnapshot() Snapshot {
	return Snapshot{Values: map[string]float64{}, Labels: map[string]map[string]string{}, Uptime: map[string]float64{},
		Buckets: map[string]float64{}, BucketLabels: map[string]map[string]string{}}
}
