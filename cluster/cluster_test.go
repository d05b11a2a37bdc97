package cluster_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/bookinfo/kube"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/cluster"
	"github.com/canary-gate/canary/internal/jaegertest"
	"github.com/canary-gate/canary/internal/lab"
	"github.com/canary-gate/canary/internal/labtest"
	"github.com/canary-gate/canary/internal/promtest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/clientcmd"
)

const gateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {exact: /productpage}}, {uri: {prefix: /static}}]
    route: [{destination: {host: productpage, port: {number: 9080}}}]
`

const rules = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
`

func reviewsVS(name, body string) string {
	return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " + name + "}\nspec:\n  hosts: [reviews]\n  http:\n" + body
}

var (
	split5050 = reviewsVS("reviews", "  - route:\n    - {destination: {host: reviews, subset: v1}, weight: 50}\n    - {destination: {host: reviews, subset: v3}, weight: 50}\n    mirror: {host: reviews, subset: v2}\n")
	byHeader  = reviewsVS("reviews", "  - match: [{headers: {end-user: {exact: jason}}}]\n    route: [{destination: {host: reviews, subset: v2}}]\n  - route: [{destination: {host: reviews, subset: v1}}]\n")
	toV4      = reviewsVS("reviews", "  - route: [{destination: {host: reviews, subset: v4}}]\n")
	// perVersion routes to per-version Services, as Flagger's primary and
	// canary and Istio's Gateway API samples do.
	perVersion = `apiVersion: v1
kind: Service
metadata: {name: reviews-v1}
spec: {selector: {app: reviews, version: v1}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews-v3}
spec: {selector: {app: reviews, version: v3}, ports: [{name: http, port: 9080}]}
---
` + reviewsVS("reviews", "  - route:\n    - {destination: {host: reviews-v1.default.svc.cluster.local}, weight: 80}\n    - {destination: {host: reviews-v3}, weight: 20}\n")
	wholeService = reviewsVS("reviews", "  - route: [{destination: {host: reviews}}]\n")
)

type env struct {
	lab        *lab.Lab
	kubeconfig string
	cl         *cluster.Cluster
	mesh       *mesh.Mesh
	prom       *promtest.Server
}

// start runs the lab with the local mesh as its data plane and a real
// Prometheus registered as istio-system/prometheus.
func start(t *testing.T) *env {
	t.Helper()
	return startWith(t, nil)
}

// startWith is start with the kube source's options changed by opt.
func startWith(t *testing.T, opt func(*kube.Options)) *env {
	t.Helper()
	promtest.Binary(t)
	l, kubeconfig := labtest.Start(t)
	admin := promtest.FreeAddr(t)
	prom := promtest.Start(t, mesh.PrometheusConfig(admin, time.Second))
	m, err := mesh.Start(mesh.Options{Addr: "127.0.0.1:0", AdminAddr: admin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ko := kube.Options{Config: l.Config, Ingress: m.Addr(), Gateway: m.GatewayAddr(), Prometheus: strings.TrimPrefix(prom.URL, "http://")}
	if opt != nil {
		opt(&ko)
	}
	src, err := kube.Start(ctx, m, ko)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Stop)
	cl, err := cluster.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	return &env{lab: l, kubeconfig: kubeconfig, cl: cl, mesh: m, prom: prom}
}

func (e *env) kubectl(t *testing.T, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", e.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestDiscovery finds the ingress and Prometheus the ways a cluster
// offers them: NodePort, LoadBalancer, and the API server's service proxy.
func TestDiscovery(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.kubectl(t, gateway, "apply", "-f", "-")

	got, err := e.cl.Ingress(ctx, "istio-system", "istio-ingressgateway")
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://" + e.mesh.Addr() + "/productpage"; got.URL != want {
		t.Errorf("Ingress = %s; want the mesh's %s", got.URL, want)
	}
	for _, s := range []string{"NodePort", "http2", "node k8s-master-node1's InternalIP", "VirtualService default/bookinfo on Gateway bookinfo-gateway"} {
		if !strings.Contains(got.Why, s) {
			t.Errorf("Ingress why = %q; want it to say %q", got.Why, s)
		}
	}

	lb := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "lb-gateway", Namespace: "istio-system"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"istio": "ingressgateway"},
			Ports: []corev1.ServicePort{{Name: "http2", Port: 8080, TargetPort: intstr.FromInt32(8080)}}},
	}
	svcs := e.cl.Kube.CoreV1().Services("istio-system")
	created, err := svcs.Create(ctx, lb, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "127.0.0.2"}}
	if _, err := svcs.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err = e.cl.Ingress(ctx, "istio-system", "lb-gateway")
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != "http://127.0.0.2:8080/productpage" || !strings.Contains(got.Why, "LoadBalancer 127.0.0.2") {
		t.Errorf("Ingress(LoadBalancer) = %+v; want http://127.0.0.2:8080/productpage from the LoadBalancer", got)
	}

	p, err := e.cl.Prometheus(ctx, "istio-system", "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != e.prom.URL || p.Transport != nil || !strings.Contains(p.Why, "NodePort") {
		t.Errorf("Prometheus = %+v; want %s by NodePort", p.Found, e.prom.URL)
	}

	if strings.Contains(p.Why, "BEGIN") || strings.Contains(p.URL, "@") {
		t.Errorf("discovery leaks a credential: %+v", p.Found)
	}
}

