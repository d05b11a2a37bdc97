package cluster

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Backend is one weighted backend of an HTTPRoute rule: a Service and its
// share of the rule's traffic in percent.
type Backend struct {
	Service string
	Percent float64
}

// HTTPRouteSplit is the split of a mesh HTTPRoute (GAMMA: a Service as its
// parent): the weighted backendRefs of its one rule. As with a
// VirtualService, a rule that matches on the request makes the split
// depend on who asks, so it is refused; fields canary does not model
// (filters, timeouts, other backend kinds) are refused by name rather than
// ignored. Weights are relative: percent = weight / sum (default weight 1).
func HTTPRouteSplit(r *gatewayv1.HTTPRoute) ([]Backend, error) {
	name := r.Namespace + "/" + r.Name
	if r.Namespace == "" {
		name = r.Name
	}
	rules := r.Spec.Rules
	if len(rules) == 0 {
		return nil, fmt.Errorf("HTTPRoute %s has no rules", name)
	}
	if len(rules) > 1 || len(rules[0].Matches) > 1 || (len(rules[0].Matches) == 1 && !catchAll(rules[0].Matches[0])) {
		return nil, fmt.Errorf("HTTPRoute %s routes by match (%d rules): the split depends on the request; use --expect with the headers you send", name, len(rules))
	}
	rule := rules[0]
	switch {
	case len(rule.Filters) > 0:
		return nil, fmt.Errorf("HTTPRoute %s: spec.rules[0].filters is not supported: canary checks weights only", name)
	case rule.Timeouts != nil:
		return nil, fmt.Errorf("HTTPRoute %s: spec.rules[0].timeouts is not supported: canary checks weights only", name)
	case len(rule.BackendRefs) == 0:
		return nil, fmt.Errorf("HTTPRoute %s has no backendRefs: Istio answers 500 to every request", name)
	}
	var sum int32
	for i, b := range rule.BackendRefs {
		switch {
		case b.Group != nil && *b.Group != "" && *b.Group != "core":
			return nil, fmt.Errorf("HTTPRoute %s: spec.rules[0].backendRefs[%d] group %q is not supported: want a Service", name, i, *b.Group)
		case b.Kind != nil && *b.Kind != "Service":
			return nil, fmt.Errorf("HTTPRoute %s: spec.rules[0].backendRefs[%d] kind %q is not supported: want a Service", name, i, *b.Kind)
		case b.Namespace != nil && string(*b.Namespace) != r.Namespace:
			return nil, fmt.Errorf("HTTPRoute %s: spec.rules[0].backendRefs[%d] in namespace %s is not supported: want the route's", name, i, *b.Namespace)
		case len(b.Filters) > 0:
			return nil, fmt.Errorf("HTTPRoute %s: spec.rules[0].backendRefs[%d].filters is not supported: canary checks weights only", name, i)
		}
		sum += weight(b)
	}
	if sum == 0 {
		return nil, fmt.Errorf("HTTPRoute %s: every backend has weight 0: Istio answers 500 to every request", name)
	}
	// Percents in tenths that add up to 100 exactly (the last backend takes
	// the rounding), as --expect wants them: weights 1:1:1 are
	// 33.3, 33.3 and 33.4.
	out := make([]Backend, 0, len(rule.BackendRefs))
	left := 1000
	for i, b := range rule.BackendRefs {
		tenths := int(math.Round(1000 * float64(weight(b)) / float64(sum)))
		if i == len(rule.BackendRefs)-1 {
			tenths = left
		}
		left -= tenths
		out = append(out, Backend{Service: string(b.Name), Percent: float64(tenths) / 10})
	}
	return out, nil
}

// weight is a backend's weight, 1 when unset as the Gateway API says.
func weight(b gatewayv1.HTTPBackendRef) int32 {
	if b.Weight == nil {
		return 1
	}
	return *b.Weight
}

// catchAll says whether a match matches every request: a PathPrefix "/"
// and nothing else, which is also what the API server defaults a rule
// without matches to.
func catchAll(m gatewayv1.HTTPRouteMatch) bool {
	if len(m.Headers) > 0 || len(m.QueryParams) > 0 || m.Method != nil {
		return false
	}
	p := m.Path
	return p == nil || (p.Type != nil && *p.Type == gatewayv1.PathMatchPathPrefix && p.Value != nil && *p.Value == "/")
}

