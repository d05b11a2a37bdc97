package istio

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GatewayKey is the routing table's name of a Gateway API Gateway, for
// Table.Route: Istio's Gateways are routed by their bare name, and the two
// APIs may each have a Gateway bookinfo-gateway.
func GatewayKey(name string) string { return GroupGatewayAPI + "/" + name }

// K8sGateway is the applied Gateway API Gateway (the local mesh runs one),
// "" when there is none.
func (t *Table) K8sGateway() string {
	if t == nil {
		return ""
	}
	return t.k8sGateway
}

// compileKube adds the HTTPRoutes of a snapshot (sorted by kind and name)
// to the table: a Service-parent route becomes the mesh route of its
// Service, a Gateway-parent one a route of that Gateway.
func (t *Table) compileKube(rs []Resource) {
	services := map[string]map[string]string{} // version Service → selector
	for _, r := range rs {
		switch {
		case r.Service != nil:
			services[r.Name] = r.Service.Selector
			if w, ok := r.Labels[UseWaypointLabel]; ok {
				if t.serviceWaypoint == nil {
					t.serviceWaypoint = map[string]string{}
				}
				t.serviceWaypoint[r.Name] = w
			}
		case isWaypoint(r):
			if t.waypoints == nil {
				t.waypoints = map[string]bool{}
			}
			t.waypoints[r.Name] = true
		case r.K8sGateway != nil && t.k8sGateway == "":
			t.k8sGateway = r.Name
		case r.Kind == kindNamespace:
			t.namespace = r.Labels
		}
	}
	var onGateway []gatewayEntry
	for i, r := range rs {
		if r.HTTPRoute == nil {
			continue
		}
		for _, p := range r.HTTPRoute.ParentRefs {
			switch parentKind(p) {
			case "Service":
				host := shortHost(string(p.Name))
				if _, taken := t.mesh[host]; !taken {
					t.mesh[host] = compileHTTPRoute(r.Name, r.HTTPRoute, services)
				}
			case "Gateway":
				if string(p.Name) != t.k8sGateway {
					continue // no such Gateway: the route is not accepted, as in Istio
				}
				hosts := []string{"*"}
				if len(r.HTTPRoute.Hostnames) > 0 {
					hosts = hosts[:0]
					for _, h := range r.HTTPRoute.Hostnames {
						hosts = append(hosts, strings.ToLower(string(h)))
					}
				}
				for _, e := range httpRouteEntries(r.Name, r.HTTPRoute, services) {
					for _, h := range hosts {
						onGateway = append(onGateway, gatewayEntry{host: h, created: r.Created, route: i, routeEntry: e})
					}
				}
			}
		}
	}
	if len(onGateway) > 0 {
		t.gateways[GatewayKey(t.k8sGateway)] = compileGatewayRoutes(onGateway)
	}
}

// gatewayEntry is one match of an HTTPRoute on the Gateway, for one of its
// hostnames; created is the HTTPRoute's creation time and route its place in
// name order.
type gatewayEntry struct {
	routeEntry
	host    string
	created time.Time
	route   int
}

// compileGatewayRoutes orders the matches of every HTTPRoute on the Gateway
// as Istio's Envoy applies them: by hostname first, the most specific
// (exact, then the longer wildcard) making its own virtual host, and
// within one hostname by the API's precedence across routes (Exact path,
// longer prefix, more headers), then route: the oldest first, then by name,
// as the API breaks ties between routes; then rule. Each match becomes a
// one-host, one-route table entry.
func compileGatewayRoutes(entries []gatewayEntry) []*tableVS {
	slices.SortStableFunc(entries, func(a, b gatewayEntry) int {
		return cmp.Or(
			cmp.Compare(hostRank(b.host), hostRank(a.host)),
			strings.Compare(a.host, b.host),
			matchPrecedence(a.routeEntry, b.routeEntry),
			a.created.Compare(b.created),
			cmp.Compare(a.route, b.route),
			cmp.Compare(a.rule, b.rule))
	})
	out := make([]*tableVS, len(entries))
	for i, e := range entries {
		out[i] = &tableVS{hosts: []string{e.host}, routes: []tableRoute{e.rt}, vhost: true}
	}
	return out
}

// hostRank orders hostnames by specificity: exact names first, then
// wildcards by length, "*" last.
func hostRank(h string) int {
	switch {
	case h == "*":
		return 0
	case strings.HasPrefix(h, "*"):
		return len(h)
	}
	return 1<<20 + len(h)
}

