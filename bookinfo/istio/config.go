package istio

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
)

// Config is an immutable snapshot of the applied resources. The nil *Config
// is the empty snapshot.
type Config struct {
	byKey  map[resourceKey]Resource // stored copies, never handed out
	sorted []Resource               // by kind, name
	table  *Table
}

type resourceKey struct{ kind, name string }

// emptyTable routes the empty snapshot: everything by default.
var emptyTable = &Table{}

// Change is what Apply or Delete did to one resource, like a line of kubectl's
// output.
type Change struct {
	Kind, Name string
	Action     string // "created", "configured", "unchanged" or "deleted"
}

// String formats the change like kubectl: "virtualservice.networking.istio.io/reviews
// configured", or `virtualservice.networking.istio.io "reviews" deleted`.
func (ch Change) String() string {
	res := strings.ToLower(ch.Kind) + ".networking.istio.io"
	if ch.Action == "deleted" {
		return fmt.Sprintf("%s %q deleted", res, ch.Name)
	}
	return res + "/" + ch.Name + " " + ch.Action
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
	for _, r := range rs {
		d := docFor(r)
		if err := checkShape(d, r); err != nil {
			return c, nil, err
		}
		if err := checkResource(d, r); err != nil {
			return c, nil, err
		}
		key := resourceKey{r.Kind, r.Name}
		action := "created"
		if old, ok := next.byKey[key]; ok {
			action = "configured"
			if proto.Equal(specOf(old), specOf(r)) {
				action = "unchanged"
			}
		}
		if action != "unchanged" {
			next.byKey[key] = cloneResource(r)
		}
		changes = append(changes, Change{Kind: r.Kind, Name: r.Name, Action: action})
	}
	for _, r := range rs {
		if err := next.checkReferences(next.byKey[resourceKey{r.Kind, r.Name}]); err != nil {
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
		key := resourceKey{r.Kind, r.Name}
		if _, ok := next.byKey[key]; !ok {
			return c, nil, docFor(r).wrap(ErrNotFound, "", "%ss.networking.istio.io %q not found, expected an applied resource (nothing was deleted)",
				strings.ToLower(r.Kind), r.Name)
		}
		delete(next.byKey, key)
		changes = append(changes, Change{Kind: r.Kind, Name: r.Name, Action: "deleted"})
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
		return strings.Compare(a.Kind+"\x00"+a.Name, b.Kind+"\x00"+b.Name)
	})
	c.table = compileTable(c.sorted)
}

// checkShape checks what ParseManifests guarantees, for hand-made Resources.
func checkShape(d *docInfo, r Resource) error {
	var ok bool
	switch r.Kind {
	case kindVirtualService:
		ok = r.VirtualService != nil && r.DestinationRule == nil && r.Gateway == nil
	case kindDestinationRule:
		ok = r.VirtualService == nil && r.DestinationRule != nil && r.Gateway == nil
	case kindGateway:
		ok = r.VirtualService == nil && r.DestinationRule == nil && r.Gateway != nil
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
	return out
}
