package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Check is one preflight finding.
type Check struct {
	Name   string // gateway, routing, pods, sidecars
	OK     bool
	Detail string
}

// Preflight checks, before any load, that a rollout of host can work: a
// Gateway that selects the ingress gateway's pods and a VirtualService
// bound to it; every subset the host's routes (and mirror) name is defined
// by its DestinationRule; every version they route to has a ready pod; and
// every pod of the service has its istio-proxy sidecar (1/1 instead of 2/2
// means its traffic bypasses the VirtualService and reports no telemetry).
// A failed check is a finding; an error means the cluster could not be
// read (a missing permission names the verb and the resource).
func (c *Cluster) Preflight(ctx context.Context, host, ns, ingressNS, ingressName string) ([]Check, error) {
	gw, err := c.checkGateway(ctx, ingressNS, ingressName)
	if err != nil {
		return nil, err
	}
	routing, versions, err := c.checkRouting(ctx, host, ns)
	if err != nil {
		return nil, err
	}
	pods, err := c.servicePods(ctx, host, ns)
	if err != nil {
		return nil, err
	}
	ambient, why, err := c.ambient(ctx, host, ns, pods)
	if err != nil {
		return nil, err
	}
	checks := append([]Check{gw, routing}, checkPods(host, pods, versions, why)...)
	if !ambient {
		return checks, nil
	}
	_, routes, err := c.Backends(ctx, host, ns)
	if err != nil || routes == "" {
		return checks, err // no L7 route: ztunnel's even spread is the expectation
	}
	wp, err := c.checkWaypoint(ctx, host, ns, routes)
	return append(checks, wp), err
}

func (c *Cluster) checkGateway(ctx context.Context, ns, name string) (Check, error) {
	svc, err := c.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if ch, ok, gerr := c.checkGatewayAPI(ctx); gerr != nil || ok {
			return ch, gerr
		}
	}
	if err != nil {
		return Check{}, fmt.Errorf("ingress gateway %s/%s: %w", ns, name, err)
	}
	gws, err := c.Istio.NetworkingV1().Gateways("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return Check{}, fmt.Errorf("gateways: %w", err)
	}
	vss, err := c.Istio.NetworkingV1().VirtualServices("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return Check{}, fmt.Errorf("virtualservices: %w", err)
	}
	var selecting []string
	for _, gw := range gws.Items {
		if !labels.SelectorFromSet(gw.Spec.GetSelector()).Matches(labels.Set(svc.Spec.Selector)) {
			continue
		}
		selecting = append(selecting, gw.Namespace+"/"+gw.Name)
		for _, vs := range vss.Items {
			if bindsGateway(vs, gw) {
				return Check{Name: "gateway", OK: true,
					Detail: fmt.Sprintf("Gateway %s/%s selects %s/%s's pods; VirtualService %s/%s is bound to it", gw.Namespace, gw.Name, ns, name, vs.Namespace, vs.Name)}, nil
			}
		}
	}
	if ch, ok, err := c.checkGatewayAPI(ctx); err != nil || ok {
		return ch, err // the page is routed by the Gateway API instead
	}
	if len(selecting) == 0 {
		return Check{Name: "gateway", Detail: fmt.Sprintf("no Gateway selects %s/%s's pods (%v): the ingress routes nothing", ns, name, svc.Spec.Selector)}, nil
	}
	return Check{Name: "gateway", Detail: fmt.Sprintf("no VirtualService is bound to Gateway %s: the ingress answers 404", strings.Join(selecting, ", "))}, nil
}

// checkGatewayAPI checks the Gateway API Gateway that routes the page, if
// an HTTPRoute on a Gateway of class istio routes one (ok): Istio's
// controller must have programmed it, or it has no Deployment to answer.
func (c *Cluster) checkGatewayAPI(ctx context.Context) (Check, bool, error) {
	p, ok, err := c.gatewayAPIPage(ctx)
	if err != nil || !ok {
		return Check{}, false, err
	}
	gw := p.gateway
	what := fmt.Sprintf("Gateway %s/%s (class istio), HTTPRoute %s routes %s on it", gw.Namespace, gw.Name, p.route, p.path)
	if why := notProgrammed(gw); why != "" {
		return Check{Name: "gateway", Detail: what + ", but " + why}, true, nil
	}
	return Check{Name: "gateway", OK: true, Detail: what + "; it is Programmed"}, true, nil
}

// notProgrammed says why Istio's controller has not programmed gw for its
// current generation, "" when it has: a Gateway's or a waypoint's pods
// answer only once it has.
func notProgrammed(gw *gatewayv1.Gateway) string {
	cond := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
	switch {
	case cond == nil:
		return "it is not Programmed (no status from Istio's controller: is istiod running?)"
	case cond.Status != metav1.ConditionTrue:
		return fmt.Sprintf("it is not Programmed: %s: %s", cond.Reason, cond.Message)
	case cond.ObservedGeneration != 0 && cond.ObservedGeneration < gw.Generation:
		return fmt.Sprintf("Istio has not programmed its generation %d yet (status is for %d)", gw.Generation, cond.ObservedGeneration)
	}
	return ""
}

