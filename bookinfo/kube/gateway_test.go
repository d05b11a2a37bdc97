package kube_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canary-gate/canary/internal/sharedtest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestGatewayAPI: Istio's Gateway API samples, applied with kubectl as
// Istio's traffic-shifting task does, steer the mesh: the Gateway becomes
// Programmed (kubectl wait, as the task waits), gets the Service Istio
// creates (a NodePort to the mesh's Gateway API gateway) and a pod, serves
// the product page there, and the HTTPRoute's split takes effect; deleting
// the Gateway removes its Service.
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
	eventually(t, "pages at the Gateway's NodePort served by reviews-v3 (the HTTPRoute)", func() (bool, string) {
		resp, err := http.Get("http://" + e.mesh.GatewayAddr() + "/productpage")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "reviews-v3-"), resp.Status
	})
	e.kubectl(t, "", "delete", "service", "reviews-v3")
	e.kubectl(t, "", "wait", `--for=jsonpath={.status.parents[0].conditions[?(@.type=="ResolvedRefs")].reason}=BackendNotFound`, "--timeout=15s", "httproutes.gateway.networking.k8s.io/reviews")
	e.kubectl(t, "", "delete", "gateways.gateway.networking.k8s.io", "bookinfo-gateway")
	eventually(t, "the gateway's Service removed", func() (bool, string) {
		_, err := e.cs.CoreV1().Services("default").Get(context.Background(), "bookinfo-gateway-istio", metav1.GetOptions{})
		return err != nil && strings.Contains(err.Error(), "not found"), "still there"
	})
}
