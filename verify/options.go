package verify

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/prom"
)

// DefaultRate is the gate's request rate per second: enough for a 50/50
// decision in about a minute, gentle on a lab cluster.
const DefaultRate = 20

// Options configure one gate.
type Options struct {
	Attack   attack.Options  // target, rate (0: closed loop), headers, login, timeouts
	Criteria decide.Criteria // expectation, tolerance, confidence, budgets
	// Classifier names the classifier in use when it is not Bookinfo's,
	// e.g. "--version-header X-App-Version", for the hint when it
	// recognises nothing.
	Classifier string

	// Timeout bounds the whole gate; 0 means none (MaxRequests still ends it).
	Timeout time.Duration
	// Settle turns on the settle rule (decide.Settle); SettleTimeout bounds it.
	Settle        bool
	SettleTimeout time.Duration
	// SettleMin leaves out every page sent in the first SettleMin, before
	// the settle rule looks: changes that show no strays (90/10 to 50/50,
	// adding a mirror) need such a fixed delay.
	SettleMin time.Duration

	// Server side: at most one of Prometheus and Scrape.
	Prometheus *prom.Client
	Scrape     []string // sidecar /stats/prometheus URLs, read before and after
	Service    string   // destination_service_name, default "reviews"
	// Backends are the Services the route sends Service's requests to,
	// which Istio reports as destination_service_name instead of Service:
	// an HTTPRoute's backends (reviews-v1), a VirtualService's other
	// destination hosts (Flagger's reviews-primary). The server check
	// counts them with Service.
	Backends []string
	// Reporter is the proxy whose reports the server check counts:
	// "destination" (the sidecar in front of each pod; the default) or
	// "waypoint" (ambient mode, where only a waypoint sees HTTP).
	Reporter  string
	Namespace string // destination_service_namespace, default "default"
	// ServerSeries, if set, is the Prometheus counter the server check
	// counts instead of Istio's (an app's own http_requests_total{…}, a
	// mesh without Istio), its version in label VersionLabel (default
	// destination_version) and its status, when it has one, in
	// response_code, code or status. It has no latency histogram, so the
	// server's health witness reads errors only.
	ServerSeries string
	VersionLabel string
	// ServerWait bounds the wait for the scrape after the last request.
	ServerWait time.Duration
	// RequireServer makes a server check that could not run INCONCLUSIVE;
	// false lets the client verdict stand alone (and says so).
	RequireServer bool

	// Mirror, if set, checks that the mirror target's destination-reported
	// requests are Mirror.Percent of the primary's, while clients see none.
	Mirror *Mirror

	// Traces, if set, links pages of note to their traces in Jaeger and
	// checks sampled pages' traces against the pages.
	Traces *Traces

	// Passive gates send no request (RunPassive): the evidence is the
	// live traffic's counts in Prometheus from Since (zero: the gate's
	// start; SinceWhy says why then) or RouteChanged, whichever is later,
	// read every Poll (zero: Prometheus' scrape interval).
	Passive      bool
	Since        time.Time
	SinceWhy     string
	RouteChanged time.Time
	Poll         time.Duration

	// Progress, if set, is called about once a second from a goroutine of
	// its own with the evidence so far.
	Progress func(Progress)
}

// Mirror is the expected shadow traffic: Percent of the primary's requests.
type Mirror struct {
	Version string
	Percent float64
}

// Progress is the state of a running gate.
type Progress struct {
	Elapsed   time.Duration
	Settling  bool
	Discarded int // settling pages left out of the evidence
	Decision  decide.Decision
	// Load is the current attack's summary (nil in a passive gate): the
	// latency, outcomes and failures a live view shows.
	Load *attack.Summary
}

// ErrUnreachable means the target could not be reached when the gate began:
// no evidence can be had, which is not the rollout's fault.
var ErrUnreachable = errors.New("target unreachable")

