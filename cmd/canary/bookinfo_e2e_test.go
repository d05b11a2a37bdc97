package main

import (
	"context"
	"fmt"
	"github.com/canary-gate/canary/internal/sharedtest"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canary-gate/canary/internal/promtest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// kindOf tells a page's reviews version with plain string checks, on
// purpose independent of the classify package, so the mesh is tested
// against the markup rather than against the code it is meant to test.
var starWrapper = regexp.MustCompile(`flex gap-x-1 text-(red|black)-500|<font color="(red|black)">`)

func kindOf(page string) string {
	switch {
	case strings.Contains(page, "Error fetching product reviews"):
		return "reviews-unavailable"
	case strings.Contains(page, "Ratings service is currently unavailable"):
		return "ratings-unavailable"
	}
	if m := starWrapper.FindStringSubmatch(page); m != nil {
		if m[1] == "red" || m[2] == "red" {
			return "v3"
		}
		return "v2"
	}
	if strings.Contains(page, "Book Reviews") && strings.Contains(page, "Reviewer1") {
		return "v1"
	}
	return "other"
}

// fetchPages gets n pages with a few concurrent clients and counts kinds.
func fetchPages(t *testing.T, client *http.Client, target string, n int) map[string]int {
	t.Helper()
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	var mu sync.Mutex
	counts := map[string]int{}
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				resp, err := client.Get(target)
				if err != nil {
					errs <- err
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				k := kindOf(string(body))
				if resp.StatusCode != http.StatusOK {
					k = fmt.Sprintf("http-%d", resp.StatusCode)
				}
				mu.Lock()
				counts[k]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("GET %s: %v", target, err)
	}
	return counts
}

// checkShare fails unless got of n is within 5 standard deviations of the
// binomial share p (a false alarm about once in two million checks); shares
// of 0 and 1 are exact, as Envoy never routes to a zero weight.
func checkShare(t *testing.T, what string, got, n int, p float64) {
	t.Helper()
	switch p {
	case 0, 1:
		if want := int(p * float64(n)); got != want {
			t.Errorf("%s: %d of %d pages, want exactly %d", what, got, n, want)
		}
		return
	}
	mean, sd := p*float64(n), math.Sqrt(float64(n)*p*(1-p))
	if math.Abs(float64(got)-mean) > 5*sd {
		t.Errorf("%s: %d of %d pages (%.1f%%), want %.1f%% ± %.1f pages", what, got, n, 100*float64(got)/float64(n), 100*p, 5*sd)
	}
}

// TestWalkthrough applies the seed manifests in the walkthrough's order and
// checks the share of red-star pages at each stage, and that mirrored
// traffic reaches reviews v2's metrics but never a page.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "0")
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "bookinfo-gateway.yaml"))
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "destination-rule-all.yaml"))
	const n = 300
	stages := []struct {
		file string
		red  float64
		v2   float64
	}{
		{"", 1.0 / 3, 1.0 / 3},
		{"virtual-service-all-v1.yaml", 0, 0},
		{"virtual-service-reviews-50-50.yaml", 0.5, 0},
		{"virtual-service-reviews-v3.yaml", 1, 0},
		{"virtual-service-all-v1.yaml", 0, 0},
		{"virtual-service-mirroring.yaml", 0, 0},
	}
	for _, st := range stages {
		if st.file != "" {
			out := mp.ctl(t, "apply", "-f", filepath.Join(seed, st.file))
			t.Logf("apply %s: %s", st.file, strings.TrimSpace(out))
		}
		before := scrapeCount(t, mp, "reviews-v2", map[string]string{"reporter": "destination"})
		counts := fetchPages(t, nil, mp.url("/productpage"), n)
		name := st.file
		if name == "" {
			name = "no reviews VirtualService"
		}
		checkShare(t, name+": red stars (v3)", counts["v3"], n, st.red)
		checkShare(t, name+": black stars (v2)", counts["v2"], n, st.v2)
		if counts["v1"]+counts["v2"]+counts["v3"] != n {
			t.Errorf("%s: pages by kind %v, want only versions", name, counts)
		}
		if st.file == "virtual-service-mirroring.yaml" {
			// Every reviews request is mirrored to v2; shadow answers are
			// discarded, so the count shows in v2's metrics only.
			waitCount(t, mp, "reviews-v2", map[string]string{"reporter": "destination"}, before+n)
		}
	}
}

