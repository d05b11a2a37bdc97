package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/canary-gate/canary/internal/browsertest"
	"github.com/canary-gate/canary/internal/promtest"
	"github.com/canary-gate/canary/internal/sharedtest"
	"github.com/canary-gate/canary/live"
)

var liveScreenshot = flag.String("live-screenshot", "", "also write the live view's screenshot, taken in headless Chromium during TestLiveView, to this path (default: live-view.png in $CANARY_ARTIFACTS when set)")

// TestLiveView: a soak against the local mesh with --listen, watched in
// real headless Chromium (driven through the DevTools protocol by
// chromedp, the maintained Go client for it) with no way out to any
// network: the page shows the 50/50 shares updating; after the route is
// switched to all v3 through the mesh's admin API, the v3 share over the
// last seconds and the v3 edge's rate follow within seconds while v1's
// fall to nothing. The page asks for nothing but the live server's own
// paths, and /api/state says the same as the page.
func TestLiveView(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Chromium(t)
	seed := sharedtest.Dir(t, "seed-manifests")
	mp := startMesh(t, "--propagation-delay", "0")
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-50-50.yaml"))
	addr := promtest.FreeAddr(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	soak := exec.CommandContext(ctx, canaryBin, "soak", "--target", mp.url("/productpage"), "--rate", "100/s",
		"--duration", "90s", "--window", "5s", "--expect", "v1=50,v3=50", "--listen", addr)
	stderr, err := soak.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := soak.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = soak.Process.Kill(); _ = soak.Wait() }()
	// The first line says where the view is.
	lines := bufio.NewScanner(stderr)
	var pageURL string
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "live view: "); ok {
			pageURL, _, _ = strings.Cut(u, " ")
			break
		}
	}
	if want := "http://" + addr + "/"; pageURL != want {
		t.Fatalf("soak --listen %s printed the view at %q; want %q", addr, pageURL, want)
	}
	go func() {
		for lines.Scan() { // keep the pipe drained
		}
	}()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1280, 2400),
		// Every request that is not to loopback goes to a proxy that drops
		// it: the page must not need the network.
		chromedp.ProxyServer("http://"+browsertest.DroppingListener(t)),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	var mu sync.Mutex
	var requested []string
	if err := chromedp.Listen(bctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}

	// shown reads what the page shows: the number of states it applied,
	// each version's recent share and its edge's rate.
	type view struct {
		Updates int
		Recent  map[string]float64
		Rate    map[string]float64
		Verdict string
	}
	read := func() view {
		t.Helper()
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[string](`JSON.stringify({
			updates: document.body.dataset.updates || "0",
			verdict: (document.getElementById("verdict") || {}).textContent || "",
			recent: Object.fromEntries([...document.querySelectorAll("#versions tr[data-version]")].map(
				r => [r.dataset.version, (r.querySelector("td.recent") || {}).textContent || ""])),
			rate: Object.fromEntries([...document.querySelectorAll("g.edge[data-to]")].map(
				g => [g.dataset.to, g.dataset.rate]))})`))
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		var r struct {
			Updates, Verdict string
			Recent, Rate     map[string]string
		}
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatalf("page state %q: %v", raw, err)
		}
		v := view{Recent: map[string]float64{}, Rate: map[string]float64{}, Verdict: r.Verdict}
		v.Updates, _ = strconv.Atoi(r.Updates)
		for k, s := range r.Recent {
			v.Recent[k], _ = strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
		}
		for k, s := range r.Rate {
			v.Rate[k], _ = strconv.ParseFloat(s, 64)
		}
		return v
	}
	waitFor := func(what string, within time.Duration, ok func(view) bool) view {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			v := read()
			if ok(v) {
				return v
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page did not show %s within %s: %+v", what, within, v)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	near := func(x, want, by float64) bool { return x >= want-by && x <= want+by }
	first := waitFor("the 50/50 split", 20*time.Second, func(v view) bool {
		return v.Updates >= 3 && near(v.Recent["v1"], 50, 20) && near(v.Recent["v3"], 50, 20) && v.Rate["v1"] > 20 && v.Rate["v3"] > 20
	})
	waitFor("the shares updating", 10*time.Second, func(v view) bool { return v.Updates >= first.Updates+3 })

	switched := time.Now()
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-v3.yaml"))
	after := waitFor("all traffic on v3", 15*time.Second, func(v view) bool {
		return v.Recent["v3"] >= 99 && v.Rate["v3"] > 80 && v.Rate["v1"] < 1
	})
	t.Logf("the page showed v3 at %.1f%% (%.1f/s), v1 at %.1f/s, %s after the switch (%d updates in all)",
		after.Recent["v3"], after.Rate["v3"], after.Rate["v1"], time.Since(switched).Round(100*time.Millisecond), after.Updates)

	path := filepath.Join(t.TempDir(), "live.png")
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 2400)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	keep := *liveScreenshot
	if dir := os.Getenv("CANARY_ARTIFACTS"); keep == "" && dir != "" {
		keep = filepath.Join(dir, "live-view.png")
	}
	browsertest.CheckScreenshot(t, path, keep)
	if keep != "" {
		t.Logf("screenshot kept: %s", keep)
	}

	// The JSON a script polls says what the page shows.
	resp, err := http.Get(pageURL + strings.TrimPrefix(live.StatePath, "/"))
	if err != nil {
		t.Fatal(err)
	}
	var st live.State
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range st.Versions {
		if v.Name == "v3" && v.Client.RecentShare < 99 {
			t.Errorf("/api/state: v3's recent share %.1f%% while the page shows %.1f%%", v.Client.RecentShare, after.Recent["v3"])
		}
	}
	if st.Command != "soak" || st.Done || st.Expect != "v1=50,v3=50" || len(st.History) < 5 {
		t.Errorf("/api/state: command %q done %v expect %q, %d history points", st.Command, st.Done, st.Expect, len(st.History))
	}

	mu.Lock()
	defer mu.Unlock()
	origin, _ := url.Parse(pageURL)
	for _, r := range requested {
		u, err := url.Parse(r)
		if err != nil || u.Host != origin.Host {
			t.Errorf("the page asked for %s, outside the live server %s", r, origin.Host)
		}
	}
	if len(requested) == 0 {
		t.Error("no request seen from the page: the check is blind")
	}
}

// runWatched is run with --listen ADDR added: it reads /api/state every
// 300 ms while the command runs and returns every distinct state seen.
func runWatched(t *testing.T, args ...string) (string, string, int, []live.State) {
	t.Helper()
	addr := promtest.FreeAddr(t)
	var states []live.State
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var last time.Time
		for {
			select {
			case <-done:
				return
			case <-time.After(300 * time.Millisecond):
			}
			resp, err := http.Get("http://" + addr + live.StatePath)
			if err != nil {
				continue
			}
			var st live.State
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil && st.Updated.After(last) {
				last = st.Updated
				states = append(states, st)
			}
		}
	}()
	out, stderr, code := run(t, "", append(args, "--listen", addr)...)
	close(done)
	wg.Wait()
	if want := "live view: http://" + addr + "/"; !strings.Contains(stderr, want) {
		t.Errorf("%v: stderr does not say %q:\n%s", args, want, stderr)
	}
	return out, stderr, code, states
}
