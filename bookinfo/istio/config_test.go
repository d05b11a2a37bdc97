package istio

import (
	"errors"
	"github.com/canary-gate/canary/internal/sharedtest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"istio.io/api/networking/v1alpha3"
)

// readSeed parses a seed manifest of the walkthrough, read in place.
func readSeed(t testing.TB, name string) []Resource {
	t.Helper()
	return parseFile(t, filepath.Join(sharedtest.Dir(t, "seed-manifests"), name))
}

func parseFile(t testing.TB, path string) []Resource {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseManifests(filepath.Base(path), data)
	if err != nil {
		t.Fatalf("ParseManifests(%q) error: %v", filepath.Base(path), err)
	}
	return rs
}

func mustParse(t testing.TB, name, yaml string) []Resource {
	t.Helper()
	rs, err := ParseManifests(name, []byte(yaml))
	if err != nil {
		t.Fatalf("ParseManifests(%q) error: %v", name, err)
	}
	return rs
}

func mustApply(t testing.TB, c *Config, rs []Resource) *Config {
	t.Helper()
	next, _, err := c.Apply(rs)
	if err != nil {
		t.Fatalf("Apply error: %v", err)
	}
	return next
}

// summary is a Resource without its spec.
type summary struct{ Kind, Name, Namespace, Source string }

func summarize(rs []Resource) []summary {
	out := make([]summary, len(rs))
	for i, r := range rs {
		out[i] = summary{r.Kind, r.Name, r.Namespace, r.Source}
	}
	return out
}

func TestParseManifestsSeeds(t *testing.T) {
	t.Parallel()
	dir := sharedtest.Dir(t, "seed-manifests")
	vs := func(name, src string) summary { return summary{"VirtualService", name, "default", src} }
	dr := func(name, src string) summary { return summary{"DestinationRule", name, "default", src} }
	tests := map[string][]summary{
		"bookinfo-gateway.yaml": {{"Gateway", "bookinfo-gateway", "default", "bookinfo-gateway.yaml:1"},
			vs("bookinfo", "bookinfo-gateway.yaml:16")},
		"destination-rule-all.yaml": {dr("productpage", "destination-rule-all.yaml:1"), dr("reviews", "destination-rule-all.yaml:12"),
			dr("ratings", "destination-rule-all.yaml:29"), dr("details", "destination-rule-all.yaml:49")},
		"virtual-service-all-v1.yaml": {vs("productpage", "virtual-service-all-v1.yaml:1"), vs("reviews", "virtual-service-all-v1.yaml:14"),
			vs("ratings", "virtual-service-all-v1.yaml:27"), vs("details", "virtual-service-all-v1.yaml:40")},
		"virtual-service-mirroring.yaml":           {vs("reviews", "virtual-service-mirroring.yaml:1")},
		"virtual-service-ratings-abort-jason.yaml": {vs("ratings", "virtual-service-ratings-abort-jason.yaml:1")},
		"virtual-service-reviews-50-50.yaml":       {vs("reviews", "virtual-service-reviews-50-50.yaml:1")},
		"virtual-service-reviews-90-10.yaml":       {vs("reviews", "virtual-service-reviews-90-10.yaml:1")},
		"virtual-service-reviews-jason-v2.yaml":    {vs("reviews", "virtual-service-reviews-jason-v2.yaml:1")},
		"virtual-service-reviews-v3.yaml":          {vs("reviews", "virtual-service-reviews-v3.yaml:1")},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		if _, ok := tests[filepath.Base(f)]; !ok {
			t.Errorf("seed manifest %s has no row in this test", filepath.Base(f))
		}
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := summarize(parseFile(t, filepath.Join(dir, name)))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseManifests(%q) mismatch (-want +got):\n%s", name, diff)
			}
		})
	}
}

