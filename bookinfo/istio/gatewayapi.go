package istio

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The Kubernetes Gateway API twin of the walkthrough (Istio's samples in
// samples/bookinfo/gateway-api) needs three more kinds: a Gateway of class
// istio with an HTTPRoute to productpage, HTTPRoutes whose parent is a
// Service (GAMMA) with weighted backendRefs, and the per-version Services
// those backends name (bookinfo-versions.yaml). They are decoded into the
// Gateway API's and Kubernetes' own types; like the Istio kinds, every field
// the local mesh does not implement is refused, never ignored.

// GroupGatewayAPI is Resource.Group of the Gateway API kinds. The Istio kinds
// and Service leave Group empty: only "Gateway" exists in both APIs.
const GroupGatewayAPI = "gateway.networking.k8s.io"

const (
	kindHTTPRoute = "HTTPRoute"
	kindService   = "Service"
	// gatewayClass is the only GatewayClass the local mesh programs, as
	// Istio's own controller does.
	gatewayClass = "istio"
	meshPort     = 9080
)

// gatewayAPIFields are the spec fields implemented for the Gateway API kinds
// and Service, in the JSON names of their types ("[]" a list item, ".*" a
// map value), checked as the Istio kinds' supportedFields are.
var gatewayAPIFields = map[string][]string{
	"Gateway": {
		"gatewayClassName", "listeners[].name", "listeners[].port", "listeners[].protocol",
		"listeners[].hostname", "listeners[].allowedRoutes.namespaces.from",
	},
	kindHTTPRoute: {
		"parentRefs[].group", "parentRefs[].kind", "parentRefs[].name", "parentRefs[].namespace",
		"parentRefs[].port", "parentRefs[].sectionName", "hostnames",
		"rules[].name", "rules[].matches[].path.type", "rules[].matches[].path.value",
		"rules[].matches[].headers[].type", "rules[].matches[].headers[].name", "rules[].matches[].headers[].value",
		"rules[].backendRefs[].group", "rules[].backendRefs[].kind", "rules[].backendRefs[].name",
		"rules[].backendRefs[].namespace", "rules[].backendRefs[].port", "rules[].backendRefs[].weight",
	},
	kindService: {
		"ports[].name", "ports[].port", "ports[].targetPort", "ports[].protocol", "ports[].appProtocol",
		"selector.*", "type",
		// Set by the API server on every Service; they do not change routing.
		"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "sessionAffinity", "internalTrafficPolicy",
	},
}

var gatewayAPIRules = compileFieldRules(gatewayAPIFields)

// kubeScheme decodes the Kubernetes kinds, strictly: an unknown or repeated
// field is an error naming it.
var kubeCodecs = func() serializer.CodecFactory {
	s := runtime.NewScheme()
	_ = gatewayv1.Install(s)
	_ = corev1.AddToScheme(s)
	return serializer.NewCodecFactory(s, serializer.EnableStrict)
}()

// isKubeAPI reports whether a document's apiVersion and kind are a Gateway
// API kind or a core Service rather than an Istio kind.
func isKubeAPI(apiVersion, kind string) bool {
	return strings.HasPrefix(apiVersion, GroupGatewayAPI+"/") || (apiVersion == "v1" && (kind == kindService || kind == kindNamespace))
}

// parseKubeObject decodes a Gateway, HTTPRoute or Service document.
func parseKubeObject(d *docInfo, n *yaml.Node, r Resource) (Resource, error) {
	recordLines(d, n, "", 0)
	data, err := yaml.Marshal(n)
	if err != nil {
		return r, d.errorf("", "%v", err)
	}
	obj, gvk, err := kubeCodecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		msg := err.Error()
		if runtime.IsNotRegisteredError(err) || gvk == nil {
			return r, d.errorf("apiVersion", "unsupported apiVersion or kind, expected %s", supportedKinds)
		}
		// apimachinery names the field: `strict decoding error: unknown field "spec.foo"`.
		msg = strings.TrimPrefix(msg, "strict decoding error: ")
		if field, ok := strings.CutPrefix(msg, "unknown field "); ok && strings.Count(msg, `"`) == 2 {
			return r, d.errorf(strings.Trim(field, `"`), "unknown field")
		}
		return r, d.errorf("", "%s", msg)
	}
	switch o := obj.(type) {
	case *gatewayv1.Gateway:
		r.Group, r.K8sGateway = GroupGatewayAPI, &o.Spec
	case *gatewayv1.HTTPRoute:
		r.Group, r.HTTPRoute = GroupGatewayAPI, &o.Spec
	case *corev1.Service:
		r.Service, r.Labels = &o.Spec, o.Labels
	case *corev1.Namespace:
		r.Labels = namespaceLabels(o)
	default:
		return r, d.errorf("kind", "unsupported kind %q, expected %s", gvk.Kind, supportedKinds)
	}
	return r, checkKubeResource(d, r)
}

