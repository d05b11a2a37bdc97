package istio

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Config is an immutable snapshot of the applied resources. The nil *Config
// is the empty snapshot.
type Config struct {
	byKey  map[resourceKey]Resource // stored copies, never handed out
	sorted []Resource               // by kind, name
	table  *Table
}

type resourceKey struct{ group, kind, name string }

func keyOf(r Resource) resourceKey { return resourceKey{r.Group, r.Kind, r.Name} }

// emptyTable routes the empty snapshot: everything by default.
var emptyTable = &Table{}

// Change is what Apply or Delete did to one resource, like a line of kubectl's
// output.
type Change struct {
	Kind, Name string
	Group      string // Resource.Group
	Action     string // "created", "configured", "unchanged" or "deleted"
}

// String formats the change like kubectl: "virtualservice.networking.istio.io/reviews
// configured", or `virtualservice.networking.istio.io "reviews" deleted`.
func (ch Change) String() string {
	res := resourceType(ch.Group, ch.Kind)
	if ch.Action == "deleted" {
		return fmt.Sprintf("%s %q deleted", res, ch.Name)
	}
	return res + "/" + ch.Name + " " + ch.Action
}

// resourceType is a kind as kubectl names it: "virtualservice.networking.istio.io",
// "httproute.gateway.networking.k8s.io", "service".
func resourceType(group, kind string) string {
	switch {
	case kind == kindService, kind == kindNamespace:
		return strings.ToLower(kind)
	case group != "":
		return strings.ToLower(kind) + "." + group
	}
	return strings.ToLower(kind) + ".networking.istio.io"
}

// Apply returns a new snapshot with rs created or replaced, in order, and one
// Change per resource ("unchanged" when the spec is proto.Equal to the stored
// one). It validates each resource, then checks references against the
// resulting snapshot: subsets must be defined by the host's DestinationRule,
// gateways must exist, and a host has at most one mesh VirtualService and one
// DestinationRule. It is all-or-nothing: on error it returns the receiver
// unchanged and no changes.
func (c *Config) Apply(rs []Resource) (*Config, []Change, error) {
	next := c.copy()
	changes := make([]Change, 0, len(rs))
	now := time.Now()
	for _, r := range rs {
		d := docFor(r)
		if err := checkShape(d, r); err != nil {
			return c, nil, err
		}
		if err := checkResource(d, r); err != nil {
			return c, nil, err
		}
		key := keyOf(r)
		action := "created"
		if old, ok := next.byKey[key]; ok {
			action = "configured"
			if sameSpec(old, r) {
				action = "unchanged"
			}
		}
		if action != "unchanged" {
			next.byKey[key] = next.stored(r, now)
		}
		changes = append(changes, Change{Kind: r.Kind, Group: r.Group, Name: r.Name, Action: action})
	}
	for _, r := range rs {
		if err := next.checkReferences(next.byKey[keyOf(r)]); err != nil {
			return c, nil, err
		}
	}
	next.seal()
	return next, changes, nil
}

// Delete returns a new snapshot without rs (matched by kind and name; the
// specs are ignored, like kubectl delete -f). Deleting an absent resource is an
// error wrapping ErrNotFound, and then nothing is deleted. References left
// dangling are allowed: a route to a deleted subset answers 503 at run time.
func (c *Config) Delete(rs []Resource) (*Config, []Change, error) {
	next := c.copy()
	changes := make([]Change, 0, len(rs))
	for _, r := range rs {
		key := keyOf(r)
		if _, ok := next.byKey[key]; !ok {
			typ, rest, _ := strings.Cut(resourceType(r.Group, r.Kind), ".")
			if rest != "" {
				rest = "." + rest
			}
			return c, nil, docFor(r).wrap(ErrNotFound, "", "%ss%s %q not found, expected an applied resource (nothing was deleted)",
				typ, rest, r.Name)
		}
		delete(next.byKey, key)
		changes = append(changes, Change{Kind: r.Kind, Group: r.Group, Name: r.Name, Action: "deleted"})
	}
	next.seal()
	return next, changes, nil
}

// Resources returns copies of the applied resources, sorted by kind and name.
func (c *Config) Resources() []Resource {
	if c == nil {
		return nil
	}
	out := make([]Resource, len(c.sorted))
	for i, r := range c.sorted {
		out[i] = cloneResource(r)
	}
	return out
}

// Routes returns the routing table of this snapshot, compiled once when the
// snapshot was made.
func (c *Config) Routes() *Table {
	if c == nil {
		return emptyTable
	}
	return c.table
}