func TestParseManifestsSpec(t *testing.T) {
	t.Parallel()
	got := readSeed(t, "virtual-service-mirroring.yaml")[0].VirtualService
	want := &v1alpha3.VirtualService{
		Hosts: []string{"reviews"},
		Http: []*v1alpha3.HTTPRoute{{
			Route: []*v1alpha3.HTTPRouteDestination{{
				Destination: &v1alpha3.Destination{Host: "reviews", Subset: "v1"},
				Weight:      100,
			}},
			Mirror: &v1alpha3.Destination{Host: "reviews", Subset: "v2"},
		}},
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("ParseManifests(mirroring) spec mismatch (-want +got):\n%s", diff)
	}
}

func TestParseManifestsForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []summary
	}{
		{"empty documents skipped", "---\n# nothing\n---\n" + drReviews + "---\n", []summary{{"DestinationRule", "reviews", "default", "x.yaml:4"}}},
		{"kubectl List", "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n" + indent(drReviews, "  ", "- "),
			[]summary{{"DestinationRule", "reviews", "default", "x.yaml:6"}}},
		{"explicit default namespace", strings.Replace(drReviews, "name: reviews", "name: reviews\n  namespace: default\n  labels: {app: reviews}", 1),
			[]summary{{"DestinationRule", "reviews", "default", "x.yaml:1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := summarize(mustParse(t, "x.yaml", tc.yaml))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseManifests(%q) mismatch (-want +got):\n%s", tc.yaml, diff)
			}
		})
	}
}

