package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/canary-gate/canary/internal/promtest"
	"github.com/canary-gate/canary/internal/sharedtest"
)

// users sends the local mesh's traffic from a process of its own, as
// users would: canary attack against the ingress. It stops when the test
// ends.
func users(t *testing.T, target string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, canaryBin, "attack", "--target", target, "--rate", "50/s", "--duration", "3m")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
}

// passiveResult is what the tests read of a passive gate's JSON report.
type passiveResult struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	Client  struct {
		Unit  string `json:"unit"`
		Pages int    `json:"pages"`
	} `json:"client"`
	Passive struct {
		Reporter string             `json:"reporter"`
		Requests map[string]float64 `json:"requests"`
		FromWhy  string             `json:"from_why"`
		Polls    int                `json:"polls"`
		Query    string             `json:"query"`
	} `json:"passive"`
}

// passive runs `canary verify --passive` with env and fails the test
// unless it exits want.
func passive(t *testing.T, env []string, want int, args ...string) (passiveResult, string) {
	t.Helper()
	full := append([]string{"verify", "--passive", "--format", "json", "--timeout", "60s"}, args...)
	out, errOut, code := runEnv(t, env, "", full...)
	var res passiveResult
	if out != "" && want != ExitUsage {
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("canary %s: not JSON (%v):\n%s\n%s", strings.Join(full, " "), err, out, errOut)
		}
	}
	if code != want {
		t.Fatalf("canary %s: exit %d, want %d: %s\n%s", strings.Join(full, " "), code, want, res.Reason, errOut)
	}
	return res, errOut
}

// TestVerifyPassive: on the local mesh with a real Prometheus, traffic
// from another process, and no request from the gate: the configured
// 50/50 passes, a wrong 80/20 fails, and with no traffic the gate ends
// INCONCLUSIVE at its timeout saying so. A gate whose flags ask for load
// is refused. Not parallel: the verdicts rest on the local mesh answering
// in time, which a machine busy with the parallel gates does not promise.
func TestVerifyPassive(t *testing.T) {
	seed := sharedtest.Dir(t, "seed-manifests")
	promtest.Binary(t)
	mp := startMesh(t, "--propagation-delay", "0")
	prom := promtest.Start(t, mp.ctl(t, "prometheus-config", "--scrape-interval", "1s"))
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-50-50.yaml"))

	// No traffic yet: nothing to judge.
	res, _ := passive(t, nil, ExitInconclusive, "--expect", "v1=50,v3=50", "--prometheus", prom.URL, "--timeout", "4s")
	if !strings.Contains(res.Reason, "no decision within --timeout 4s: no requests to reviews") {
		t.Errorf("passive gate without traffic: reason %q does not say no requests arrived", res.Reason)
	}
	users(t, mp.url("/productpage"))
	res, _ = passive(t, nil, ExitPass, "--expect", "v1=50,v3=50", "--prometheus", prom.URL)
	if res.Client.Unit != "request" || res.Passive.Reporter != "source" || res.Passive.Requests["v1"] == 0 || res.Passive.Requests["v3"] == 0 ||
		res.Passive.Requests["v2"] != 0 || res.Passive.Polls < 2 {
		t.Errorf("passive 50/50: want requests from the callers' sidecars for v1 and v3 over several looks, got %+v", res)
	}
	if !strings.Contains(res.Reason, "after "+strconv.Itoa(res.Client.Pages)+" requests") {
		t.Errorf("passive 50/50: reason %q does not count requests", res.Reason)
	}
	res, _ = passive(t, nil, ExitFail, "--expect", "v1=80,v3=20", "--prometheus", prom.URL)
	if !strings.Contains(res.Reason, "v1 share") || !strings.Contains(res.Reason, "below 80%") {
		t.Errorf("passive 80/20 against a real 50/50: reason %q does not name v1's share", res.Reason)
	}
	// The gate may start counting from the past: a minute ago reaches
	// back before this gate, to the requests already in Prometheus.
	res, _ = passive(t, nil, ExitPass, "--expect", "v1=50,v3=50", "--prometheus", prom.URL, "--since", "30s", "--poll", "1s")
	if res.Passive.FromWhy != "--since 30s" || res.Passive.Polls > 3 {
		t.Errorf("passive --since 30s: want the evidence from 30 s ago deciding in a look or two, got %+v", res.Passive)
	}
	// Hours of watching, shortened: windows of the real traffic, then a
	// canary answering 20% with 503 raises alarms naming it.
	report := filepath.Join(t.TempDir(), "soak.html")
	out, errOut, code := run(t, "", "soak", "--passive", "--expect", "v1=50,v3=50", "--prometheus", prom.URL, "--window", "2s", "--duration", "6s",
		"--format", "html", "--output", report)
	if code != ExitPass || !strings.Contains(out, "PASS: no alarm in 3 windows") {
		t.Errorf("soak --passive on a healthy 50/50: exit %d:\n%s\n%s", code, out, errOut)
	}
	if html, err := os.ReadFile(report); err != nil || !strings.Contains(string(html), "no request sent") {
		t.Errorf("soak --passive HTML report: %v; want it naming its source", err)
	}
	mp.ctl(t, "degrade", "reviews-v3", "--error-rate", "20")
	out, errOut, code = run(t, "", "soak", "--passive", "--expect", "v1=50,v3=50", "--prometheus", prom.URL, "--window", "2s", "--duration", "4s")
	mp.ctl(t, "degrade", "reviews-v3", "--error-rate", "0")
	if code != ExitFail || !strings.Contains(errOut, "ALARM") || !strings.Contains(out, "errors v3") {
		t.Errorf("soak --passive with v3 failing 20%%: exit %d, want 1 with alarms naming v3:\n%s\n%s", code, out, errOut)
	}
	for _, bad := range [][]string{
		{"--expect", "v1=50,v3=50", "--prometheus", prom.URL, "--target", mp.url("/productpage")},
		{"--expect", "v1=50,v3=50", "--prometheus", prom.URL, "--since", "yesterday"},
		{"--expect", "v1=50,v3=50", "--prometheus", prom.URL, "--reporter", "ztunnel"},
	} {
		_, errOut := passive(t, nil, ExitUsage, bad...)
		if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("canary verify --passive %s: want a one-line error, got:\n%s", strings.Join(bad, " "), errOut)
		}
	}
}