// recordLines notes the line of every field of n under path, for messages.
// depth bounds the walk as maxYAMLNodes bounds the Istio kinds' encoder.
func recordLines(d *docInfo, n *yaml.Node, path string, depth int) {
	if depth > 64 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := joinPath(path, n.Content[i].Value)
			d.lines[p] = n.Content[i].Line
			recordLines(d, n.Content[i+1], p, depth+1)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = item.Line
			recordLines(d, item, p, depth+1)
		}
	}
}

// checkKubeResource checks a Gateway API resource or Service on its own.
func checkKubeResource(d *docInfo, r Resource) error {
	if r.Kind == kindNamespace {
		return validateNamespace(d, r.Name, r.Labels) // its spec holds only finalizers
	}
	spec := kubeSpec(r)
	raw, err := json.Marshal(spec)
	if err != nil {
		return d.errorf("spec", "%v", err)
	}
	var tree map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return d.errorf("spec", "%v", err)
	}
	if err := checkSupportedJSON(d, tree, gatewayAPIRules[r.Kind], "spec", ""); err != nil {
		return err
	}
	switch {
	case r.K8sGateway != nil:
		return validateK8sGateway(d, r.K8sGateway)
	case r.HTTPRoute != nil:
		return validateHTTPRouteSpec(d, r.HTTPRoute)
	}
	if err := validateService(d, r.Name, r.Service); err != nil {
		return err
	}
	return validateWaypointLabels(d, r.Labels)
}

func kubeSpec(r Resource) any {
	switch {
	case r.K8sGateway != nil:
		return r.K8sGateway
	case r.HTTPRoute != nil:
		return r.HTTPRoute
	case r.Kind == kindNamespace:
		return r.Labels
	}
	return r.Service
}

