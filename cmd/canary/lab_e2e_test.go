package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/internal/labtest"
	"github.com/canary-gate/canary/internal/promtest"
)

// labEnv is the walkthrough's world on the lab: a real kube-apiserver, the
// local mesh as its data plane, a real Prometheus scraping the sidecars, and
// the real kubectl.
type labEnv struct {
	kubeconfig string
	mesh       *meshProc
	prom       *promtest.Server
}

func startLab(t *testing.T) *labEnv {
	t.Helper()
	promtest.Binary(t)
	_, kubeconfig := labtest.Start(t)
	admin := promtest.FreeAddr(t)
	cfg, errOut, code := run(t, "", "bookinfo", "prometheus-config", "--admin-addr", admin, "--scrape-interval", "1s")
	if code != 0 {
		t.Fatalf("prometheus-config: exit %d: %s", code, errOut)
	}
	prom := promtest.Start(t, cfg)
	u, err := url.Parse(prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	mp := startMesh(t, "--admin-addr", admin, "--kubeconfig", kubeconfig, "--prometheus-addr", u.Host)
	return &labEnv{kubeconfig: kubeconfig, mesh: mp, prom: prom}
}

// kubectl runs the real kubectl against the lab and fails the test unless
// it exits 0.
func (e *labEnv) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestLabWalkthrough is the walkthrough command for command on a real API
// server: kubectl apply of the seed manifests in order, the ingress and
// Prometheus found as the walkthrough finds them (kubectl get svc), and a
// canary verify after each stage that passes the right expectation, fails
// a wrong one, and is checked on the server side by Prometheus.
func TestLabWalkthrough(t *testing.T) {
	seed := sharedDir(t, "seed-manifests")
	e := startLab(t)
	nodeIP := e.kubectl(t, "get", "nodes", "-o", `jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}`)
	port := e.kubectl(t, "-n", "istio-system", "get", "svc", "istio-ingressgateway", "-o", `jsonpath={.spec.ports[?(@.name=="http2")].nodePort}`)
	promPort := e.kubectl(t, "-n", "istio-system", "get", "svc", "prometheus", "-o", "jsonpath={.spec.ports[0].nodePort}")
	target := "http://" + nodeIP + ":" + port + "/productpage"
	if target != e.mesh.url("/productpage") {
		t.Fatalf("the cluster's ingress %s is not the mesh's %s", target, e.mesh.url("/productpage"))
	}
	prom := "http://" + nodeIP + ":" + promPort
	pods := e.kubectl(t, "get", "pods", "-o", `jsonpath={range .items[*]}{.metadata.labels.app}-{.metadata.labels.version} {range .spec.containers[*]}{.name},{end}{"\n"}{end}`)
	for _, w := range []string{"productpage-v1", "details-v1", "ratings-v1", "reviews-v1", "reviews-v2", "reviews-v3"} {
		app, _, _ := strings.Cut(w, "-")
		if !strings.Contains(pods, w+" "+app+",istio-proxy,\n") {
			t.Errorf("kubectl get pods: no %s pod with containers %s and istio-proxy:\n%s", w, app, pods)
		}
	}
	verify := func(wantCode int, expect string, extra ...string) string {
		t.Helper()
		args := append([]string{"verify", "--target", target, "--expect", expect, "--prometheus", prom,
			"--rate", "0", "--max-requests", "3000", "--settle-min", "2s", "--server-wait", "20s"}, extra...)
		out, errOut, code := run(t, "", args...)
		if code != wantCode {
			t.Fatalf("canary %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out
	}
	apply := func(files ...string) {
		t.Helper()
		for _, f := range files {
			e.kubectl(t, "apply", "-f", filepath.Join(seed, f))
		}
	}
	apply("bookinfo-gateway.yaml", "destination-rule-all.yaml")
	verify(ExitPass, "v1=33.3,v2=33.3,v3=33.4")

	apply("virtual-service-all-v1.yaml")
	verify(ExitPass, "v1=100")
	verify(ExitFail, "v3=100")

	apply("virtual-service-reviews-50-50.yaml")
	verify(ExitPass, "v1=50,v3=50")
	verify(ExitFail, "v1=100")

	// A version scaled to zero: Envoy's 503s reach the pages as errors.
	e.kubectl(t, "scale", "deploy", "reviews-v3", "--replicas=0")
	out := verify(ExitFail, "v1=50,v3=50")
	if !strings.Contains(out, "error") {
		t.Errorf("verify with reviews-v3 at 0 replicas: no errors in the verdict:\n%s", out)
	}
	e.kubectl(t, "scale", "deploy", "reviews-v3", "--replicas=1")
	// As an operator would: the new pod's sidecar is scraped (seven
	// targets: six sidecars and the ingress) before the next gate counts.
	e.kubectl(t, "wait", "--for=condition=Ready", "pod", "-l", "app=reviews,version=v3", "--timeout=20s")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.prom.WaitScraped(ctx, time.Now(), 7); err != nil {
		t.Fatal(err)
	}

	apply("virtual-service-reviews-v3.yaml")
	verify(ExitPass, "v3=100")

	apply("virtual-service-all-v1.yaml", "virtual-service-mirroring.yaml")
	verify(ExitPass, "v1=100", "--mirror", "v2")
}
