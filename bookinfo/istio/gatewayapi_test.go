package istio

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/canary-gate/canary/internal/sharedtest"
)

// gatewayAPITable applies files of shared/gateway-api-manifests in order,
// as the walkthrough's Gateway API twin does with kubectl apply.
func gatewayAPITable(t *testing.T, files ...string) (*Config, []Change) {
	t.Helper()
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	var cfg *Config
	var all []Change
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		rs, err := ParseManifests(f, data)
		if err != nil {
			t.Fatalf("ParseManifests(%s): %v", f, err)
		}
		next, changes, err := cfg.Apply(rs)
		if err != nil {
			t.Fatalf("Apply(%s): %v", f, err)
		}
		cfg, all = next, append(all, changes...)
	}
	return cfg, all
}

// TestGatewayAPIRouteStatistics: Istio's Gateway API samples, applied in
// the walkthrough's order, split reviews by the HTTPRoute's weights over
// the version Services, and each decision names the backend Service (what
// Istio's telemetry reports as destination_service_name) and its pods.
func TestGatewayAPIRouteStatistics(t *testing.T) {
	t.Parallel()
	base := []string{"bookinfo-gateway.yaml", "bookinfo-versions.yaml"}
	tests := []struct {
		route string
		want  map[string]float64 // backend Service → share; "" = the Service itself
	}{
		{"", map[string]float64{"": 1}},
		{"route-all-v1.yaml", map[string]float64{"reviews-v1": 1}},
		{"route-reviews-v1.yaml", map[string]float64{"reviews-v1": 1}},
		{"route-reviews-90-10.yaml", map[string]float64{"reviews-v1": 0.9, "reviews-v2": 0.1}},
		{"route-reviews-50-v3.yaml", map[string]float64{"reviews-v1": 0.5, "reviews-v3": 0.5}},
		{"route-reviews-v3.yaml", map[string]float64{"reviews-v3": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.route, func(t *testing.T) {
			t.Parallel()
			files := base
			if tc.route != "" {
				files = append(files[:len(files):len(files)], tc.route)
			}
			cfg, _ := gatewayAPITable(t, files...)
			table := cfg.Routes()
			const n = 10000
			rnd := rand.New(rand.NewPCG(1, 2))
			counts := map[string]int{}
			for range n {
				d := table.Route("", Request{Host: "reviews", Path: "/reviews/0"}, rnd)
				counts[d.Target.Backend]++
				if d.Target.Service != "reviews" {
					t.Fatalf("Route(reviews).Target = %+v; want pods of reviews", d.Target)
				}
				if b := d.Target.Backend; b != "" && d.Target.Labels["version"] != b[len("reviews-"):] {
					t.Fatalf("Route(reviews).Target = %+v; want the pods of version %s", d.Target, b[len("reviews-"):])
				}
			}
			checkShares(t, "backend", counts, tc.want, n)
		})
	}
}

// TestGatewayAPIIngress: the Gateway API Gateway routes by its HTTPRoute's
// matches, with Gateway API semantics (PathPrefix by whole segments), and
// leaves the Istio Gateway of the same name alone.
func TestGatewayAPIIngress(t *testing.T) {
	t.Parallel()
	cfg, changes := gatewayAPITable(t, "bookinfo-gateway.yaml", "bookinfo-versions.yaml", "route-all-v1.yaml")
	if got, want := changes[0].String(), "gateway.gateway.networking.k8s.io/bookinfo-gateway created"; got != want {
		t.Errorf("first change %q; want %q", got, want)
	}
	table := cfg.Routes()
	if got := table.K8sGateway(); got != "bookinfo-gateway" {
		t.Fatalf("K8sGateway() = %q; want bookinfo-gateway", got)
	}
	gw := GatewayKey("bookinfo-gateway")
	tests := []struct {
		path    string
		want    string // service, "" = no route
		backend string
	}{
		{"/productpage", "productpage", "productpage-v1"},
		{"/static/bootstrap.css", "productpage", "productpage-v1"},
		{"/static", "productpage", "productpage-v1"},
		{"/staticfiles", "", ""},
		{"/api/v1/products/0", "productpage", "productpage-v1"},
		{"/login", "productpage", "productpage-v1"},
		{"/productpage/x", "", ""},
		{"/", "", ""},
	}
	for _, tc := range tests {
		d := table.Route(gw, Request{Host: "127.0.0.1:8080", Path: tc.path}, nil)
		got := d.Target.Service
		if d.NoRoute {
			got = ""
		}
		if got != tc.want {
			t.Errorf("Gateway API gateway, %s: routed to %q (no route %v); want %q", tc.path, got, d.NoRoute, tc.want)
		}
		// The route to productpage names the Service productpage (the
		// backend), and the mesh route of productpage then sends to
		// productpage-v1 (route-all-v1.yaml).
		if tc.want != "" && d.Target.Backend != "" {
			t.Errorf("Gateway API gateway, %s: backend %q; want the Service productpage itself", tc.path, d.Target.Backend)
		}
		if tc.want != "" {
			if m := table.Route("", Request{Host: "productpage", Path: tc.path}, nil); m.Target.Backend != tc.backend {
				t.Errorf("mesh route of productpage: backend %q; want %q", m.Target.Backend, tc.backend)
			}
		}
	}
	if d := table.Route("bookinfo-gateway", Request{Host: "x", Path: "/productpage"}, nil); !d.NoRoute {
		t.Errorf("the Istio gateway bookinfo-gateway routed by the Gateway API's HTTPRoute: %+v", d)
	}
}

// TestGatewayAPISync: a cluster's control plane keeps what it can: an
// HTTPRoute for a Service a VirtualService routes is left out with the
// reason, and a backend Service that is gone answers as having no pods.
func TestGatewayAPISync(t *testing.T) {
	t.Parallel()
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	read := func(f string) []Resource {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return mustParse(t, f, string(data))
	}
	vs := mustParse(t, "vs.yaml", vsReviewsV1)
	route := read("route-reviews-50-v3.yaml")
	cfg, _, rejected := (*Config)(nil).Sync(append(vs, route...))
	if len(rejected) != 1 || rejected[0].Resource.Kind != "HTTPRoute" {
		t.Fatalf("Sync(VirtualService reviews, HTTPRoute reviews): rejected %v; want the HTTPRoute", rejected)
	}
	if want := "route-reviews-50-v3.yaml:1: HTTPRoute reviews: spec.parentRefs[0]: Service reviews is already routed by VirtualService reviews (vs.yaml:1), expected one route per Service (which wins is not defined)"; rejected[0].Err.Error() != want {
		t.Errorf("rejection: %v; want %s", rejected[0].Err, want)
	}
	if d := cfg.Routes().Route("", Request{Host: "reviews"}, nil); d.Target.Backend != "" {
		t.Errorf("reviews routed by %+v; want the VirtualService", d)
	}
	cfg, _, rejected = (*Config)(nil).Sync(route)
	if len(rejected) != 0 {
		t.Fatalf("Sync(route without its Services): rejected %v; want it kept", rejected)
	}
	d := cfg.Routes().Route("", Request{Host: "reviews"}, nil)
	if _, gone := d.Target.Labels[MissingSubsetLabel]; !gone {
		t.Errorf("route to absent Service reviews-v1: %+v; want no pods (503)", d.Target)
	}
}

// gatewayRoutes are three HTTPRoutes on one Gateway: a catch-all, an Exact
// path under a later name, and one for a hostname of its own.
const gatewayRoutes = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a-everything}
spec:
  parentRefs: [{name: bookinfo-gateway}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: details, port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b-page}
