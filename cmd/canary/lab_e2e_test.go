package main

import (
	"context"
	"github.com/canary-gate/canary/internal/sharedtest"
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
// server: kubectl apply of the seed manifests in order, and after each stage
// a `canary verify --expect …` with no other flag (KUBECONFIG exported, as
// the walkthrough's users have it): the ingress, Prometheus and, without
// --expect, the split are read from the cluster. Each right expectation
// passes, a wrong one fails, and Prometheus checks each on the server side.
func TestLabWalkthrough(t *testing.T) {
	seed := sharedtest.Dir(t, "seed-manifests")
	e := startLab(t)
	env := []string{"KUBECONFIG=" + e.kubeconfig}
	// The walkthrough finds the ingress by hand; discovery must agree.
	nodeIP := e.kubectl(t, "get", "nodes", "-o", `jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}`)
	port := e.kubectl(t, "-n", "istio-system", "get", "svc", "istio-ingressgateway", "-o", `jsonpath={.spec.ports[?(@.name=="http2")].nodePort}`)
	if target := "http://" + nodeIP + ":" + port + "/productpage"; target != e.mesh.url("/productpage") {
		t.Fatalf("the cluster's ingress %s is not the mesh's %s", target, e.mesh.url("/productpage"))
	}
	pods := e.kubectl(t, "get", "pods", "-o", `jsonpath={range .items[*]}{.metadata.labels.app}-{.metadata.labels.version} {range .spec.containers[*]}{.name},{end}{"\n"}{end}`)
	for _, w := range []string{"productpage-v1", "details-v1", "ratings-v1", "reviews-v1", "reviews-v2", "reviews-v3"} {
		app, _, _ := strings.Cut(w, "-")
		if !strings.Contains(pods, w+" "+app+",istio-proxy,\n") {
			t.Errorf("kubectl get pods: no %s pod with containers %s and istio-proxy:\n%s", w, app, pods)
		}
	}
	verify := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		args = append([]string{"verify", "--rate", "0", "--max-requests", "3000", "--settle-min", "2s", "--server-wait", "20s"}, args...)
		out, errOut, code := runEnv(t, env, "", args...)
		if code != wantCode {
			t.Fatalf("canary %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		if wantCode != ExitPass && wantCode != ExitFail {
			return out, errOut
		}
		for _, found := range []string{"target " + e.mesh.url("/productpage") + ": NodePort", "prometheus " + e.prom.URL + ": NodePort"} {
			if !strings.Contains(errOut, found) {
				t.Errorf("canary %s: stderr does not say %q:\n%s", strings.Join(args, " "), found, errOut)
			}
		}
		return out, errOut
	}
	apply := func(files ...string) {
		t.Helper()
		for _, f := range files {
			e.kubectl(t, "apply", "-f", filepath.Join(seed, f))
		}
	}
	apply("bookinfo-gateway.yaml", "destination-rule-all.yaml")
	_, errOut := verify(ExitPass)
	if !strings.Contains(errOut, "expect v1=33.3,v2=33.3,v3=33.4: no VirtualService routes reviews") {
		t.Errorf("verify without --expect and without a reviews VirtualService: stderr does not say the even split:\n%s", errOut)
	}

	apply("virtual-service-all-v1.yaml")
	verify(ExitPass, "--expect", "v1=100")
	verify(ExitFail, "--expect", "v3=100")

	apply("virtual-service-reviews-50-50.yaml")
	verify(ExitPass, "--expect", "v1=50,v3=50")
	verify(ExitFail, "--expect", "v1=100")
	_, errOut = verify(ExitPass)
	if !strings.Contains(errOut, "expect v1=50,v3=50: VirtualService default/reviews") {
		t.Errorf("verify without --expect: stderr does not say the live split:\n%s", errOut)
	}

	// A version scaled to zero: the preflight fails before any request; with
	// it off, Envoy's 503s reach the pages as errors in the verdict.
	e.kubectl(t, "scale", "deploy", "reviews-v3", "--replicas=0")
	out, _ := verify(ExitFail, "--expect", "v1=50,v3=50")
	if !strings.Contains(out, "FAIL pods      reviews: v1 1 ready, v3 0 ready") || strings.Contains(out, "samples:") {
		t.Errorf("verify with reviews-v3 at 0 replicas: want a preflight FAIL and no load:\n%s", out)
	}
	out, _ = verify(ExitFail, "--expect", "v1=50,v3=50", "--preflight=false")
	if !strings.Contains(out, "error") {
		t.Errorf("verify --preflight=false with reviews-v3 at 0 replicas: no errors in the verdict:\n%s", out)
	}
	if out, _, code := runEnv(t, env, "", "check"); code != ExitFail || !strings.Contains(out, "v3 0 ready") {
		t.Errorf("canary check with reviews-v3 at 0: exit %d, want 1:\n%s", code, out)
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
	if out, _, code := runEnv(t, env, "", "check"); code != ExitPass {
		t.Errorf("canary check after scaling back: exit %d, want 0:\n%s", code, out)
	}

	apply("virtual-service-reviews-v3.yaml")
	verify(ExitPass, "--expect", "v3=100")

	apply("virtual-service-all-v1.yaml", "virtual-service-mirroring.yaml")
	verify(ExitPass, "--expect", "v1=100", "--mirror", "v2")
	_, errOut = verify(ExitPass, "--expect-from", "cluster", "--mirror", "v2")
	if !strings.Contains(errOut, "it mirrors to v2") {
		t.Errorf("verify --expect-from cluster: stderr does not name the mirror:\n%s", errOut)
	}
}
