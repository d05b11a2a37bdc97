package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Istio's ambient mode, as its labels say it: a namespace (or a pod) with
// istio.io/dataplane-mode=ambient is captured by ztunnel instead of a
// sidecar. ztunnel is L4 only: it reports TCP metrics, and HTTP routing
// (an HTTPRoute's weights, a VirtualService) is enforced only by a waypoint
// that the Service or its namespace names with istio.io/use-waypoint.
const (
	dataplaneModeLabel = "istio.io/dataplane-mode"
	useWaypointLabel   = "istio.io/use-waypoint"
	waypointNSLabel    = "istio.io/use-waypoint-namespace"
	waypointClass      = "istio-waypoint"
)

// Ambient reports whether host's pods in ns run in ambient mode: the
// namespace is labelled for it, or every pod of host is. why says which.
func (c *Cluster) Ambient(ctx context.Context, host, ns string) (bool, string, error) {
	return c.ambient(ctx, host, ns, nil)
}

// ambient is Ambient with host's pods when already listed (nil: listed
// here, and only when the namespace does not say).
func (c *Cluster) ambient(ctx context.Context, host, ns string, pods []corev1.Pod) (bool, string, error) {
	n, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, "", fmt.Errorf("namespace %s: %w", ns, err)
	}
	if err == nil && n.Labels[dataplaneModeLabel] == "ambient" {
		return true, fmt.Sprintf("namespace %s is labelled %s=ambient (no sidecars: only a waypoint reports HTTP)", ns, dataplaneModeLabel), nil
	}
	if pods == nil {
		if pods, err = c.servicePods(ctx, host, ns); err != nil {
			return false, "", err
		}
	}
	for _, p := range pods {
		if p.Labels[dataplaneModeLabel] != "ambient" {
			return false, "", nil
		}
	}
	if len(pods) == 0 {
		return false, "", nil
	}
	return true, fmt.Sprintf("every pod of %s is labelled %s=ambient (no sidecars: only a waypoint reports HTTP)", host, dataplaneModeLabel), nil
}

// checkWaypoint checks, for an ambient host with an L7 route, that a
// waypoint enforces it: the Service (else its namespace) names one with
// istio.io/use-waypoint, and that Gateway of class istio-waypoint is
// Programmed. Without one the route is not applied at all: ztunnel sends
// every request to any ready pod.
func (c *Cluster) checkWaypoint(ctx context.Context, host, ns, route string) (Check, error) {
	ch := Check{Name: "waypoint"}
	svc, err := c.Kube.CoreV1().Services(ns).Get(ctx, host, metav1.GetOptions{})
	if err != nil {
		return ch, fmt.Errorf("service %s/%s: %w", ns, host, err)
	}
	name, wpNS, from := svc.Labels[useWaypointLabel], svc.Labels[waypointNSLabel], "Service "+ns+"/"+host
	if name == "" {
		n, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return ch, fmt.Errorf("namespace %s: %w", ns, err)
		}
		name, wpNS, from = n.Labels[useWaypointLabel], n.Labels[waypointNSLabel], "namespace "+ns
	}
	if wpNS == "" {
		wpNS = ns
	}
	switch {
	case name == "":
		ch.Detail = fmt.Sprintf("%s is an L7 route, which ambient mode applies only in a waypoint, and neither Service %s nor namespace %s names one (%s): ztunnel spreads requests over every ready pod instead (istioctl waypoint apply -n %s --enroll-namespace)",
			route, host, ns, useWaypointLabel, ns)
		return ch, nil
	case name == "none":
		ch.Detail = fmt.Sprintf("%s is an L7 route, but %s opts out of waypoints (%s=none): it is not applied", route, from, useWaypointLabel)
		return ch, nil
	}
	if c.Gateway == nil {
		ch.Detail = fmt.Sprintf("%s names waypoint %s/%s, but the cluster has no Gateway API to run it", from, wpNS, name)
		return ch, nil
	}
	gw, err := c.Gateway.GatewayV1().Gateways(wpNS).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		ch.Detail = fmt.Sprintf("%s names waypoint %s/%s, which does not exist: %s is not applied", from, wpNS, name, route)
		return ch, nil
	case err != nil:
		return ch, fmt.Errorf("waypoint %s/%s: %w", wpNS, name, err)
	case gw.Spec.GatewayClassName != waypointClass:
		ch.Detail = fmt.Sprintf("%s names Gateway %s/%s as its waypoint, but its class is %s, not %s", from, wpNS, name, gw.Spec.GatewayClassName, waypointClass)
		return ch, nil
	}
	if why := notProgrammed(gw); why != "" {
		ch.Detail = fmt.Sprintf("%s names waypoint %s/%s, but %s: %s is not applied until it runs", from, wpNS, name, why, route)
		return ch, nil
	}
	ch.OK, ch.Detail = true, fmt.Sprintf("waypoint %s/%s (class %s, Programmed) serves %s, named by %s: it applies %s", wpNS, name, waypointClass, host, from, route)
	return ch, nil
}
