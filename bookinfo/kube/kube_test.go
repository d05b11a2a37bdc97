package kube_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/bookinfo/kube"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/internal/lab"
	"github.com/canary-gate/canary/internal/labtest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// routing is the walkthrough's gateway, its destination rules for reviews
// and a VirtualService that pins reviews to v1, as kubectl applies them.
const routing = `apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {exact: /productpage}}]
    route: [{destination: {host: productpage, port: {number: 9080}}}]
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v1}}]
`

// cors is valid for the API server and not implemented by the local mesh.
const cors = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - corsPolicy: {allowOrigins: [{exact: "https://example.com"}]}
    route: [{destination: {host: ratings}}]
`

type env struct {
	lab        *lab.Lab
	kubeconfig string
	cs         kubernetes.Interface
	mesh       *mesh.Mesh
	src        *kube.Source
}

func start(t *testing.T) *env {
	t.Helper()
	l, kubeconfig := labtest.Start(t)
	// With Istio's propagation delay: the first sync must still replace
	// the built-in routing before Start returns.
	m, err := mesh.Start(mesh.Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", PropagationDelay: mesh.DefaultPropagationDelay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, err := kube.Start(ctx, m, kube.Options{Config: l.Config, Ingress: m.Addr(), Gateway: m.GatewayAddr(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Stop)
	return &env{lab: l, kubeconfig: kubeconfig, cs: kubernetes.NewForConfigOrDie(l.Config), mesh: m, src: src}
}

func (e *env) kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", e.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// eventually polls cond every 50 ms for up to 15 s.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
	}
	t.Fatalf("%s: not within 15s; last: %s", what, last)
}

func (e *env) pods(t *testing.T) []corev1.Pod {
	t.Helper()
	l, err := e.cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// TestRegister checks what a cluster running Bookinfo shows once the mesh
// joined it: the ingress NodePort is the mesh's port, the node's InternalIP
// is loopback, and each workload has one Ready pod with its sidecar (2/2).
func TestRegister(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	gw, err := e.cs.CoreV1().Services(kube.IngressNamespace).Get(ctx, kube.IngressService, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(e.mesh.Addr())
	if got := gw.Spec.Ports[0]; got.Name != "http2" || strconv.Itoa(int(got.NodePort)) != port || gw.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("ingress gateway port = %+v (type %s); want http2 with nodePort %s", got, gw.Spec.Type, port)
	}
	node, err := e.cs.CoreV1().Nodes().Get(ctx, kube.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := node.Status.Addresses; len(a) == 0 || a[0].Type != corev1.NodeInternalIP || a[0].Address != "127.0.0.1" {
		t.Errorf("node addresses = %+v; want InternalIP 127.0.0.1 first", a)
	}
	hostIP := e.kubectl(t, "", "-n", "istio-system", "get", "pod", "-l", "istio=ingressgateway", "-o", "jsonpath={.items[0].status.hostIP}")
	if hostIP != "127.0.0.1" {
		t.Errorf("the ingress gateway pod's hostIP = %q; want 127.0.0.1", hostIP)
	}
	for _, svc := range []string{"productpage", "details", "ratings", "reviews"} {
		if _, err := e.cs.CoreV1().Services("default").Get(ctx, svc, metav1.GetOptions{}); err != nil {
			t.Errorf("service %s: %v", svc, err)
		}
	}
	eventually(t, "six Ready pods with istio-proxy", func() (bool, string) {
		out := e.kubectl(t, "", "get", "pods", "--no-headers")
		return strings.Count(out, "2/2") == 6 && strings.Count(out, "Running") == 6, out
	})
	deploys := e.kubectl(t, "", "get", "deploy", "--no-headers")
	if strings.Count(deploys, "1/1") != 6 {
		t.Errorf("kubectl get deploy: want six 1/1 rows:\n%s", deploys)
	}
}

// TestRouting applies Istio resources with kubectl and checks that the
// mesh routes by them, and that a resource it cannot implement is reported
// on the object as a Warning event naming the field.
func TestRouting(t *testing.T) {
	e := start(t)
	// Joined to an empty cluster, the mesh has no gateway: nothing is routed.
	if code := get(t, "http://"+e.mesh.Addr()+"/productpage"); code != http.StatusNotFound {
		t.Errorf("before any Gateway: /productpage = %d; want 404", code)
	}
	// The admin API no longer changes what the cluster says.
	resp, err := http.Post("http://"+e.mesh.AdminAddr()+"/scale", "application/json", strings.NewReader(`{"workload":"reviews-v3","replicas":0}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("admin /scale on a mesh steered by a cluster: %s; want 409 Conflict", resp.Status)
	}
	e.kubectl(t, routing, "apply", "-f", "-")
	eventually(t, "mesh takes the cluster's resources", func() (bool, string) {
		st := e.mesh.Status()
		// The four and the namespace, whose labels say ambient or not.
		return len(st.Resources) == 5 && st.Propagated, strings.Join(st.Resources, ",")
	})
	if code := get(t, "http://"+e.mesh.Addr()+"/productpage"); code != http.StatusOK {
		t.Errorf("after the Gateway: /productpage = %d; want 200", code)
	}
	e.kubectl(t, cors, "apply", "-f", "-")
	eventually(t, "Warning event on the VirtualService", func() (bool, string) {
		out := e.kubectl(t, "", "get", "events", "--field-selector", "involvedObject.kind=VirtualService,involvedObject.name=ratings",
			"-o", "custom-columns=TYPE:.type,REASON:.reason,MSG:.message", "--no-headers")
		return strings.Contains(out, "Warning") && strings.Contains(out, "corsPolicy") && strings.Contains(out, "not supported"), out
	})
	if st := e.mesh.Status(); strings.Contains(strings.Join(st.Resources, ","), "VirtualService/ratings") {
		t.Errorf("mesh routes by the unsupported VirtualService: %v", st.Resources)
	}
	e.kubectl(t, "", "delete", "virtualservice", "reviews")
	eventually(t, "delete reaches the mesh", func() (bool, string) {
		st := e.mesh.Status()
		return len(st.Resources) == 4, strings.Join(st.Resources, ",")
	})
}