// indent prefixes the first line with first and the others with rest.
func indent(s, rest, first string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i := range lines {
		if i == 0 {
			lines[i] = first + lines[i]
		} else {
			lines[i] = rest + lines[i]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestParseManifestsDurations(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, "d.yaml", strings.Replace(vsReviewsV1, "        subset: v1\n",
		"        subset: v1\n    timeout: 1m\n    retries:\n      attempts: 2\n      perTryTimeout: 250ms\n", 1))
	rt := rs[0].VirtualService.GetHttp()[0]
	if got, want := rt.GetTimeout().AsDuration().String(), "1m0s"; got != want {
		t.Errorf("timeout = %s; want %s", got, want)
	}
	if got, want := rt.GetRetries().GetPerTryTimeout().AsDuration().String(), "250ms"; got != want {
		t.Errorf("perTryTimeout = %s; want %s", got, want)
	}
}

// TestApplyWalkthrough applies the seeds in the README's order and checks
// kubectl's answers.
func TestApplyWalkthrough(t *testing.T) {
	t.Parallel()
	steps := []struct {
		file string
		want []string
	}{
		{"bookinfo-gateway.yaml", []string{"gateway.networking.istio.io/bookinfo-gateway created", "virtualservice.networking.istio.io/bookinfo created"}},
		{"destination-rule-all.yaml", []string{"destinationrule.networking.istio.io/productpage created", "destinationrule.networking.istio.io/reviews created",
			"destinationrule.networking.istio.io/ratings created", "destinationrule.networking.istio.io/details created"}},
		{"virtual-service-all-v1.yaml", []string{"virtualservice.networking.istio.io/productpage created", "virtualservice.networking.istio.io/reviews created",
			"virtualservice.networking.istio.io/ratings created", "virtualservice.networking.istio.io/details created"}},
		{"virtual-service-reviews-50-50.yaml", []string{"virtualservice.networking.istio.io/reviews configured"}},
		{"virtual-service-reviews-v3.yaml", []string{"virtualservice.networking.istio.io/reviews configured"}},
		{"virtual-service-all-v1.yaml", []string{"virtualservice.networking.istio.io/productpage unchanged", "virtualservice.networking.istio.io/reviews configured",
			"virtualservice.networking.istio.io/ratings unchanged", "virtualservice.networking.istio.io/details unchanged"}},
		{"virtual-service-mirroring.yaml", []string{"virtualservice.networking.istio.io/reviews configured"}},
		{"virtual-service-mirroring.yaml", []string{"virtualservice.networking.istio.io/reviews unchanged"}},
	}
	var cfg *Config
	for i, step := range steps {
		next, changes, err := cfg.Apply(readSeed(t, step.file))
		if err != nil {
			t.Fatalf("step %d: Apply(%s) error: %v", i, step.file, err)
		}
		var got []string
		for _, ch := range changes {
			got = append(got, ch.String())
		}
		if diff := cmp.Diff(step.want, got); diff != "" {
			t.Errorf("step %d: Apply(%s) changes mismatch (-want +got):\n%s", i, step.file, diff)
		}
		cfg = next
	}
	var got []string
	for _, r := range cfg.Resources() {
		got = append(got, r.Kind+"/"+r.Name)
	}
	want := []string{"DestinationRule/details", "DestinationRule/productpage", "DestinationRule/ratings", "DestinationRule/reviews",
		"Gateway/bookinfo-gateway", "VirtualService/bookinfo", "VirtualService/details", "VirtualService/productpage",
		"VirtualService/ratings", "VirtualService/reviews"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resources() mismatch (-want +got):\n%s", diff)
	}
}

// TestParseManifestsErrors checks the exact one-line message for each bad
// input in testdata/manifests; resources that parse are applied to an empty
// snapshot, so cross-resource errors show too.
func TestParseManifestsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, file, want string }{
		{"malformed YAML", "bad-yaml.yaml", `bad-yaml.yaml:6: invalid YAML: did not find expected ',' or ']', expected a YAML stream of Kubernetes resources`},
		{"control character", "bad-control-char.yaml", `bad-control-char.yaml:9: invalid YAML: control characters are not allowed, expected a YAML stream of Kubernetes resources`},
		{"alias loop", "bad-alias-loop.yaml", `bad-alias-loop.yaml:6: VirtualService reviews: spec.hosts[1]: got a list, expected a string`},
		{"no resources", "bad-empty.yaml", `bad-empty.yaml:1: no resources found, expected at least one VirtualService, DestinationRule or Gateway (apiVersion networking.istio.io/v1alpha3, v1beta1 or v1), Gateway or HTTPRoute (gateway.networking.k8s.io/v1), Service or Namespace (v1)`},
		{"gateway class", "bad-gateway-class.yaml", `bad-gateway-class.yaml:6: Gateway bookinfo-gateway: spec.gatewayClassName: class "envoy", expected "istio" or "istio-waypoint" (the local mesh is the controller of Istio's GatewayClasses)`},
		{"namespace not the mesh's", "bad-namespace-other.yaml", `bad-namespace-other.yaml:5: Namespace bookinfo: metadata.name: Namespace "bookinfo", expected "default" (the local mesh has one namespace; only its labels are read)`},
		{"dataplane mode", "bad-dataplane-mode.yaml", `bad-dataplane-mode.yaml:6: Namespace default: metadata.labels[istio.io/dataplane-mode]: value "ambiant", expected ambient or none`},
		{"waypoint listener", "bad-waypoint-listener.yaml", `bad-waypoint-listener.yaml:11: Gateway waypoint: spec.listeners[0].protocol: protocol "HTTP", expected HBONE for a waypoint`},
		{"httproute and virtualservice", "bad-httproute-and-vs.yaml", `bad-httproute-and-vs.yaml:1: VirtualService reviews: spec.hosts[0]: host reviews is already routed by HTTPRoute reviews (bad-httproute-and-vs.yaml:13), expected one route per Service (which wins is not defined)`},
		{"httproute filter", "bad-httproute-filter.yaml", `bad-httproute-filter.yaml:12: HTTPRoute reviews: spec.rules[0].filters: field not supported by the local mesh`},
		{"httproute unknown backend", "bad-httproute-unknown-backend.yaml", `bad-httproute-unknown-backend.yaml:1: HTTPRoute reviews: spec.rules[0].backendRefs[0].name: unknown Service "reviews-v1", expected one of details, productpage, ratings, reviews or an applied Service (none applied)`},
		{"httproute unknown field", "bad-httproute-unknown-field.yaml", `bad-httproute-unknown-field.yaml:11: HTTPRoute reviews: spec.rules[0].backendRef: unknown field`},
		{"service built in", "bad-service-builtin.yaml", `bad-service-builtin.yaml:20: Service productpage: spec.selector: Service productpage is Bookinfo's own (built into the local mesh) and selects app: productpage, expected that selector or another name (e.g. productpage-v1)`},
		{"service selector", "bad-service-selector.yaml", `bad-service-selector.yaml:9: Service reviews-canary: spec.selector[track]: label track is not supported by the local mesh, expected app and version`},
		{"unknown kind", "bad-kind.yaml", `bad-kind.yaml:17: Deployment productpage: kind: unsupported kind "Deployment", expected VirtualService, DestinationRule or Gateway (apiVersion networking.istio.io/v1alpha3, v1beta1 or v1), Gateway or HTTPRoute (gateway.networking.k8s.io/v1), Service or Namespace (v1)`},
		{"wrong apiVersion", "bad-api-version.yaml", `bad-api-version.yaml:1: DestinationRule reviews: apiVersion: unsupported apiVersion "networking.istio.io/v2", expected networking.istio.io/v1alpha3, v1beta1 or v1`},
		{"other namespace", "bad-namespace.yaml", `bad-namespace.yaml:5: DestinationRule reviews: metadata.namespace: namespace "prod" is not supported, expected "default" (the local mesh has one namespace)`},
		{"missing name", "bad-missing-name.yaml", `bad-missing-name.yaml:3: DestinationRule: metadata.name: missing name, expected a lower-case DNS-1123 name`},
		{"unknown field", "bad-unknown-field.yaml", `bad-unknown-field.yaml:9: VirtualService reviews: spec.http[0].routes: unknown field "routes", expected one of name, match, route, timeout, retries, fault, mirror, mirrorPercentage`},
		{"snake_case field", "bad-snake-case-field.yaml", `bad-snake-case-field.yaml:14: VirtualService reviews: spec.http[0].mirror_percentage: unknown field "mirror_percentage", expected "mirrorPercentage" (field names are camelCase)`},
		{"wrong type", "bad-weight-type.yaml", `bad-weight-type.yaml:12: VirtualService reviews: spec.http[0].route[0].weight: got "fifty", expected a 32-bit integer`},
		{"unquoted label", "bad-label-type.yaml", `bad-label-type.yaml:10: DestinationRule reviews: spec.subsets[0].labels[version]: got 1.0, expected a string (quote it)`},
		{"bad enum", "bad-tls-mode.yaml", `bad-tls-mode.yaml:9: DestinationRule reviews: spec.trafficPolicy.tls.mode: got "STRICT", expected one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL`},
		{"unsupported corsPolicy", "bad-unsupported-cors.yaml", `bad-unsupported-cors.yaml:12: VirtualService ratings: spec.http[0].corsPolicy: field not supported by the local mesh`},
		{"unsupported tcp", "bad-unsupported-tcp.yaml", `bad-unsupported-tcp.yaml:12: VirtualService details: spec.tcp: field not supported by the local mesh`},
		{"unsupported delay.percent", "bad-unsupported-delay-percent.yaml", `bad-unsupported-delay-percent.yaml:11: VirtualService ratings: spec.http[0].fault.delay.percent: field not supported by the local mesh`},
		{"unsupported in List item", "bad-list-item.yaml", `bad-list-item.yaml:22: DestinationRule ratings: spec.exportTo: field not supported by the local mesh`},
		{"weights sum to 90", "bad-weights-sum.yaml", `bad-weights-sum.yaml:24: VirtualService reviews: spec.http[0].route: weights sum to 90, expected 100`},
		{"weight out of range", "bad-negative-weight.yaml", `bad-negative-weight.yaml:13: VirtualService reviews: spec.http[0].route[0].weight: weight 110 is out of range, expected 0 to 100`},
		{"unknown subset", "bad-unknown-subset.yaml", `bad-unknown-subset.yaml:18: VirtualService reviews: spec.http[0].route[0].destination.subset: unknown subset v4 for host reviews: DestinationRule reviews defines v1, v2, v3`},
		{"subset without rule", "bad-subset-without-rule.yaml", `bad-subset-without-rule.yaml:1: VirtualService ratings: spec.http[0].route[0].destination.subset: unknown subset v1 for host ratings: no DestinationRule for host ratings`},
		{"unknown destination host", "bad-unknown-host.yaml", `bad-unknown-host.yaml:11: VirtualService reviews: spec.http[0].route[0].destination.host: unknown host "reviewz", expected one of details, productpage, ratings, reviews (short or <name>.default.svc.cluster.local)`},
		{"unknown VS host", "bad-unknown-vs-host.yaml", `bad-unknown-vs-host.yaml:7: VirtualService shop: spec.hosts[0]: unknown host "shop.example.com", expected one of details, productpage, ratings, reviews (short or <name>.default.svc.cluster.local); other hosts need gateways: naming a Gateway`},
		{"duplicate VS for a host", "bad-duplicate-vs.yaml", `bad-duplicate-vs.yaml:1: VirtualService reviews: spec.hosts[0]: host reviews is already routed by VirtualService reviews-canary (bad-duplicate-vs.yaml:13), expected one VirtualService per host`},
		{"unknown gateway", "bad-unknown-gateway.yaml", `bad-unknown-gateway.yaml:1: VirtualService bookinfo: spec.gateways[0]: unknown gateway "bookinfo-gw", expected mesh or an applied Gateway (none applied)`},
		{"bad regex", "bad-regex.yaml", `bad-regex.yaml:11: VirtualService productpage: spec.http[0].match[0].uri.regex: invalid regex "/api/v1/products/(\\d+": missing closing ), expected an RE2 regular expression`},
		{"two string matches", "bad-string-match-oneof.yaml", `bad-string-match-oneof.yaml:12: VirtualService productpage: spec.http[0].match[0].uri.prefix: exact and prefix are mutually exclusive, expected exactly one of exact, prefix, regex`},
		{"empty string match", "bad-empty-string-match.yaml", `bad-empty-string-match.yaml:11: VirtualService reviews: spec.http[0].match[0].headers[end-user]: empty match, expected exactly one of exact, prefix or regex`},
		{"bad percentage", "bad-percentage.yaml", `bad-percentage.yaml:16: VirtualService ratings: spec.http[0].fault.abort.percentage.value: percentage 150 is out of range, expected 0 to 100`},
		{"bad abort status", "bad-http-status.yaml", `bad-http-status.yaml:13: VirtualService ratings: spec.http[0].fault.abort.httpStatus: httpStatus 42 is out of range, expected 200 to 599`},
		{"bad duration", "bad-duration.yaml", `bad-duration.yaml:12: VirtualService reviews: spec.http[0].timeout: got "10 seconds", expected a duration such as "10s", "1.5s" or "100ms"`},
		{"negative duration", "bad-negative-timeout.yaml", `bad-negative-timeout.yaml:14: VirtualService reviews: spec.http[0].retries.perTryTimeout: duration -2s is not positive, expected a duration greater than 0s`},
		{"bad retryOn", "bad-retry-on.yaml", `bad-retry-on.yaml:14: VirtualService ratings: spec.http[0].retries.retryOn: unknown retry condition "5xxx", expected a comma-separated list of 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, unavailable, cancelled, deadline-exceeded, resource-exhausted or HTTP status codes such as 503`},
		{"duplicate subset", "bad-duplicate-subset.yaml", `bad-duplicate-subset.yaml:11: DestinationRule reviews: spec.subsets[1].name: duplicate subset "v1" (also spec.subsets[0]), expected unique subset names`},
		{"subset without labels", "bad-subset-labels.yaml", `bad-subset-labels.yaml:8: DestinationRule reviews: spec.subsets[0].labels: missing labels, expected the pod labels of the subset such as version: v1`},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "manifests", "*.yaml"))
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.file] = true
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("testdata/manifests/%s has no row in this test", filepath.Base(f))
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "manifests", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			rs, err := ParseManifests(tc.file, data)
			if err == nil {
				_, _, err = (*Config)(nil).Apply(rs)
			}
			if err == nil {
				t.Fatalf("ParseManifests+Apply(%s) = nil error; want %q", tc.file, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("ParseManifests+Apply(%s) error:\n got %s\nwant %s", tc.file, got, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseManifests+Apply(%s) error %v does not wrap ErrInvalid", tc.file, err)
			}
		})
	}
}

