package istio

import (
	"testing"
)

// waypointYAML is what `istioctl waypoint generate` writes, and the label
// `istioctl waypoint apply --enroll-namespace` puts on the namespace.
const waypointYAML = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  labels:
    istio.io/waypoint-for: service
  name: waypoint
  namespace: default
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
`

const ambientNamespaceYAML = `apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels:
    istio.io/dataplane-mode: ambient
`

const enrolledNamespaceYAML = `apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels:
    istio.io/dataplane-mode: ambient
    istio.io/use-waypoint: waypoint
`

// reviewsOptsOut is Bookinfo's own Service reviews with the label that
// takes it off the namespace's waypoint.
const reviewsOptsOut = `apiVersion: v1
kind: Service
metadata:
  name: reviews
  labels:
    app: reviews
    istio.io/use-waypoint: none
spec:
  ports:
  - port: 9080
    name: http
  selector:
    app: reviews
`

// TestAmbientTable follows a namespace into ambient mode and onto a
// waypoint: Ambient and Waypoint say what the data plane does at each step.
func TestAmbientTable(t *testing.T) {
	t.Parallel()
	steps := []struct {
		name         string
		apply        string
		del          string
		wantAmbient  bool
		wantWaypoint string // of reviews
		wantDetails  string // details' waypoint: the namespace's
		wantChange   string
	}{
		{"sidecar mode", "", "", false, "", "", ""},
		{"namespace ambient", ambientNamespaceYAML, "", true, "", "", "namespace/default created"},
		{"same labels", ambientNamespaceYAML, "", true, "", "", "namespace/default unchanged"},
		{"waypoint without enrolment", waypointYAML, "", true, "", "", "gateway.gateway.networking.k8s.io/waypoint created"},
		{"enrolled", enrolledNamespaceYAML, "", true, "waypoint", "waypoint", "namespace/default configured"},
		{"reviews opts out", reviewsOptsOut, "", true, "", "waypoint", "service/reviews created"},
		{"reviews back", "", reviewsOptsOut, true, "waypoint", "waypoint", `service "reviews" deleted`},
		{"waypoint deleted", "", waypointYAML, true, "", "", `gateway.gateway.networking.k8s.io "waypoint" deleted`},
		{"labels removed", "", ambientNamespaceYAML, false, "", "", `namespace "default" deleted`},
	}
	var cfg *Config
	for _, s := range steps {
		var changes []Change
		var err error
		switch {
		case s.apply != "":
			cfg, changes, err = cfg.Apply(mustParse(t, s.name, s.apply))
		case s.del != "":
			cfg, changes, err = cfg.Delete(mustParse(t, s.name, s.del))
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.wantChange != "" && (len(changes) != 1 || changes[0].String() != s.wantChange) {
			t.Errorf("%s: changes %v; want [%s]", s.name, changes, s.wantChange)
		}
		if got := cfg.Routes().Ambient(); got != s.wantAmbient {
			t.Errorf("%s: Ambient() = %v; want %v", s.name, got, s.wantAmbient)
		}
		if got := cfg.Routes().Waypoint("reviews"); got != s.wantWaypoint {
			t.Errorf("%s: Waypoint(reviews) = %q; want %q", s.name, got, s.wantWaypoint)
		}
		if got := cfg.Routes().Waypoint("details"); got != s.wantDetails {
			t.Errorf("%s: Waypoint(details) = %q; want %q (the namespace's)", s.name, got, s.wantDetails)
		}
		if got := cfg.Routes().K8sGateway(); got != "" {
			t.Errorf("%s: K8sGateway() = %q; a waypoint is not the ingress Gateway", s.name, got)
		}
	}
}
