package verify

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canary-gate/canary/internal/browsertest"
)

var screenshot = flag.String("screenshot", "", "also write the headless browser's screenshot of the HTML gate report to this path")

// TestHTMLInBrowser renders the golden gate as HTML in headless Chromium:
// the trace links are anchors to Jaeger's UI, the latency by hop is a
// table per page version, the page draws, and it fetches nothing (links
// are followed only when clicked).
func TestHTMLInBrowser(t *testing.T) {
	chromium := browsertest.Chromium(t)
	var page bytes.Buffer
	if err := Write(&page, "html", goldenResult()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "verify.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "verify.png")
	dom, fetched := browsertest.Run(t, chromium, dir, browsertest.DroppingListener(t), "--screenshot="+shot, "--dump-dom", "file://"+path)
	for _, want := range []string{
		`<a href="http://jaeger:16686/trace/2cf9873b38ef65ff6a6a0d433ea2531e">2cf9873b38ef65ff6a6a0d433ea2531e</a>`, // the disagreeing trace
		`<a href="http://jaeger:16686/trace/0af7651916cd43dd8448eb211c80319c">`,                                     // a failed page's trace
		`1bf8762a27de54ee9559fc322d91420d (not sampled)`,
		`<h2>Latency by hop (server spans, p50 / p90, traces)</h2>`,
		`<th>productpage</th><th>reviews</th><th>ratings</th>`,
		`<td>v3</td><td>-</td><td>820µs / 990µs (10)</td><td>60µs / 90µs (10)</td>`,
		`<h2>Pages of note: the newest 2 of 3</h2>`,
		`<span class="badge FAIL">FAIL</span>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %s", want)
		}
	}
	browsertest.CheckScreenshot(t, shot, *screenshot)
	if len(fetched) > 0 {
		t.Errorf("the page made network requests: %q", fetched)
	}
}

// TestScenarioHTML: a run's page has a section per stage, the gate's
// tables for a stage that ran and the error for one that did not.
func TestScenarioHTML(t *testing.T) {
	t.Parallel()
	g := goldenResult()
	r := &ScenarioResult{Scenario: "rollout", Verdict: g.Verdict, Reason: "stage 50-50 failed", Stages: []StageResult{
		{Name: "50-50", Verdict: g.Verdict, Gate: g},
		{Name: "all-v3", Verdict: g.Verdict, Error: "apply virtual-service-reviews-v3.yaml: connection refused"},
	}}
	var page bytes.Buffer
	if err := WriteScenario(&page, "html", r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1>canary run rollout</h1>", "<h1>stage 50-50</h1>", "<h1>stage all-v3</h1>",
		"apply virtual-service-reviews-v3.yaml: connection refused", "<h2>Latency by hop (server spans, p50 / p90, traces)</h2>"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("scenario page lacks %s", want)
		}
	}
}