// TestJasonRoutingAndRatingsAbort logs in as jason through the gateway, as a
// browser would, and checks header-based routing and fault injection.
func TestJasonRoutingAndRatingsAbort(t *testing.T) {
	t.Parallel()
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "0")
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-all-v1.yaml"))
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-jason-v2.yaml"))
	jason := login(t, mp, "jason")
	const n = 100
	if got := fetchPages(t, jason, mp.url("/productpage"), n); got["v2"] != n {
		t.Errorf("jason's pages: %v, want all %d v2", got, n)
	}
	if got := fetchPages(t, nil, mp.url("/productpage"), n); got["v1"] != n {
		t.Errorf("anonymous pages: %v, want all %d v1", got, n)
	}
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-ratings-abort-jason.yaml"))
	aborted := map[string]string{"reporter": "source", "destination_service_name": "ratings", "response_code": "500", "response_flags": "FI"}
	before := scrapeCount(t, mp, "reviews-v2", aborted)
	if got := fetchPages(t, jason, mp.url("/productpage"), n); got["ratings-unavailable"] != n {
		t.Errorf("jason's pages with ratings aborted: %v, want all %d ratings-unavailable", got, n)
	}
	if got := scrapeCount(t, mp, "reviews-v2", aborted) - before; got != n {
		t.Errorf("reviews-v2 reported %v aborted ratings calls (500, FI), want %d", got, n)
	}
	page := getPage(t, jason, mp.url("/productpage"))
	if !strings.Contains(page, "jason") || !strings.Contains(strings.ToLower(page), "sign out") {
		t.Errorf("jason's page does not show him signed in")
	}
}

func login(t *testing.T, mp *meshProc, user string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.PostForm(mp.url("/login"), url.Values{"username": {user}, "passwd": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login as %s: final status %s", user, resp.Status)
	}
	return c
}

func getPage(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestScaleToZero stops reviews v1 while all traffic goes to it: pages show
// the reviews error, productpage's retry doubles the failed calls, and the
// sidecar reports Envoy's 503 "UH".
func TestScaleToZero(t *testing.T) {
	t.Parallel()
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "0")
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-all-v1.yaml"))
	mp.ctl(t, "scale", "reviews-v1=0")
	uh := map[string]string{"reporter": "source", "destination_service_name": "reviews", "response_code": "503", "response_flags": "UH"}
	before := scrapeCount(t, mp, "productpage-v1", uh)
	const n = 50
	if got := fetchPages(t, nil, mp.url("/productpage"), n); got["reviews-unavailable"] != n {
		t.Errorf("pages with reviews-v1 at 0: %v, want all %d reviews-unavailable", got, n)
	}
	if got := scrapeCount(t, mp, "productpage-v1", uh) - before; got != 2*n {
		t.Errorf("productpage reported %v reviews calls with 503 UH, want %d (two tries per page)", got, 2*n)
	}
	mp.ctl(t, "scale", "reviews-v1=1")
	if got := fetchPages(t, nil, mp.url("/productpage"), n); got["v1"] != n {
		t.Errorf("pages after scaling reviews-v1 back to 1: %v, want all %d v1", got, n)
	}
}

// TestPropagationDelay: applied routing takes effect only after the delay.
// The mesh applies somewhere between the moment the apply command starts and
// the moment it returns, so "before" bounds the old routing and "after" the
// new.
func TestPropagationDelay(t *testing.T) {
	t.Parallel()
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "3s")
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-all-v1.yaml"))
	time.Sleep(3500 * time.Millisecond)
	before := time.Now()
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-v3.yaml"))
	after := time.Now()
	got := fetchPages(t, nil, mp.url("/productpage"), 20)
	if time.Since(before) < 2500*time.Millisecond && got["v1"] != 20 {
		t.Errorf("pages right after apply: %v, want all v1 until the delay passes", got)
	}
	time.Sleep(time.Until(after.Add(3500 * time.Millisecond)))
	if got := fetchPages(t, nil, mp.url("/productpage"), 20); got["v3"] != 20 {
		t.Errorf("pages after the delay: %v, want all v3", got)
	}
}

// TestNoSidecar: a workload without a sidecar has no metrics endpoint and no
// service discovery entry; callers report it as "unknown".
func TestNoSidecar(t *testing.T) {
	t.Parallel()
	mp := startMesh(t, "--propagation-delay", "0", "--no-sidecar", "reviews-v3")
	resp, err := http.Get("http://" + mp.admin + "/sidecars/reviews-v3/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("reviews-v3 metrics endpoint: %s, want 404 without a sidecar", resp.Status)
	}
	targets := getPage(t, http.DefaultClient, "http://"+mp.admin+"/prometheus/targets")
	if strings.Contains(targets, "reviews-v3") || !strings.Contains(targets, "reviews-v2") {
		t.Errorf("service discovery lists %s; want reviews-v2 but not reviews-v3", targets)
	}
	counts := fetchPages(t, nil, mp.url("/productpage"), 150)
	unknown := scrapeCount(t, mp, "productpage-v1", map[string]string{
		"reporter": "source", "destination_service_name": "reviews", "destination_version": "unknown"})
	if counts["v3"] == 0 || unknown != float64(counts["v3"]) {
		t.Errorf("productpage reported %v reviews calls to an unknown version, want the %d v3 pages", unknown, counts["v3"])
	}
	mp.ctl(t, "sidecar", "reviews-v3=on")
	if scrapeStatus(t, mp, "reviews-v3") != http.StatusOK {
		t.Errorf("reviews-v3 metrics endpoint missing after injecting its sidecar")
	}
}

