package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/browsertest"
	"github.com/canary-gate/canary/results"
	"golang.org/x/net/html"
)

var (
	screenshot = flag.String("screenshot", "", "also write the headless browser's screenshot of the HTML report to this path")
	htmlDir    = flag.String("html-dir", "", "also write the HTML reports of TestHTMLSelfContained to this directory")
)

func renderHTMLString(t testing.TB, rep *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, "html", rep); err != nil {
		t.Fatalf("Render(html) = %v", err)
	}
	return buf.String()
}

// fetches finds anything in a page a browser could fetch: URLs,
// resource attributes, CSS imports and url(), scripts.
var fetches = regexp.MustCompile(`(?i)https?:|//[a-z0-9.-]+\.[a-z]{2,}/|\ssrc=|\shref=|@import|url\(|<script|<link|<iframe|<object|<embed|<img`)

// countElements parses the page and counts the elements named name.
func countElements(t testing.TB, page, name string) int {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(*html.Node)
	walk = func(node *html.Node) {
		if node.Type == html.ElementNode && node.Data == name {
			n++
		}
		for c := node.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return n
}

func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rep    func(testing.TB) *Report
		charts int
	}{
		{"one window", func(t testing.TB) *Report { return soak(t, renderScenarios[0].spec) }, 4},
		{"soak with server counts", func(t testing.TB) *Report { return soak(t, renderScenarios[1].spec) }, 5},
		{"5000 windows", manyWindows, 4},
		{"empty", func(testing.TB) *Report { return withVerdict(&Report{}) }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page := renderHTMLString(t, tc.rep(t))
			if *htmlDir != "" {
				writeFile(t, *htmlDir, strings.ReplaceAll(tc.name, " ", "_")+".html", page)
			}
			if m := fetches.FindString(page); m != "" {
				t.Errorf("page holds %q, which a browser could fetch", m)
			}
			if got := countElements(t, page, "svg"); got != tc.charts {
				t.Errorf("page has %d <svg> charts; want %d", got, tc.charts)
			}
			if len(page) > 3<<20 {
				t.Errorf("page is %d bytes; want under 3 MiB", len(page))
			}
		})
	}
}

// manyWindows is a 5,000-window soak (about 3.5 days of one-minute
// windows, 20 requests each) with a split alarm every 500 windows.
func manyWindows(t testing.TB) *Report {
	a, err := results.NewAggregator(time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	var alarms []decide.Alarm
	for i := range 5000 {
		for j := range 20 {
			v := []string{"v1", "v3"}[j%2]
			r := rec(time.Duration(i)*time.Minute+time.Duration(j)*time.Second, v, classify.OK, 200,
				time.Duration(30+j+i%97)*time.Millisecond)
			a.Add(&r)
		}
		if i%500 == 250 {
			alarms = append(alarms, decide.Alarm{Start: t0.Add(time.Duration(i) * time.Minute), Kind: decide.AlarmSplit,
				Version: "v1", Message: "synthetic"})
		}
	}
	return withVerdict(&Report{Title: "long soak", Windows: a.Close(), Alarms: alarms, Expect: "v1=50,v3=50", Tolerance: 5})
}

// TestHTMLEscapes: names from results files cannot inject markup, in the
// tables or inside the charts.
func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	evil := `<script>alert(1)</script>`
	rep := soak(t, soakSpec{windows: 2, perMinute: 50})
	a, err := results.NewAggregator(time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := rec(time.Second, evil, classify.OK, 200, time.Millisecond)
	a.Add(&r)
	rep.Windows = append(rep.Windows, a.Close()...)
	rep.Title, rep.Warnings = evil, []string{evil}
	page := renderHTMLString(t, rep)
	if strings.Contains(page, "<script") {
		t.Errorf("page holds an unescaped <script> tag")
	}
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("page does not show the escaped version name")
	}
}

// TestHTMLInBrowser opens the report in headless Chromium, offline, and
// wants the charts drawn and nothing fetched. Chromium talks to its own
// services (component updates, clock, accounts) whatever the flags, so it
// runs behind a proxy on a loopback listener that drops every connection,
// and its net log tells the page's requests (initiated by the file://
// page) from the browser's own. A control page with an image and a
// stylesheet URL shows the check sees such requests. Skipped without
// /usr/bin/chromium, except in CI (CI=true), where it fails instead.
func TestHTMLInBrowser(t *testing.T) {
	chromium := browsertest.Chromium(t)
	dir := t.TempDir()
	proxy := browsertest.DroppingListener(t)
	page := writeFile(t, dir, "report.html", renderHTMLString(t, soak(t, renderScenarios[1].spec)))
	shot := filepath.Join(dir, "report.png")
	dom, fetched := browsertest.Run(t, chromium, dir, proxy, "--screenshot="+shot, "--dump-dom", "file://"+page)
	if got := strings.Count(dom, "<svg"); got != 5 {
		t.Errorf("dumped DOM has %d <svg> charts; want 5", got)
	}
	if !strings.Contains(dom, "Share per version") {
		t.Errorf("dumped DOM lacks the share chart's heading")
	}
	browsertest.CheckScreenshot(t, shot, *screenshot)
	if len(fetched) > 0 {
		t.Errorf("the page made network requests: %q", fetched)
	}

	control := writeFile(t, dir, "control.html",
		`<img src="http://example.invalid/a.png"><link rel="stylesheet" href="https://fonts.example.invalid/b.css">`)
	if _, fetched := browsertest.Run(t, chromium, dir, proxy, "--dump-dom", "file://"+control); len(fetched) != 2 {
		t.Errorf("control page requests seen = %q; want its 2 URLs (the check is blind)", fetched)
	}
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHTMLIntervals checks that with the criteria known, the share chart
// draws one interval bar (a line and two caps) per version expected
// strictly between 0% and 100%, per window, and names them in the legend.
func TestHTMLIntervals(t *testing.T) {
	t.Parallel()
	a, err := results.NewAggregator(time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	const windows = 10
	for i := range windows {
		for j := range 100 {
			v := []string{"v1", "v3"}[j%2]
			if i == 4 && j%5 == 0 {
				v = "v1" // one window at 60/40
			}
			r := rec(time.Duration(i)*time.Minute+time.Duration(j)*100*time.Millisecond, v, classify.OK, 200, 30*time.Millisecond)
			a.Add(&r)
		}
	}
	e, err := decide.ParseExpect("v1=50,v3=50")
	if err != nil {
		t.Fatal(err)
	}
	wc := decide.WindowCriteria{Expect: e, Tolerance: 5, Confidence: 0.95, MaxErrorRate: 0.01}
	if err := wc.Validate(); err != nil {
		t.Fatal(err)
	}
	ws := a.Close()
	sharePaths := func(c *decide.WindowCriteria) int {
		page := renderHTMLString(t, withVerdict(&Report{Windows: ws, Expect: "v1=50,v3=50", Tolerance: 5, Criteria: c}))
		i := strings.Index(page, "<svg")
		j := strings.Index(page[i:], "</svg>")
		return countElements(t, page[i:i+j+len("</svg>")], "path")
	}
	without, with := sharePaths(nil), sharePaths(&wc)
	if got, want := with-without, 2*windows*3+1; got != want {
		t.Errorf("the share chart has %d more paths with the criteria; want %d (2 versions x %d windows x 3, and the legend's)",
			got, want, windows)
	}
}
