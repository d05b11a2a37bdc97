package kube_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/internal/sharedtest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestGatewayAPI: Istio's Gateway API samples, applied with kubectl as
// Istio's traffic-shifting task does, steer the mesh: the Gateway becomes
// Programmed (kubectl wait, as the task waits), gets the Service Istio
// creates (a NodePort to the mesh's Gateway API gateway) and a pod, serves
// the product page there, and the HTTPRoute's split takes effect; of two
// routes tied on a match the older serves it; deleting the Gateway removes
// its Service.
func TestGatewayAPI(t *testing.T) {
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	e := start(t)
	for _, f := range []string{"bookinfo-gateway.yaml", "bookinfo-versions.yaml", "route-reviews-v3.yaml"} {
		e.kubectl(t, "", "apply", "-f", filepath.Join(dir, f))
	}
	e.kubectl(t, "", "wait", "--for=condition=programmed", "--timeout=15s", "gateways.gateway.networking.k8s.io/bookinfo-gateway")
	e.kubectl(t, "", "wait", `--for=jsonpath={.status.parents[0].conditions[?(@.type=="ResolvedRefs")].status}=True`, "--timeout=15s", "httproutes.gateway.networking.k8s.io/reviews")
	if got := e.kubectl(t, "", "get", "httproutes.gateway.networking.k8s.io", "reviews", "-o", `jsonpath={.status.parents[0].controllerName} {.status.parents[0].conditions[?(@.type=="Accepted")].status}`); got != "istio.io/mesh-controller True" {
		t.Errorf("HTTPRoute reviews status: %q; want accepted by istio.io/mesh-controller", got)
	}
	_, port, _ := net.SplitHostPort(e.mesh.GatewayAddr())
	if got := e.kubectl(t, "", "get", "svc", "bookinfo-gateway-istio", "-o", `jsonpath={.spec.type} {.spec.ports[0].nodePort}`); got != "NodePort "+port {
		t.Errorf("service bookinfo-gateway-istio: %q; want NodePort %s", got, port)
	}
	if got := e.kubectl(t, "", "get", "gateways.gateway.networking.k8s.io", "bookinfo-gateway", "-o", `jsonpath={.status.addresses[0].value}`); got != "bookinfo-gateway-istio.default.svc.cluster.local" {
		t.Errorf("gateway status address %q; want the Service's name", got)
	}
	eventually(t, "the gateway's pod", func() (bool, string) {
		for _, p := range e.pods(t) {
			if p.Labels["gateway.networking.k8s.io/gateway-name"] == "bookinfo-gateway" && p.Status.Phase == "Running" {
				return true, ""
			}
		}
		return false, "no running pod labelled gateway.networking.k8s.io/gateway-name=bookinfo-gateway"
	})
	pageAt := func() (bool, string) {
		resp, err := http.Get("http://" + e.mesh.GatewayAddr() + "/productpage")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "reviews-v3-"), resp.Status
	}
	eventually(t, "pages at the Gateway's NodePort served by reviews-v3 (the HTTPRoute)", pageAt)

	// A newer route with the same match as bookinfo's Exact /productpage
	// ties with it: the API gives the page to the older route, although
	// "a-newer" comes first by name. Creation times have one-second
	// resolution, so the newer one is created in a later second.
	created, err := time.Parse(time.RFC3339, e.kubectl(t, "", "get", "httproutes.gateway.networking.k8s.io", "bookinfo", "-o", "jsonpath={.metadata.creationTimestamp}"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(created.Add(time.Second + 100*time.Millisecond)))
	e.kubectl(t, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a-newer}
spec:
  parentRefs: [{name: bookinfo-gateway}]
  rules:
  - matches: [{path: {type: Exact, value: /productpage}}]
    backendRefs: [{name: details, port: 9080}]
`, "apply", "-f", "-")
	e.kubectl(t, "", "wait", `--for=jsonpath={.status.parents[0].conditions[?(@.type=="Accepted")].status}=True`, "--timeout=15s", "httproutes.gateway.networking.k8s.io/a-newer")
	eventually(t, "the mesh routing by a-newer", func() (bool, string) {
		in := slices.ContainsFunc(e.mesh.Resources(), func(r istio.Resource) bool { return r.Kind == "HTTPRoute" && r.Name == "a-newer" })
		return in && e.mesh.Propagated(), fmt.Sprintf("in the config %v, propagated %v", in, e.mesh.Propagated())
	})
	if ok, status := pageAt(); !ok {
		t.Errorf("after the newer route a-newer tied with bookinfo: /productpage answered %s; want the older route's product page", status)
	}
	e.kubectl(t, "", "delete", "httproutes.gateway.networking.k8s.io", "a-newer")
	e.kubectl(t, "", "delete", "service", "reviews-v3")
	e.kubectl(t, "", "wait", `--for=jsonpath={.status.parents[0].conditions[?(@.type=="ResolvedRefs")].reason}=BackendNotFound`, "--timeout=15s", "httproutes.gateway.networking.k8s.io/reviews")
	e.kubectl(t, "", "delete", "gateways.gateway.networking.k8s.io", "bookinfo-gateway")
	eventually(t, "the gateway's Service removed", func() (bool, string) {
		_, err := e.cs.CoreV1().Services("default").Get(context.Background(), "bookinfo-gateway-istio", metav1.GetOptions{})
		return err != nil && strings.Contains(err.Error(), "not found"), "still there"
	})
}