// TestJaegerDiscovery finds a real Jaeger's query where Istio's addon
// puts it (istio-system/tracing, port 80 to 16686) by its NodePort, tries
// the next name when a Service is missing, and says when there is none.
func TestJaegerDiscovery(t *testing.T) {
	j := jaegertest.Start(t)
	e := startWith(t, func(o *kube.Options) { o.Jaeger = strings.TrimPrefix(j.QueryURL, "http://") })
	ctx := context.Background()
	got, err := e.cl.Jaeger(ctx, []string{"istio-system/jaeger-query", "istio-system/tracing"})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != j.QueryURL || got.Transport != nil || !strings.Contains(got.Why, "NodePort") || !strings.Contains(got.Why, "istio-system/tracing") {
		t.Errorf("Jaeger = %+v; want %s by the NodePort of istio-system/tracing", got.Found, j.QueryURL)
	}
	if _, err := e.cl.Jaeger(ctx, []string{"istio-system/jaeger-query", "observability/jaeger"}); !errors.Is(err, cluster.ErrNoService) {
		t.Errorf("Jaeger without such Services: %v; want ErrNoService", err)
	}
	if _, err := e.cl.Jaeger(ctx, []string{"tracing"}); err == nil || !strings.Contains(err.Error(), "want NS/NAME") {
		t.Errorf("Jaeger(tracing): %v; want a NS/NAME error", err)
	}
}

// TestExpect reads the live split: from the VirtualService through the
// DestinationRule's subsets, or the pods' even spread without one; routes
// by header and two VirtualServices for one host are refused.
func TestExpect(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	tests := []struct {
		name, apply, vs, want, mirror, err string
	}{
		{name: "no VirtualService", want: "v1=33.3,v2=33.3,v3=33.4"},
		{name: "50/50 with a mirror", apply: rules + "---\n" + split5050, want: "v1=50,v3=50", mirror: "v2"},
		{name: "by name", vs: "reviews", want: "v1=50,v3=50", mirror: "v2"},
		{name: "by a name that does not route reviews", vs: "bookinfo", err: "does not route host reviews"},
		{name: "header match", apply: byHeader, err: "routes by match (2 routes)"},
		{name: "undefined subset", apply: toV4, err: "subset v4 for host reviews is not defined by DestinationRule reviews (it defines v1, v2, v3)"},
		{name: "per-version Services", apply: perVersion, want: "v1=80,v3=20"},
		{name: "a Service of three versions", apply: wholeService, err: "destination reviews has no subset and its ready pods run versions [v1, v2, v3]"},
		{name: "two VirtualServices", apply: split5050 + "---\n" + strings.Replace(split5050, "name: reviews", "name: reviews-b", 1), err: "routed by 2 VirtualServices (reviews, reviews-b)"},
	}
	e.kubectl(t, gateway, "apply", "-f", "-")
	for _, tc := range tests {
		if tc.apply != "" {
			e.kubectl(t, tc.apply, "apply", "-f", "-")
		}
		got, err := e.cl.Expect(ctx, "reviews", "default", tc.vs)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: Expect: %+v, %v; want error %q", tc.name, got, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: Expect: %v", tc.name, err)
		case got.Expect != tc.want || got.Mirror != tc.mirror:
			t.Errorf("%s: Expect = %q (mirror %q, %s); want %q (mirror %q)", tc.name, got.Expect, got.Mirror, got.Why, tc.want, tc.mirror)
		}
	}
}

