package prom

import (
	"context"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/common/model"
)

// followMargin is how far before the previous poll each poll reads again.
// A scrape's samples carry the time the scrape started but can be queried
// only once it ends, up to a scrape timeout later, so a poll can miss the
// newest scrape and the next one must reach back for it. The samples read
// twice are skipped by timestamp.
const followMargin = time.Minute

// Follow tracks the series a selector names from a fixed time From on, for
// a gate that judges live traffic for an hour or more. Each Poll sends one
// query that reads only what is new since the previous poll, so a poll
// costs the same after an hour as after a minute, whatever the request rate.
//
// Counts are aligned per scrape target (one proxy): every series of a target
// counts from the target's first scrape at or after From to its latest
// scrape, so all of them cover the same requests. The per-version counts one
// proxy reports are then one exact multinomial sample, and no request from
// before From is ever counted. A Follow is not safe for concurrent use.
type Follow struct {
	c        *Client
	selector string
	from     time.Time
	polled   time.Time // the last successful poll; zero before the first
	t        tally
}

// Selector is the series f follows.
func (f *Follow) Selector() string { return f.selector }

// Follow starts following the series selector names (any PromQL instant
// vector selector) from the time from; it does not contact the server.
func (c *Client) Follow(selector string, from time.Time) *Follow {
	return &Follow{c: c, selector: selector, from: from, t: newTally(from)}
}

// Poll reads the samples new since the last poll, up to at, and returns
// every series' increase since its baseline (so cumulative since From),
// sorted like Increase's result. A poll that fails changes nothing: the
// next one reads the same span again, so a Prometheus that is down for a
// while loses nothing it still holds when it is back.
func (f *Follow) Poll(ctx context.Context, at time.Time) (Result, error) {
	since := f.from
	if !f.polled.IsZero() {
		since = f.polled
	}
	q := rangeSelector(f.selector, max(at.Sub(since.Add(-followMargin)), time.Second))
	res := Result{Query: q, Start: f.from, End: at}
	m, err := f.c.samples(ctx, q, at)
	if err != nil {
		return res, err
	}
	f.t.add(m)
	f.polled = at
	return f.t.result(res), nil
}

// tally is Follow's accounting, apart from the queries so that it can be
// tested on canned samples. It only ever grows: every sample is read once.
type tally struct {
	from    model.Time
	targets map[string]*scrapeTarget // by targetKey
	series  map[string]*followed     // by the series' labels
}

// scrapeTarget is one target's timeline: the union of the timestamps at or
// after From of all its series, which share the target's scrapes.
type scrapeTarget struct {
	first   model.Time // its first scrape at or after From, fixed once seen
	last    model.Time // its latest scrape read
	scrapes int        // its scrapes after first
}

// followed is one series counted since its baseline.
type followed struct {
	s    Series
	last model.Time // its latest sample read
	prev float64
}

func newTally(from time.Time) tally {
	return tally{
		from:    model.TimeFromUnixNano(from.UnixNano()),
		targets: map[string]*scrapeTarget{},
		series:  map[string]*followed{},
	}
}

// add reads one answer. Answers may overlap: what was read is skipped.
func (t *tally) add(m model.Matrix) {
	byTarget := map[string][]*model.SampleStream{}
	for _, ss := range m {
		k := targetKey(ss.Metric)
		byTarget[k] = append(byTarget[k], ss)
	}
	for k, streams := range byTarget {
		// The timeline first: a series' baseline depends on the
		// target's first scrape, which any of its series may show.
		tg := t.advance(k, streams)
		if tg == nil {
			continue // nothing at or after From yet
		}
		for _, ss := range streams {
			t.walk(tg, ss)
		}
	}
}

// advance extends a target's timeline with the scrapes its series show
// that are at or after From and newer than its latest one read.
func (t *tally) advance(key string, streams []*model.SampleStream) *scrapeTarget {
	tg := t.targets[key]
	after := t.from - 1
	if tg != nil {
		after = tg.last
	}
	seen := map[model.Time]bool{}
	for _, ss := range streams {
		for _, v := range ss.Values {
			if v.Timestamp > after {
				seen[v.Timestamp] = true
			}
		}
	}
	if len(seen) == 0 {
		return tg
	}
	scrapes := slices.Sorted(maps.Keys(seen))
	if tg == nil {
		// A target first seen now, at From or later (a new pod):
		// its earliest scrape is its start, not counted as a scrape.
		tg = &scrapeTarget{first: scrapes[0], scrapes: -1}
		t.targets[key] = tg
	}
	tg.scrapes += len(scrapes)
	tg.last = scrapes[len(scrapes)-1]
	return tg
}

// walk counts a series' samples past the last one read, like walk but with
// the target's first scrape at or after From as the start: a series there
// has its baseline there (its value may hold requests from before From), a
// series first seen at a later scrape of its target was born inside the
// window and counts from 0, and a drop is a reset whose new value counts.
func (t *tally) walk(tg *scrapeTarget, ss *model.SampleStream) {
	key := ss.Metric.String()
	f := t.series[key]
	for _, v := range ss.Values {
		ts, cur := v.Timestamp, float64(v.Value)
		switch {
		case ts < tg.first:
			// Before the target's start. A later scrape cannot show it
			// (a target's scrapes are stored in order); skipped anyway.
			continue
		case f == nil:
			f = &followed{s: Series{Labels: labelMap(ss.Metric)}}
			t.series[key] = f
			if ts > tg.first {
				f.s.Born, f.s.Increase = true, cur
			}
		case ts <= f.last:
			continue // read by an earlier, overlapping poll
		case cur >= f.prev:
			f.s.Increase += cur - f.prev
		default:
			f.s.Resets++
			f.s.Increase += cur
		}
		f.prev, f.last = cur, ts
	}
}

// result fills res with every series counted so far.
func (t *tally) result(res Result) Result {
	res.Series = make([]Series, 0, len(t.series))
	for _, f := range t.series {
		res.Series = append(res.Series, f.s)
	}
	sort.Slice(res.Series, func(i, j int) bool { return seriesKey(res.Series[i].Labels) < seriesKey(res.Series[j].Labels) })
	res.Targets = len(t.targets)
	for _, tg := range t.targets {
		res.Scrapes += tg.scrapes
	}
	return res
}

// targetKey names a series' scrape target by its job and instance labels,
// with pod added: targets may share an address (the local mesh serves every
// sidecar from one, told apart by metrics path only), and pod still tells
// proxies apart where job and instance were relabelled away.
func targetKey(m model.Metric) string {
	return string(m["job"]) + "\xff" + string(m["instance"]) + "\xff" + string(m["pod"])
}