// checkSupportedJSON is checkSupported for the JSON form of a Go type:
// omitempty leaves only the fields that were set.
func checkSupportedJSON(d *docInfo, v any, fr fieldRules, path, pattern string) error {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		values := pattern != "" && fr.allowed[pattern+".*"] // a map of values, not of fields
		for _, k := range keys {
			fpath, fpattern := joinPath(path, k), joinPath(pattern, k)
			if values {
				fpath, fpattern = path+"["+k+"]", pattern+".*"
			}
			if !fr.allowed[fpattern] {
				return d.errorf(fpath, "field not supported by the local mesh")
			}
			if fr.inner[fpattern] {
				if err := checkSupportedJSON(d, t[k], fr, fpath, fpattern); err != nil {
					return err
				}
			}
		}
	case []any:
		for i, item := range t {
			if err := checkSupportedJSON(d, item, fr, fmt.Sprintf("%s[%d]", path, i), pattern+"[]"); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateK8sGateway(d *docInfo, g *gatewayv1.GatewaySpec) error {
	if g.GatewayClassName == WaypointClass {
		return validateWaypoint(d, g)
	}
	if g.GatewayClassName != gatewayClass {
		return d.errorf("spec.gatewayClassName", "class %q, expected %q or %q (the local mesh is the controller of Istio's GatewayClasses)", g.GatewayClassName, gatewayClass, WaypointClass)
	}
	if len(g.Listeners) == 0 {
		return d.errorf("spec.listeners", "missing listeners, expected at least one HTTP listener")
	}
	for i, l := range g.Listeners {
		path := fmt.Sprintf("spec.listeners[%d]", i)
		if l.Protocol != gatewayv1.HTTPProtocolType {
			return d.errorf(path+".protocol", "protocol %q is not supported by the local mesh, expected HTTP", l.Protocol)
		}
		if ar := l.AllowedRoutes; ar != nil && ar.Namespaces != nil && ar.Namespaces.From != nil && *ar.Namespaces.From == gatewayv1.NamespacesFromSelector {
			return d.errorf(path+".allowedRoutes.namespaces.from", "Selector is not supported by the local mesh, expected Same or All (it has one namespace)")
		}
	}
	return nil
}

func validateHTTPRouteSpec(d *docInfo, h *gatewayv1.HTTPRouteSpec) error {
	if len(h.ParentRefs) == 0 {
		return d.errorf("spec.parentRefs", "missing parentRefs, expected a Gateway or a Service (%s)", meshServicesText)
	}
	var services, gateways int
	for i, p := range h.ParentRefs {
		path := fmt.Sprintf("spec.parentRefs[%d]", i)
		if p.Namespace != nil && *p.Namespace != defaultNamespace {
			return d.errorf(path+".namespace", "namespace %q is not supported, expected %q (the local mesh has one namespace)", *p.Namespace, defaultNamespace)
		}
		switch parentKind(p) {
		case "Service":
			services++
			if !isMeshService(string(p.Name)) {
				return d.errorf(path+".name", "unknown Service %q, expected one of %s", p.Name, meshServicesText)
			}
			if p.Port != nil && *p.Port != meshPort {
				return d.errorf(path+".port", "port %d, expected %d (Bookinfo's services listen there)", *p.Port, meshPort)
			}
		case "Gateway":
			gateways++
			if p.Port != nil {
				return d.errorf(path+".port", "field not supported by the local mesh for a Gateway parent")
			}
		default:
			return d.errorf(path+".kind", "parent %s is not supported, expected a Gateway (group %s) or a Service (group \"\")", parentKind(p), GroupGatewayAPI)
		}
	}
	if services > 0 && gateways > 0 {
		return d.errorf("spec.parentRefs", "a Gateway and a Service as parents of one route is not supported by the local mesh, expected one kind")
	}
	if services > 0 && len(h.Hostnames) > 0 {
		return d.errorf("spec.hostnames", "field not supported by the local mesh for a Service parent (the Service names the host)")
	}
	if len(h.Rules) == 0 {
		return d.errorf("spec.rules", "missing rules, expected at least one rule with backendRefs")
	}
	for i, rule := range h.Rules {
		path := fmt.Sprintf("spec.rules[%d]", i)
		for j, m := range rule.Matches {
			if p := m.Path; p != nil && p.Type != nil && *p.Type == gatewayv1.PathMatchRegularExpression {
				if _, err := compileFullMatch(ptrValue(p.Value), false); err != nil {
					return d.errorf(fmt.Sprintf("%s.matches[%d].path.value", path, j), "%v", err)
				}
			}
			for k, hm := range m.Headers {
				if hm.Type != nil && *hm.Type == gatewayv1.HeaderMatchRegularExpression {
					if _, err := compileFullMatch(hm.Value, false); err != nil {
						return d.errorf(fmt.Sprintf("%s.matches[%d].headers[%d].value", path, j, k), "%v", err)
					}
				}
			}
		}
		if len(rule.BackendRefs) == 0 {
			return d.errorf(path+".backendRefs", "missing backendRefs, expected at least one backend Service (a rule without backends answers 500)")
		}
		total := int32(0)
		for j, b := range rule.BackendRefs {
			bpath := fmt.Sprintf("%s.backendRefs[%d]", path, j)
			if (b.Group != nil && *b.Group != "") || (b.Kind != nil && *b.Kind != "Service") {
				return d.errorf(bpath+".kind", "backend %s is not supported, expected a Service", ptrValue(b.Kind))
			}
			if b.Namespace != nil && *b.Namespace != defaultNamespace {
				return d.errorf(bpath+".namespace", "namespace %q is not supported, expected %q (the local mesh has one namespace)", *b.Namespace, defaultNamespace)
			}
			if b.Port != nil && *b.Port != meshPort {
				return d.errorf(bpath+".port", "port %d, expected %d (Bookinfo's services listen there)", *b.Port, meshPort)
			}
			total += backendWeight(b)
		}
		if total == 0 {
			return d.errorf(path+".backendRefs", "every backend weighs 0: the local mesh does not implement that rule (Istio answers 500), expected a weight above 0")
		}
	}
	return nil
}

// validateService checks a per-version Service: it selects the pods of one
// Bookinfo app, by app (and version) labels, on Bookinfo's port.
func validateService(d *docInfo, name string, s *corev1.ServiceSpec) error {
	if isMeshService(name) && (len(s.Selector) != 1 || s.Selector["app"] != name) {
		// Bookinfo's own Service is built in; applying it only adds labels.
		return d.errorf("spec.selector", "Service %s is Bookinfo's own (built into the local mesh) and selects app: %s, expected that selector or another name (e.g. %s-v1)", name, name, name)
	}
	if s.Type != "" && s.Type != corev1.ServiceTypeClusterIP {
		return d.errorf("spec.type", "type %s is not supported by the local mesh, expected ClusterIP", s.Type)
	}
	app := s.Selector["app"]
	if !isMeshService(app) {
		return d.errorf("spec.selector", "selector %v, expected app: one of %s (and optionally version)", s.Selector, strings.Join(meshServices, ", "))
	}
	for k := range s.Selector {
		if k != "app" && k != "version" {
			return d.errorf("spec.selector["+k+"]", "label %s is not supported by the local mesh, expected app and version", k)
		}
	}
	for i, p := range s.Ports {
		if p.Port != meshPort {
			return d.errorf(fmt.Sprintf("spec.ports[%d].port", i), "port %d, expected %d (Bookinfo's services listen there)", p.Port, meshPort)
		}
	}
	return nil
}

func parentKind(p gatewayv1.ParentReference) string {
	group, kind := GroupGatewayAPI, "Gateway"
	if p.Group != nil {
		group = string(*p.Group)
	}
	if p.Kind != nil {
		kind = string(*p.Kind)
	}
	switch {
	case group == GroupGatewayAPI && kind == "Gateway":
		return "Gateway"
	case (group == "" || group == "core") && kind == "Service":
		return "Service"
	}
	return group + "/" + kind
}

// backendWeight is a backend's weight, 1 when unset, as the API defaults it.
func backendWeight(b gatewayv1.HTTPBackendRef) int32 {
	if b.Weight == nil {
		return 1
	}
	return *b.Weight
}

func ptrValue[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

// checkKubeClaims refuses, in one snapshot, an HTTPRoute for a Service that
// a mesh VirtualService (or another HTTPRoute) already routes, and a second
// Gateway API Gateway: the local mesh deploys one, at its gateway address.
func (c *Config) checkKubeClaims(d *docInfo, r Resource) error {
	switch {
	case r.K8sGateway != nil && !isWaypoint(r):
		if other, ok := c.find(func(o Resource) bool { return o.K8sGateway != nil && !isWaypoint(o) && o.Name != r.Name }); ok {
			return d.errorf("metadata.name", "Gateway %s already runs at the local mesh's gateway address%s; it deploys one Gateway API Gateway", other.Name, from(other))
		}
	case r.HTTPRoute != nil:
		for i, p := range r.HTTPRoute.ParentRefs {
			if parentKind(p) != "Service" {
				continue
			}
			host := shortHost(string(p.Name))
			if other, ok := c.meshRouteFor(host, ""); ok {
				return d.errorf(fmt.Sprintf("spec.parentRefs[%d]", i), "Service %s is already routed by VirtualService %s%s, expected one route per Service (which wins is not defined)", host, other.Name, from(other))
			}
			if other, ok := c.serviceRouteFor(host, r.Name); ok {
				return d.errorf(fmt.Sprintf("spec.parentRefs[%d]", i), "Service %s is already routed by HTTPRoute %s%s, expected one route per Service", host, other.Name, from(other))
			}
		}
	case r.Kind == kindVirtualService && appliesToMesh(r.VirtualService):
		for i, h := range r.VirtualService.GetHosts() {
			if other, ok := c.serviceRouteFor(shortHost(h), ""); ok {
				return d.errorf(fmt.Sprintf("spec.hosts[%d]", i), "host %s is already routed by HTTPRoute %s%s, expected one route per Service (which wins is not defined)", shortHost(h), other.Name, from(other))
			}
		}
	}
	return nil
}

// serviceRouteFor returns the HTTPRoute whose parent is the Service host,
// other than the one named except.
func (c *Config) serviceRouteFor(host, except string) (Resource, bool) {
	return c.find(func(r Resource) bool {
		if r.HTTPRoute == nil || r.Name == except {
			return false
		}
		return slices.ContainsFunc(r.HTTPRoute.ParentRefs, func(p gatewayv1.ParentReference) bool {
			return parentKind(p) == "Service" && shortHost(string(p.Name)) == host
		})
	})
}

// checkBackends checks that an HTTPRoute's backends are Services: Bookinfo's
// own or applied ones.
func (c *Config) checkBackends(d *docInfo, r Resource) error {
	if r.HTTPRoute == nil {
		return nil
	}
	for i, rule := range r.HTTPRoute.Rules {
		for j, b := range rule.BackendRefs {
			name := string(b.Name)
			if isMeshService(name) {
				continue
			}
			if _, ok := c.byKey[resourceKey{"", kindService, name}]; !ok {
				return d.errorf(fmt.Sprintf("spec.rules[%d].backendRefs[%d].name", i, j), "unknown Service %q, expected one of %s or an applied Service (%s)",
					name, strings.Join(meshServices, ", "), c.namesOf(kindService))
			}
		}
	}
	return nil
}

// kubeEqual is proto.Equal for the Kubernetes kinds, labels included.
func kubeEqual(a, b Resource) bool {
	return equality.Semantic.DeepEqual(kubeSpec(a), kubeSpec(b)) && maps.Equal(a.Labels, b.Labels)
}

// cloneKube deep-copies the Kubernetes spec of r into out.
func cloneKube(out *Resource, r Resource) {
	switch {
	case r.K8sGateway != nil:
		out.K8sGateway = r.K8sGateway.DeepCopy()
	case r.HTTPRoute != nil:
		out.HTTPRoute = r.HTTPRoute.DeepCopy()
	case r.Service != nil:
		out.Service = r.Service.DeepCopy()
	}
	out.Labels = maps.Clone(r.Labels)
}
