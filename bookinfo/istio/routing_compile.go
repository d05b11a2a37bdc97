package istio

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"istio.io/api/networking/v1alpha3"
)

// tableVS is a compiled VirtualService.
type tableVS struct {
	hosts  []string // lower-case; "*" and "*.example.com" are wildcards (gateway use)
	routes []tableRoute
	// vhost: one host of a Gateway API Gateway's virtual hosts, ordered
	// most specific first (compileGatewayRoutes): a request is matched
	// only against the routes of the first host it matches.
	vhost bool
}

// tableRoute is a compiled http[] entry.
type tableRoute struct {
	name      string // "VirtualService reviews, http[1]"
	matches   []tableMatch
	dests     []tableDest
	total     int // sum of weights (> 0 when len(dests) > 1)
	mirror    *Target
	mirrorPct float64
	delay     time.Duration
	delayPct  float64
	abort     int
	abortPct  float64
	retries   RetryPolicy
	timeout   time.Duration
}

type tableDest struct {
	target Target
	upTo   int // cumulative weight: chosen when the draw is below upTo
}

// tableMatch is one match[] entry: uri and every header must match.
type tableMatch struct {
	uri     *stringMatcher
	headers []headerMatcher
}

type headerMatcher struct {
	canonical, lower string // http.Header keys to try
	m                stringMatcher
}

type stringMatcher struct {
	exact, prefix *string
	segments      string // a Gateway API PathPrefix without its trailing "/"
	re            *regexp.Regexp
	fold          bool // ignoreUriCase
}

// compileTable builds the routing table from a snapshot's resources, sorted
// by kind and name; they have been validated.
func compileTable(rs []Resource) *Table {
	subsets := map[string]map[string]map[string]string{} // host → subset → labels
	gateways := map[string]bool{}
	for _, r := range rs {
		if r.Kind == kindGateway && r.Group == "" {
			gateways[r.Name] = true
		}
		if r.Kind != kindDestinationRule {
			continue
		}
		host := shortHost(r.DestinationRule.GetHost())
		if subsets[host] == nil {
			subsets[host] = map[string]map[string]string{}
		}
		for _, s := range r.DestinationRule.GetSubsets() {
			labels := make(map[string]string, len(s.GetLabels()))
			for k, v := range s.GetLabels() {
				labels[k] = v
			}
			subsets[host][s.GetName()] = labels
		}
	}
	t := &Table{mesh: map[string]*tableVS{}, gateways: map[string][]*tableVS{}}
	for _, r := range rs {
		if r.Kind == kindVirtualService {
			t.add(r.Name, r.VirtualService, subsets, gateways)
		}
	}
	t.compileKube(rs)
	return t
}

// add compiles one VirtualService into the mesh and gateway indexes. A
// binding to a Gateway that was deleted routes nothing, as in Istio.
func (t *Table) add(name string, vs *v1alpha3.VirtualService, subsets map[string]map[string]map[string]string, gateways map[string]bool) {
	cv := &tableVS{}
	for _, h := range vs.GetHosts() {
		cv.hosts = append(cv.hosts, strings.ToLower(h))
	}
	for i, hr := range vs.GetHttp() {
		cv.routes = append(cv.routes, compileRoute(fmt.Sprintf("VirtualService %s, http[%d]", name, i), hr, subsets))
	}
	for _, g := range vs.GetGateways() {
		if g, err := gatewayRef(g); err == nil && g != "mesh" && gateways[g] {
			t.gateways[g] = append(t.gateways[g], cv)
		}
	}
	if appliesToMesh(vs) {
		for _, h := range cv.hosts {
			if _, taken := t.mesh[shortHost(h)]; !taken {
				t.mesh[shortHost(h)] = cv
			}
		}
	}
}

func compileRoute(name string, hr *v1alpha3.HTTPRoute, subsets map[string]map[string]map[string]string) tableRoute {
	rt := tableRoute{name: name, mirrorPct: 100}
	for _, m := range hr.GetMatch() {
		rt.matches = append(rt.matches, compileMatch(m))
	}
	for _, d := range hr.GetRoute() {
		w := int(d.GetWeight())
		if len(hr.GetRoute()) == 1 {
			w = 100
		}
		rt.total += w
		rt.dests = append(rt.dests, tableDest{target: target(d.GetDestination(), subsets), upTo: rt.total})
	}
	if hr.GetMirror() != nil {
		mirror := target(hr.GetMirror(), subsets)
		rt.mirror = &mirror
		if p := hr.GetMirrorPercentage(); p != nil {
			rt.mirrorPct = p.GetValue()
		}
	}
	if f := hr.GetFault(); f != nil {
		rt.delay, rt.delayPct = f.GetDelay().GetFixedDelay().AsDuration(), faultPercent(f.GetDelay().GetPercentage())
		if f.GetAbort() != nil {
			rt.abort, rt.abortPct = int(f.GetAbort().GetHttpStatus()), faultPercent(f.GetAbort().GetPercentage())
		}
	}
	if r := hr.GetRetries(); r != nil {
		rt.retries = RetryPolicy{Attempts: int(r.GetAttempts()), PerTryTimeout: r.GetPerTryTimeout().AsDuration(), RetryOn: retryOnList(r.GetRetryOn())}
	}
	if hr.GetTimeout() != nil {
		rt.timeout = hr.GetTimeout().AsDuration()
	}
	return rt
}

