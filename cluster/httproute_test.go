package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canary-gate/canary/cluster"
	"github.com/canary-gate/canary/internal/sharedtest"
	"k8s.io/apimachinery/pkg/util/yaml"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func httpRoute(t *testing.T, doc string) *gatewayv1.HTTPRoute {
	t.Helper()
	var r gatewayv1.HTTPRoute
	if err := yaml.UnmarshalStrict([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

const routeHead = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: reviews, namespace: default}\nspec:\n  parentRefs: [{group: \"\", kind: Service, name: reviews, port: 9080}]\n  rules:\n"

// TestHTTPRouteSplit: relative weights (default 1) as percents; routes
// that match on the request and fields canary does not model are refused
// by name, not ignored.
func TestHTTPRouteSplit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, rules string
		want        []cluster.Backend
		err         string
	}{
		{"90/10", "  - backendRefs: [{name: reviews-v1, port: 9080, weight: 90}, {name: reviews-v2, port: 9080, weight: 10}]\n",
			[]cluster.Backend{{"reviews-v1", 90}, {"reviews-v2", 10}}, ""},
		{"default weights", "  - backendRefs: [{name: reviews-v1, port: 9080}, {name: reviews-v3, port: 9080}]\n",
			[]cluster.Backend{{"reviews-v1", 50}, {"reviews-v3", 50}}, ""},
		{"relative weights", "  - backendRefs: [{name: reviews-v1, port: 9080, weight: 1}, {name: reviews-v3, port: 9080, weight: 3}]\n",
			[]cluster.Backend{{"reviews-v1", 25}, {"reviews-v3", 75}}, ""},
		{"catch-all match", "  - matches: [{path: {type: PathPrefix, value: /}}]\n    backendRefs: [{name: reviews-v3, port: 9080}]\n",
			[]cluster.Backend{{"reviews-v3", 100}}, ""},
		{"header match", "  - matches: [{headers: [{name: end-user, value: jason}]}]\n    backendRefs: [{name: reviews-v2, port: 9080}]\n  - backendRefs: [{name: reviews-v1, port: 9080}]\n",
			nil, "routes by match (2 rules)"},
		{"filters", "  - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: x, value: y}]}}]\n    backendRefs: [{name: reviews-v1, port: 9080}]\n",
			nil, "spec.rules[0].filters is not supported"},
		{"all weights 0", "  - backendRefs: [{name: reviews-v1, port: 9080, weight: 0}]\n", nil, "every backend has weight 0"},
		{"no backends", "  - {}\n", nil, "has no backendRefs"},
		{"another kind", "  - backendRefs: [{group: example.com, kind: Bucket, name: b}]\n", nil, `group "example.com" is not supported`},
	} {
		got, err := cluster.HTTPRouteSplit(httpRoute(t, routeHead+c.rules))
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, %v; want error %q", c.name, got, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case len(got) != len(c.want) || got[0] != c.want[0] || got[len(got)-1] != c.want[len(c.want)-1]:
			t.Errorf("%s: %v; want %v", c.name, got, c.want)
		}
	}
}

// TestExpectFromHTTPRoute: on the lab's real API server with the Gateway
// API's CRDs, Istio's own Gateway API samples applied with kubectl give
// the split of each stage, the backend Services resolved to their pods'
// version; a VirtualService beside the HTTPRoute is refused, not guessed.
func TestExpectFromHTTPRoute(t *testing.T) {
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	e := start(t)
	ctx := context.Background()
	apply := func(file string) {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		e.kubectl(t, string(b), "apply", "-f", "-")
	}
	apply("bookinfo-versions.yaml")
	for _, c := range []struct{ file, want string }{
		{"route-reviews-v1.yaml", "v1=100"},
		{"route-reviews-90-10.yaml", "v1=90,v2=10"},
		{"route-reviews-50-v3.yaml", "v1=50,v3=50"},
		{"route-reviews-v3.yaml", "v3=100"},
	} {
		apply(c.file)
		got, err := e.cl.Expect(ctx, "reviews", "default", "")
		if err != nil || got.Expect != c.want || !strings.Contains(got.Why, "HTTPRoute default/reviews") || !strings.Contains(got.Why, "→version=") {
			t.Errorf("%s: Expect = %+v, %v; want %s from the HTTPRoute", c.file, got, err, c.want)
		}
		checks, err := e.cl.Preflight(ctx, "reviews", "default", "istio-system", "istio-ingressgateway")
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range checks {
			if ch.Name == "routing" && (!ch.OK || !strings.Contains(ch.Detail, "HTTPRoute default/reviews routes reviews")) {
				t.Errorf("%s: routing check %+v; want OK naming the HTTPRoute", c.file, ch)
			}
		}
	}
	e.kubectl(t, rules+"---\n"+split5050, "apply", "-f", "-")
	if got, err := e.cl.Expect(ctx, "reviews", "default", ""); err == nil || !strings.Contains(err.Error(), "routed by VirtualService reviews and by HTTPRoute reviews") {
		t.Errorf("VirtualService and HTTPRoute: Expect = %+v, %v; want a refusal naming both", got, err)
	}
	checks, err := e.cl.Preflight(ctx, "reviews", "default", "istio-system", "istio-ingressgateway")
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range checks {
		if ch.Name == "routing" && (ch.OK || !strings.Contains(ch.Detail, "VirtualService default/reviews and by HTTPRoute default/reviews")) {
			t.Errorf("routing check %+v; want a finding naming both", ch)
		}
	}
	if got, err := e.cl.Expect(ctx, "reviews", "default", "reviews"); err != nil || got.Expect != "v1=50,v3=50" {
		t.Errorf("--expect-from vs/reviews beside an HTTPRoute: %+v, %v; want the named VirtualService's v1=50,v3=50", got, err)
	}
}