const drReviews = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
`

const vsReviewsV1 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
`

// TestApplyFailureKeepsSnapshot checks that a failed Apply or Delete changes
// nothing: same resources, same routing.
func TestApplyFailureKeepsSnapshot(t *testing.T) {
	t.Parallel()
	base := mustApply(t, nil, mustParse(t, "base.yaml", drReviews+"---\n"+vsReviewsV1))
	before := base.Resources()
	v3 := mustParse(t, "v3.yaml", strings.Replace(vsReviewsV1, "subset: v1", "subset: v3", 1))
	bad := mustParse(t, "bad.yaml", strings.Replace(strings.Replace(vsReviewsV1, "subset: v1", "subset: v4", 1), "name: reviews", "name: ratings", 1))
	bad[0].VirtualService.Hosts = []string{"ratings"}
	bad[0].VirtualService.Http[0].Route[0].Destination.Host = "ratings"
	absent := mustParse(t, "absent.yaml", strings.Replace(vsReviewsV1, "name: reviews", "name: ghost", 1))

	tests := []struct {
		name string
		op   func() (*Config, []Change, error)
		want string
	}{
		{"apply valid then invalid", func() (*Config, []Change, error) { return base.Apply(append(v3, bad...)) },
			"bad.yaml:1: VirtualService ratings: spec.http[0].route[0].destination.subset: unknown subset v4 for host ratings: no DestinationRule for host ratings"},
		{"delete present then absent", func() (*Config, []Change, error) { return base.Delete(append(v3, absent...)) },
			`absent.yaml:1: VirtualService ghost: virtualservices.networking.istio.io "ghost" not found, expected an applied resource (nothing was deleted)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, changes, err := tc.op()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v; want %s", err, tc.want)
			}
			if got != base || changes != nil {
				t.Errorf("returned (%p, %v); want the receiver %p and no changes", got, changes, base)
			}
			if diff := cmp.Diff(before, base.Resources(), protocmp.Transform()); diff != "" {
				t.Errorf("Resources() changed after failed operation (-before +after):\n%s", diff)
			}
			d := base.Routes().Route("", Request{Host: "reviews"}, nil)
			if d.Target.Subset != "v1" {
				t.Errorf("Route(reviews).Target.Subset = %q after failed operation; want v1", d.Target.Subset)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	dr := mustParse(t, "dr.yaml", drReviews)
	cfg := mustApply(t, nil, append(dr, mustParse(t, "vs.yaml", vsReviewsV1)...))
	next, changes, err := cfg.Delete(dr)
	if err != nil {
		t.Fatalf("Delete(dr) error: %v", err)
	}
	if got, want := changes, []Change{{Kind: "DestinationRule", Name: "reviews", Action: "deleted"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Delete(dr) changes = %v; want %v", got, want)
	}
	if got, want := len(next.Resources()), 1; got != want {
		t.Errorf("len(Resources()) after Delete = %d; want %d", got, want)
	}
	// The VirtualService now names a subset nobody defines: no pod matches.
	got := next.Routes().Route("", Request{Host: "reviews"}, nil).Target
	want := Target{Service: "reviews", Subset: "v1", Labels: map[string]string{MissingSubsetLabel: "v1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Route after deleting the DestinationRule mismatch (-want +got):\n%s", diff)
	}
	if _, _, err := next.Delete(dr); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete(dr) error = %v; want ErrNotFound", err)
	}
}

// TestDeleteGateway checks that routes bound to a deleted Gateway stop
// routing while mesh routing is unaffected.
func TestDeleteGateway(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, "gw.yaml", routingCases)
	cfg := mustApply(t, nil, rs)
	next, _, err := cfg.Delete(rs[:1])
	if err != nil {
		t.Fatalf("Delete(gateway) error: %v", err)
	}
	if got := next.Routes().Route("bookinfo-gateway", Request{Host: "shop.example.com", Path: "/details/0"}, nil); !got.NoRoute {
		t.Errorf("Route(bookinfo-gateway) after deleting the Gateway = %+v; want NoRoute", got)
	}
	if got := next.Routes().Route("", Request{Host: "ratings", Path: "/ratings/0"}, nil); got.Route != "VirtualService ratings, http[0]" {
		t.Errorf("Route(ratings) after deleting the Gateway = %+v; want VirtualService ratings, http[0]", got)
	}
}

// TestParseManifestsProtoError checks the fallback that maps a protojson error's offset to
// the field path and line.
func TestParseManifestsProtoError(t *testing.T) {
	t.Parallel()
	d := &docInfo{file: "x.yaml", line: 1, kind: "VirtualService", name: "reviews", lines: map[string]int{"spec.http[0].timeout": 9}}
	e := &specEncoder{doc: d, marks: []jsonMark{{0, "spec"}, {1, "spec.http"}, {9, "spec.http[0]"}, {10, "spec.http[0].timeout"}}}
	err := e.protoError(errors.New("proto:\u00a0(line 1:21): invalid google.protobuf.Duration value \"5x\""))
	want := `x.yaml:9: VirtualService reviews: spec.http[0].timeout: invalid google.protobuf.Duration value "5x", expected a valid Istio VirtualService`
	if err.Error() != want {
		t.Errorf("protoError() = %s; want %s", err, want)
	}
}

func TestConfigChangeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ch   Change
		want string
	}{
		{Change{Kind: "VirtualService", Name: "reviews", Action: "configured"}, "virtualservice.networking.istio.io/reviews configured"},
		{Change{Kind: "DestinationRule", Name: "reviews", Action: "created"}, "destinationrule.networking.istio.io/reviews created"},
		{Change{Kind: "Gateway", Name: "bookinfo-gateway", Action: "unchanged"}, "gateway.networking.istio.io/bookinfo-gateway unchanged"},
		{Change{Kind: "VirtualService", Name: "reviews", Action: "deleted"}, `virtualservice.networking.istio.io "reviews" deleted`},
		{Change{Kind: "Gateway", Group: GroupGatewayAPI, Name: "bookinfo-gateway", Action: "created"}, "gateway.gateway.networking.k8s.io/bookinfo-gateway created"},
		{Change{Kind: "HTTPRoute", Group: GroupGatewayAPI, Name: "reviews", Action: "deleted"}, `httproute.gateway.networking.k8s.io "reviews" deleted`},
		{Change{Kind: "Service", Name: "reviews-v1", Action: "configured"}, "service/reviews-v1 configured"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := tc.ch.String(); got != tc.want {
				t.Errorf("%#v.String() = %q; want %q", tc.ch, got, tc.want)
			}
		})
	}
}

// TestApplyHandMade checks that Apply validates Resources that did not come
// from ParseManifests.
func TestApplyHandMade(t *testing.T) {
	t.Parallel()
	vs := func(mod func(*v1alpha3.VirtualService)) *v1alpha3.VirtualService {
		v := &v1alpha3.VirtualService{Hosts: []string{"reviews"}, Http: []*v1alpha3.HTTPRoute{{
			Route: []*v1alpha3.HTTPRouteDestination{{Destination: &v1alpha3.Destination{Host: "reviews"}}}}}}
		mod(v)
		return v
	}
	tests := []struct {
		name string
		r    Resource
		want string
	}{
		{"unsupported field", Resource{Kind: "VirtualService", Name: "reviews", VirtualService: vs(func(v *v1alpha3.VirtualService) {
			v.Http[0].CorsPolicy = &v1alpha3.CorsPolicy{AllowMethods: []string{"GET"}}
		})}, "VirtualService reviews: spec.http[0].corsPolicy: field not supported by the local mesh"},
		{"unsupported header field", Resource{Kind: "VirtualService", Name: "reviews", Source: "api:3", VirtualService: vs(func(v *v1alpha3.VirtualService) {
			v.Http[0].Match = []*v1alpha3.HTTPMatchRequest{{Method: &v1alpha3.StringMatch{MatchType: &v1alpha3.StringMatch_Exact{Exact: "GET"}}}}
		})}, "api:3: VirtualService reviews: spec.http[0].match[0].method: field not supported by the local mesh"},
		{"missing spec", Resource{Kind: "Gateway", Name: "gw"}, "Gateway gw: spec: missing or extra spec, expected exactly the Resource.Gateway field set"},
		{"unknown kind", Resource{Kind: "Sidecar", Name: "x"}, `Sidecar x: kind: unsupported kind "Sidecar", expected VirtualService, DestinationRule or Gateway (apiVersion networking.istio.io/v1alpha3, v1beta1 or v1), Gateway or HTTPRoute (gateway.networking.k8s.io/v1), Service or Namespace (v1)`},
		{"bad name", Resource{Kind: "VirtualService", Name: "Reviews", VirtualService: vs(func(*v1alpha3.VirtualService) {})},
			`VirtualService Reviews: metadata.name: invalid name "Reviews", expected a lower-case DNS-1123 name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := (*Config)(nil).Apply([]Resource{tc.r})
			if err == nil || err.Error() != tc.want {
				t.Errorf("Apply() error = %v; want %s", err, tc.want)
			}
		})
	}
}