// checkRouting checks the host's subsets and returns the versions its
// routes send pages to (nil: every version, without a VirtualService).
func (c *Cluster) checkRouting(ctx context.Context, host, ns string) (Check, []string, error) {
	vs, err := c.routeFor(ctx, host, ns, "")
	if err != nil {
		return Check{Name: "routing", Detail: err.Error()}, nil, nil
	}
	routes, err := c.httpRoutesFor(ctx, host, ns)
	if err != nil {
		return Check{}, nil, err
	}
	if len(routes) > 0 {
		return c.checkHTTPRoutes(ctx, vs, routes, host, ns)
	}
	if vs == nil {
		return Check{Name: "routing", OK: true, Detail: fmt.Sprintf("no VirtualService or HTTPRoute routes %s: every ready pod gets an even share", host)}, nil, nil
	}
	var subsets []string
	for _, hr := range vs.Spec.GetHttp() {
		for _, d := range hr.GetRoute() {
			if s := d.GetDestination().GetSubset(); s != "" && sameHost(d.GetDestination().GetHost(), host, ns) && d.GetWeight() >= 0 {
				subsets = append(subsets, s)
			}
		}
		if m := hr.GetMirror(); m != nil && m.GetSubset() != "" && sameHost(m.GetHost(), host, ns) {
			subsets = append(subsets, m.GetSubset())
		}
	}
	if len(subsets) == 0 {
		return Check{Name: "routing", OK: true, Detail: fmt.Sprintf("VirtualService %s/%s routes %s without subsets", ns, vs.Name, host)}, nil, nil
	}
	dr, err := c.ruleFor(ctx, host, ns)
	if err != nil {
		return Check{Name: "routing", Detail: fmt.Sprintf("VirtualService %s/%s names subsets %s, but %v", ns, vs.Name, strings.Join(subsets, ", "), err)}, nil, nil
	}
	var versions []string
	for _, s := range slices.Compact(slices.Sorted(slices.Values(subsets))) {
		v, err := subsetVersion(dr, host, s)
		if err != nil {
			return Check{Name: "routing", Detail: fmt.Sprintf("VirtualService %s/%s: %v", ns, vs.Name, err)}, nil, nil
		}
		versions = append(versions, v)
	}
	return Check{Name: "routing", OK: true, Detail: fmt.Sprintf("VirtualService %s/%s: subsets %s all defined by DestinationRule %s",
		ns, vs.Name, strings.Join(subsets, ", "), dr.Name)}, versions, nil
}

// checkPods checks ready pods per routed version and sidecars on every pod;
// ambient, when not empty, says why the pods need none (ztunnel captures
// them).
func checkPods(host string, pods []corev1.Pod, versions []string, ambient string) []Check {
	ready := map[string]int{}
	var noSidecar []string
	for _, p := range pods {
		if podReady(p) {
			ready[p.Labels["version"]]++
		}
		if !slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == "istio-proxy" }) {
			noSidecar = append(noSidecar, fmt.Sprintf("%s (%d/%d containers, no istio-proxy)", p.Name, len(p.Spec.Containers), len(p.Spec.Containers)))
		}
	}
	if versions == nil {
		for v := range ready {
			versions = append(versions, v)
		}
		slices.Sort(versions)
	}
	podCheck := Check{Name: "pods", OK: len(versions) > 0}
	var parts []string
	for _, v := range versions {
		parts = append(parts, fmt.Sprintf("%s %d ready", v, ready[v]))
		if ready[v] == 0 {
			podCheck.OK = false
		}
	}
	podCheck.Detail = host + ": " + strings.Join(parts, ", ")
	if len(versions) == 0 {
		podCheck.Detail = host + ": no ready pods"
	} else if !podCheck.OK {
		podCheck.Detail += " (a routed version without ready pods answers 503: is its Deployment scaled to 0?)"
	}
	side := Check{Name: "sidecars", OK: len(noSidecar) == 0, Detail: fmt.Sprintf("all %d pods of %s have istio-proxy", len(pods), host)}
	if ambient != "" {
		return []Check{podCheck, {Name: "sidecars", OK: true, Detail: fmt.Sprintf("ambient mode, no istio-proxy expected on the %d pods of %s: %s", len(pods), host, ambient)}}
	}
	if !side.OK {
		side.Detail = "without a sidecar, a pod's traffic bypasses the VirtualService and reports no telemetry: " + strings.Join(noSidecar, ", ")
	}
	return []Check{podCheck, side}
}

// checkHTTPRoutes checks the mesh HTTPRoutes of host: exactly one, no
// VirtualService beside it, and every backend Service resolving to one
// version of ready pods. It returns the versions routed.
func (c *Cluster) checkHTTPRoutes(ctx context.Context, vs *networkingv1.VirtualService, routes []gatewayv1.HTTPRoute, host, ns string) (Check, []string, error) {
	names := make([]string, len(routes))
	for i, r := range routes {
		names[i] = ns + "/" + r.Name
	}
	switch {
	case vs != nil:
		return Check{Name: "routing", Detail: fmt.Sprintf("host %s is routed by VirtualService %s/%s and by HTTPRoute %s: remove one (which applies is Istio's choice)",
			host, ns, vs.Name, strings.Join(names, ", "))}, nil, nil
	case len(routes) > 1:
		return Check{Name: "routing", Detail: fmt.Sprintf("host %s is routed by %d HTTPRoutes (%s)", host, len(routes), strings.Join(names, ", "))}, nil, nil
	}
	bs, err := HTTPRouteSplit(&routes[0])
	if err != nil {
		return Check{Name: "routing", Detail: err.Error()}, nil, nil
	}
	var versions, via []string
	for _, b := range bs {
		v, how, err := c.destinationVersion(ctx, b.Service, "", ns)
		if err != nil {
			return Check{Name: "routing", Detail: fmt.Sprintf("HTTPRoute %s: %v", names[0], err)}, nil, nil
		}
		versions, via = append(versions, v), append(via, how)
	}
	return Check{Name: "routing", OK: true, Detail: fmt.Sprintf("HTTPRoute %s routes %s: %s", names[0], host, strings.Join(via, ", "))}, versions, nil
}