spec:
  parentRefs: [{name: bookinfo-gateway}]
  rules:
  - matches: [{path: {type: Exact, value: /productpage}}]
    backendRefs: [{name: productpage, port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: c-shop}
spec:
  parentRefs: [{name: bookinfo-gateway}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: ratings, port: 9080}]
`

// TestGatewayAPIPrecedenceAcrossRoutes: the API's match precedence holds
// across the HTTPRoutes of one Gateway, not route by route (an Exact path
// in a later route beats an earlier catch-all), and a hostname of its own
// is a virtual host of its own, as in Istio's Envoy: its unmatched paths
// answer 404 instead of falling through to the "*" routes.
func TestGatewayAPIPrecedenceAcrossRoutes(t *testing.T) {
	t.Parallel()
	cfg, _, err := (*Config)(nil).Apply(mustParse(t, "routes.yaml", gatewayRoutes))
	if err != nil {
		t.Fatal(err)
	}
	gw := GatewayKey("bookinfo-gateway")
	tests := []struct {
		host, path, want string // want "": no route
	}{
		{"127.0.0.1", "/productpage", "productpage"},
		{"127.0.0.1", "/productpage/x", "details"},
		{"127.0.0.1", "/api/v1", "details"},
		{"shop.example.com", "/api/v1", "ratings"},
		{"SHOP.example.com:80", "/api/v1", "ratings"},
		{"shop.example.com", "/productpage", ""},
	}
	for _, tc := range tests {
		d := cfg.Routes().Route(gw, Request{Host: tc.host, Path: tc.path}, nil)
		got := d.Target.Service
		if d.NoRoute {
			got = ""
		}
		if got != tc.want {
			t.Errorf("%s%s: routed to %q (%s); want %q", tc.host, tc.path, got, d.Route, tc.want)
		}
	}
}

// catchAll is an HTTPRoute on bookinfo-gateway sending every path to
// backend: two of them tie on every match.
func catchAll(name, backend string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ` + name + `}
spec:
  parentRefs: [{name: bookinfo-gateway}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: ` + backend + `, port: 9080}]
`
}

