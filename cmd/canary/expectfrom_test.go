package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canary-gate/canary/internal/sharedtest"
)

// TestExpectFromHTTPRouteFile: Istio's Gateway API samples as files give
// each stage's split; files that cannot say the versions are refused with
// the reason and what to do instead.
func TestExpectFromHTTPRouteFile(t *testing.T) {
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	own := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(own, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	head := `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews}]
  rules:
`
	for _, c := range []struct {
		name, file, host, want, err string
		backends                    string // for the server check
	}{
		{"all v1 (four routes)", filepath.Join(dir, "route-all-v1.yaml"), "reviews", "v1=100", "", "reviews-v1"},
		{"90/10", filepath.Join(dir, "route-reviews-90-10.yaml"), "reviews", "v1=90,v2=10", "", "reviews-v1 reviews-v2"},
		{"50/50", filepath.Join(dir, "route-reviews-50-v3.yaml"), "reviews", "v1=50,v3=50", "", "reviews-v1 reviews-v3"},
		{"another host's", filepath.Join(dir, "route-all-v1.yaml"), "ratings", "v1=100", "", "ratings-v1"},
		{"the ingress route only", filepath.Join(dir, "bookinfo-gateway.yaml"), "reviews", "", `no HTTPRoute with the Service "reviews" as its parent`, ""},
		{"a backend not named HOST-VERSION", write("canary.yaml", head+"  - backendRefs: [{name: reviews-canary, port: 9080, weight: 20}, {name: reviews-primary, port: 9080, weight: 80}]\n"),
			"reviews", "", "routes to Service reviews-canary: a file does not say its pods' version", ""},
		{"relative weights", write("thirds.yaml", head+"  - backendRefs: [{name: reviews-v1, port: 9080}, {name: reviews-v2, port: 9080}, {name: reviews-v3, port: 9080}]\n"),
			"reviews", "v1=33.3,v2=33.3,v3=33.4", "", "reviews-v1 reviews-v2 reviews-v3"},
		{"an unknown field", write("typo.yaml", head+"  - backendRef: [{name: reviews-v1}]\n"), "reviews", "", `HTTPRoute: error unmarshaling JSON: while decoding JSON: json: unknown field "backendRef"`, ""},
	} {
		e, backends, err := expectFromFile(c.file, c.host)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, %v; want error %q", c.name, e, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case e.String() != c.want:
			t.Errorf("%s: %s; want %s", c.name, e, c.want)
		}
		if c.err == "" {
			if got := strings.Join(backends, " "); got != c.backends {
				t.Errorf("%s: backends = %q; want %q", c.name, got, c.backends)
			}
		}
	}
}

// FuzzExpectFromHTTPRoutes: no file, however mangled, panics the HTTPRoute
// reader.
func FuzzExpectFromHTTPRoutes(f *testing.F) {
	f.Add([]byte("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: reviews}\nspec:\n  parentRefs: [{group: \"\", kind: Service, name: reviews}]\n  rules:\n  - backendRefs: [{name: reviews-v1, port: 9080, weight: 90}, {name: reviews-v2, port: 9080, weight: 10}]\n"))
	f.Add([]byte("kind: HTTPRoute\napiVersion: gateway.networking.k8s.io/v1\n---\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _, _ = expectFromHTTPRoutes("f.yaml", data, "reviews")
	})
}