func (c *Config) copy() *Config {
	next := &Config{byKey: map[resourceKey]Resource{}}
	if c != nil {
		for k, r := range c.byKey {
			next.byKey[k] = r
		}
	}
	return next
}

// seal sorts the resources and compiles the routing table.
func (c *Config) seal() {
	c.sorted = make([]Resource, 0, len(c.byKey))
	for _, r := range c.byKey {
		c.sorted = append(c.sorted, r)
	}
	slices.SortFunc(c.sorted, func(a, b Resource) int {
		return strings.Compare(a.Kind+"\x00"+a.Group+"\x00"+a.Name, b.Kind+"\x00"+b.Group+"\x00"+b.Name)
	})
	c.table = compileTable(c.sorted)
}

// checkShape checks what ParseManifests guarantees, for hand-made Resources.
func checkShape(d *docInfo, r Resource) error {
	set := func(want any) bool { // exactly the spec field want is set (Labels go with any kind)
		specs := []any{r.VirtualService, r.DestinationRule, r.Gateway, r.K8sGateway, r.HTTPRoute, r.Service}
		n := 0
		for _, s := range specs {
			if !isNil(s) {
				n++
			}
		}
		return n == 1 && !isNil(want) || n == 0 && want == nil
	}
	var ok bool
	switch {
	case r.Group == GroupGatewayAPI && r.Kind == kindGateway:
		ok = set(r.K8sGateway)
	case r.Group == GroupGatewayAPI && r.Kind == kindHTTPRoute:
		ok = set(r.HTTPRoute)
	case r.Group != "":
		return d.errorf("kind", "unsupported kind %s.%s, expected %s", r.Kind, r.Group, supportedKinds)
	case r.Kind == kindService:
		ok = set(r.Service)
	case r.Kind == kindNamespace:
		ok = set(nil) && r.Labels != nil && r.Name == defaultNamespace
	case r.Kind == kindVirtualService:
		ok = set(r.VirtualService)
	case r.Kind == kindDestinationRule:
		ok = set(r.DestinationRule)
	case r.Kind == kindGateway:
		ok = set(r.Gateway)
	default:
		return d.errorf("kind", "unsupported kind %q, expected %s", r.Kind, supportedKinds)
	}
	switch {
	case !ok:
		return d.errorf("spec", "missing or extra spec, expected exactly the Resource.%s field set", r.Kind)
	case len(r.Name) > 253 || !dns1123.MatchString(r.Name):
		return d.errorf("metadata.name", "invalid name %q, expected a lower-case DNS-1123 name", r.Name)
	case r.Namespace != "" && r.Namespace != defaultNamespace:
		return d.errorf("metadata.namespace", "namespace %q is not supported, expected %q (the local mesh has one namespace)", r.Namespace, defaultNamespace)
	}
	return nil
}

// sameSpec reports whether two resources of one key have equal specs.
func sameSpec(a, b Resource) bool {
	if isKube(a) {
		return kubeEqual(a, b)
	}
	return proto.Equal(specOf(a), specOf(b))
}

// isKube reports whether r is a Gateway API kind or a Service.
func isKube(r Resource) bool {
	return r.K8sGateway != nil || r.HTTPRoute != nil || r.Service != nil || r.Kind == kindNamespace
}

// isNil reports whether a spec pointer is nil.
func isNil(spec any) bool {
	switch s := spec.(type) {
	case *v1alpha3.VirtualService:
		return s == nil
	case *v1alpha3.DestinationRule:
		return s == nil
	case *v1alpha3.Gateway:
		return s == nil
	case *gatewayv1.GatewaySpec:
		return s == nil
	case *gatewayv1.HTTPRouteSpec:
		return s == nil
	case *corev1.ServiceSpec:
		return s == nil
	}
	return spec == nil
}

func specOf(r Resource) proto.Message {
	switch r.Kind {
	case kindVirtualService:
		return r.VirtualService
	case kindDestinationRule:
		return r.DestinationRule
	}
	return r.Gateway
}

// cloneResource deep-copies r so that snapshots share nothing with callers.
func cloneResource(r Resource) Resource {
	out := r
	out.Namespace = defaultNamespace
	if r.VirtualService != nil {
		out.VirtualService = proto.CloneOf(r.VirtualService)
	}
	if r.DestinationRule != nil {
		out.DestinationRule = proto.CloneOf(r.DestinationRule)
	}
	if r.Gateway != nil {
		out.Gateway = proto.CloneOf(r.Gateway)
	}
	cloneKube(&out, r)
	return out
}
