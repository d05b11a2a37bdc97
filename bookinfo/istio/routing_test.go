package istio

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seedTable applies seed manifests, in order, to an empty snapshot.
func seedTable(t testing.TB, files ...string) *Table {
	t.Helper()
	var cfg *Config
	for _, f := range files {
		cfg = mustApply(t, cfg, readSeed(t, f))
	}
	return cfg.Routes()
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// TestRouteStatistics draws 10,000 decisions with a seeded generator and
// checks each version's share within five binomial standard deviations.
func TestRouteStatistics(t *testing.T) {
	t.Parallel()
	const dr = "destination-rule-all.yaml"
	reviews := Request{Host: "reviews", Path: "/reviews/0"}
	jason := Request{Host: "reviews", Path: "/reviews/0", Header: header("end-user", "jason")}
	mary := Request{Host: "reviews", Path: "/reviews/0", Header: header("end-user", "mary")}
	tests := []struct {
		name  string
		files []string
		req   Request
		want  map[string]float64 // subset → share; "" = default routing
	}{
		{"no VirtualService", []string{dr}, reviews, map[string]float64{"": 1}},
		{"all v1", []string{dr, "virtual-service-all-v1.yaml"}, reviews, map[string]float64{"v1": 1}},
		{"50-50", []string{dr, "virtual-service-reviews-50-50.yaml"}, reviews, map[string]float64{"v1": 0.5, "v3": 0.5}},
		{"90-10", []string{dr, "virtual-service-reviews-90-10.yaml"}, reviews, map[string]float64{"v1": 0.9, "v2": 0.1}},
		{"v3", []string{dr, "virtual-service-reviews-v3.yaml"}, reviews, map[string]float64{"v3": 1}},
		{"jason to v2", []string{dr, "virtual-service-reviews-jason-v2.yaml"}, jason, map[string]float64{"v2": 1}},
		{"other user to v1", []string{dr, "virtual-service-reviews-jason-v2.yaml"}, mary, map[string]float64{"v1": 1}},
		{"anonymous to v1", []string{dr, "virtual-service-reviews-jason-v2.yaml"}, reviews, map[string]float64{"v1": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			table := seedTable(t, tc.files...)
			const n = 10000
			rnd := rand.New(rand.NewPCG(1, 2))
			counts := map[string]int{}
			for range n {
				d := table.Route("", tc.req, rnd)
				counts[d.Target.Subset]++
				var wantLabels map[string]string
				if d.Target.Subset != "" {
					wantLabels = map[string]string{"version": d.Target.Subset}
				}
				if d.Target.Service != "reviews" || !cmp.Equal(d.Target.Labels, wantLabels) {
					t.Fatalf("Route(%v).Target = %+v; want reviews with labels %v", tc.req, d.Target, wantLabels)
				}
			}
			checkShares(t, "subset", counts, tc.want, n)
		})
	}
}

// checkShares checks counts of n draws against the wanted shares, within 5
// standard deviations of a binomial draw.
func checkShares(t *testing.T, what string, counts map[string]int, want map[string]float64, n int) {
	t.Helper()
	for k, got := range counts {
		p, ok := want[k]
		if !ok {
			t.Errorf("%s %q got %d of %d requests; want none", what, k, got, n)
			continue
		}
		bound := 5 * math.Sqrt(float64(n)*p*(1-p))
		if math.Abs(float64(got)-float64(n)*p) > bound {
			t.Errorf("%s %q got %d of %d requests; want %.0f ± %.0f", what, k, got, n, float64(n)*p, bound)
		}
	}
}

func TestRouteMirrorAndFaults(t *testing.T) {
	t.Parallel()
	const dr = "destination-rule-all.yaml"
	v1 := func(svc string) Target {
		return Target{Service: svc, Subset: "v1", Labels: map[string]string{"version": "v1"}}
	}
	tests := []struct {
		name string
		file string
		req  Request
		want Decision
	}{
		{"mirror to v2", "virtual-service-mirroring.yaml", Request{Host: "reviews"}, Decision{Target: v1("reviews"),
			Mirror: &Target{Service: "reviews", Subset: "v2", Labels: map[string]string{"version": "v2"}}, Route: "VirtualService reviews, http[0]"}},
		{"abort for jason", "virtual-service-ratings-abort-jason.yaml", Request{Host: "ratings", Header: header("end-user", "jason")},
			Decision{Target: v1("ratings"), AbortStatus: 500, Route: "VirtualService ratings, http[0]"}},
		{"no abort for others", "virtual-service-ratings-abort-jason.yaml", Request{Host: "ratings", Header: header("end-user", "mary")},
			Decision{Target: v1("ratings"), Route: "VirtualService ratings, http[1]"}},
		{"no abort without user", "virtual-service-ratings-abort-jason.yaml", Request{Host: "ratings"},
			Decision{Target: v1("ratings"), Route: "VirtualService ratings, http[1]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			table := seedTable(t, dr, tc.file)
			rnd := rand.New(rand.NewPCG(3, 4))
			for range 1000 {
				got := table.Route("", tc.req, rnd)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Fatalf("Route(%+v) mismatch (-want +got):\n%s", tc.req, diff)
				}
			}
		})
	}
}

