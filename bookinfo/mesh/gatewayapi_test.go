package mesh

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canary-gate/canary/bookinfo/internal/pagetest"
	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/internal/sharedtest"
)

// applyFile applies a file of shared/gateway-api-manifests.
func applyFile(t *testing.T, m *Mesh, dir, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := istio.ParseManifests(name, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(rs); err != nil {
		t.Fatalf("apply %s: %v", name, err)
	}
}

// TestGatewayAPIWalkthrough: Istio's Gateway API samples, applied in order,
// serve pages at the Gateway's own address, split reviews as the HTTPRoute
// says, and report each request as Istio does: the backend Service as
// destination_service_name (by both sidecars), the version from the pod,
// and the gateway as source workload bookinfo-gateway-istio.
func TestGatewayAPIWalkthrough(t *testing.T) {
	t.Parallel()
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	m := startTestMesh(t, "")
	page := "http://" + m.GatewayAddr() + "/productpage"
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s before any Gateway: %s; want 404 (no route)", page, resp.Status)
	}
	for _, f := range []string{"bookinfo-gateway.yaml", "bookinfo-versions.yaml", "route-reviews-50-v3.yaml"} {
		applyFile(t, m, dir, f)
	}
	const n = 400
	stars := map[string]int{}
	for range n {
		f := pagetest.PageFeatures(t, "current", fetch(t, nil, page))
		for _, pod := range f.ServedBy {
			stars[strings.Join(strings.SplitN(pod, "-", 3)[:2], "-")]++
		}
	}
	if stars["reviews-v2"] != 0 || stars["reviews-v1"] < n/4 || stars["reviews-v3"] < n/4 {
		t.Errorf("pages by reviews version through the Gateway API gateway: %v; want about half v1, half v3, no v2", stars)
	}
	for _, v := range []string{"v1", "v3"} {
		got := countSeries(t, m, "reviews-"+v, `reporter="destination"`, `destination_service_name="reviews-`+v+`"`, `destination_version="`+v+`"`)
		if got == 0 {
			t.Errorf("reviews-%s's sidecar reports no requests for destination_service_name reviews-%s", v, v)
		}
		if got := countSeries(t, m, "reviews-"+v, `destination_service_name="reviews"`); got != 0 {
			t.Errorf("reviews-%s's sidecar reports %v requests for destination_service_name reviews; want all under the backend Service", v, got)
		}
	}
	if got := countSeries(t, m, "productpage-v1", `reporter="source"`, `destination_service_name="reviews-v1"`) +
		countSeries(t, m, "productpage-v1", `reporter="source"`, `destination_service_name="reviews-v3"`); got == 0 {
		t.Errorf("productpage's sidecar reports no source requests to the backend Services")
	}
	if got := countSeries(t, m, K8sGatewayService, `reporter="source"`, `source_workload="bookinfo-gateway-istio"`, `destination_service_name="productpage"`); got != n {
		t.Errorf("the Gateway API gateway reports %v requests to productpage; want %d", got, n)
	}
	if got := countSeries(t, m, "istio-ingressgateway"); got != 0 {
		t.Errorf("istio-ingressgateway reports %v requests; the Gateway API gateway served them all", got)
	}
}