// TestLabPassive is the proof on the lab: traffic from another
// process through the cluster's ingress NodePort; with only KUBECONFIG,
// passive gates pass the route's 50/50 and fail 80/20; an active gate run
// beside a passive one reaches the same verdict; a reviews-v3 scaled to
// zero fails naming v3; a header-routed route is refused naming its match;
// with no traffic the gate ends INCONCLUSIVE at its timeout.
func TestLabPassive(t *testing.T) {
	seed := sharedtest.Dir(t, "seed-manifests")
	e := startLab(t)
	env := []string{"KUBECONFIG=" + e.kubeconfig}
	for _, f := range []string{"bookinfo-gateway.yaml", "destination-rule-all.yaml", "virtual-service-reviews-50-50.yaml"} {
		e.kubectl(t, "apply", "-f", filepath.Join(seed, f))
	}
	res, _ := passive(t, env, ExitInconclusive, "--expect", "v1=50,v3=50", "--timeout", "4s")
	if !strings.Contains(res.Reason, "no requests to reviews") {
		t.Errorf("passive gate without traffic: reason %q does not say no requests arrived", res.Reason)
	}
	users(t, e.mesh.url("/productpage"))

	// A passive gate and an active one side by side: the same verdict.
	var wg sync.WaitGroup
	var active string
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, _ := e.verify(t, ExitPass, "--expect", "v1=50,v3=50")
		active = out
	}()
	res, errOut := passive(t, env, ExitPass, "--expect", "v1=50,v3=50")
	wg.Wait()
	if !strings.HasPrefix(active, "PASS") {
		t.Errorf("the active gate beside the passive one: %s", active)
	}
	for _, want := range []string{"prometheus " + e.prom.URL + ": NodePort", "VirtualService default/reviews last changed at"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("passive gate on the lab: stderr does not say %q:\n%s", want, errOut)
		}
	}
	passive(t, env, ExitPass) // the expectation from the live route
	res, _ = passive(t, env, ExitFail, "--expect", "v1=80,v3=20")
	if !strings.Contains(res.Reason, "v1 share") {
		t.Errorf("passive 80/20 on the lab: reason %q does not name v1's share", res.Reason)
	}

	e.kubectl(t, "scale", "deploy", "reviews-v3", "--replicas=0")
	out, _, code := runEnv(t, env, "", "verify", "--passive", "--expect", "v1=50,v3=50", "--timeout", "60s")
	if code != ExitFail || !strings.Contains(out, "v3 0 ready") {
		t.Errorf("passive gate with reviews-v3 at 0 replicas: exit %d, want 1 naming v3:\n%s", code, out)
	}
	res, _ = passive(t, env, ExitFail, "--expect", "v1=50,v3=50", "--preflight=false")
	if !strings.Contains(res.Reason, "v3") {
		t.Errorf("passive gate with reviews-v3 at 0 replicas, no preflight: reason %q does not name v3", res.Reason)
	}
	e.kubectl(t, "scale", "deploy", "reviews-v3", "--replicas=1")

	e.kubectl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-jason-v2.yaml"))
	_, errOut = passive(t, env, ExitUsage, "--expect", "v1=50,v3=50")
	if !strings.Contains(errOut, "routes by match") {
		t.Errorf("passive gate on a header-routed VirtualService: stderr does not name the match:\n%s", errOut)
	}
}

// TestServePassive: Flagger and Argo Rollouts gate on the real traffic with
// no load at all: canary serve runs passive gates on the local mesh's
// traffic (from another process) as Istio counts it in a real Prometheus.
func TestServePassive(t *testing.T) {
	t.Parallel()
	seed := sharedtest.Dir(t, "seed-manifests")
	promtest.Binary(t)
	mp := startMesh(t, "--propagation-delay", "0")
	prom := promtest.Start(t, mp.ctl(t, "prometheus-config", "--scrape-interval", "1s"))
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-50-50.yaml"))
	users(t, mp.url("/productpage"))
	srv := startServe(t)
	gate := func(expect string) map[string]string {
		return map[string]string{"passive": "true", "expect": expect, "prometheus": prom.URL, "timeout": "60s"}
	}
	code, body := postJSON(t, srv+"/flagger/confirm-traffic-increase", "", map[string]any{
		"name": "reviews", "namespace": "default", "phase": "Progressing", "metadata": gate("v1=50,v3=50")})
	if code != 200 || !strings.HasPrefix(body, "PASS") || !strings.Contains(body, "requests") {
		t.Errorf("Flagger confirm-traffic-increase, passive, right split: %d %.300q; want 200 PASS counting requests", code, body)
	}
	code, body = postJSON(t, srv+"/v1/verdict", "", gate("v1=80,v3=20"))
	var ans struct {
		Verdict string `json:"verdict"`
		Report  struct {
			Passive struct {
				Reporter string `json:"reporter"`
			} `json:"passive"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || code != 200 || ans.Verdict != "FAIL" || ans.Report.Passive.Reporter != "source" {
		t.Errorf("Argo web metric, passive, wrong split: %d %.300s (%v); want FAIL from the callers' counts", code, body, err)
	}
}