func (o *Options) defaults() {
	if o.Service == "" {
		o.Service = "reviews"
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.ServerWait <= 0 {
		o.ServerWait = 45 * time.Second
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = 60 * time.Second
	}
	// Attack.Rate 0 stays 0: a closed loop, as fast as the workers go, as
	// `--rate 0` says. DefaultRate is the callers' default for no rate.
}

// Validate checks everything that can be checked before sending a request.
func (o *Options) Validate() error {
	o.defaults()
	if err := o.Criteria.Validate(); err != nil {
		return err
	}
	if o.Passive {
		return o.validatePassive()
	}
	if err := o.Attack.Validate(); err != nil {
		return err
	}
	if err := o.serverQuery().Validate(); err != nil {
		return err
	}
	if o.Prometheus != nil && len(o.Scrape) > 0 {
		return errors.New("--prometheus and --scrape: give one server-side source, not both")
	}
	if o.ServerSeries != "" && o.Prometheus == nil {
		return errors.New("--server-series: needs --prometheus, which it is read from")
	}
	if m := o.Mirror; m != nil {
		if m.Version == "" || m.Percent <= 0 || m.Percent > 100 {
			return fmt.Errorf("--mirror %s=%g: want VERSION or VERSION=PERCENT with 0 < PERCENT ≤ 100", m.Version, m.Percent)
		}
		if o.Criteria.Expect.Percent(m.Version) != 0 {
			return fmt.Errorf("--mirror %s: the mirror target must expect 0%% of pages (clients never see shadow answers)", m.Version)
		}
	}
	if t := o.Traces; t != nil {
		switch {
		case t.Jaeger == nil && t.Check > 0:
			return errors.New("--trace-check: needs --jaeger (or a cluster's Jaeger) to read traces from")
		case t.Check < 0 || t.Check > MaxTraceCheck:
			return fmt.Errorf("--trace-check %d: want 0 to %d pages", t.Check, MaxTraceCheck)
		case t.Wait < 0:
			return fmt.Errorf("--trace-wait %s: want >= 0", t.Wait)
		}
		if t.Jaeger == nil {
			o.Traces = nil
		}
	}
	return nil
}

// validatePassive checks a passive gate's options: no load, so nothing
// of the attack; Prometheus, since Istio's counts are the evidence.
func (o *Options) validatePassive() error {
	switch r := o.passiveReporter(); {
	case o.Prometheus == nil:
		return errNoPrometheus
	case len(o.Scrape) > 0:
		return errors.New("--passive and --scrape: a passive gate reads Prometheus, which keeps every scrape; give --prometheus")
	case r != "source" && r != "destination" && r != "waypoint":
		return fmt.Errorf("--reporter %q: want source (the callers' sidecars; the default with --passive), destination or waypoint", r)
	case o.Poll < 0:
		return fmt.Errorf("--poll %s: want > 0", o.Poll)
	case !o.Since.IsZero() && o.Since.After(time.Now()):
		return fmt.Errorf("--since %s: want a time in the past", o.Since.Format(time.RFC3339))
	}
	if m := o.Mirror; m != nil && (m.Version == "" || m.Percent <= 0 || m.Percent > 100) {
		return fmt.Errorf("--mirror %s=%g: want VERSION or VERSION=PERCENT with 0 < PERCENT ≤ 100", m.Version, m.Percent)
	}
	o.Traces = nil // no pages to link
	return nil
}

// selector is the Prometheus selector of the gate's server-side series.
func (o *Options) selector() string {
	if o.ServerSeries != "" {
		return o.ServerSeries
	}
	return o.serverQuery().Selector()
}

// versionLabel is the server series' label that names the version.
func (o *Options) versionLabel() string {
	if o.VersionLabel != "" {
		return o.VersionLabel
	}
	return "destination_version"
}

// statusCode is a server series' response status: Istio's response_code,
// or an app counter's code or status label.
func statusCode(l map[string]string) string {
	for _, k := range []string{"response_code", "code", "status"} {
		if v, ok := l[k]; ok {
			return v
		}
	}
	return ""
}

// serviceNames are the destination_service_name values counted.
func (o *Options) serviceNames() []string { return o.serverQuery().names() }

func (o *Options) serverQuery() ServerQuery {
	return ServerQuery{Service: o.Service, Namespace: o.Namespace, Backends: o.Backends, Reporter: o.Reporter}
}

// ServerQuery names the series a server-side check counts: the requests to
// Service and its Backends as the destination sidecars report them
// (reporter="destination" counts each request once, mirrored ones
// included; the source side skips those), or in ambient mode the waypoint
// (reporter="waypoint"; ztunnel reports only TCP).
type ServerQuery struct {
	Service, Namespace string
	Backends           []string
	Reporter           string // "destination" when empty, or "waypoint"
}

// Validate checks the reporter: the sidecars' or a waypoint's.
func (q ServerQuery) Validate() error {
	if r := q.reporter(); r != "destination" && r != "waypoint" {
		return fmt.Errorf("--reporter %q: want destination (sidecars) or waypoint (ambient mode)", r)
	}
	return nil
}

// reporter is the query's reporter label value.
func (q ServerQuery) reporter() string {
	if q.Reporter == "" {
		return "destination"
	}
	return q.Reporter
}

// Selector is the query's Prometheus selector of istio_requests_total.
func (q ServerQuery) Selector() string {
	names := q.names()
	if len(names) == 1 {
		return fmt.Sprintf(`istio_requests_total{reporter=%q,destination_service_name=%q,destination_service_namespace=%q}`,
			q.reporter(), names[0], q.Namespace)
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return fmt.Sprintf(`istio_requests_total{reporter=%q,destination_service_name=~%q,destination_service_namespace=%q}`,
		q.reporter(), strings.Join(quoted, "|"), q.Namespace)
}

// BucketSelector selects the same requests' latency histogram buckets.
func (q ServerQuery) BucketSelector() string {
	return prom.DurationMetric + "_bucket" + strings.TrimPrefix(q.Selector(), "istio_requests_total")
}

// Matches reports whether a series' labels are the query's, for sidecar
// scrapes read without Prometheus.
func (q ServerQuery) Matches(l map[string]string) bool {
	return l["reporter"] == q.reporter() && slices.Contains(q.names(), l["destination_service_name"]) &&
		l["destination_service_namespace"] == q.Namespace
}

// names are Service and its backends, once each, in that order.
func (q ServerQuery) names() []string {
	names := []string{q.Service}
	for _, b := range q.Backends {
		if !slices.Contains(names, b) {
			names = append(names, b)
		}
	}
	return names
}