// TestGatewayAPITieBreakByAge: when two HTTPRoutes on one Gateway tie on
// precedence, the oldest wins and then the first by name, as the API says.
// Apply dates what it creates (one time per call) and keeps the date when a
// route is configured again; Sync takes the cluster's creation times.
func TestGatewayAPITieBreakByAge(t *testing.T) {
	t.Parallel()
	gateway := mustParse(t, "gateway.yaml", gatewayRoutes)[:1]
	older, newer := catchAll("z-older", "details"), catchAll("a-newer", "ratings")
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	synced := func(olderAt, newerAt time.Time) []Resource {
		o, n := mustParse(t, "older.yaml", older)[0], mustParse(t, "newer.yaml", newer)[0]
		o.Created, n.Created = olderAt, newerAt
		return append(slices.Clone(gateway), o, n)
	}
	tests := []struct {
		name  string
		steps func(t *testing.T) *Config
		want  string
	}{
		{"applied one after the other: the older wins despite its name", func(t *testing.T) *Config {
			cfg := mustApply(t, nil, gateway)
			cfg = mustApply(t, cfg, mustParse(t, "older.yaml", older))
			return mustApply(t, cfg, mustParse(t, "newer.yaml", newer))
		}, "details"},
		{"applied in one call: a tie, the first by name wins", func(t *testing.T) *Config {
			return mustApply(t, nil, append(slices.Clone(gateway), mustParse(t, "both.yaml", older+"---\n"+newer)...))
		}, "ratings"},
		{"the older configured again keeps its age", func(t *testing.T) *Config {
			cfg := mustApply(t, nil, gateway)
			cfg = mustApply(t, cfg, mustParse(t, "older.yaml", older))
			cfg = mustApply(t, cfg, mustParse(t, "newer.yaml", newer))
			return mustApply(t, cfg, mustParse(t, "older.yaml", catchAll("z-older", "reviews")))
		}, "reviews"},
		{"the older deleted and created again is the newer", func(t *testing.T) *Config {
			cfg := mustApply(t, nil, gateway)
			cfg = mustApply(t, cfg, mustParse(t, "older.yaml", older))
			cfg = mustApply(t, cfg, mustParse(t, "newer.yaml", newer))
			cfg, _, err := cfg.Delete(mustParse(t, "older.yaml", older))
			if err != nil {
				t.Fatal(err)
			}
			return mustApply(t, cfg, mustParse(t, "older.yaml", older))
		}, "ratings"},
		{"synced: the cluster's creation times decide", func(t *testing.T) *Config {
			cfg, _, rej := (*Config)(nil).Sync(synced(t0, t0.Add(time.Second)))
			if len(rej) > 0 {
				t.Fatal(rej)
			}
			return cfg
		}, "details"},
		{"synced within one second: the first by name", func(t *testing.T) *Config {
			cfg, _, rej := (*Config)(nil).Sync(synced(t0, t0))
			if len(rej) > 0 {
				t.Fatal(rej)
			}
			return cfg
		}, "ratings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.steps(t).Routes().Route(GatewayKey("bookinfo-gateway"), Request{Host: "127.0.0.1", Path: "/productpage"}, nil)
			if d.NoRoute || d.Target.Service != tc.want {
				t.Errorf("routed to %q (%s, no route %v); want %q", d.Target.Service, d.Route, d.NoRoute, tc.want)
			}
		})
	}
}