// scrapeCount sums istio_requests_total of one sidecar over the series
// whose labels include want.
func scrapeCount(t *testing.T, mp *meshProc, workload string, want map[string]string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + mp.admin + "/sidecars/" + workload + "/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s", workload, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s metrics: %v", workload, err)
	}
	var sum float64
	for _, m := range fams["istio_requests_total"].GetMetric() {
		if labelsMatch(m.GetLabel(), want) {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func labelsMatch(lp []*dto.LabelPair, want map[string]string) bool {
	n := 0
	for _, l := range lp {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func scrapeStatus(t *testing.T, mp *meshProc, workload string) int {
	resp, err := http.Get("http://" + mp.admin + "/sidecars/" + workload + "/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitCount waits for asynchronous (mirrored) requests to be counted.
func waitCount(t *testing.T, mp *meshProc, workload string, labels map[string]string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := scrapeCount(t, mp, workload, labels)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s %v count = %v, want %v", workload, labels, got, want)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPrometheusCountsExactly: a real Prometheus scraping the mesh every
// second reports exactly the reviews requests each version served: the same
// numbers as the sidecars' own counters, and the page counts plus however
// many of productpage's calls failed and were retried (none, unless the
// machine is so loaded that a call outlives productpage's 3 s timeout).
// It runs alone, not in parallel, to keep that load low.
func TestPrometheusCountsExactly(t *testing.T) {
	seed := sharedtest.Dir(t, "seed-manifests")
	promtest.Binary(t)
	mp := startMesh(t, "--propagation-delay", "0")
	cfg := mp.ctl(t, "prometheus-config", "--scrape-interval", "1s")
	if promtool, err := exec.LookPath("promtool"); err == nil {
		f := filepath.Join(t.TempDir(), "prometheus.yml")
		if err := os.WriteFile(f, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "check", "config", f).CombinedOutput(); err != nil {
			t.Fatalf("promtool check config: %v\n%s", err, out)
		}
	}
	prom := promtest.Start(t, cfg)
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-50-50.yaml"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Seven targets: the ingress gateway and six sidecars.
	if err := prom.WaitScraped(ctx, time.Now(), 7); err != nil {
		t.Fatal(err)
	}
	served := func() map[string]float64 {
		m := map[string]float64{}
		for _, v := range []string{"v1", "v2", "v3"} {
			m[v] = scrapeCount(t, mp, "reviews-"+v, map[string]string{"reporter": "destination"})
		}
		return m
	}
	base := served()
	first := time.Now()
	const n = 400
	pages := fetchPages(t, nil, mp.url("/productpage"), n)
	last := time.Now()
	if pages["v1"]+pages["v3"] != n {
		t.Fatalf("pages by kind %v, want %d pages of v1 or v3", pages, n)
	}
	if err := prom.WaitScraped(ctx, last, 7); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	got, err := prom.Increase(ctx,
		`istio_requests_total{reporter="destination",destination_service_name="reviews",destination_service_namespace="default"}`,
		"destination_version", first, end)
	if err != nil {
		t.Fatal(err)
	}
	direct := served()
	for _, v := range []string{"v1", "v2", "v3"} {
		if want := direct[v] - base[v]; got[v] != want {
			t.Errorf("Prometheus: %v reviews-%s requests; its sidecar counted %v", got[v], v, want)
		}
	}
	failed, err := prom.Increase(ctx,
		`istio_requests_total{reporter="source",source_workload="productpage-v1",destination_service_name="reviews",response_code!="200"}`,
		"reporter", first, end)
	if err != nil {
		t.Fatal(err)
	}
	if total := got["v1"] + got["v2"] + got["v3"]; total != n+failed["source"] {
		t.Errorf("Prometheus: %v reviews requests in all, want %d pages + %v retried calls", total, n, failed["source"])
	}
	if failed["source"] == 0 && (got["v1"] != float64(pages["v1"]) || got["v3"] != float64(pages["v3"]) || got["v2"] != 0) {
		t.Errorf("Prometheus reviews requests by version = %v, want the page counts %v", got, pages)
	}
	if failed["source"] > 0 {
		t.Logf("%v reviews calls failed and were retried by productpage (a loaded machine)", failed["source"])
	}
	ingress, err := prom.Increase(ctx, `istio_requests_total{reporter="source",source_workload="istio-ingressgateway"}`, "destination_service_name", first, end)
	if err != nil {
		t.Fatal(err)
	}
	if ingress["productpage"] != n {
		t.Errorf("ingress gateway requests to productpage = %v, want %d", ingress["productpage"], n)
	}
}

// TestBadInput: every refused input gets one line on stderr, a non-zero
// exit, and leaves the running mesh's routing as it was.
func TestBadInput(t *testing.T) {
	t.Parallel()
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "0")
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-all-v1.yaml"))
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vs := func(routes string) string {
		return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts:\n  - reviews\n  http:\n  - route:\n" + routes
	}
	cases := []struct {
		name, file, want string
		code             int
	}{
		{"malformed YAML", write("bad.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: [\n"), "bad.yaml:", ExitUsage},
		{"unknown subset", write("subset.yaml", vs("    - destination:\n        host: reviews\n        subset: v4\n")), "v4", ExitUsage},
		{"weights not 100", write("weights.yaml", vs("    - destination:\n        host: reviews\n        subset: v1\n      weight: 50\n    - destination:\n        host: reviews\n        subset: v3\n      weight: 40\n")), "100", ExitUsage},
		{"missing file", filepath.Join(dir, "absent.yaml"), "absent.yaml", ExitUsage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, "", "bookinfo", "apply", "--admin-addr", mp.admin, "-f", tc.file)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr)
			}
			if lines := strings.Count(strings.TrimRight(stderr, "\n"), "\n"); lines != 0 || !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q: want one line mentioning %q", stderr, tc.want)
			}
		})
	}
	if got := fetchPages(t, nil, mp.url("/productpage"), 30); got["v1"] != 30 {
		t.Errorf("pages after refused input: %v, want routing unchanged (all v1)", got)
	}
	t.Run("port in use", func(t *testing.T) {
		_, stderr, code := run(t, "", "bookinfo", "serve", "--addr", mp.ingress, "--admin-addr", "127.0.0.1:0")
		if code != ExitError || !strings.Contains(stderr, "address already in use") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("serve on a used port: exit %d, stderr %q; want exit %d and one line", code, stderr, ExitError)
		}
	})
	t.Run("unknown workload", func(t *testing.T) {
		_, stderr, code := run(t, "", "bookinfo", "scale", "--admin-addr", mp.admin, "reviews-v9=0")
		if code != ExitUsage || !strings.Contains(stderr, "reviews-v9") {
			t.Errorf("scale reviews-v9: exit %d, stderr %q", code, stderr)
		}
	})
}

