package istio

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"istio.io/api/networking/v1alpha3"
)

// meshServices are the services of the local mesh, sorted.
var meshServices = []string{"details", "productpage", "ratings", "reviews"}

const meshServicesText = "details, productpage, ratings, reviews (short or <name>.default.svc.cluster.local)"

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// retryConditions are Envoy's retry_on values that Istio passes through.
var retryConditions = map[string]bool{
	"5xx": true, "gateway-error": true, "reset": true, "connect-failure": true,
	"retriable-4xx": true, "refused-stream": true, "retriable-status-codes": true,
	"unavailable": true, "cancelled": true, "deadline-exceeded": true, "resource-exhausted": true,
}

// checkResource checks one resource on its own: supported fields first, then
// the semantics of its kind.
func checkResource(d *docInfo, r Resource) error {
	if isKube(r) {
		return checkKubeResource(d, r)
	}
	var msg proto.Message
	switch r.Kind {
	case kindVirtualService:
		msg = r.VirtualService
	case kindDestinationRule:
		msg = r.DestinationRule
	case kindGateway:
		msg = r.Gateway
	}
	if err := checkSupported(d, msg.ProtoReflect(), supportedRules[r.Kind], "spec", ""); err != nil {
		return err
	}
	switch r.Kind {
	case kindVirtualService:
		return validateVirtualService(d, r.VirtualService)
	case kindDestinationRule:
		return validateDestinationRule(d, r.DestinationRule)
	}
	return validateGateway(d, r.Gateway)
}

func validateVirtualService(d *docInfo, vs *v1alpha3.VirtualService) error {
	if len(vs.GetHosts()) == 0 {
		return d.errorf("spec.hosts", "missing hosts, expected at least one of %s", meshServicesText)
	}
	for i, g := range vs.GetGateways() {
		if _, err := gatewayRef(g); err != nil {
			return d.errorf(fmt.Sprintf("spec.gateways[%d]", i), "%v", err)
		}
	}
	meshBound := appliesToMesh(vs)
	seen := map[string]int{}
	for i, h := range vs.GetHosts() {
		path, key := fmt.Sprintf("spec.hosts[%d]", i), strings.ToLower(h)
		switch {
		case meshBound && !isMeshService(h):
			return d.errorf(path, "unknown host %q, expected one of %s; other hosts need gateways: naming a Gateway", h, meshServicesText)
		case meshBound:
			key = shortHost(h)
		case h == "":
			return d.errorf(path, "empty host, expected a host name or \"*\"")
		}
		if j, dup := seen[key]; dup {
			return d.errorf(path, "host %q repeats spec.hosts[%d], expected each host once", h, j)
		}
		seen[key] = i
	}
	if len(vs.GetHttp()) == 0 {
		return d.errorf("spec.http", "missing http routes, expected at least one HTTP route")
	}
	for i, rt := range vs.GetHttp() {
		if err := validateHTTPRoute(d, fmt.Sprintf("spec.http[%d]", i), rt); err != nil {
			return err
		}
	}
	return nil
}

// appliesToMesh reports whether a VirtualService routes sidecar traffic: it
// names no gateway, or the reserved gateway "mesh".
func appliesToMesh(vs *v1alpha3.VirtualService) bool {
	for _, g := range vs.GetGateways() {
		if g == "mesh" {
			return true
		}
	}
	return len(vs.GetGateways()) == 0
}

// gatewayRef strips the optional "default/" namespace from a gateway reference.
func gatewayRef(ref string) (string, error) {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok {
		ns, name = defaultNamespace, ref
	}
	switch {
	case name == "":
		return "", fmt.Errorf("empty gateway, expected mesh or the name of a Gateway")
	case ns != defaultNamespace:
		return "", fmt.Errorf("gateway %q is in namespace %q, expected mesh or a Gateway of namespace %q", ref, ns, defaultNamespace)
	}
	return name, nil
}

