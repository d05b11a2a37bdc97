package mesh

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/canary-gate/canary/bookinfo/app"
	"github.com/canary-gate/canary/bookinfo/internal/pagetest"
	"github.com/canary-gate/canary/internal/sharedtest"
)

// sumMetric sums the lines of a metric family that contain every matcher,
// from a proxy's real metrics endpoint (a workload's sidecar, a gateway,
// ztunnel or a waypoint).
func sumMetric(t *testing.T, m *Mesh, proxy, metric string, matchers ...string) float64 {
	t.Helper()
	body := string(fetch(t, nil, "http://"+m.AdminAddr()+"/sidecars/"+proxy+"/stats/prometheus"))
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		ok := true
		for _, mt := range matchers {
			ok = ok && strings.Contains(line, mt)
		}
		if ok {
			var v float64
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			sum += v
		}
	}
	return sum
}

const enrolNamespace = `apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels:
    istio.io/dataplane-mode: ambient
    istio.io/use-waypoint: waypoint
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
`

// TestAmbientMode: with --ambient no pod has a sidecar; an HTTPRoute on
// reviews is not applied until a waypoint serves the namespace (every
// version serves, as ztunnel balances over all pods), and ztunnel reports
// only TCP metrics. With the waypoint the route's split holds, and the
// waypoint reports every reviews call with reporter="waypoint" under the
// backend Service and the pod's version.
func TestAmbientMode(t *testing.T) {
	t.Parallel()
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	m := startMesh(t, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Markup: app.MarkupCurrent, Ambient: true})
	st := m.Status()
	if !st.Ambient || len(st.Waypoints) != 0 {
		t.Errorf("Status() ambient %v waypoints %v; want ambient, no waypoint", st.Ambient, st.Waypoints)
	}
	for _, w := range st.Workloads {
		if w.Sidecar {
			t.Errorf("workload %s has a sidecar in ambient mode", w.Name)
		}
	}
	for _, f := range []string{"bookinfo-gateway.yaml", "bookinfo-versions.yaml", "route-reviews-50-v3.yaml"} {
		applyFile(t, m, dir, f)
	}
	page := "http://" + m.GatewayAddr() + "/productpage"
	pages := func(n int) map[string]int {
		byVersion := map[string]int{}
		for range n {
			f := pagetest.PageFeatures(t, "current", fetch(t, nil, page))
			seen := map[string]bool{} // a page names its reviews pod twice
			for _, pod := range f.ServedBy {
				seen[strings.Join(strings.SplitN(pod, "-", 3)[:2], "-")] = true
			}
			for w := range seen {
				byVersion[w]++
			}
		}
		return byVersion
	}
	const n = 300
	before := pages(n)
	if before["reviews-v2"] == 0 {
		t.Errorf("pages by version without a waypoint: %v; want every version (the HTTPRoute is not applied without one)", before)
	}
	if got := sumMetric(t, m, "ztunnel", "istio_tcp_connections_opened_total", `reporter="destination"`, `destination_service_name="reviews"`, `source_workload="productpage-v1"`); got == 0 || got > n {
		t.Errorf("ztunnel counts %v connections productpage → reviews; want 1 to %d (kept alive, at most one per call)", got, n)
	}
	if opened, closed := sumMetric(t, m, "ztunnel", "istio_tcp_connections_opened_total"), sumMetric(t, m, "ztunnel", "istio_tcp_connections_closed_total"); closed > opened {
		t.Errorf("ztunnel counts %v connections closed of %v opened", closed, opened)
	}
	if got := sumMetric(t, m, "ztunnel", "istio_tcp_received_bytes_total", `destination_workload="details-v1"`,
		`destination_service="details.default.svc.cluster.local"`, `request_protocol="tcp"`, `connection_security_policy="mutual_tls"`, `response_flags="-"`); got == 0 {
		t.Errorf("ztunnel counts no bytes received by details-v1")
	}
	if got := sumMetric(t, m, K8sGatewayService, "istio_requests_total", `destination_service_name="productpage"`, `destination_workload="productpage-v1"`); got != n {
		t.Errorf("the gateway reports %v requests to productpage-v1; want %d (it knows its ambient endpoints)", got, n)
	}
	resp, err := http.Get("http://" + m.AdminAddr() + "/sidecars/reviews-v1/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("reviews-v1's sidecar metrics: %s; want 404, no sidecar", resp.Status)
	}

	applyYAML(t, m, enrolNamespace)
	if st := m.Status(); st.Waypoints["reviews"] != "waypoint" || len(st.Waypoints) != 4 {
		t.Fatalf("Status().Waypoints = %v after enrolling the namespace; want waypoint for each of the 4 Services", st.Waypoints)
	}
	after := pages(n)
	if after["reviews-v2"] != 0 || after["reviews-v1"] < n/4 || after["reviews-v3"] < n/4 {
		t.Errorf("pages by version through the waypoint: %v; want about half v1, half v3, no v2", after)
	}
	var total float64
	for _, v := range []string{"v1", "v3"} {
		got := sumMetric(t, m, "waypoint", "istio_requests_total", `reporter="waypoint"`, `source_workload="productpage-v1"`,
			`destination_service_name="reviews-`+v+`"`, `destination_version="`+v+`"`, `response_code="200"`)
		if got != float64(after["reviews-"+v]) {
			t.Errorf("the waypoint reports %v requests to reviews-%s; the pages say %d", got, v, after["reviews-"+v])
		}
		total += got
	}
	if total != n {
		t.Errorf("the waypoint reports %v reviews requests; want %d", total, n)
	}
	if got := sumMetric(t, m, "ztunnel", "istio_tcp_connections_opened_total", `source_workload="waypoint"`, `destination_app="reviews"`); got == 0 {
		t.Errorf("ztunnel counts no connections from the waypoint to reviews")
	}
	// A Service may take itself off the namespace's waypoint: its route is
	// then not applied again.
	applyYAML(t, m, `apiVersion: v1
kind: Service
metadata:
  name: reviews
  labels: {app: reviews, istio.io/use-waypoint: none}
spec:
  ports: [{port: 9080, name: http}]
  selector: {app: reviews}
`)
	if optedOut := pages(n); optedOut["reviews-v2"] == 0 {
		t.Errorf("pages by version with reviews opted out of the waypoint: %v; want every version again", optedOut)
	}
	targets := string(fetch(t, nil, "http://"+m.AdminAddr()+"/prometheus/targets"))
	for _, want := range []string{"/sidecars/ztunnel/stats/prometheus", "/sidecars/waypoint/stats/prometheus"} {
		if !strings.Contains(targets, want) {
			t.Errorf("Prometheus targets lack %s:\n%s", want, targets)
		}
	}
}
