package mesh

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/canary-gate/canary/bookinfo/app"
	"github.com/canary-gate/canary/bookinfo/internal/pagetest"
	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/internal/sharedtest"
)

// startTestMesh runs an in-process mesh on free ports with immediate config
// propagation, stopped when the test ends.
func startTestMesh(t testing.TB, markup app.Markup) *Mesh {
	t.Helper()
	return startMesh(t, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Markup: markup})
}

// startMesh is startTestMesh with every option given.
func startMesh(t testing.TB, o Options) *Mesh {
	t.Helper()
	m, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return m
}

func applyYAML(t testing.TB, m *Mesh, doc string) {
	t.Helper()
	rs, err := istio.ParseManifests("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(rs); err != nil {
		t.Fatal(err)
	}
}

func reviewsTo(subset string) string {
	return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: %s}
`, subset)
}

func scale(t testing.TB, m *Mesh, replicas int, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := m.Scale(n, replicas); err != nil {
			t.Fatal(err)
		}
	}
}

func fetch(t testing.TB, c *http.Client, u string) []byte {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return b
}

// meshStates drive a running mesh into the backend state of each fixture
// and return the page it then serves, fetched over real HTTP.
var meshStates = map[string]func(t *testing.T, m *Mesh) []byte{
	"index": func(t *testing.T, m *Mesh) []byte {
		// The gateway does not expose "/": ask productpage directly.
		return fetch(t, nil, "http://"+m.workloads["productpage-v1"].pod.Load().addr+"/")
	},
	"reviews-v1": func(t *testing.T, m *Mesh) []byte { return pageVia(t, m, "v1") },
	"reviews-v2": func(t *testing.T, m *Mesh) []byte { return pageVia(t, m, "v2") },
	"reviews-v3": func(t *testing.T, m *Mesh) []byte { return pageVia(t, m, "v3") },
	"ratings-unavailable-v2": func(t *testing.T, m *Mesh) []byte {
		scale(t, m, 0, "ratings-v1")
		return pageVia(t, m, "v2")
	},
	"ratings-unavailable-v3": func(t *testing.T, m *Mesh) []byte {
		scale(t, m, 0, "ratings-v1")
		return pageVia(t, m, "v3")
	},
	"reviews-unavailable": func(t *testing.T, m *Mesh) []byte {
		scale(t, m, 0, "reviews-v1", "reviews-v2", "reviews-v3")
		return fetch(t, nil, "http://"+m.Addr()+"/productpage")
	},
	"details-unavailable": func(t *testing.T, m *Mesh) []byte {
		scale(t, m, 0, "details-v1")
		return pageVia(t, m, "v1")
	},
	"v3-logged-in-jason": func(t *testing.T, m *Mesh) []byte {
		applyYAML(t, m, reviewsTo("v3"))
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm("http://"+m.Addr()+"/login", url.Values{"username": {"jason"}, "passwd": {"jason"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return fetch(t, c, "http://"+m.Addr()+"/productpage")
	},
}

func pageVia(t *testing.T, m *Mesh, subset string) []byte {
	applyYAML(t, m, reviewsTo(subset))
	return fetch(t, nil, "http://"+m.Addr()+"/productpage")
}

// renderMarkups are the markups the upstream fixtures come in, as in
// package app's render tests.
var renderMarkups = []app.Markup{app.MarkupCurrent, app.Markup122}

// fixtureDirs maps each markup to its folder under shared/fixtures.
var fixtureDirs = map[app.Markup]string{app.MarkupCurrent: "bookinfo", app.Markup122: "bookinfo-1.22"}

// TestMeshMatchesFixtures drives a mesh into each of the nine backend states
// of the upstream fixtures, in both markups, and checks that the page it
// serves agrees with the real app's page on every distinguishing feature.
func TestMeshMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, mk := range renderMarkups {
		for name, drive := range meshStates {
			t.Run(string(mk)+"/"+name, func(t *testing.T) {
				t.Parallel()
				fixture, err := os.ReadFile(sharedtest.Dir(t, "fixtures", fixtureDirs[mk], name+".html"))
				if err != nil {
					t.Fatal(err)
				}
				m := startTestMesh(t, mk)
				want, got := pagetest.PageFeatures(t, string(mk), fixture), pagetest.PageFeatures(t, string(mk), drive(t, m))
				pagetest.PodWorkloads(&want)
				pagetest.PodWorkloads(&got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("mesh page differs from fixture %s (-fixture +mesh):\n%s", name, diff)
				}
			})
		}
	}
}

// TestFaultDelayAndRetries checks the sidecar's fault delay, its response
// flags, and that a route's retries re-send to the same subset.
func TestFaultDelayAndRetries(t *testing.T) {
	t.Parallel()
	m := startTestMesh(t, app.MarkupCurrent)
	applyYAML(t, m, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: details
spec:
  hosts: [details]
  http:
  - fault:
      delay: {fixedDelay: 300ms, percentage: {value: 100}}
    route:
    - destination: {host: details, subset: v1}
`)
	start := time.Now()
	fetch(t, nil, "http://"+m.Addr()+"/productpage")
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("page with a 300ms delay on details took %v", d)
	}
	if got := countSeries(t, m, "productpage-v1", `destination_service_name="details"`, `response_flags="DI"`); got != 1 {
		t.Errorf("delayed details calls reported with DI = %v, want 1", got)
	}
	applyYAML(t, m, reviewsTo("v2")+`    retries: {attempts: 2, retryOn: "5xx"}
`)
	scale(t, m, 0, "reviews-v2")
	fetch(t, nil, "http://"+m.Addr()+"/productpage")
	// Two page-level tries (productpage's own retry), each 503 UH.
	if got := countSeries(t, m, "productpage-v1", `destination_service_name="reviews"`, `response_code="503"`); got != 2 {
		t.Errorf("reviews calls answered 503 = %v, want 2", got)
	}
}

// countSeries sums a sidecar's istio_requests_total lines that contain
// every given label matcher, read from its real metrics endpoint.
func countSeries(t *testing.T, m *Mesh, workload string, matchers ...string) float64 {
	t.Helper()
	return sumMetric(t, m, workload, "istio_requests_total", matchers...)
}

// BenchmarkIngressPages measures whole product pages per second through the
// ingress: four real HTTP hops per page (ingress, productpage, details,
// reviews, and ratings for v2/v3), with telemetry on every hop.
func BenchmarkIngressPages(b *testing.B) {
	for _, subset := range []string{"v1", "v3"} {
		b.Run("reviews-"+subset, func(b *testing.B) {
			benchPages(b, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Markup: app.MarkupCurrent}, subset)
		})
	}
}

// benchPages fetches product pages from a mesh started with o, reviews
// routed to subset, from 8 goroutines per CPU.
func benchPages(b *testing.B, o Options, subset string) {
	m := startMesh(b, o)
	applyYAML(b, m, reviewsTo(subset))
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	u := "http://" + m.Addr() + "/productpage"
	b.SetParallelism(8)
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(u)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
}
