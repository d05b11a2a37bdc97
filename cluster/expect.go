package cluster

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Weight is one destination of a route: its host, its subset (empty:
// the whole Service, as Flagger and Argo Rollouts route to per-version
// Services) and its percent.
type Weight struct {
	Host    string
	Subset  string
	Percent int32
}

// RouteSplit is the split of a VirtualService's traffic: the weights of
// its one HTTP route. Routes that match on the request (headers, URIs)
// make the split depend on who asks, so they are refused, not guessed at.
func RouteSplit(vs *v1alpha3.VirtualService, name string) ([]Weight, error) {
	routes := vs.GetHttp()
	if len(routes) == 0 {
		return nil, fmt.Errorf("VirtualService %s has no http routes", name)
	}
	if len(routes) > 1 || len(routes[0].GetMatch()) > 0 {
		return nil, fmt.Errorf("VirtualService %s routes by match (%d routes): the split depends on the request; use --expect with the headers you send", name, len(routes))
	}
	dests := routes[0].GetRoute()
	out := make([]Weight, 0, len(dests))
	for _, d := range dests {
		w := d.GetWeight()
		if len(dests) == 1 && w == 0 {
			w = 100
		}
		out = append(out, Weight{Host: d.GetDestination().GetHost(), Subset: d.GetDestination().GetSubset(), Percent: w})
	}
	return out, nil
}

// Expectation is a split to expect, as --expect takes it, and where it
// came from.
type Expectation struct {
	Expect string // e.g. "v1=50,v3=50"
	Why    string
	Mirror string // the version a mirror sends copies to, if any
	// Route names the route read ("VirtualService default/reviews"), and
	// Changed is when it was last written: a passive gate never counts
	// requests from before it. Both empty without a route.
	Route   string
	Changed time.Time
}

// lastWrite is when an object was last written: the newest of its
// managedFields times (every apply and update records one), else its
// creation.
func lastWrite(m metav1.ObjectMeta) time.Time {
	t := m.CreationTimestamp.Time
	for _, f := range m.ManagedFields {
		if f.Time != nil && f.Time.After(t) {
			t = f.Time.Time
		}
	}
	return t
}

// Expect reads the split the mesh applies to host now: from the
// VirtualService that routes it (the one named vsName, if given), each
// subset resolved to its version label through the host's
// DestinationRule; without one, Istio spreads requests evenly over the
// ready pods, so the split is their versions' shares.
//
// A mesh HTTPRoute (the Gateway API's way: a Service as its parent) is read
// the same way, each backend Service resolved to its pods' version. When
// both a VirtualService and an HTTPRoute route host, Expect refuses to
// guess which one Istio applies: name one with vsName, or give --expect.
func (c *Cluster) Expect(ctx context.Context, host, ns, vsName string) (Expectation, error) {
	vs, err := c.routeFor(ctx, host, ns, vsName)
	if err != nil {
		return Expectation{}, err
	}
	if vsName == "" {
		routes, err := c.httpRoutesFor(ctx, host, ns)
		if err != nil {
			return Expectation{}, err
		}
		names := make([]string, len(routes))
		for i, r := range routes {
			names[i] = r.Name
		}
		switch {
		case vs != nil && len(routes) > 0:
			return Expectation{}, fmt.Errorf("host %s is routed by VirtualService %s and by HTTPRoute %s: which one applies is Istio's choice, not canary's to guess; remove one, name the VirtualService with --expect-from vs/NAME, or give --expect",
				host, vs.Name, strings.Join(names, ", "))
		case len(routes) > 1:
			return Expectation{}, fmt.Errorf("host %s is routed by %d HTTPRoutes (%s): give --expect", host, len(routes), strings.Join(names, ", "))
		case len(routes) == 1:
			return c.routeExpect(ctx, &routes[0], host, ns)
		}
	}
	if vs == nil {
		return c.podSplit(ctx, host, ns)
	}
	ws, err := RouteSplit(&vs.Spec, ns+"/"+vs.Name)
	if err != nil {
		return Expectation{}, err
	}
	var parts, via []string
	for _, w := range ws {
		v, how, err := c.destinationVersion(ctx, w.Host, w.Subset, ns)
		if err != nil {
			return Expectation{}, fmt.Errorf("VirtualService %s/%s: %w", ns, vs.Name, err)
		}
		parts = append(parts, v+"="+strconv.Itoa(int(w.Percent)))
		via = append(via, how)
	}
	e := Expectation{Expect: strings.Join(parts, ","), Changed: lastWrite(vs.ObjectMeta), Route: "VirtualService " + ns + "/" + vs.Name,
		Why: fmt.Sprintf("VirtualService %s/%s (generation %d): %s", ns, vs.Name, vs.Generation, strings.Join(via, ", "))}
	if m := vs.Spec.GetHttp()[0].GetMirror(); m != nil {
		if v, _, err := c.destinationVersion(ctx, m.GetHost(), m.GetSubset(), ns); err == nil {
			e.Mirror = v
			e.Why += "; it mirrors to " + v + " (--mirror " + v + " checks that)"
		}
	}
	return e, nil
}

// destinationVersion resolves a route's destination to the version label
// of the pods it reaches: a subset through the host's DestinationRule; a
// whole Service (Flagger's reviews-canary, Argo's canary Service) through
// its ready pods, which must all carry one version.
func (c *Cluster) destinationVersion(ctx context.Context, host, subset, ns string) (version, how string, err error) {
	host = shortName(host, ns)
	if subset != "" {
		dr, err := c.ruleFor(ctx, host, ns)
		if err != nil {
			return "", "", err
		}
		v, err := subsetVersion(dr, host, subset)
		return v, fmt.Sprintf("subset %s→version=%s in DestinationRule %s", subset, v, dr.Name), err
	}
	pods, err := c.servicePods(ctx, host, ns)
	if err != nil {
		return "", "", err
	}
	var versions []string
	for _, p := range pods {
		if v := p.Labels["version"]; podReady(p) && v != "" && !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
	}
	if len(versions) != 1 {
		slices.Sort(versions)
		return "", "", fmt.Errorf("destination %s has no subset and its ready pods run versions [%s]: want exactly one version label to expect", host, strings.Join(versions, ", "))
	}
	return versions[0], fmt.Sprintf("Service %s→version=%s (its ready pods)", host, versions[0]), nil
}

// shortName turns "reviews.default.svc.cluster.local" into "reviews".
func shortName(host, ns string) string {
	for _, suffix := range []string{"." + ns + ".svc.cluster.local", "." + ns + ".svc", "." + ns} {
		if h, ok := strings.CutSuffix(host, suffix); ok {
			return h
		}
	}
	return host
}

// routeFor is the mesh VirtualService for host in ns (nil: none).
func (c *Cluster) routeFor(ctx context.Context, host, ns, name string) (*networkingv1.VirtualService, error) {
	if name != "" {
		vs, err := c.Istio.NetworkingV1().VirtualServices(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("--expect-from vs/%s: %w", name, err)
		}
		if !routesHost(vs, host, ns) {
			return nil, fmt.Errorf("--expect-from vs/%s: it does not route host %s to the mesh (see --host)", name, host)
		}
		return vs, nil
	}
	list, err := c.Istio.NetworkingV1().VirtualServices(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("virtualservices: %w", err)
	}
	var found []*networkingv1.VirtualService
	for _, vs := range list.Items {
		if routesHost(vs, host, ns) {
			found = append(found, vs)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, vs := range found {
		names[i] = vs.Name
	}
	return nil, fmt.Errorf("host %s is routed by %d VirtualServices (%s): give --expect-from vs/NAME", host, len(found), strings.Join(names, ", "))
}

// routesHost says whether vs routes host inside the mesh (no gateways, or
// the reserved "mesh" among them).
func routesHost(vs *networkingv1.VirtualService, host, ns string) bool {
	gws := vs.Spec.GetGateways()
	if len(gws) > 0 && !slices.Contains(gws, "mesh") {
		return false
	}
	for _, h := range vs.Spec.GetHosts() {
		if sameHost(h, host, ns) {
			return true
		}
	}
	return false
}

// sameHost compares a VirtualService or DestinationRule host with a
// service name: "reviews", "reviews.default" and the FQDN all name it.
func sameHost(h, host, ns string) bool {
	return h == host || h == host+"."+ns || h == host+"."+ns+".svc" || h == host+"."+ns+".svc.cluster.local"
}

// ruleFor is the DestinationRule for host in ns.
func (c *Cluster) ruleFor(ctx context.Context, host, ns string) (*networkingv1.DestinationRule, error) {
	list, err := c.Istio.NetworkingV1().DestinationRules(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("destinationrules: %w", err)
	}
	for _, dr := range list.Items {
		if sameHost(dr.Spec.GetHost(), host, ns) {
			return dr, nil
		}
	}
	return nil, fmt.Errorf("no DestinationRule for host %s in namespace %s: its routes' subsets are undefined (Envoy answers 503)", host, ns)
}

// subsetVersion resolves a subset to the version label its pods carry.
func subsetVersion(dr *networkingv1.DestinationRule, host, subset string) (string, error) {
	var names []string
	for _, s := range dr.Spec.GetSubsets() {
		if s.GetName() == subset {
			if v := s.GetLabels()["version"]; v != "" {
				return v, nil
			}
			return "", fmt.Errorf("subset %s of DestinationRule %s selects no version label (%v)", subset, dr.Name, s.GetLabels())
		}
		names = append(names, s.GetName())
	}
	return "", fmt.Errorf("subset %s for host %s is not defined by DestinationRule %s (it defines %s): Envoy answers 503", subset, host, dr.Name, strings.Join(names, ", "))
}

// podSplit is the even spread over host's ready pods, by version.
func (c *Cluster) podSplit(ctx context.Context, host, ns string) (Expectation, error) {
	pods, err := c.servicePods(ctx, host, ns)
	if err != nil {
		return Expectation{}, err
	}
	count := map[string]int{}
	total := 0
	for _, p := range pods {
		if v := p.Labels["version"]; v != "" && podReady(p) {
			count[v]++
			total++
		}
	}
	if total == 0 {
		return Expectation{}, fmt.Errorf("no VirtualService or HTTPRoute routes %s and it has no ready pod with a version label: nothing to expect", host)
	}
	versions := make([]string, 0, len(count))
	for v := range count {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	var parts []string
	left := 1000 // tenths of a percent, so the shares add up to 100 exactly
	for i, v := range versions {
		share := count[v] * 1000 / total
		if i == len(versions)-1 {
			share = left
		}
		left -= share
		parts = append(parts, fmt.Sprintf("%s=%d.%d", v, share/10, share%10))
	}
	return Expectation{Expect: strings.Join(parts, ","),
		Why: fmt.Sprintf("no VirtualService or HTTPRoute routes %s: Istio spreads requests evenly over its %d ready pods", host, total)}, nil
}

// servicePods lists the pods the Service host selects.
func (c *Cluster) servicePods(ctx context.Context, host, ns string) ([]corev1.Pod, error) {
	svc, err := c.Kube.CoreV1().Services(ns).Get(ctx, host, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", ns, host, err)
	}
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return nil, fmt.Errorf("pods of service %s/%s: %w", ns, host, err)
	}
	return pods.Items, nil
}

func podReady(p corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
