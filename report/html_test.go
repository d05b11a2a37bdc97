package report

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
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
		{"empty", func(testing.TB) *Report { return &Report{} }, 0},
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
	a, err := NewAggregator(time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	var alarms []Alarm
	for i := range 5000 {
		for j := range 20 {
			v := []string{"v1", "v3"}[j%2]
			r := rec(time.Duration(i)*time.Minute+time.Duration(j)*time.Second, v, classify.OK, 200,
				time.Duration(30+j+i%97)*time.Millisecond)
			a.Add(&r)
		}
		if i%500 == 250 {
			alarms = append(alarms, Alarm{Start: t0.Add(time.Duration(i) * time.Minute), Kind: AlarmSplit,
				Version: "v1", Message: "synthetic"})
		}
	}
	return &Report{Title: "long soak", Windows: a.Close(), Alarms: alarms, Expect: "v1=50,v3=50", Tolerance: 5}
}

// TestHTMLEscapes: names from results files cannot inject markup, in the
// tables or inside the charts.
func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	evil := `<script>alert(1)</script>`
	rep := soak(t, soakSpec{windows: 2, perMinute: 50})
	a, err := NewAggregator(time.Minute, 0)
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
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs %s (Debian package chromium): %v", chromium, err)
		}
		t.Skipf("no %s: %v", chromium, err)
	}
	dir := t.TempDir()
	proxy := droppingListener(t)
	page := writeFile(t, dir, "report.html", renderHTMLString(t, soak(t, renderScenarios[1].spec)))
	shot := filepath.Join(dir, "report.png")
	dom, fetched := runChromium(t, chromium, dir, proxy, "--screenshot="+shot, "--dump-dom", "file://"+page)
	if got := strings.Count(dom, "<svg"); got != 5 {
		t.Errorf("dumped DOM has %d <svg> charts; want 5", got)
	}
	if !strings.Contains(dom, "Share per version") {
		t.Errorf("dumped DOM lacks the share chart's heading")
	}
	checkScreenshot(t, shot)
	if len(fetched) > 0 {
		t.Errorf("the page made network requests: %q", fetched)
	}

	control := writeFile(t, dir, "control.html",
		`<img src="http://example.invalid/a.png"><link rel="stylesheet" href="https://fonts.example.invalid/b.css">`)
	if _, fetched := runChromium(t, chromium, dir, proxy, "--dump-dom", "file://"+control); len(fetched) != 2 {
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

// droppingListener accepts connections on loopback and closes them, so
// that nothing the browser sends leaves the machine.
func droppingListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// runChromium runs headless Chromium with a fresh profile, returns its
// stdout and the network requests the page initiated, read from its net
// log.
func runChromium(t *testing.T, chromium, dir, proxy string, args ...string) (stdout string, fetched []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp(dir, "profile")
	if err != nil {
		t.Fatal(err)
	}
	netLog := filepath.Join(profile, "netlog.json")
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
		"--proxy-server=http://" + proxy, "--log-net-log=" + netLog, "--window-size=1280,2400"}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return out.String(), pageRequests(t, netLog)
}

// pageRequests reads a Chromium net log and returns the URLs of requests
// a page initiated (the browser's own have no initiator) other than
// file: and data: ones.
func pageRequests(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("net log: %v", err)
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL       string `json:"url"`
				Initiator string `json:"initiator"`
			} `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatalf("net log %s: %v", path, err)
	}
	start, ok := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatalf("net log %s has no URL_REQUEST_START_JOB event type", path)
	}
	var urls []string
	for _, e := range log.Events {
		p := e.Params
		if e.Type != start || p.URL == "" || p.Initiator == "not an origin" ||
			strings.HasPrefix(p.URL, "file:") || strings.HasPrefix(p.URL, "data:") {
			continue
		}
		urls = append(urls, p.URL)
	}
	return urls
}

// checkScreenshot wants a 1280×2400 PNG that is not blank, and copies it to
// -screenshot when given.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2400 {
		t.Errorf("screenshot is %v; want 1280×2400", b)
	}
	colours := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 7 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours; want a drawn page", len(colours))
	}
	if *screenshot != "" {
		if err := os.WriteFile(*screenshot, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHTMLIntervals checks that with the criteria known, the share chart
// draws one interval bar (a line and two caps) per version expected
// strictly between 0% and 100%, per window, and names them in the legend.
func TestHTMLIntervals(t *testing.T) {
	t.Parallel()
	a, err := NewAggregator(time.Minute, 0)
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
	e, err := ParseExpect("v1=50,v3=50")
	if err != nil {
		t.Fatal(err)
	}
	wc := WindowCriteria{Expect: e, Tolerance: 5, Confidence: 0.95, MaxErrorRate: 0.01}
	if err := wc.Validate(); err != nil {
		t.Fatal(err)
	}
	ws := a.Close()
	sharePaths := func(c *WindowCriteria) int {
		page := renderHTMLString(t, &Report{Windows: ws, Expect: "v1=50,v3=50", Tolerance: 5, Criteria: c})
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
