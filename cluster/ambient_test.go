package cluster_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/cluster"
	"github.com/canary-gate/canary/internal/sharedtest"
)

// waypoint is what `istioctl waypoint apply` creates; badWaypoint one
// with an HTTP listener, which no waypoint controller runs.
const (
	waypoint = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  labels: {istio.io/waypoint-for: service}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`
	badWaypoint = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 80, protocol: HTTP}]
`
)

// TestAmbientPreflight: on a namespace in ambient mode no sidecar is
// expected, and an HTTPRoute (an L7 route) must have a Programmed waypoint
// serving the Service, or ztunnel spreads requests evenly whatever the
// route says; each missing piece is a finding that names it. Ambient also
// tells verify to count the waypoint's reports.
func TestAmbientPreflight(t *testing.T) {
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	e := start(t)
	ctx := context.Background()
	for _, f := range []string{"bookinfo-versions.yaml", "route-reviews-50-v3.yaml"} {
		e.kubectl(t, "", "apply", "-f", filepath.Join(dir, f))
	}
	waitPods(t, e, 6)
	find := func(stage, name string) cluster.Check {
		t.Helper()
		checks, err := e.cl.Preflight(ctx, "reviews", "default", "istio-system", "istio-ingressgateway")
		if err != nil {
			t.Fatalf("%s: Preflight: %v", stage, err)
		}
		for _, c := range checks {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("%s: no %s check in %+v", stage, name, checks)
		return cluster.Check{}
	}
	if c := find("sidecar mode", "sidecars"); !c.OK || strings.Contains(c.Detail, "ambient") {
		t.Errorf("sidecar mode: sidecars check %+v", c)
	}
	if ambient, _, err := e.cl.Ambient(ctx, "reviews", "default"); err != nil || ambient {
		t.Errorf("Ambient() before the label = %v, %v; want false", ambient, err)
	}

	e.kubectl(t, "", "label", "namespace", "default", "istio.io/dataplane-mode=ambient")
	if ambient, why, err := e.cl.Ambient(ctx, "reviews", "default"); err != nil || !ambient || !strings.Contains(why, "namespace default is labelled istio.io/dataplane-mode=ambient") {
		t.Errorf("Ambient() = %v, %q, %v; want true, naming the namespace label", ambient, why, err)
	}
	if c := find("ambient", "sidecars"); !c.OK || !strings.Contains(c.Detail, "ambient mode, no istio-proxy expected") {
		t.Errorf("ambient: sidecars check %+v; want ok, no sidecar expected", c)
	}
	steps := []struct {
		stage, kubectl, stdin string
		ok                    bool
		detail                string
	}{
		{"no waypoint", "", "", false, "HTTPRoute default/reviews is an L7 route, which ambient mode applies only in a waypoint, and neither Service reviews nor namespace default names one"},
		{"waypoint named, absent", "label namespace default istio.io/use-waypoint=waypoint", "", false, "namespace default names waypoint default/waypoint, which does not exist"},
		{"waypoint not programmed", "apply -f -", badWaypoint, false, "but it is not Programmed: Invalid: not run by the local mesh: Gateway waypoint: spec.listeners[0].protocol: protocol \"HTTP\", expected HBONE for a waypoint"},
		{"the Service opts out", "label service reviews istio.io/use-waypoint=none", "", false, "opts out of waypoints"},
	}
	for _, st := range steps {
		if st.kubectl != "" {
			e.kubectl(t, st.stdin, strings.Fields(st.kubectl)...)
		}
		if c := find(st.stage, "waypoint"); c.OK != st.ok || !strings.Contains(c.Detail, st.detail) {
			t.Errorf("%s: waypoint check %+v; want ok=%v with %q", st.stage, c, st.ok, st.detail)
		}
	}
	e.kubectl(t, "", "label", "service", "reviews", "istio.io/use-waypoint-")
	// The mesh, as Istio's controller, programs a waypoint it can run.
	e.kubectl(t, waypoint, "apply", "-f", "-")
	want := "waypoint default/waypoint (class istio-waypoint, Programmed) serves reviews, named by namespace default"
	deadline := time.Now().Add(15 * time.Second)
	for {
		c := find("waypoint programmed", "waypoint")
		if c.OK && strings.Contains(c.Detail, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("waypoint programmed: %+v; want ok with %q within 15s", c, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