// TestPreflight: each way a rollout cannot work is a failed check naming
// the cause, before any load; a forbidden caller is an error naming the
// resource.
func TestPreflight(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	check := func(stage string, wantFailed map[string]string) {
		t.Helper()
		checks, err := e.cl.Preflight(ctx, "reviews", "default", "istio-system", "istio-ingressgateway")
		if err != nil {
			t.Fatalf("%s: Preflight: %v", stage, err)
		}
		for _, c := range checks {
			want, bad := wantFailed[c.Name]
			if c.OK == bad || (bad && !strings.Contains(c.Detail, want)) {
				t.Errorf("%s: check %s ok=%v %q; want failed=%v with %q", stage, c.Name, c.OK, c.Detail, bad, want)
			}
		}
	}
	check("no Gateway", map[string]string{"gateway": "no Gateway selects istio-system/istio-ingressgateway's pods"})
	e.kubectl(t, gateway+"---\n"+rules+"---\n"+split5050, "apply", "-f", "-")
	waitPods(t, e, 6)
	check("walkthrough 50/50", nil)
	e.kubectl(t, toV4, "apply", "-f", "-")
	check("undefined subset", map[string]string{"routing": "subset v4 for host reviews is not defined"})
	e.kubectl(t, split5050, "apply", "-f", "-")
	e.kubectl(t, "", "scale", "deploy", "reviews-v3", "--replicas=0")
	waitPods(t, e, 5)
	check("v3 at 0 replicas", map[string]string{"pods": "v3 0 ready"})
	e.kubectl(t, "", "scale", "deploy", "reviews-v3", "--replicas=1")
	e.kubectl(t, "", "patch", "deploy", "reviews-v2", "-p", `{"spec":{"template":{"metadata":{"labels":{"sidecar.istio.io/inject":"false"}}}}}`)
	waitPods(t, e, 6)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		checks, _ := e.cl.Preflight(ctx, "reviews", "default", "istio-system", "istio-ingressgateway")
		if len(checks) == 4 && !checks[3].OK {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	check("reviews-v2 without a sidecar", map[string]string{"sidecars": "no istio-proxy"})
	e.kubectl(t, "", "delete", "gateways.networking.istio.io", "bookinfo-gateway") // "gateway" alone is ambiguous beside the Gateway API
	check("Gateway deleted", map[string]string{"gateway": "no Gateway selects", "sidecars": "no istio-proxy"})

	// A user outside system:masters: one error naming what it may not do.
	viewer := viewer(t, e.lab)
	_, err := viewer.Preflight(ctx, "reviews", "default", "istio-system", "istio-ingressgateway")
	if !apierrors.IsForbidden(errors.Unwrap(err)) || !strings.Contains(err.Error(), `cannot get resource "services"`) {
		t.Errorf("Preflight as a user without rights: %v; want Forbidden naming get services", err)
	}
}

func waitPods(t *testing.T, e *env, ready int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		pods, err := e.cl.Kube.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
		n := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				n++
			}
		}
		if err == nil && n == ready {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not %d running pods within 15s", ready)
}

// viewer is a cluster connection as a lab user outside system:masters,
// whom RBAC refuses.
func viewer(t *testing.T, l *lab.Lab) *cluster.Cluster {
	t.Helper()
	kc, err := l.AddUser("viewer", "viewers")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.New(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}