func validateHTTPRoute(d *docInfo, path string, rt *v1alpha3.HTTPRoute) error {
	for j, m := range rt.GetMatch() {
		if err := validateMatch(d, fmt.Sprintf("%s.match[%d]", path, j), m); err != nil {
			return err
		}
	}
	if err := validateWeights(d, path, rt.GetRoute()); err != nil {
		return err
	}
	if rt.GetMirror() != nil {
		if err := validateDestination(d, path+".mirror", rt.GetMirror()); err != nil {
			return err
		}
	}
	if err := validatePercent(d, path+".mirrorPercentage", rt.GetMirrorPercentage()); err != nil {
		return err
	}
	if rt.GetFault() != nil {
		if err := validateFault(d, path+".fault", rt.GetFault()); err != nil {
			return err
		}
	}
	if rt.GetRetries() != nil {
		if err := validateRetries(d, path+".retries", rt.GetRetries()); err != nil {
			return err
		}
	}
	return validateDuration(d, path+".timeout", rt.GetTimeout())
}

func validateMatch(d *docInfo, path string, m *v1alpha3.HTTPMatchRequest) error {
	if m.GetUri() != nil {
		if err := validateStringMatch(d, path+".uri", m.GetUri()); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(m.GetHeaders()))
	for name := range m.GetHeaders() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		hpath := path + ".headers[" + name + "]"
		if !validHeaderName(name) {
			return d.errorf(hpath, "invalid header name %q, expected an HTTP header name such as end-user", name)
		}
		if err := validateStringMatch(d, hpath, m.GetHeaders()[name]); err != nil {
			return err
		}
	}
	return nil
}

// validHeaderName reports whether name is an HTTP token (RFC 9110).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func validateStringMatch(d *docInfo, path string, sm *v1alpha3.StringMatch) error {
	switch mt := sm.GetMatchType().(type) {
	case nil:
		return d.errorf(path, "empty match, expected exactly one of exact, prefix or regex")
	case *v1alpha3.StringMatch_Regex:
		if _, err := compileFullMatch(mt.Regex, false); err != nil {
			var se *syntax.Error
			if errors.As(err, &se) {
				err = errors.New(se.Code.String())
			}
			return d.errorf(path+".regex", "invalid regex %q: %v, expected an RE2 regular expression", mt.Regex, err)
		}
	}
	return nil
}

// compileFullMatch compiles an Istio regex with Envoy's full-match semantics.
func compileFullMatch(expr string, fold bool) (*regexp.Regexp, error) {
	flags := ""
	if fold {
		flags = "(?i)"
	}
	return regexp.Compile(flags + "^(?:" + expr + ")$")
}

func validateWeights(d *docInfo, path string, dests []*v1alpha3.HTTPRouteDestination) error {
	if len(dests) == 0 {
		return d.errorf(path+".route", "missing route, expected at least one destination")
	}
	sum, weighted := 0, false
	for k, dst := range dests {
		dpath := fmt.Sprintf("%s.route[%d]", path, k)
		if dst.GetDestination() == nil {
			return d.errorf(dpath+".destination", "missing destination, expected a host and an optional subset")
		}
		if err := validateDestination(d, dpath+".destination", dst.GetDestination()); err != nil {
			return err
		}
		w := dst.GetWeight()
		if w < 0 || w > 100 {
			return d.errorf(dpath+".weight", "weight %d is out of range, expected 0 to 100", w)
		}
		sum, weighted = sum+int(w), weighted || w != 0
	}
	if (len(dests) > 1 || weighted) && sum != 100 {
		return d.errorf(path+".route", "weights sum to %d, expected 100", sum)
	}
	return nil
}

func validateDestination(d *docInfo, path string, dst *v1alpha3.Destination) error {
	if !isMeshService(dst.GetHost()) {
		return d.errorf(path+".host", "unknown host %q, expected one of %s", dst.GetHost(), meshServicesText)
	}
	if port := dst.GetPort(); port != nil && (port.GetNumber() == 0 || port.GetNumber() > 65535) {
		return d.errorf(path+".port.number", "port %d is out of range, expected 1 to 65535", port.GetNumber())
	}
	return nil
}

func validatePercent(d *docInfo, path string, p *v1alpha3.Percent) error {
	if v := p.GetValue(); p != nil && !(v >= 0 && v <= 100) {
		return d.errorf(path+".value", "percentage %v is out of range, expected 0 to 100", v)
	}
	return nil
}

func validateDuration(d *docInfo, path string, du *durationpb.Duration) error {
	switch {
	case du == nil:
		return nil
	case du.CheckValid() != nil:
		return d.errorf(path, "invalid duration, expected a duration such as \"10s\"")
	case du.AsDuration() <= 0:
		return d.errorf(path, "duration %v is not positive, expected a duration greater than 0s", du.AsDuration())
	}
	return nil
}