func TestRouteIngress(t *testing.T) {
	t.Parallel()
	table := seedTable(t, "bookinfo-gateway.yaml")
	productpage := Decision{Target: Target{Service: "productpage"}, Route: "VirtualService bookinfo, http[0]"}
	tests := []struct {
		path string
		want Decision
	}{
		{"/productpage", productpage},
		{"/static/x", productpage},
		{"/login", productpage},
		{"/logout", productpage},
		{"/api/v1/products/0", productpage},
		{"/", Decision{NoRoute: true}},
		{"/foo", Decision{NoRoute: true}},
		{"/productpagex", Decision{NoRoute: true}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			got := table.Route("bookinfo-gateway", Request{Host: "10.24.2.5:22092", Path: tc.path}, nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Route(bookinfo-gateway, %s) mismatch (-want +got):\n%s", tc.path, diff)
			}
		})
	}
}

const routingCases = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a-shop}
spec:
  hosts: ["shop.example.com"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {prefix: /details}}]
    route: [{destination: {host: details}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b-catch-all}
spec:
  hosts: ["*.example.com"]
  gateways: [default/bookinfo-gateway]
  http:
  - route: [{destination: {host: productpage}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings.default.svc.cluster.local]
  gateways: [mesh, bookinfo-gateway]
  http:
  - name: api
    match:
    - uri: {regex: '/ratings/\d+'}
      headers: {x-canary: {prefix: "yes"}}
    - uri: {exact: /RATINGS/0}
      ignoreUriCase: true
    route: [{destination: {host: ratings}}]
    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx, 503"}
    fault:
      delay: {fixedDelay: 2s, percentage: {value: 100}}
      abort: {httpStatus: 503}
`

// TestRouteSemantics covers the matching rules on self-contained manifests.
func TestRouteSemantics(t *testing.T) {
	t.Parallel()
	table := mustApply(t, nil, mustParse(t, "cases.yaml", routingCases)).Routes()
	ratings := Decision{Target: Target{Service: "ratings"}, Route: "VirtualService ratings, http[0]", Timeout: 3 * time.Second,
		Delay: 2 * time.Second, Retries: RetryPolicy{Attempts: 3, PerTryTimeout: 500 * time.Millisecond, RetryOn: []string{"5xx", "503"}}}
	lowerCase := http.Header{"x-canary": {"yes-please"}} // not canonicalised
	tests := []struct {
		name    string
		gateway string
		req     Request
		want    Decision
	}{
		{"regex and header", "", Request{Host: "ratings", Path: "/ratings/12", Header: header("X-Canary", "yes")}, ratings},
		{"header key not canonical", "", Request{Host: "ratings", Path: "/ratings/12", Header: lowerCase}, ratings},
		{"regex is a full match", "", Request{Host: "ratings", Path: "/ratings/12/x", Header: header("x-canary", "yes")}, Decision{NoRoute: true}},
		{"header absent", "", Request{Host: "ratings", Path: "/ratings/12"}, Decision{NoRoute: true}},
		{"header prefix mismatch", "", Request{Host: "ratings", Path: "/ratings/12", Header: header("x-canary", "no")}, Decision{NoRoute: true}},
		{"ignoreUriCase", "", Request{Host: "ratings", Path: "/ratings/0"}, ratings},
		{"FQDN host with port", "", Request{Host: "ratings.default.svc.cluster.local:9080", Path: "/ratings/0"}, ratings},
		{"no VirtualService", "", Request{Host: "details", Path: "/details/0"}, Decision{Target: Target{Service: "details"}}},
		{"gateway: first VS by name", "bookinfo-gateway", Request{Host: "shop.example.com", Path: "/details/0"},
			Decision{Target: Target{Service: "details"}, Route: "VirtualService a-shop, http[0]"}},
		{"gateway: merged routes", "bookinfo-gateway", Request{Host: "SHOP.example.com:8080", Path: "/other"},
			Decision{Target: Target{Service: "productpage"}, Route: "VirtualService b-catch-all, http[0]"}},
		{"gateway: wildcard host", "bookinfo-gateway", Request{Host: "www.example.com", Path: "/details/0"},
			Decision{Target: Target{Service: "productpage"}, Route: "VirtualService b-catch-all, http[0]"}},
		{"gateway: mesh VS bound too", "bookinfo-gateway", Request{Host: "ratings.default.svc.cluster.local", Path: "/ratings/0"}, ratings},
		{"gateway: no host matches", "bookinfo-gateway", Request{Host: "example.org", Path: "/"}, Decision{NoRoute: true}},
		{"unknown gateway", "other-gateway", Request{Host: "shop.example.com", Path: "/"}, Decision{NoRoute: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := table.Route(tc.gateway, tc.req, rand.New(rand.NewPCG(5, 6)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Route(%q, %+v) mismatch (-want +got):\n%s", tc.gateway, tc.req, diff)
			}
		})
	}
}

// TestRouteConcurrent shares one table and the global generator among
// goroutines; run it with -race.
func TestRouteConcurrent(t *testing.T) {
	t.Parallel()
	table := benchTable(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, tc := range routeCases {
				for range 200 {
					if d := table.Route(tc.gateway, tc.req, nil); d.NoRoute {
						t.Errorf("Route(%s) = NoRoute; want a target", tc.name)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestRouteNilTable(t *testing.T) {
	t.Parallel()
	for _, table := range []*Table{nil, (*Config)(nil).Routes()} {
		if got, want := table.Route("", Request{Host: "reviews"}, nil), (Decision{Target: Target{Service: "reviews"}}); !cmp.Equal(got, want) {
			t.Errorf("Route(reviews) on empty table = %+v; want %+v", got, want)
		}
		if got := table.Route("bookinfo-gateway", Request{Host: "x", Path: "/productpage"}, nil); !got.NoRoute {
			t.Errorf("Route(bookinfo-gateway) on empty table = %+v; want NoRoute", got)
		}
	}
}

const benchReviews = drReviews + `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 50
    - destination:
        host: reviews
        subset: v3
      weight: 50
`

// routeCases are shared by the allocation test and the benchmark.
var routeCases = []struct {
	name    string
	gateway string
	req     Request
}{
	{"weighted", "", Request{Host: "reviews", Path: "/reviews/0", Header: http.Header{"X-Request-Id": {"1"}}}},
	{"header", "", Request{Host: "reviews", Path: "/reviews/0", Header: http.Header{"End-User": {"jason"}}}},
	{"default", "", Request{Host: "details", Path: "/details/0"}},
	{"ingress", "bookinfo-gateway", Request{Host: "localhost:8080", Path: "/api/v1/products/0"}},
}

func benchTable(t testing.TB) *Table {
	t.Helper()
	rs := mustParse(t, "bench.yaml", benchReviews)
	rs = append(rs, mustParse(t, "gw.yaml", strings.SplitN(routingCases, "---\n", 2)[0]+`---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {exact: /productpage}}, {uri: {prefix: /static}}, {uri: {exact: /login}}, {uri: {exact: /logout}}, {uri: {prefix: /api/v1/products}}]
    route: [{destination: {host: productpage, port: {number: 9080}}}]
`)...)
	return mustApply(t, nil, rs).Routes()
}

// TestRouteAllocs is not parallel: testing.AllocsPerRun forbids it.
func TestRouteAllocs(t *testing.T) {
	table := benchTable(t)
	rnd := rand.New(rand.NewPCG(7, 8))
	for _, tc := range routeCases {
		if got := testing.AllocsPerRun(100, func() { table.Route(tc.gateway, tc.req, rnd) }); got != 0 {
			t.Errorf("Route(%s) allocates %v times per call; want 0", tc.name, got)
		}
	}
}

func BenchmarkRoute(b *testing.B) {
	table := benchTable(b)
	for _, tc := range routeCases {
		b.Run(tc.name, func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(7, 8))
			b.ReportAllocs()
			for b.Loop() {
				table.Route(tc.gateway, tc.req, rnd)
			}
		})
	}
}