// TestBookinfoAmbient: serve --ambient runs without sidecars, and status
// says which Services a waypoint serves once `bookinfo apply` brings one
// and enrols the namespace, as istioctl waypoint apply --enroll-namespace
// does on a cluster.
func TestBookinfoAmbient(t *testing.T) {
	t.Parallel()
	if _, errOut, code := run(t, "", "bookinfo", "serve", "--ambient", "--no-sidecar", "reviews-v1"); code != ExitUsage || !strings.Contains(errOut, "--no-sidecar: with --ambient no workload has a sidecar") {
		t.Errorf("serve --ambient --no-sidecar: exit %d, stderr %q; want %d naming --no-sidecar", code, errOut, ExitUsage)
	}
	mp := startMesh(t, "--ambient", "--propagation-delay", "0")
	out := mp.ctl(t, "status")
	for _, want := range []string{"reviews-v1 ", "ambient mode: ztunnel carries the pods' traffic; no waypoint serves a Service: HTTP routes are not applied"} {
		if !strings.Contains(out, want) {
			t.Errorf("status of an ambient mesh does not say %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && isWorkload(f[0]) && f[2] != "false" {
			t.Errorf("status of an ambient mesh shows a sidecar: %s", line)
		}
	}
	f := filepath.Join(t.TempDir(), "waypoint.yaml")
	if err := os.WriteFile(f, []byte(`apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}
---
`+waypointYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mp.ctl(t, "apply", "-f", f); !strings.Contains(out, "namespace/default configured") || !strings.Contains(out, "gateway.gateway.networking.k8s.io/waypoint created") {
		t.Errorf("apply of the waypoint and the namespace's labels:\n%s", out)
	}
	if out := mp.ctl(t, "status"); !strings.Contains(out, "ambient mode: ztunnel carries the pods' traffic; waypoint waypoint serves details, productpage, ratings, reviews") {
		t.Errorf("status with a waypoint does not name it:\n%s", out)
	}
}
