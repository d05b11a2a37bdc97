package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/internal/labtest"
	"github.com/canary-gate/canary/internal/promtest"
	"github.com/canary-gate/canary/internal/sharedtest"
)

// labEnv is the walkthrough's world on the lab: a real kube-apiserver, the
// local mesh as its data plane, a real Prometheus scraping the sidecars, and
// the real kubectl.
type labEnv struct {
	kubeconfig string
	mesh       *meshProc
	prom       *promtest.Server
}

// startLab starts the lab; extra are more `bookinfo serve` flags.
func startLab(t *testing.T, extra ...string) *labEnv {
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
	mp := startMesh(t, append([]string{"--admin-addr", admin, "--kubeconfig", kubeconfig, "--prometheus-addr", u.Host}, extra...)...)
	return &labEnv{kubeconfig: kubeconfig, mesh: mp, prom: prom}
}

// verify runs a gate with KUBECONFIG set, as the walkthrough's users have
// it, and fails the test unless it exits wantCode.
func (e *labEnv) verify(t *testing.T, wantCode int, args ...string) (string, string) {
	t.Helper()
	args = append([]string{"verify", "--rate", "0", "--max-requests", decisivePages, "--settle-min", "2s", "--server-wait", "20s"}, args...)
	out, errOut, code := runEnv(t, []string{"KUBECONFIG=" + e.kubeconfig}, "", args...)
	if code != wantCode {
		t.Fatalf("canary %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, out, errOut)
	}
	return out, errOut
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
		out, errOut := e.verify(t, wantCode, args...)
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
	if !strings.Contains(errOut, "expect v1=33.3,v2=33.3,v3=33.4: no VirtualService or HTTPRoute routes reviews") {
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

// TestLabGatewayAPIWalkthrough is the walkthrough's Gateway API twin, as
// Istio's traffic-shifting task shows it: kubectl apply of each file of
// shared/gateway-api-manifests in order, and after each route a
// `canary verify --expect-from cluster` with KUBECONFIG only. The target is
// found through the Gateway's own Service (bookinfo-gateway-istio), the
// split through the HTTPRoute and its backend Services' pods, and the
// server side counts the backend Services' requests in a real Prometheus.
func TestLabGatewayAPIWalkthrough(t *testing.T) {
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	e := startLab(t)
	apply := func(f string) {
		t.Helper()
		e.kubectl(t, "apply", "-f", filepath.Join(dir, f))
	}
	verify := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		return e.verify(t, wantCode, args...)
	}
	apply("bookinfo-gateway.yaml")
	apply("bookinfo-versions.yaml")
	e.kubectl(t, "wait", "--for=condition=programmed", "--timeout=20s", "gateways.gateway.networking.k8s.io/bookinfo-gateway")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Six sidecars, the ingress and now the Gateway's own pod.
	if err := e.prom.WaitScraped(ctx, time.Now(), 8); err != nil {
		t.Fatal(err)
	}
	stages := []struct {
		file, expect, wrong string
		backends            string
	}{
		{"route-reviews-v1.yaml", "v1=100", "v3=100", "reviews-v1"},
		{"route-reviews-90-10.yaml", "v1=90,v2=10", "", "reviews-v1, reviews-v2"},
		{"route-reviews-50-v3.yaml", "v1=50,v3=50", "v1=100", "reviews-v1, reviews-v3"},
		{"route-reviews-v3.yaml", "v3=100", "", "reviews-v3"},
	}
	out, _, code := runEnv(t, []string{"KUBECONFIG=" + e.kubeconfig}, "", "check")
	if code != ExitPass || !strings.Contains(out, "ok   gateway   Gateway default/bookinfo-gateway (class istio), HTTPRoute default/bookinfo routes /productpage on it; it is Programmed") {
		t.Errorf("canary check with the Gateway API's Gateway: exit %d, want 0 naming it Programmed:\n%s", code, out)
	}
	gatewayURL := "http://127.0.0.1:" + e.mesh.gatewayPort(t) + "/productpage"
	for _, st := range stages {
		apply(st.file)
		out, errOut := verify(ExitPass, "--expect-from", "cluster")
		for _, want := range []string{
			"target " + gatewayURL + ": NodePort " + e.mesh.gatewayPort(t) + " of default/bookinfo-gateway-istio",
			"HTTPRoute default/bookinfo on Gateway default/bookinfo-gateway (class istio)",
			"expect " + st.expect + ": HTTPRoute default/reviews",
			"server check counts reviews and its backends " + st.backends + " (HTTPRoute default/reviews)",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: verify --expect-from cluster: stderr does not say %q:\n%s", st.file, want, errOut)
			}
		}
		if !strings.Contains(out, `destination_service_name=~"reviews|`) || !strings.Contains(out, "server: PASS via prometheus") {
			t.Errorf("%s: the server check did not count the backend Services in Prometheus:\n%s", st.file, out)
		}
		if st.wrong != "" { // a wrong split fails; two stages show it, to keep the test short
			verify(ExitFail, "--expect", st.wrong)
		}
		if st.file == "route-reviews-v1.yaml" {
			// A VirtualService for reviews too: which applies is Istio's
			// choice, so check names both and the gate refuses to guess.
			vs := filepath.Join(sharedtest.Dir(t, "seed-manifests"), "virtual-service-reviews-v3.yaml")
			e.kubectl(t, "apply", "-f", vs)
			out, _, code := runEnv(t, []string{"KUBECONFIG=" + e.kubeconfig}, "", "check")
			if code != ExitFail || !strings.Contains(out, "routed by VirtualService default/reviews and by HTTPRoute default/reviews") {
				t.Errorf("canary check with a VirtualService and an HTTPRoute for reviews: exit %d, want %d naming both:\n%s", code, ExitFail, out)
			}
			out, errOut, code := runEnv(t, []string{"KUBECONFIG=" + e.kubeconfig}, "", "verify", "--expect-from", "cluster")
			if code != ExitUsage || !strings.Contains(errOut, "routed by VirtualService reviews and by HTTPRoute reviews") || strings.Contains(out, "samples:") {
				t.Errorf("verify --expect-from cluster with both routes: exit %d, want %d refusing before any load:\n%s\n%s", code, ExitUsage, out, errOut)
			}
			e.kubectl(t, "delete", "-f", vs)
		}
	}
	// In ambient mode the HTTPRoute needs a waypoint: without one ztunnel
	// ignores it, and the gate says so before any load.
	e.kubectl(t, "label", "namespace", "default", "istio.io/dataplane-mode=ambient")
	out, errOut := verify(ExitFail, "--expect-from", "cluster")
	if !strings.Contains(out, "FAIL waypoint  HTTPRoute default/reviews is an L7 route") || strings.Contains(out, "samples:") {
		t.Errorf("verify in an ambient namespace without a waypoint: want a preflight FAIL naming the waypoint and no load:\n%s", out)
	}
	if !strings.Contains(errOut, `server check counts reporter="waypoint": namespace default is labelled istio.io/dataplane-mode=ambient`) {
		t.Errorf("verify in an ambient namespace: stderr does not say it counts the waypoint's reports:\n%s", errOut)
	}
}

// waypointYAML is what `istioctl waypoint generate` writes for the
// namespace default.
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

// TestLabAmbientWalkthrough is the Gateway API walkthrough with the mesh in
// ambient mode (serve --ambient): no sidecars, so the HTTPRoute is not
// applied and verify refuses before any load until a waypoint serves the
// namespace; then each stage's `verify --expect-from cluster` passes, a
// wrong split fails, and the server side counts the waypoint's reports
// (reporter="waypoint") in a real Prometheus. The Service reviews names
// the waypoint itself, the way Istio lets one Service in.
func TestLabAmbientWalkthrough(t *testing.T) {
	dir := sharedtest.Dir(t, "gateway-api-manifests")
	e := startLab(t, "--ambient")
	apply := func(f string) {
		t.Helper()
		e.kubectl(t, "apply", "-f", filepath.Join(dir, f))
	}
	apply("bookinfo-gateway.yaml")
	apply("bookinfo-versions.yaml")
	apply("route-reviews-50-v3.yaml")
	e.kubectl(t, "wait", "--for=condition=programmed", "--timeout=20s", "gateways.gateway.networking.k8s.io/bookinfo-gateway")
	pods := e.kubectl(t, "get", "pods", "-n", "default", "-l", "app=reviews", "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.containers[*].name}{\"\\n\"}{end}")
	if strings.Contains(pods, "istio-proxy") || strings.Count(pods, "reviews-v") != 3 {
		t.Errorf("reviews pods in ambient mode: want three, none with istio-proxy:\n%s", pods)
	}
	out, errOut := e.verify(t, ExitFail, "--expect-from", "cluster")
	if !strings.Contains(out, "FAIL waypoint  HTTPRoute default/reviews is an L7 route") || strings.Contains(out, "samples:") {
		t.Errorf("verify without a waypoint: want a preflight FAIL naming the waypoint and no load:\n%s\n%s", out, errOut)
	}

	wp := filepath.Join(t.TempDir(), "waypoint.yaml")
	if err := os.WriteFile(wp, []byte(waypointYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	e.kubectl(t, "apply", "-f", wp)
	// The Service names the waypoint (the README enrols the namespace).
	e.kubectl(t, "label", "service", "reviews", "istio.io/use-waypoint=waypoint")
	e.kubectl(t, "wait", "--for=condition=programmed", "--timeout=20s", "gateways.gateway.networking.k8s.io/waypoint")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The ingress, the Gateway's pod, ztunnel and the waypoint: no sidecars.
	if err := e.prom.WaitScraped(ctx, time.Now(), 4); err != nil {
		t.Fatal(err)
	}
	out, _, code := runEnv(t, []string{"KUBECONFIG=" + e.kubeconfig}, "", "check")
	if code != ExitPass || !strings.Contains(out, "waypoint default/waypoint (class istio-waypoint, Programmed) serves reviews") {
		t.Errorf("canary check with the waypoint: exit %d, want 0 naming it:\n%s", code, out)
	}
	stages := []struct{ file, expect, wrong string }{
		{"route-reviews-v1.yaml", "v1=100", ""},
		{"route-reviews-90-10.yaml", "v1=90,v2=10", ""},
		{"route-reviews-50-v3.yaml", "v1=50,v3=50", "v1=100"},
		{"route-reviews-v3.yaml", "v3=100", ""},
	}
	for _, st := range stages {
		apply(st.file)
		out, errOut := e.verify(t, ExitPass, "--expect-from", "cluster")
		for _, want := range []string{
			"expect " + st.expect + ": HTTPRoute default/reviews",
			`server check counts reporter="waypoint"`,
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: verify --expect-from cluster: stderr does not say %q:\n%s", st.file, want, errOut)
			}
		}
		if !strings.Contains(out, `reporter="waypoint"`) || !strings.Contains(out, "server: PASS via prometheus") {
			t.Errorf("%s: the server check did not count the waypoint's reports in Prometheus:\n%s", st.file, out)
		}
		if st.wrong != "" {
			e.verify(t, ExitFail, "--expect", st.wrong)
		}
	}
}

// The walkthrough's routing as a rollout's kube steps: the first stage's
// file brings the Gateway, the DestinationRule and reviews at 50/50, the
// second promotes v3.
const (
	kubeStageCanary = `# the walkthrough's 50/50 stage, with what it needs
---
apiVersion: networking.istio.io/v1
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
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v3}, weight: 50}
`
	kubeStagePromote = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews, subset: v3}, weight: 100}
`
	kubeStageRollback = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v1}}]
`
)

