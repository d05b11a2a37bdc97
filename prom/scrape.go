package prom

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
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
	snap := Snapshot{At: time.Now(), Values: map[string]float64{}, Labels: map[string]map[string]string{}, Uptime: map[string]float64{}}
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
		labels := map[string]string{"endpoint": endpoint}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		key := seriesKey(labels)
		snap.Values[key] = counterValue(m)
		snap.Labels[key] = labels
	}
	if up := fams["envoy_server_uptime"].GetMetric(); len(up) > 0 {
		snap.Uptime[endpoint] = gaugeValue(up[0])
	}
	return nil
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
		if sameValues(prev.Values, cur.Values) {
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
	res := Result{Query: "scrape diff of istio_requests_total", Start: before.At, End: after.At}
	for key, v := range after.Values {
		s := Series{Labels: after.Labels[key]}
		prev, ok := before.Values[key]
		switch {
		case !ok:
			s.Born, s.Increase = true, v
		case v >= prev:
			s.Increase = v - prev
		default:
			s.Resets, s.Increase = 1, v
		}
		res.Series = append(res.Series, s)
	}
	sort.Slice(res.Series, func(i, j int) bool { return seriesKey(res.Series[i].Labels) < seriesKey(res.Series[j].Labels) })
	for ep, up := range after.Uptime {
		if was, ok := before.Uptime[ep]; ok && up < was {
			res.Restarted = append(res.Restarted, ep)
		}
	}
	sort.Strings(res.Restarted)
	return res
}
