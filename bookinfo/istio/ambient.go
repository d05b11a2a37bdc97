package istio

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Istio's ambient mode, as a cluster says it: labels on the namespace. With
// istio.io/dataplane-mode=ambient its pods without a sidecar are captured
// by ztunnel, which is L4 only; HTTP routing (an HTTPRoute's weights, a
// VirtualService) is applied only by a waypoint, a Gateway of class
// istio-waypoint that the namespace names with istio.io/use-waypoint.
// Labels are all the local mesh reads of a Namespace: the rest of it does
// not steer traffic.
const (
	kindNamespace = "Namespace"
	// DataplaneModeLabel puts a namespace's pods in ambient mode ("ambient").
	DataplaneModeLabel = "istio.io/dataplane-mode"
	// UseWaypointLabel names the waypoint that serves a namespace's
	// Services ("none": no waypoint).
	UseWaypointLabel = "istio.io/use-waypoint"
	// UseWaypointNamespaceLabel names the waypoint's namespace when it is
	// not the Service's own.
	UseWaypointNamespaceLabel = "istio.io/use-waypoint-namespace"
	// WaypointClass is the GatewayClass of waypoints.
	WaypointClass = "istio-waypoint"
	// hboneProtocol and hbonePort are a waypoint's one listener, as
	// `istioctl waypoint generate` writes it.
	hboneProtocol = gatewayv1.ProtocolType("HBONE")
	hbonePort     = 15008
)

// NamespaceResource is the mesh's namespace as a Resource, with labels:
// how a cluster passes them to Config.Sync.
func NamespaceResource(labels map[string]string) Resource {
	l := maps.Clone(labels)
	if l == nil {
		l = map[string]string{}
	}
	return Resource{Kind: kindNamespace, Name: defaultNamespace, Namespace: defaultNamespace, Labels: l}
}

// validateNamespace checks a Namespace document: only the mesh's own, and
// the ambient labels with values the mesh knows.
func validateNamespace(d *docInfo, name string, labels map[string]string) error {
	if name != defaultNamespace {
		return d.errorf("metadata.name", "Namespace %q, expected %q (the local mesh has one namespace; only its labels are read)", name, defaultNamespace)
	}
	if v, ok := labels[DataplaneModeLabel]; ok && v != "ambient" && v != "none" {
		return d.errorf(labelPath(d, DataplaneModeLabel), "value %q, expected ambient or none", v)
	}
	return validateWaypointLabels(d, labels)
}

// validateWaypointLabels checks the waypoint labels of a Namespace or a
// Service: a waypoint in another namespace is not one the mesh runs.
func validateWaypointLabels(d *docInfo, labels map[string]string) error {
	if v := labels[UseWaypointNamespaceLabel]; v != "" && v != defaultNamespace {
		return d.errorf(labelPath(d, UseWaypointNamespaceLabel), "namespace %q, expected %q (the local mesh has one namespace)", v, defaultNamespace)
	}
	return nil
}

// validateWaypoint checks a Gateway of class istio-waypoint: one HBONE
// listener on 15008, as istioctl writes it.
func validateWaypoint(d *docInfo, g *gatewayv1.GatewaySpec) error {
	if len(g.Listeners) != 1 {
		return d.errorf("spec.listeners", "%d listeners, expected one (name mesh, port %d, protocol HBONE) for a waypoint", len(g.Listeners), hbonePort)
	}
	l := g.Listeners[0]
	switch {
	case l.Protocol != hboneProtocol:
		return d.errorf("spec.listeners[0].protocol", "protocol %q, expected HBONE for a waypoint", l.Protocol)
	case l.Port != hbonePort:
		return d.errorf("spec.listeners[0].port", "port %d, expected %d (HBONE) for a waypoint", l.Port, hbonePort)
	}
	return nil
}

// isWaypoint reports whether r is a waypoint Gateway.
func isWaypoint(r Resource) bool {
	return r.K8sGateway != nil && r.K8sGateway.GatewayClassName == WaypointClass
}

// Ambient reports whether the mesh's namespace is in ambient mode: its
// pods without a sidecar are captured by ztunnel.
func (t *Table) Ambient() bool {
	return t != nil && t.namespace[DataplaneModeLabel] == "ambient"
}

// Waypoint is the waypoint that serves service: the one the Service names
// with istio.io/use-waypoint, else the one its namespace names, once that
// Gateway exists; "" when none does (then the Service's HTTP routes are not
// applied in ambient mode). "none" on the Service opts it out.
func (t *Table) Waypoint(service string) string {
	if t == nil {
		return ""
	}
	name, ok := t.serviceWaypoint[service]
	if !ok {
		name = t.namespace[UseWaypointLabel]
	}
	if name == "" || name == "none" || !t.waypoints[name] {
		return ""
	}
	return name
}

// Waypoints lists the applied waypoint Gateways, sorted.
func (t *Table) Waypoints() []string {
	if t == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(t.waypoints))
}

// namespaceLabels is a Namespace's labels, never nil.
func namespaceLabels(n *corev1.Namespace) map[string]string {
	if n.Labels == nil {
		return map[string]string{}
	}
	return n.Labels
}

// labelPath is a label's path in messages, with its line noted.
func labelPath(d *docInfo, k string) string {
	p := "metadata.labels[" + k + "]"
	if line, ok := d.lines[joinPath("metadata.labels", k)]; ok {
		d.lines[p] = line
	}
	return p
}
