package istio

import (
	"fmt"
	"sort"
	"strings"

	"istio.io/api/networking/v1alpha3"
)

// checkReferences checks r's references against the snapshot c.
func (c *Config) checkReferences(r Resource) error {
	d := docFor(r)
	if err := c.checkKubeClaims(d, r); err != nil {
		return err
	}
	if isKube(r) {
		return c.checkBackends(d, r)
	}
	switch r.Kind {
	case kindVirtualService:
		return c.checkVirtualService(d, r)
	case kindDestinationRule:
		host := shortHost(r.DestinationRule.GetHost())
		if other, ok := c.ruleFor(host, r.Name); ok {
			return d.errorf("spec.host", "host %s already has DestinationRule %s (%s), expected one DestinationRule per host",
				host, other.Name, other.Source)
		}
	}
	return nil
}

func (c *Config) checkVirtualService(d *docInfo, r Resource) error {
	vs := r.VirtualService
	for i, ref := range vs.GetGateways() {
		name, _ := gatewayRef(ref)
		if _, ok := c.byKey[resourceKey{"", kindGateway, name}]; !ok && name != "mesh" {
			return d.errorf(fmt.Sprintf("spec.gateways[%d]", i), "unknown gateway %q, expected mesh or an applied Gateway (%s)",
				ref, c.namesOf(kindGateway))
		}
	}
	if appliesToMesh(vs) {
		for i, h := range vs.GetHosts() {
			if other, ok := c.meshRouteFor(shortHost(h), r.Name); ok {
				return d.errorf(fmt.Sprintf("spec.hosts[%d]", i), "host %s is already routed by VirtualService %s (%s), expected one VirtualService per host",
					shortHost(h), other.Name, other.Source)
			}
		}
	}
	for i, hr := range vs.GetHttp() {
		path := fmt.Sprintf("spec.http[%d]", i)
		for k, dst := range hr.GetRoute() {
			if err := c.checkSubset(d, fmt.Sprintf("%s.route[%d].destination", path, k), dst.GetDestination()); err != nil {
				return err
			}
		}
		if err := c.checkSubset(d, path+".mirror", hr.GetMirror()); err != nil {
			return err
		}
	}
	return nil
}

// checkSubset checks that the subset a destination names is defined by the
// DestinationRule of its host.
func (c *Config) checkSubset(d *docInfo, path string, dst *v1alpha3.Destination) error {
	subset := dst.GetSubset()
	if subset == "" {
		return nil
	}
	host := shortHost(dst.GetHost())
	dr, ok := c.ruleFor(host, "")
	if !ok {
		return d.errorf(path+".subset", "unknown subset %s for host %s: no DestinationRule for host %s", subset, host, host)
	}
	var names []string
	for _, s := range dr.DestinationRule.GetSubsets() {
		if s.GetName() == subset {
			return nil
		}
		names = append(names, s.GetName())
	}
	defines := "defines no subsets"
	if len(names) > 0 {
		defines = "defines " + strings.Join(names, ", ")
	}
	return d.errorf(path+".subset", "unknown subset %s for host %s: DestinationRule %s %s", subset, host, dr.Name, defines)
}

// ruleFor returns the DestinationRule for host, other than the one named except.
func (c *Config) ruleFor(host, except string) (Resource, bool) {
	return c.find(func(r Resource) bool {
		return r.Kind == kindDestinationRule && r.Name != except && shortHost(r.DestinationRule.GetHost()) == host
	})
}

// meshRouteFor returns the mesh VirtualService for host, other than the one
// named except.
func (c *Config) meshRouteFor(host, except string) (Resource, bool) {
	return c.find(func(r Resource) bool {
		if r.Kind != kindVirtualService || r.Name == except || !appliesToMesh(r.VirtualService) {
			return false
		}
		for _, h := range r.VirtualService.GetHosts() {
			if shortHost(h) == host {
				return true
			}
		}
		return false
	})
}

// find returns the first resource by name that satisfies ok (deterministic).
func (c *Config) find(ok func(Resource) bool) (Resource, bool) {
	var found []Resource
	for _, r := range c.byKey {
		if ok(r) {
			found = append(found, r)
		}
	}
	if len(found) == 0 {
		return Resource{}, false
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found[0], true
}

// namesOf lists the names of the applied resources of a kind.
func (c *Config) namesOf(kind string) string {
	var names []string
	for k := range c.byKey {
		if k.kind == kind && k.group == "" {
			names = append(names, k.name)
		}
	}
	if len(names) == 0 {
		return "none applied"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