// TestRunKubeStages runs a scenario whose stages apply their files to the
// lab's API server with `apply: {kube: FILE}` (server-side apply, no
// kubectl): the mesh follows the cluster, and each stage's gate passes on
// the split its file set, checked against Prometheus. A bad document stops
// the run before any load with one line naming the file and the document.
func TestRunKubeStages(t *testing.T) {
	e := startLab(t)
	dir := t.TempDir()
	write := func(name, data string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.Mkdir(filepath.Join(dir, "manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("manifests/canary-50-50.yaml", kubeStageCanary)
	write("manifests/promote-v3.yaml", kubeStagePromote)
	write("manifests/all-v1.yaml", kubeStageRollback)
	scenario := write("rollout.yaml", `name: kube-rollout
description: the walkthrough's last two stages, applied with server-side apply
defaults:
  rate: "0"
  max-requests: `+decisivePages+`
  settle-min: 2s
  prometheus: {url: `+e.prom.URL+`}
stages:
- name: canary-50-50
  apply: {kube: manifests/canary-50-50.yaml, timeout: 30s}
  expect: v1=50,v3=50
  on-fail: {kube: manifests/all-v1.yaml}
- name: promote-v3
  apply: {kube: manifests/promote-v3.yaml}
  expect: v3=100
  on-fail: {kube: manifests/all-v1.yaml}
`)
	report := filepath.Join(dir, "run.json")
	start := time.Now()
	out, errOut, code := run(t, "", "run", scenario, "--target", e.mesh.url("/productpage"), "--kubeconfig", e.kubeconfig,
		"--format", "json", "--output", report)
	t.Logf("canary run: exit %d in %v\n%s%s", code, time.Since(start).Round(100*time.Millisecond), out, errOut)
	if code != ExitPass {
		t.Fatalf("canary run with kube steps: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "kube steps apply here (server-side apply, field manager canary)") {
		t.Errorf("stderr does not say which cluster the kube steps apply to:\n%s", errOut)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Verdict string
		Stages  []struct {
			Name, Verdict string
			Apply         struct{ What, Output string }
			Gate          struct {
				Server *struct{ Ran bool }
			}
		}
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	wantApply := []struct{ what, output string }{
		{"apply {kube: manifests/canary-50-50.yaml}", "gateway.networking.istio.io/bookinfo-gateway serverside-applied\n" +
			"virtualservice.networking.istio.io/bookinfo serverside-applied\n" +
			"destinationrule.networking.istio.io/reviews serverside-applied\n" +
			"virtualservice.networking.istio.io/reviews serverside-applied"},
		{"apply {kube: manifests/promote-v3.yaml}", "virtualservice.networking.istio.io/reviews serverside-applied"},
	}
	if res.Verdict != "PASS" || len(res.Stages) != 2 {
		t.Fatalf("report: verdict %s, %d stages; want PASS with 2", res.Verdict, len(res.Stages))
	}
	for i, st := range res.Stages {
		if st.Verdict != "PASS" || st.Apply.What != wantApply[i].what || st.Apply.Output != wantApply[i].output {
			t.Errorf("stage %s: %s, apply %q:\n%s\nwant PASS, apply %q:\n%s", st.Name, st.Verdict, st.Apply.What, st.Apply.Output,
				wantApply[i].what, wantApply[i].output)
		}
		if st.Gate.Server == nil || !st.Gate.Server.Ran {
			t.Errorf("stage %s: the Prometheus check did not run", st.Name)
		}
	}
	if got := e.kubectl(t, "get", "virtualservice", "reviews", "-o", "jsonpath={.metadata.managedFields[*].manager} {.spec.http[0].route[0].destination.subset}"); got != "canary v3" {
		t.Errorf("VirtualService reviews: managers and first subset %q; want %q", got, "canary v3")
	}

	// A bad document: the run stops at its stage (exit 4) before any
	// request, naming the file and the document.
	write("manifests/bad.yaml", kubeStagePromote+"---\napiVersion: v1\nkind: Nope\nmetadata: {name: x}\n")
	bad := write("bad.yaml", "name: bad\nstages:\n- name: promote\n  apply: {kube: manifests/bad.yaml}\n  expect: v3=100\n")
	out, errOut, code = run(t, "", "run", bad, "--target", e.mesh.url("/productpage"), "--kubeconfig", e.kubeconfig)
	if code != ExitError || !regexp.MustCompile(`(?m)^stage promote: ERROR in \S+: apply: \{kube: manifests/bad.yaml\}: document 2 \(Nope x\): no matches for kind "Nope" in version "v1"$`).MatchString(errOut) {
		t.Errorf("canary run with a bad document: exit %d, want %d and the one-line error\nstdout:\n%s\nstderr:\n%s", code, ExitError, out, errOut)
	}
}

// TestRunKubeNoCluster: a scenario with kube steps and no kubeconfig is a
// usage error naming the stage, before anything runs; one without kube
// steps never reads the kubeconfig.
func TestRunKubeNoCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	scenario := filepath.Join(dir, "kube.yaml")
	if err := os.WriteFile(scenario, []byte("name: k\nstages:\n- {name: canary, expect: v3=100, on-fail: {kube: all-v1.yaml}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"KUBECONFIG=", "HOME=" + dir, "KUBERNETES_SERVICE_HOST=", "KUBERNETES_SERVICE_PORT="}
	_, errOut, code := runEnv(t, env, "", "run", scenario, "--target", "http://127.0.0.1:1/productpage")
	if want := "run: stage 1 (canary) applies {kube: all-v1.yaml}: want --kubeconfig FILE: no Kubernetes cluster"; code != ExitUsage || !strings.Contains(errOut, want) {
		t.Errorf("canary run without a cluster: exit %d, stderr %q; want %d and %q", code, errOut, ExitUsage, want)
	}
}