// TestWorkloads scales, un-injects and deletes pods with kubectl and
// checks that the mesh and the cluster agree after each.
func TestWorkloads(t *testing.T) {
	e := start(t)
	workload := func(name string) mesh.WorkloadStatus {
		for _, ws := range e.mesh.Status().Workloads {
			if ws.Name == name {
				return ws
			}
		}
		t.Fatalf("no workload %s", name)
		return mesh.WorkloadStatus{}
	}
	e.kubectl(t, "", "scale", "deploy", "reviews-v3", "--replicas=0")
	eventually(t, "reviews-v3 at 0", func() (bool, string) {
		out := e.kubectl(t, "", "get", "pods", "-l", "app=reviews,version=v3", "--no-headers", "--ignore-not-found")
		return workload("reviews-v3").Pod == "" && strings.TrimSpace(out) == "", out
	})
	e.kubectl(t, "", "scale", "deploy", "reviews-v3", "--replicas=1")
	eventually(t, "reviews-v3 back", func() (bool, string) {
		out := e.kubectl(t, "", "get", "pods", "-l", "app=reviews,version=v3", "--no-headers")
		return workload("reviews-v3").Pod != "" && strings.Contains(out, "2/2"), out
	})
	e.kubectl(t, "", "patch", "deploy", "reviews-v2", "-p", `{"spec":{"template":{"metadata":{"labels":{"sidecar.istio.io/inject":"false"}}}}}`)
	eventually(t, "reviews-v2 without a sidecar", func() (bool, string) {
		out := e.kubectl(t, "", "get", "pods", "-l", "app=reviews,version=v2", "--no-headers")
		return !workload("reviews-v2").Sidecar && strings.Contains(out, "1/1") && strings.Count(out, "\n") == 1, out
	})
	old := workload("ratings-v1").Pod
	e.kubectl(t, "", "delete", "pod", old)
	eventually(t, "a new ratings pod", func() (bool, string) {
		now := workload("ratings-v1").Pod
		out := e.kubectl(t, "", "get", "pods", "-l", "app=ratings", "--no-headers")
		return now != "" && now != old && strings.Contains(out, now) && strings.Contains(out, "2/2"), out
	})
}

// TestDegradeByEnv makes reviews-v3 a bad build as a new image would
// arrive: kubectl set env on its Deployment rolls out a new pod with the
// degradation, and removing the variables rolls back to a healthy one.
func TestDegradeByEnv(t *testing.T) {
	e := start(t)
	pod := func() (string, *mesh.Degradation) {
		for _, ws := range e.mesh.Status().Workloads {
			if ws.Name == "reviews-v3" {
				return ws.Pod, ws.Degraded
			}
		}
		return "", nil
	}
	eventually(t, "reviews-v3 running", func() (bool, string) {
		p, _ := pod()
		return p != "", p
	})
	old, _ := pod()
	e.kubectl(t, "", "set", "env", "deployment/reviews-v3", "BOOKINFO_DELAY=5ms", "BOOKINFO_ERROR_RATE=2")
	eventually(t, "a new reviews-v3 pod, 5ms slower with 2% errors", func() (bool, string) {
		p, d := pod()
		out := e.kubectl(t, "", "get", "pods", "-l", "app=reviews,version=v3", "-o", "jsonpath={.items[*].spec.containers[0].env}")
		return p != old && d != nil && d.String() == "delay 5ms, 2% errors" && strings.Contains(out, "BOOKINFO_ERROR_RATE"), p + " " + out
	})
	degraded, _ := pod()
	e.kubectl(t, "", "set", "env", "deployment/reviews-v3", "BOOKINFO_DELAY=soon")
	eventually(t, "a Warning event for BOOKINFO_DELAY=soon", func() (bool, string) {
		out := e.kubectl(t, "", "get", "events", "--field-selector", "reason=InvalidDegradation", "-o", "jsonpath={.items[*].message}")
		return strings.Contains(out, `env BOOKINFO_DELAY="soon"`), out
	})
	if p, d := pod(); p != degraded || d == nil || d.String() != "delay 5ms, 2% errors" {
		t.Errorf("after an invalid BOOKINFO_DELAY: pod %s with %v; want %s kept with delay 5ms, 2%% errors", p, d, degraded)
	}
	e.kubectl(t, "", "set", "env", "deployment/reviews-v3", "BOOKINFO_DELAY-", "BOOKINFO_ERROR_RATE-")
	eventually(t, "a healthy reviews-v3 pod again", func() (bool, string) {
		p, d := pod()
		return p != degraded && p != "" && d == nil, p
	})
}

// TestRefusesRealCluster: a cluster with a node the mesh does not run is
// not a lab; the mesh must not write pods into it.
func TestRefusesRealCluster(t *testing.T) {
	l, _ := labtest.Start(t)
	cs := kubernetes.NewForConfigOrDie(l.Config)
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := mesh.Start(mesh.Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	_, err = kube.Start(context.Background(), m, kube.Options{Config: l.Config, Ingress: m.Addr()})
	if err == nil || !strings.Contains(err.Error(), "the cluster has node worker-1") {
		t.Fatalf("kube.Start on a cluster with a real node: err = %v; want a refusal naming worker-1", err)
	}
	if pods, _ := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{}); len(pods.Items) != 0 {
		t.Errorf("%d pods written into a real cluster", len(pods.Items))
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
