package istio

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Rejection is a resource that Sync left out, and why.
type Rejection struct {
	Resource Resource
	Err      error // one line, wrapping ErrInvalid
}

// Sync returns a snapshot of exactly rs, taken the way a cluster's control
// plane takes what its API server has accepted, rather than the way Apply
// guards an apply:
//   - each resource is validated on its own, and left out with its error
//     when it is invalid or sets a field the local mesh does not implement;
//   - a VirtualService or DestinationRule that claims a host an earlier one
//     in rs already has is left out (pass rs oldest first: Istio lets the
//     oldest win);
//   - references to absent gateways and subsets are kept: they answer at
//     run time as after Delete (a route to a missing subset is a 503);
//   - a resource keeps its Created time; without one it gets the time the
//     receiver has for it, or now.
//
// The changes compare the new snapshot with the receiver, sorted by kind
// and name, and include deletions.
func (c *Config) Sync(rs []Resource) (*Config, []Change, []Rejection) {
	next := &Config{byKey: map[resourceKey]Resource{}}
	var rejected []Rejection
	now := time.Now()
	for _, r := range rs {
		d := docFor(r)
		err := checkShape(d, r)
		if err == nil {
			err = checkResource(d, r)
		}
		if err == nil {
			err = next.checkClaims(d, r)
		}
		if err != nil {
			rejected = append(rejected, Rejection{Resource: r, Err: err})
			continue
		}
		next.byKey[keyOf(r)] = c.stored(r, now)
	}
	next.seal()
	return next, c.changesTo(next), rejected
}

// checkClaims refuses a second resource of the same kind and name, and a
// second mesh VirtualService or DestinationRule for a host.
func (c *Config) checkClaims(d *docInfo, r Resource) error {
	if old, ok := c.byKey[keyOf(r)]; ok {
		return d.errorf("metadata.name", "%s %s is already defined%s", r.Kind, r.Name, from(old))
	}
	if err := c.checkKubeClaims(d, r); err != nil {
		return err
	}
	switch r.Kind {
	case kindDestinationRule:
		host := shortHost(r.DestinationRule.GetHost())
		if other, ok := c.ruleFor(host, r.Name); ok {
			return d.errorf("spec.host", "host %s already has DestinationRule %s%s, which is older and wins, as in Istio",
				host, other.Name, from(other))
		}
	case kindVirtualService:
		if !appliesToMesh(r.VirtualService) {
			return nil
		}
		for i, h := range r.VirtualService.GetHosts() {
			if other, ok := c.meshRouteFor(shortHost(h), r.Name); ok {
				return d.errorf(fmt.Sprintf("spec.hosts[%d]", i), "host %s is already routed by VirtualService %s%s, which is older and wins, as in Istio",
					shortHost(h), other.Name, from(other))
			}
		}
	}
	return nil
}

// from names where r came from, when it says: " (file.yaml:3)".
func from(r Resource) string {
	if r.Source == "" {
		return ""
	}
	return " (" + r.Source + ")"
}

// changesTo lists what turns c into next, like kubectl's output lines.
func (c *Config) changesTo(next *Config) []Change {
	var changes []Change
	for _, r := range next.sorted {
		action := "created"
		if c != nil {
			if old, ok := c.byKey[keyOf(r)]; ok {
				action = "configured"
				if sameSpec(old, r) {
					action = "unchanged"
				}
			}
		}
		changes = append(changes, Change{Kind: r.Kind, Group: r.Group, Name: r.Name, Action: action})
	}
	if c != nil {
		for _, r := range c.sorted {
			if _, ok := next.byKey[keyOf(r)]; !ok {
				changes = append(changes, Change{Kind: r.Kind, Group: r.Group, Name: r.Name, Action: "deleted"})
			}
		}
	}
	slices.SortStableFunc(changes, func(a, b Change) int {
		return strings.Compare(a.Kind+"\x00"+a.Group+"\x00"+a.Name, b.Kind+"\x00"+b.Group+"\x00"+b.Name)
	})
	return changes
}

// stored is the copy of r a snapshot keeps, dated: r's own creation time
// (a cluster's), else the one c has for it (configuring keeps a
// resource's age), else now (created). Apply and Sync date alike.
func (c *Config) stored(r Resource, now time.Time) Resource {
	out := cloneResource(r)
	if out.Created.IsZero() {
		out.Created = now
		if c != nil {
			if old, ok := c.byKey[keyOf(r)]; ok {
				out.Created = old.Created
			}
		}
	}
	return out
}