// TestConfigIsolation checks that snapshots share no mutable state with callers.
func TestConfigIsolation(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, "vs.yaml", drReviews+"---\n"+vsReviewsV1)
	cfg := mustApply(t, nil, rs)
	rs[1].VirtualService.Hosts[0] = "ratings"
	cfg.Resources()[1].VirtualService.Hosts[0] = "details"
	if got := cfg.Resources()[1].VirtualService.GetHosts()[0]; got != "reviews" {
		t.Errorf("stored host = %q after caller mutations; want reviews", got)
	}
}

// FuzzParseManifests: no panic; an error is one non-empty line naming the
// file; success yields resources of a supported kind; parsing is
// deterministic; and what parses applies (or fails) without panicking.
func FuzzParseManifests(f *testing.F) {
	for _, pattern := range []string{filepath.Join("..", "..", "..", "shared", "seed-manifests", "*.yaml"),
		filepath.Join("..", "..", "..", "shared", "gateway-api-manifests", "*.yaml"), filepath.Join("testdata", "manifests", "*.yaml")} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	for _, s := range []string{"", "---", "\x00", "a: &a [*a, *a]", drReviews + "---\n" + vsReviewsV1,
		"apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(drReviews, "\n", "\n  "),
		"a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\ne: [*d, *d]\n",
		strings.Repeat("[", 200), "\xff\xfe", "kind: VirtualService\nspec: {http: [{timeout: 1h}]}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseManifests("fuzz.yaml", data)
		rs2, err2 := ParseManifests("fuzz.yaml", data)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("ParseManifests not deterministic: %v vs %v", err, err2)
		}
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "fuzz.yaml:") || strings.ContainsAny(msg, "\n\r") || !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseManifests error %q: want one line starting with fuzz.yaml: and wrapping ErrInvalid", msg)
			}
			return
		}
		if len(rs) == 0 || len(rs) != len(rs2) {
			t.Fatalf("ParseManifests = %d resources (then %d), nil error", len(rs), len(rs2))
		}
		for i := range rs {
			if !sameSpec(rs[i], rs2[i]) || summarize(rs[i : i+1])[0] != summarize(rs2[i : i+1])[0] {
				t.Fatalf("ParseManifests not deterministic at resource %d", i)
			}
		}
		cfg, _, err := (*Config)(nil).Apply(rs)
		if err != nil {
			return
		}
		cfg.Routes().Route("", Request{Host: "reviews", Path: "/"}, nil)
		cfg.Routes().Route("bookinfo-gateway", Request{Host: "x", Path: "/productpage"}, nil)
	})
}