// routeEntry is one match of an HTTPRoute rule, compiled.
type routeEntry struct {
	rt   tableRoute
	m    gatewayv1.HTTPRouteMatch
	rule int
}

// httpRouteEntries compiles each match of each rule of an HTTPRoute to a
// table route of its own.
func httpRouteEntries(name string, h *gatewayv1.HTTPRouteSpec, services map[string]map[string]string) []routeEntry {
	var entries []routeEntry
	for i, rule := range h.Rules {
		base := tableRoute{name: fmt.Sprintf("HTTPRoute %s, rules[%d]", name, i), mirrorPct: 100}
		for _, b := range rule.BackendRefs {
			w := int(backendWeight(b))
			if w == 0 {
				continue
			}
			base.total += w
			base.dests = append(base.dests, tableDest{target: backendTarget(string(b.Name), services), upTo: base.total})
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gatewayv1.HTTPRouteMatch{{}} // the API's default: every request
		}
		for _, m := range matches {
			rt := base
			rt.matches = []tableMatch{compileK8sMatch(m)}
			entries = append(entries, routeEntry{rt, m, i})
		}
	}
	return entries
}

// compileHTTPRoute compiles the HTTPRoute of a Service. The Gateway API
// orders a route's matches by precedence, not by position: an Exact path
// before any prefix, a longer prefix before a shorter one, then more
// header matches first, then rule order.
func compileHTTPRoute(name string, h *gatewayv1.HTTPRouteSpec, services map[string]map[string]string) *tableVS {
	entries := httpRouteEntries(name, h, services)
	slices.SortStableFunc(entries, func(a, b routeEntry) int {
		return cmp.Or(matchPrecedence(a, b), cmp.Compare(a.rule, b.rule))
	})
	vs := &tableVS{}
	for _, e := range entries {
		vs.routes = append(vs.routes, e.rt)
	}
	return vs
}

// matchPrecedence orders two matches by the API's precedence, the most
// specific first: an Exact path, then the longer prefix, then more header
// matches. Callers break its ties (rule, route).
func matchPrecedence(a, b routeEntry) int {
	return cmp.Or(
		cmp.Compare(pathRank(b.m), pathRank(a.m)),
		cmp.Compare(len(b.m.Headers), len(a.m.Headers)))
}

// pathRank orders path matches: Exact first, then prefixes by length.
func pathRank(m gatewayv1.HTTPRouteMatch) int {
	if m.Path == nil {
		return 1 // the default, PathPrefix "/"
	}
	v := len(ptrValue(m.Path.Value))
	if m.Path.Type != nil && *m.Path.Type == gatewayv1.PathMatchExact {
		return 1 << 20
	}
	return v
}

// backendTarget resolves a backend Service to the pods it selects; it names
// the Service, which Istio's telemetry reports as destination_service_name.
func backendTarget(name string, services map[string]map[string]string) Target {
	if isMeshService(name) {
		return Target{Service: shortHost(name)}
	}
	sel, ok := services[name]
	if !ok {
		// A Service that is not (any more) there: no endpoints, a 503.
		return Target{Service: name, Backend: name, Labels: map[string]string{MissingSubsetLabel: name}}
	}
	return Target{Service: sel["app"], Labels: sel, Backend: name}
}

// compileK8sMatch is a Gateway API match as a table match. A PathPrefix
// matches whole path segments: /static matches /static and /static/x, not
// /staticx.
func compileK8sMatch(m gatewayv1.HTTPRouteMatch) tableMatch {
	var tm tableMatch
	if p := m.Path; p != nil {
		v := ptrValue(p.Value)
		typ := gatewayv1.PathMatchPathPrefix
		if p.Type != nil {
			typ = *p.Type
		}
		switch typ {
		case gatewayv1.PathMatchExact:
			tm.uri = &stringMatcher{exact: &v}
		case gatewayv1.PathMatchRegularExpression:
			re, _ := compileFullMatch(v, false) // validated at Apply
			tm.uri = &stringMatcher{re: re}
		default:
			if v != "/" && v != "" {
				tm.uri = &stringMatcher{segments: strings.TrimSuffix(v, "/")}
			}
		}
	}
	for _, h := range m.Headers {
		sm := stringMatcher{exact: new(h.Value)}
		if h.Type != nil && *h.Type == gatewayv1.HeaderMatchRegularExpression {
			re, _ := compileFullMatch(h.Value, false)
			sm = stringMatcher{re: re}
		}
		name := string(h.Name)
		tm.headers = append(tm.headers, headerMatcher{canonical: canonicalHeader(name), lower: strings.ToLower(name), m: sm})
	}
	return tm
}