// RoutesService says whether r is a mesh route for Service host in ns: a
// parentRef of kind Service (GAMMA) naming it. A parentRef's group defaults
// to gateway.networking.k8s.io, as the API server fills it in, so a Service
// parent must say group "" (or "core"), as Istio's samples do.
func RoutesService(r *gatewayv1.HTTPRoute, host, ns string) bool {
	for _, p := range r.Spec.ParentRefs {
		group, kind := parentGroupKind(p)
		pns := r.Namespace
		if p.Namespace != nil {
			pns = string(*p.Namespace)
		}
		if (group == "" || group == "core") && kind == "Service" && string(p.Name) == host && pns == ns {
			return true
		}
	}
	return false
}

// parentGroupKind is a parentRef's group and kind with the API's defaults
// (gateway.networking.k8s.io, Gateway) filled in, as the API server does.
func parentGroupKind(p gatewayv1.ParentReference) (group, kind string) {
	group, kind = gatewayv1.GroupName, "Gateway"
	if p.Group != nil {
		group = string(*p.Group)
	}
	if p.Kind != nil {
		kind = string(*p.Kind)
	}
	return group, kind
}

// httpRoutesFor lists the mesh HTTPRoutes of Service host in ns; none when
// the cluster has no Gateway API.
func (c *Cluster) httpRoutesFor(ctx context.Context, host, ns string) ([]gatewayv1.HTTPRoute, error) {
	if c.Gateway == nil {
		return nil, nil
	}
	list, err := c.Gateway.GatewayV1().HTTPRoutes(ns).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil // no Gateway API CRDs: nothing routes by HTTPRoute
	}
	if err != nil {
		return nil, fmt.Errorf("httproutes: %w", err)
	}
	var out []gatewayv1.HTTPRoute
	for _, r := range list.Items {
		if RoutesService(&r, host, ns) {
			out = append(out, r)
		}
	}
	return out, nil
}

// routeExpect is the expectation from a mesh HTTPRoute of Service host:
// each backend Service resolved to the one version of its ready pods.
func (c *Cluster) routeExpect(ctx context.Context, r *gatewayv1.HTTPRoute, host, ns string) (Expectation, error) {
	bs, err := HTTPRouteSplit(r)
	if err != nil {
		return Expectation{}, err
	}
	var parts, via []string
	for _, b := range bs {
		v, how, err := c.destinationVersion(ctx, b.Service, "", ns)
		if err != nil {
			return Expectation{}, fmt.Errorf("HTTPRoute %s/%s: %w", ns, r.Name, err)
		}
		parts = append(parts, v+"="+strconv.FormatFloat(b.Percent, 'f', -1, 64))
		via = append(via, how)
	}
	return Expectation{Expect: strings.Join(parts, ","), Changed: lastWrite(r.ObjectMeta), Route: "HTTPRoute " + ns + "/" + r.Name,
		Why: fmt.Sprintf("HTTPRoute %s/%s (generation %d) on Service %s: %s", ns, r.Name, r.Generation, ns+"/"+host, strings.Join(via, ", "))}, nil
}

// Backends lists the Services the live routes of host send its requests to
// other than host itself, once each: an HTTPRoute's backend Services
// (reviews-v1), a VirtualService's other destination hosts (Flagger's
// reviews-primary) and its mirror's. Istio reports a request under the
// Service it was routed to, so the server-side count of host's split must
// count those too. why names the routes read; no route means none.
func (c *Cluster) Backends(ctx context.Context, host, ns string) (names []string, why string, err error) {
	var from []string
	add := func(svc string) {
		if svc = shortName(svc, ns); svc != host && !slices.Contains(names, svc) {
			names = append(names, svc)
		}
	}
	vss, err := c.Istio.NetworkingV1().VirtualServices(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("virtualservices: %w", err)
	}
	for _, vs := range vss.Items {
		if !routesHost(vs, host, ns) {
			continue
		}
		from = append(from, "VirtualService "+ns+"/"+vs.Name)
		for _, hr := range vs.Spec.GetHttp() {
			for _, d := range hr.GetRoute() {
				add(d.GetDestination().GetHost())
			}
			if m := hr.GetMirror(); m != nil {
				add(m.GetHost())
			}
		}
	}
	routes, err := c.httpRoutesFor(ctx, host, ns)
	if err != nil {
		return nil, "", err
	}
	for _, r := range routes {
		from = append(from, "HTTPRoute "+ns+"/"+r.Name)
		for _, b := range RouteBackends(&r, host) {
			add(b)
		}
	}
	return names, strings.Join(from, " and "), nil
}

// RouteBackends lists the backend Services of r other than host, once
// each, in the route's order: the names Istio reports r's requests under.
func RouteBackends(r *gatewayv1.HTTPRoute, host string) []string {
	var out []string
	for _, rule := range r.Spec.Rules {
		for _, b := range rule.BackendRefs {
			if name := string(b.Name); (b.Kind == nil || *b.Kind == "Service") && name != host && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}
