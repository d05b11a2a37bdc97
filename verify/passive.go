package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/canary-gate/canary/prom"
)

// A passive gate sends no request. Its evidence is the live traffic as
// Istio counts it: each version's increase of istio_requests_total for the
// Service since the evidence began, re-read once per scrape interval and
// fed to the same anytime-valid decision as pages are (decide.NewCounted).
//
// Whose counts decide matters. Envoy picks a weighted route's version at
// random for every request, so the requests one proxy reports between two
// of its scrapes are an exact multinomial sample of the split. The callers'
// sidecars (reporter="source") report every version in the same scrape,
// so their counts are aligned; each destination sidecar is scraped at its
// own moment, so destination counts of different versions cover windows
// up to a scrape interval apart, which a steady rate forgives and a
// changing one does not. Hence source by default, the waypoint in ambient
// mode (one proxy for every version), destination only when asked.

// DefaultPoll is the passive gate's look interval when Prometheus does
// not say how often it scrapes: Istio's bundled Prometheus scrapes every
// 15 s.
const DefaultPoll = 15 * time.Second

// RoutePush is how long after a route's last write a passive gate starts
// counting: managedFields times are whole seconds, and Istio pushes a
// change to the proxies within about a second on a quiet control plane;
// requests routed by the old weights in between must not be evidence.
const RoutePush = 5 * time.Second

// Passive is what a passive gate read: the query, the scrapes and the
// requests behind its decision, and what in the traffic breaks the
// model the decision assumes.
type Passive struct {
	Source string `json:"source"` // "prometheus http://…"
	// Query is the one range query sent per look; PerVersion the
	// walkthrough's own question of the same counts, as a person would
	// type it into Prometheus.
	Query      string `json:"query"`
	PerVersion string `json:"per_version_query"`
	// Reporter is the proxy whose counts decide: source, waypoint or
	// destination.
	Reporter string `json:"reporter"`
	// From is when evidence begins: each scrape target counts from its
	// first scrape at or after it; FromWhy says why then.
	From    time.Time `json:"from"`
	FromWhy string    `json:"from_why"`
	// RouteChanged is when the route was last written (its managedFields
	// time), when the cluster was read.
	RouteChanged time.Time     `json:"route_changed,omitzero"`
	Poll         time.Duration `json:"poll"`
	Polls        int           `json:"polls"`
	Targets      int           `json:"targets"`
	Scrapes      int           `json:"scrapes"`
	// Requests are the deciding reporter's requests per version since
	// From, PerSecond the same over the time since From (Kiali's edges).
	Requests  map[string]float64 `json:"requests"`
	PerSecond map[string]float64 `json:"per_second"`
	// Destination is what the destination sidecars counted per version
	// when another reporter decided: more than the callers sent means
	// retries (each attempt reaches a destination) or callers without a
	// sidecar; a mirror target's copies are counted only here.
	Destination map[string]float64 `json:"destination,omitempty"`
	Responses   []Responses        `json:"responses,omitempty"`
	// Reporters are the reporters seen for the Service.
	Reporters []string `json:"reporters,omitempty"`
	// Notes name what in the traffic departs from the model, and what was
	// left out: retries, a mirror, other reporters.
	Notes []string `json:"notes,omitempty"`
	// Error is why the gate stopped reading Prometheus, if it did.
	Error string `json:"error,omitempty"`
}

// passiveReporter is the reporter whose counts decide a passive gate.
func (o *Options) passiveReporter() string {
	if o.Reporter == "" {
		return "source"
	}
	return o.Reporter
}

// passiveSelector selects the Service's requests and latency buckets as
// every reporter counts them, in one query: the deciding reporter's, the
// destination's for the comparison, and any other to name.
func (o *Options) passiveSelector() string {
	names := o.serviceNames()
	svc := fmt.Sprintf("destination_service_name=%q", names[0])
	if len(names) > 1 {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = regexp.QuoteMeta(n)
		}
		svc = fmt.Sprintf("destination_service_name=~%q", strings.Join(quoted, "|"))
	}
	return fmt.Sprintf(`{__name__=~"istio_requests_total|%s_bucket",%s,destination_service_namespace=%q}`, prom.DurationMetric, svc, o.Namespace)
}

// perVersionQuery is the walkthrough's query for the same counts.
func (o *Options) perVersionQuery() string {
	q := ServerQuery{Service: o.Service, Namespace: o.Namespace, Backends: o.Backends, Reporter: o.passiveReporter()}
	return "sum by (destination_version) (" + q.Selector() + ")"
}

