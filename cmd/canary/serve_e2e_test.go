package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/canary-gate/canary/internal/sharedtest"
)

var serveAddrLine = regexp.MustCompile(`listening on (http://\S+) `)

// startServe runs `canary serve` on a free port until the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(canaryBin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		_ = cmd.Wait()
		t.Fatalf("canary serve printed nothing; stderr: %s", stderr.String())
	}
	m := serveAddrLine.FindStringSubmatch(lines.Text())
	if m == nil {
		_ = cmd.Process.Kill()
		t.Fatalf("canary serve: first line %q", lines.Text())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("canary serve: %v after SIGTERM; stderr:\n%s", err, stderr.String())
		}
		if t.Failed() {
			t.Logf("canary serve log:\n%s", stderr.String())
		}
	})
	return m[1]
}

func postJSON(t *testing.T, url, token string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestServeGates: canary serve runs real gates against the local mesh for
// Flagger's webhook payload and Argo's web metric: a right split passes
// (200), a wrong one fails (403 for Flagger, which then holds the weight;
// "FAIL" in the JSON for Argo), the rollback hook follows the last gate,
// a caller cannot name files on the server, and /metrics counts it all.
func TestServeGates(t *testing.T) {
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "0")
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-50-50.yaml"))
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("not-a-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, "--token-file", token)
	gate := func(expect string) map[string]string {
		return map[string]string{"expect": expect, "target": mp.url("/productpage"), "rate": "0", "max-requests": decisivePages, "settle": "0", "require-prometheus": "false"}
	}
	flagger := func(hook string, metadata map[string]string) (int, string) {
		return postJSON(t, srv+"/flagger/"+hook, "not-a-secret", map[string]any{
			"name": "reviews", "namespace": "default", "phase": "Progressing", "checksum": "6d5f8c", "metadata": metadata})
	}
	if code, body := flagger("confirm-traffic-increase", gate("v1=50,v3=50")); code != 200 || !strings.HasPrefix(body, "PASS") {
		t.Errorf("Flagger confirm-traffic-increase, right split: %d %.200q; want 200 PASS", code, body)
	}
	// A bad build of the canary: routed right, 5 ms slower. The health
	// checks fail it, so Flagger holds the weight.
	mp.ctl(t, "degrade", "reviews-v3", "--delay", "5ms")
	if code, body := flagger("confirm-traffic-increase", gate("v1=50,v3=50")); code != 403 || !strings.HasPrefix(body, "FAIL") || !strings.Contains(body, "v3's latency") {
		t.Errorf("Flagger confirm-traffic-increase, degraded canary: %d %.300q; want 403 FAIL naming v3's latency", code, body)
	}
	mp.ctl(t, "degrade", "reviews-v3", "--delay", "0")
	if code, body := flagger("confirm-promotion", gate("v3=100")); code != 403 || !strings.HasPrefix(body, "FAIL") {
		t.Errorf("Flagger confirm-promotion, wrong split: %d %.200q; want 403 FAIL", code, body)
	}
	if code, body := flagger("rollback", nil); code != 200 || !strings.Contains(body, "its last gate failed") {
		t.Errorf("Flagger rollback after a failed gate: %d %q; want 200", code, body)
	}
	if code, body := flagger("pre-rollout", map[string]string{"results": "/etc/passwd", "target": mp.url("/")}); code != 400 || !strings.Contains(body, `setting "results": not a gate setting`) {
		t.Errorf("a caller naming a file: %d %q; want 400", code, body)
	}
	if code, _ := postJSON(t, srv+"/flagger/confirm-promotion", "", map[string]any{"name": "x", "namespace": "y"}); code != 401 {
		t.Errorf("no token: %d; want 401", code)
	}

	code, body := postJSON(t, srv+"/v1/verdict", "not-a-secret", gate("v1=100"))
	var ans struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
		Report  struct {
			Client struct {
				Versions []struct {
					Version string `json:"version"`
				} `json:"versions"`
			} `json:"client"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || code != 200 || ans.Verdict != "FAIL" || len(ans.Report.Client.Versions) == 0 {
		t.Errorf("Argo web metric, wrong split: %d %.300s (%v); want 200 with verdict FAIL and the report", code, body, err)
	}

	// The rollout hook: steady load for the analysis, like flagger-loadtester.
	if code, body := flagger("rollout", map[string]string{"target": mp.url("/productpage"), "rate": "50", "duration": "1s"}); code != 200 || !strings.Contains(body, "started") {
		t.Errorf("Flagger rollout hook: %d %q; want the load started", code, body)
	}
	var metrics []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(srv + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(metrics), `canary_gates_total{caller="flagger/rollout",verdict="done"} 1`) {
			break
		}
	}
	for _, want := range []string{
		`canary_gates_total{caller="flagger/confirm-traffic-increase",verdict="PASS"} 1`,
		`canary_gates_total{caller="flagger/confirm-promotion",verdict="FAIL"} 1`,
		`canary_gates_total{caller="argo",verdict="FAIL"} 1`,
		`canary_gates_total{caller="flagger/rollout",verdict="done"} 1`,
		`canary_pages_total{outcome="ok",version="v3"}`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(metrics), "not-a-secret") {
		t.Errorf("/metrics shows the token")
	}
	// Every page counted has its latency in the version's histogram.
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(metrics))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	for _, v := range []string{"v1", "v3"} {
		var pages, timed float64
		for _, m := range fams["canary_pages_total"].GetMetric() {
			if label(m, "version") == v {
				pages += m.GetCounter().GetValue()
			}
		}
		for _, m := range fams["canary_page_duration_seconds"].GetMetric() {
			if label(m, "version") == v {
				timed += float64(m.GetHistogram().GetSampleCount())
			}
		}
		if pages == 0 || timed != pages {
			t.Errorf("/metrics: %s has %v pages and %v in canary_page_duration_seconds; want the same, above 0", v, pages, timed)
		}
	}
}

// label is the value of a metric's label name.
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestGateSettingsAreVerifyFlags: every setting a caller of canary serve
// may give is a flag of canary verify (a load's, of canary attack), so none
// is refused after serve allowed it, and none names a file on the server.
func TestGateSettingsAreVerifyFlags(t *testing.T) {
	t.Parallel()
	flags, attackFlags := flagNames(verifyCommand()), flagNames(attackCommand())
	for _, s := range gateSettings {
		if !slices.Contains(flags, s) {
			t.Errorf("gate setting %q is not a flag of canary verify", s)
		}
	}
	for _, s := range loadSettings {
		if !slices.Contains(attackFlags, s) {
			t.Errorf("load setting %q is not a flag of canary attack", s)
		}
	}
	for _, file := range []string{"results", "rules", "output", "kubeconfig", "ca-file", "prom-bearer-token-file", "prom-basic-auth-file"} {
		if slices.Contains(gateSettings, file) {
			t.Errorf("gate setting %q names a file on the server: the operator's, not a caller's", file)
		}
	}
}