// faultPercent is the share of requests a fault applies to. Like Istio (and
// Envoy, whose FractionalPercent defaults to 0), no percentage means no
// request is faulted: "If left unspecified, no request will be delayed".
func faultPercent(p *v1alpha3.Percent) float64 {
	if p == nil {
		return 0
	}
	return p.GetValue()
}

// target resolves a destination's subset to pod labels.
func target(d *v1alpha3.Destination, subsets map[string]map[string]map[string]string) Target {
	t := Target{Service: shortHost(d.GetHost()), Subset: d.GetSubset()}
	if t.Subset == "" {
		return t
	}
	labels, ok := subsets[t.Service][t.Subset]
	if !ok {
		labels = map[string]string{MissingSubsetLabel: t.Subset}
	}
	t.Labels = labels
	return t
}

func compileMatch(m *v1alpha3.HTTPMatchRequest) tableMatch {
	var tm tableMatch
	if m.GetUri() != nil {
		uri := compileString(m.GetUri(), m.GetIgnoreUriCase())
		tm.uri = &uri
	}
	for name, sm := range m.GetHeaders() {
		tm.headers = append(tm.headers, headerMatcher{
			canonical: canonicalHeader(name),
			lower:     strings.ToLower(name),
			m:         compileString(sm, false),
		})
	}
	return tm
}

func canonicalHeader(name string) string { return http.CanonicalHeaderKey(name) }

func compileString(sm *v1alpha3.StringMatch, fold bool) stringMatcher {
	m := stringMatcher{fold: fold}
	switch mt := sm.GetMatchType().(type) {
	case *v1alpha3.StringMatch_Exact:
		m.exact = &mt.Exact
	case *v1alpha3.StringMatch_Prefix:
		m.prefix = &mt.Prefix
	case *v1alpha3.StringMatch_Regex:
		m.re, _ = compileFullMatch(mt.Regex, fold) // validated at Apply
	}
	return m
}

// match returns the first route whose match list accepts r, or nil.
func (vs *tableVS) match(r *Request) *tableRoute {
	for i := range vs.routes {
		rt := &vs.routes[i]
		if len(rt.matches) == 0 {
			return rt
		}
		for j := range rt.matches {
			if rt.matches[j].accepts(r) {
				return rt
			}
		}
	}
	return nil
}

func (m *tableMatch) accepts(r *Request) bool {
	if m.uri != nil && !m.uri.accepts(r.Path) {
		return false
	}
	for i := range m.headers {
		h := &m.headers[i]
		vals, ok := r.Header[h.canonical]
		if !ok {
			vals = r.Header[h.lower]
		}
		if len(vals) == 0 {
			return false // absent header: no match
		}
		v := vals[0]
		if len(vals) > 1 {
			v = strings.Join(vals, ",") // Envoy matches repeated headers joined by commas
		}
		if !h.m.accepts(v) {
			return false
		}
	}
	return true
}

func (m *stringMatcher) accepts(s string) bool {
	switch {
	case m.exact != nil && m.fold:
		return strings.EqualFold(s, *m.exact)
	case m.exact != nil:
		return s == *m.exact
	case m.prefix != nil && m.fold:
		return len(s) >= len(*m.prefix) && strings.EqualFold(s[:len(*m.prefix)], *m.prefix)
	case m.prefix != nil:
		return strings.HasPrefix(s, *m.prefix)
	case m.re != nil:
		return m.re.MatchString(s)
	case m.segments != "":
		return strings.HasPrefix(s, m.segments) && (len(s) == len(m.segments) || s[len(m.segments)] == '/')
	}
	return false
}

// matchHost reports whether a gateway VirtualService serves the Host header h.
func (vs *tableVS) matchHost(h string) bool {
	for _, pattern := range vs.hosts {
		switch {
		case pattern == "*":
			return true
		case strings.HasPrefix(pattern, "*"):
			if len(h) >= len(pattern)-1 && strings.EqualFold(h[len(h)-len(pattern)+1:], pattern[1:]) {
				return true
			}
		case strings.EqualFold(h, pattern):
			return true
		}
	}
	return false
}