// RunPassive runs a passive gate until the counts decide, MaxRequests, the
// timeout or ctx ends it. It returns an error only when the gate could
// not start: bad options, or Prometheus unreachable at the start.
func RunPassive(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := o.Prometheus.Ping(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	p := &Passive{Source: "prometheus " + o.Prometheus.URL(), Reporter: o.passiveReporter(), PerVersion: o.perVersionQuery(),
		From: start, FromWhy: "the gate's start", RouteChanged: o.RouteChanged}
	if !o.Since.IsZero() {
		p.From, p.FromWhy = o.Since, o.SinceWhy
	}
	if pushed := o.RouteChanged.Add(RoutePush); !o.RouteChanged.IsZero() && pushed.After(p.From) {
		p.From, p.FromWhy = pushed, fmt.Sprintf("the route's last change at %s, plus %s for Istio to push it to every proxy: counts from before it are never evidence",
			o.RouteChanged.UTC().Format(time.RFC3339), RoutePush)
	}
	p.Poll = o.Poll
	known := p.Poll > 0 // else Prometheus says, once it has targets
	if !known {
		d, err := o.Prometheus.ScrapeInterval(ctx, o.selector())
		if err != nil {
			return nil, err
		}
		p.Poll, known = cmp.Or(d, DefaultPoll), d > 0
	}
	seq, err := decide.NewCounted(o.Criteria)
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	w := &watch{o: &o, p: p, seq: seq, follow: o.Prometheus.Follow(o.passiveSelector(), p.From), prev: map[string]decide.Counts{}}
	p.Query = o.passiveSelector()
	for {
		err := w.look(ctx)
		if err != nil {
			if ctx.Err() == nil {
				p.Error = err.Error()
			}
			break
		}
		if o.Progress != nil {
			o.Progress(Progress{Elapsed: time.Since(start), Decision: seq.Decision()})
		}
		if seq.Verdict() != decide.Pending {
			break
		}
		if !known {
			if d, err := o.Prometheus.ScrapeInterval(ctx, o.selector()); err == nil && d > 0 {
				p.Poll, known = d, true
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(p.Poll):
		}
		if ctx.Err() != nil {
			break
		}
	}
	res := &Result{Client: seq.Decision(), Passive: p, Start: start, End: time.Now()}
	res.Interrupted = ctx.Err() != nil && seq.Verdict() == decide.Pending
	res.Mirror = w.mirror()
	res.Verdict, res.Reason = passiveVerdict(&o, res, seq.MorePages())
	return res, nil
}

// watch is one passive gate's state between looks.
type watch struct {
	o      *Options
	p      *Passive
	seq    *decide.Sequential
	follow *prom.Follow
	prev   map[string]decide.Counts // cumulative per version, as fed so far
	dest   map[string]float64
}

// look reads the counts once and feeds what is new to the decision.
func (w *watch) look(ctx context.Context) error {
	now := time.Now()
	res, err := w.follow.Poll(ctx, now)
	if err != nil {
		return err
	}
	w.observe(res, now)
	return nil
}

// observe feeds one look's cumulative counts to the decision: what is new
// since the last look, as one batch. The rates are over the time from the
// evidence's start to the look at now.
func (w *watch) observe(res prom.Result, now time.Time) {
	w.p.Query, w.p.Polls, w.p.Targets, w.p.Scrapes = res.Query, w.p.Polls+1, res.Targets, res.Scrapes
	cum, dest, responses, reporters := w.tally(res)
	w.dest = dest
	batch := map[string]decide.Counts{}
	for v, c := range cum {
		p := w.prev[v]
		d := decide.Counts{Requests: c.Requests - p.Requests, Errors: c.Errors - p.Errors}
		prevLe := map[time.Duration]float64{}
		for _, b := range p.Buckets {
			prevLe[b.Le] = b.Count
		}
		for _, b := range c.Buckets {
			if n := b.Count - prevLe[b.Le]; n > 0 {
				d.Buckets = append(d.Buckets, decide.Bucket{Le: b.Le, Count: n})
			}
		}
		batch[v] = d
	}
	w.prev = cum
	w.seq.AddCounts(batch)
	elapsed := now.Sub(w.p.From).Seconds()
	w.p.Requests, w.p.PerSecond = map[string]float64{}, map[string]float64{}
	for v, c := range cum {
		w.p.Requests[versionName(v)] = c.Requests
		if elapsed > 0 {
			w.p.PerSecond[versionName(v)] = c.Requests / elapsed
		}
	}
	if w.p.Reporter != "destination" && len(dest) > 0 {
		w.p.Destination = dest
	}
	w.p.Responses, w.p.Reporters = responses, reporters
	w.p.Notes = w.notes()
}

// tally sums the followed series: the deciding reporter's requests,
// errors and buckets per version, the destination's requests, the
// responses by code and flags, and the reporters seen.
func (w *watch) tally(res prom.Result) (cum map[string]decide.Counts, dest map[string]float64, responses []Responses, reporters []string) {
	cum, dest = map[string]decide.Counts{}, map[string]float64{}
	buckets := map[string]map[time.Duration]float64{}
	seen := map[string]bool{}
	byCode := map[[3]string]float64{}
	for _, se := range res.Series {
		l := se.Labels
		rep, v := l["reporter"], l["destination_version"]
		if v == "unknown" {
			v = "" // no version label on the pod: a request without a version
		}
		isCount := l["__name__"] == "istio_requests_total"
		if isCount && se.Increase > 0 {
			seen[rep] = true
		}
		if isCount && rep == "destination" {
			dest[versionName(v)] += se.Increase
		}
		if rep != w.p.Reporter {
			continue
		}
		if w.p.Reporter == "destination" && w.o.Mirror != nil && v == w.o.Mirror.Version {
			continue // a mirror's copies are not the split's requests
		}
		if !isCount {
			le, err := bucketEdge(l["le"])
			if err != nil {
				continue
			}
			if buckets[v] == nil {
				buckets[v] = map[time.Duration]float64{}
			}
			buckets[v][le] += se.Increase
			continue
		}
		c := cum[v]
		c.Requests += se.Increase
		if strings.HasPrefix(l["response_code"], "5") {
			c.Errors += se.Increase
		}
		cum[v] = c
		byCode[[3]string{versionName(v), l["response_code"], l["response_flags"]}] += se.Increase
	}
	for v, edges := range buckets {
		c := cum[v]
		for le, n := range edges {
			c.Buckets = append(c.Buckets, decide.Bucket{Le: le, Count: n})
		}
		sort.Slice(c.Buckets, func(i, j int) bool { return c.Buckets[i].Le < c.Buckets[j].Le })
		cum[v] = c
	}
	for k, n := range byCode {
		if n > 0 {
			responses = append(responses, Responses{Version: k[0], Code: k[1], Flags: k[2], Count: n})
		}
	}
	sort.Slice(responses, func(i, j int) bool {
		if responses[i].Count != responses[j].Count {
			return responses[i].Count > responses[j].Count
		}
		return responses[i].Version+responses[i].Code+responses[i].Flags < responses[j].Version+responses[j].Code+responses[j].Flags
	})
	for r := range seen {
		reporters = append(reporters, r)
	}
	sort.Strings(reporters)
	return cum, dest, responses, reporters
}

// versionName is how a report names requests without a version.
func versionName(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

// notes name what departs from the model: retries, Envoy's response
// flags, other reporters, a mirror's copies.
func (w *watch) notes() []string {
	var out []string
	total := 0.0
	for _, n := range w.p.Requests {
		total += n
	}
	for _, v := range w.o.Criteria.Expect.Serving() {
		if total > 0 && w.p.Requests[v] == 0 {
			out = append(out, fmt.Sprintf("no request reached %s, expected at %g%%: is it scaled to zero, or its proxy not scraped?", v, w.o.Criteria.Expect.Percent(v)))
		}
	}
	var src, dst float64
	for v, n := range w.p.Requests {
		src += n
		if w.o.Mirror == nil || v != w.o.Mirror.Version {
			dst += w.dest[v]
		}
	}
	if w.p.Reporter == "source" && dst > src {
		out = append(out, fmt.Sprintf("the destination sidecars counted %.0f requests where the callers sent %.0f: %s (each attempt reaches a destination; the caller reports the last) or requests from callers without a sidecar",
			dst, src, textfmt.NOf(int(dst-src), "retry")))
	}
	flags := map[string]float64{}
	for _, r := range w.p.Responses {
		if r.Flags != "" && r.Flags != "-" {
			flags[r.Flags] += r.Count
		}
	}
	if len(flags) > 0 {
		var parts []string
		for f, n := range flags {
			parts = append(parts, fmt.Sprintf("%s %.0f", f, n))
		}
		sort.Strings(parts)
		out = append(out, "Envoy response flags (retries, resets, no healthy upstream): "+strings.Join(parts, ", "))
	}
	var others []string
	for _, r := range w.p.Reporters {
		if r != w.p.Reporter && r != "destination" && r != "source" {
			others = append(others, r)
		}
	}
	if len(others) > 0 {
		out = append(out, fmt.Sprintf("reporter %s also counts these requests; only reporter=%q decides, so none is counted twice", strings.Join(others, ", "), w.p.Reporter))
	}
	if m := w.o.Mirror; m != nil && w.dest[m.Version] > 0 {
		out = append(out, fmt.Sprintf("%.0f mirrored requests to %s are left out of the split (sources never report them)", w.dest[m.Version], m.Version))
	}
	return out
}

// mirror checks a passive gate's shadow traffic: the mirror target's
// destination-reported requests against the primary's.
func (w *watch) mirror() *MirrorResult {
	m := w.o.Mirror
	if m == nil {
		return nil
	}
	r := &MirrorResult{Version: m.Version, Expected: m.Percent}
	for v, n := range w.dest {
		if v == m.Version {
			r.Mirrored += n
		} else {
			r.Primary += n
		}
	}
	r.judge(w.o.Criteria.Tolerance, "no primary requests reported by the destination sidecars", "")
	return r
}

// passiveVerdict is the gate's verdict: the counts' decision, a failed
// mirror check, or INCONCLUSIVE saying what ended the gate and what a
// decision would likely need.
func passiveVerdict(o *Options, r *Result, more int) (decide.Verdict, string) {
	c, p := r.Client, r.Passive
	note := ""
	if len(p.Notes) > 0 {
		note = " (" + strings.Join(p.Notes, "; ") + ")"
	}
	switch c.Verdict {
	case decide.Fail:
		return decide.Fail, c.Reason + note
	case decide.Pass:
		if m := r.Mirror; m != nil && !m.OK {
			return decide.Fail, "mirror: " + m.Reason
		}
		return decide.Pass, c.Reason + note
	case decide.Inconclusive:
		return decide.Inconclusive, c.Reason + note
	}
	var why string
	switch {
	case p.Error != "":
		why = fmt.Sprintf("Prometheus stopped answering after %d looks (%s)", p.Polls, p.Error)
	case r.Interrupted && o.Timeout > 0 && r.End.Sub(r.Start) >= o.Timeout-time.Second:
		why = fmt.Sprintf("no decision within --timeout %s", o.Timeout)
	default:
		why = "interrupted before the counts decided"
	}
	elapsed := r.End.Sub(p.From).Seconds()
	if c.Pages == 0 {
		return decide.Inconclusive, fmt.Sprintf("%s: no requests to %s reported by reporter=%q since %s; is anything sending traffic, and is Prometheus scraping the %s proxies?",
			why, o.Service, p.Reporter, p.From.UTC().Format(time.RFC3339), p.Reporter)
	}
	rate := float64(c.Pages) / elapsed
	reason := fmt.Sprintf("%s: %d requests arrived in %s (%.2f/s): %s", why, c.Pages, time.Duration(elapsed*float64(time.Second)).Round(time.Second), rate, c.Reason)
	if more > 0 && rate > 0 {
		reason += fmt.Sprintf("; about %d more requests would likely decide, %s at the observed rate", more, time.Duration(float64(more)/rate*float64(time.Second)).Round(time.Second))
	}
	return decide.Inconclusive, reason + note
}

// errNoPrometheus is the passive gate's one requirement.
var errNoPrometheus = errors.New("--passive: needs --prometheus URL (or a cluster to find it in): its evidence is Istio's counts")

// Watch follows the live traffic's requests for a passive soak: Next
// returns the requests each version answered, by response code, since the
// last call, as reporter counts them (one query per call, aligned per
// scrape target as a passive gate's are).
type Watch struct {
	follow   *prom.Follow
	reporter string
	prev     map[[2]string]float64
}

// Selector is the series the watch reads.
func (w *Watch) Selector() string { return w.follow.Selector() }

// Response is a number of requests one version answered with one code.
type Response struct {
	Version string // "" for requests without a version (Istio's "unknown")
	Code    int    // 0 when the code is not a number
	Count   int
}

// NewWatch follows q's requests from the time from; q.Reporter is the
// reporter counted, the callers' sidecars (source) when empty.
func NewWatch(c *prom.Client, q ServerQuery, from time.Time) *Watch {
	o := &Options{Service: q.Service, Namespace: q.Namespace, Backends: q.Backends}
	o.defaults()
	return &Watch{follow: c.Follow(o.passiveSelector(), from), reporter: cmp.Or(q.Reporter, "source"), prev: map[[2]string]float64{}}
}

// Next reads the counts once and returns what is new since the last call.
// A failed read changes nothing: the next call returns its requests too.
func (w *Watch) Next(ctx context.Context) ([]Response, error) {
	res, err := w.follow.Poll(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	cum := map[[2]string]float64{}
	for _, se := range res.Series {
		l := se.Labels
		if l["__name__"] != "istio_requests_total" || l["reporter"] != w.reporter {
			continue
		}
		v := l["destination_version"]
		if v == "unknown" {
			v = ""
		}
		cum[[2]string{v, l["response_code"]}] += se.Increase
	}
	var out []Response
	for k, n := range cum {
		if d := int(math.Round(n - w.prev[k])); d > 0 {
			code, _ := strconv.Atoi(k[1])
			out = append(out, Response{Version: k[0], Code: code, Count: d})
		}
	}
	w.prev = cum
	sort.Slice(out, func(i, j int) bool {
		if out[i].Version != out[j].Version {
			return out[i].Version < out[j].Version
		}
		return out[i].Code < out[j].Code
	})
	return out, nil
}
