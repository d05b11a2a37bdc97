package live

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/redact"
)

// clock is a board's time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testBoard() (*Board, *clock) {
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	b := NewBoard("soak")
	b.now = c.now
	return b, c
}

// summary is a load's summary with the given counts per version.
func summary(counts map[string]uint64) *attack.Summary {
	s := &attack.Summary{}
	for name, n := range counts {
		s.Versions = append(s.Versions, attack.Version{Name: name, Count: n,
			Outcomes: []attack.Count{{Name: "ok", Count: n}}})
	}
	return s
}

// TestRatesFollowARouteChange: rates and recent shares are read over the
// last RateWindow, so after a switch from 50/50 to all v3 the recent
// share is 100% once a window has passed, while the cumulative share
// moves slowly; the history keeps one point a second.
func TestRatesFollowARouteChange(t *testing.T) {
	t.Parallel()
	b, c := testBoard()
	counts := map[string]uint64{"v1": 0, "v3": 0}
	step := func(v1, v3 uint64) {
		c.add(time.Second)
		counts["v1"] += v1
		counts["v3"] += v3
		b.Update(func(st *State) { st.SetLoad(summary(counts), false) })
	}
	for range 10 {
		step(10, 10)
	}
	st := b.State()
	for _, v := range st.Versions {
		if math.Abs(v.Client.Rate-10) > 1e-9 || math.Abs(v.Client.RecentShare-50) > 1e-9 {
			t.Errorf("at 50/50, %s: rate %g, recent share %g; want 10/s and 50%%", v.Name, v.Client.Rate, v.Client.RecentShare)
		}
	}
	for range int(RateWindow / time.Second) {
		step(0, 20)
	}
	st = b.State()
	got := map[string]Side{}
	for _, v := range st.Versions {
		got[v.Name] = v.Client
	}
	if got["v3"].RecentShare != 100 || got["v3"].Rate != 20 || got["v1"].Rate != 0 {
		t.Errorf("after the switch to v3: v1 %+v, v3 %+v; want v3 at 20/s and 100%% recent", got["v1"], got["v3"])
	}
	if want := 100.0 * 200 / 300; math.Abs(got["v3"].Share-want) > 1e-9 {
		t.Errorf("v3's cumulative share %g; want %g", got["v3"].Share, want)
	}
	if n := len(st.History); n != 15 {
		t.Errorf("history has %d points after 15 updates a second apart; want 15", n)
	}
	if last := st.History[len(st.History)-1]; last.Recent["v3"] != 100 {
		t.Errorf("the newest point's recent v3 share is %g; want 100", last.Recent["v3"])
	}
}

// TestRunStages: Restart begins the next stage of a run from zero counts
// (its rates forget the last stage's) while the history goes on, each
// point naming the stage it belongs to (the one that just ended, between
// stages), so the page starts its lines
// again where a stage does.
func TestRunStages(t *testing.T) {
	t.Parallel()
	b, c := testBoard()
	b.Update(func(st *State) { st.Stages = []Stage{{Name: "all-v1"}, {Name: "canary-50-50"}} })
	stage := func(i int, counts map[string]uint64) {
		b.Restart(func(st *State) {
			for j := range st.Stages {
				st.Stages[j].Current = j == i
			}
		})
		for k := range 3 {
			c.add(time.Second)
			step := map[string]uint64{}
			for v, n := range counts {
				step[v] = n * uint64(k+1)
			}
			b.Update(func(st *State) { st.SetLoad(summary(step), false) })
		}
	}
	stage(0, map[string]uint64{"v1": 20})
	c.add(time.Second)
	b.Update(func(st *State) { st.Stages[0].Verdict, st.Stages[0].Current = "PASS", false })
	stage(1, map[string]uint64{"v1": 10, "v3": 10})
	st := b.State()
	var stages []string
	for _, p := range st.History {
		stages = append(stages, p.Stage)
	}
	if want := []string{"all-v1", "all-v1", "all-v1", "all-v1", "canary-50-50", "canary-50-50", "canary-50-50"}; !slices.Equal(stages, want) {
		t.Errorf("history's stages %q; want %q", stages, want)
	}
	for _, v := range st.Versions {
		if v.Client.Count != 30 || math.Abs(v.Client.Share-50) > 1e-9 {
			t.Errorf("second stage, %s: %d counted, %g%%; want 30 and 50%% (the first stage's counts forgotten)", v.Name, v.Client.Count, v.Client.Share)
		}
	}
}

// TestHistoryThinned: past MaxHistory points the history is thinned to
// every other point and points are then added half as often, so it spans
// the whole run in bounded memory.
func TestHistoryThinned(t *testing.T) {
	t.Parallel()
	b, c := testBoard()
	first := c.now().Add(time.Second)
	for i := range 3 * MaxHistory {
		c.add(time.Second)
		b.Update(func(st *State) { st.SetLoad(summary(map[string]uint64{"v1": uint64(i)}), false) })
	}
	st := b.State()
	if n := len(st.History); n > MaxHistory || n < MaxHistory/2 {
		t.Errorf("history of %d points; want between %d and %d", n, MaxHistory/2, MaxHistory)
	}
	span := st.History[len(st.History)-1].At.Sub(st.History[0].At)
	if whole := c.now().Sub(first); span < whole*9/10 {
		t.Errorf("history spans %s of a %s run", span, whole)
	}
}

// TestDecisionShown: a gate's decision sets the verdict, the counts as
// judged, the intervals and the bands; the edges' rates come from every
// answered request, settling included.
func TestDecisionShown(t *testing.T) {
	t.Parallel()
	b, c := testBoard()
	d := decide.Decision{Verdict: decide.Pass, Reason: "every share is within", Expect: "v1=50,v3=50", Tolerance: 5, Confidence: 0.95, Unit: "page",
		Versions: []decide.VersionResult{
			{Version: "v1", Expected: 50, Count: 40, Share: 40, Low: 30, High: 50, Status: decide.Within},
			{Version: "v3", Expected: 50, Count: 60, Share: 60, Low: 50, High: 70, Status: decide.Outside},
			{Version: "v2", Count: 0, Status: decide.Stray},
		},
		Errors: decide.ErrorBudget{Buckets: []decide.ErrorBucket{{Version: "v3", Errors: 2}}}}
	b.Update(func(st *State) { st.SetDecision(d); st.SetLoad(summary(map[string]uint64{"v1": 50, "v3": 70}), true) })
	c.add(time.Second)
	b.Update(func(st *State) { st.SetDecision(d); st.SetLoad(summary(map[string]uint64{"v1": 60, "v3": 80}), true) })
	st := b.State()
	if st.Verdict != "PASS" || st.Reason != d.Reason || st.Expect != "v1=50,v3=50" {
		t.Errorf("verdict %s %q expect %q", st.Verdict, st.Reason, st.Expect)
	}
	byName := map[string]Version{}
	for _, v := range st.Versions {
		byName[v.Name] = v
	}
	v3 := byName["v3"]
	if v3.Client.Count != 60 || v3.Client.Low != 50 || v3.Client.High != 70 || v3.Status != "outside" || v3.Client.Errors != 2 {
		t.Errorf("v3 as judged: %+v", v3)
	}
	if v3.Expected == nil || *v3.Expected != 50 || v3.BandLow != 45 || v3.BandHigh != 55 {
		t.Errorf("v3's band: expected %v, %g–%g", v3.Expected, v3.BandLow, v3.BandHigh)
	}
	if v3.Client.Rate != 10 {
		t.Errorf("v3's rate %g/s; want 10/s, from the requests answered", v3.Client.Rate)
	}
	if byName["v2"].Expected != nil || byName["v2"].Status != "stray" {
		t.Errorf("v2, not expected: %+v", byName["v2"])
	}
}

// TestHandler: the page, the state and the events, read-only, with the
// watchers bounded and every secret masked.
func TestHandler(t *testing.T) {
	redact.Add("live-test-s3cret")
	b, _ := testBoard()
	b.Update(func(st *State) { st.Reason = "the server said token=live-test-s3cret" })
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := get(PagePath)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(body, "api/events") {
		t.Errorf("page: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = get(StatePath)
	var st State
	if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 || st.Command != "soak" {
		t.Errorf("state: %d %v %q", resp.StatusCode, err, body)
	}
	if strings.Contains(body, "live-test-s3cret") {
		t.Errorf("the state shows a secret: %s", body)
	}
	for _, path := range []string{"/nothing", "/api", "/api/state/x"} {
		if resp, _ := get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d; want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{PagePath, StatePath, EventsPath} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d; want 405", path, resp.StatusCode)
		}
	}

	// Events: the state now, and again after each update.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+EventsPath, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("events Content-Type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(nil, 1<<20)
	next := func() State {
		t.Helper()
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				var st State
				if err := json.Unmarshal([]byte(data), &st); err != nil {
					t.Fatalf("event: %v", err)
				}
				return st
			}
		}
		t.Fatalf("events ended: %v", lines.Err())
		return State{}
	}
	if st := next(); st.Verdict != "PENDING" {
		t.Errorf("first event: verdict %s", st.Verdict)
	}
	b.Update(func(st *State) { st.Verdict, st.Done = "FAIL", true })
	if st := next(); st.Verdict != "FAIL" || !st.Done {
		t.Errorf("event after the update: %s done %v", st.Verdict, st.Done)
	}

	// One watcher too many is told to poll instead.
	var held []*http.Response
	defer func() {
		for _, r := range held {
			r.Body.Close()
		}
	}()
	for i := 1; i < MaxWatchers; i++ {
		r, err := http.DefaultClient.Do(req.Clone(ctx))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	for _, r := range held {
		if r.StatusCode != 200 {
			t.Fatalf("watcher refused below the bound: %d", r.StatusCode)
		}
	}
	r, err := http.DefaultClient.Do(req.Clone(ctx))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("watcher %d: %d; want 503", MaxWatchers+1, r.StatusCode)
	}
}

func TestListenAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want, err string }{
		{in: "8089", want: "127.0.0.1:8089"},
		{in: ":8089", want: "127.0.0.1:8089"},
		{in: "127.0.0.1:0", want: "127.0.0.1:0"},
		{in: "0.0.0.0:8089", want: "0.0.0.0:8089"},
		{in: "[::1]:8089", want: "[::1]:8089"},
		{in: "a:b:c", err: "want HOST:PORT or PORT"},
		{in: "localhost", err: `got "localhost"`},
		{in: "127.0.0.1:http", err: "a number up to 65535"},
		{in: "127.0.0.1:70000", err: "a number up to 65535"},
		{in: "127.0.0.1:", err: "want HOST:PORT or PORT"},
	} {
		got, err := ListenAddr(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ListenAddr(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestServe: Serve binds loopback, says where, and stops with its context.
func TestServe(t *testing.T) {
	t.Parallel()
	b, _ := testBoard()
	ctx, cancel := context.WithCancel(context.Background())
	url, err := b.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(url) {
		t.Errorf("url %q", url)
	}
	resp, err := http.Get(url + "api/state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := http.Get(url); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still serving after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestREADMEFields: every field of the JSON state is documented in the
// README's table of them, and the table names no field that is gone.
func TestREADMEFields(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "<!-- live-fields -->")
	section, _, ok2 := strings.Cut(section, "<!-- /live-fields -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- live-fields --> section")
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[1], -1) {
			documented[m[1]] = true
		}
	}
	var fields []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, ty reflect.Type) {
		for ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		for i := range ty.NumField() {
			f := ty.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			path := prefix + name
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				fields = append(fields, path+"[]")
				walk(path+"[].", ft.Elem())
			case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]():
				fields = append(fields, path)
				walk(path+".", ft)
			default:
				fields = append(fields, path)
			}
		}
	}
	walk("", reflect.TypeFor[State]())
	for _, f := range fields {
		if !documented[f] {
			t.Errorf("README's live-fields table does not document %s", f)
		}
		delete(documented, f)
	}
	for f := range documented {
		if !slices.Contains(fields, f) {
			t.Errorf("README's live-fields table documents %s, which the state does not have", f)
		}
	}
	if t.Failed() {
		t.Log(fmt.Sprint("fields: ", strings.Join(fields, " ")))
	}
}

// BenchmarkUpdate is the gate's cost of one live update (about one a
// second): a soak's load summary of three versions and 20 failures taken
// in, rates and history derived, the state encoded once for every watcher.
func BenchmarkUpdate(b *testing.B) {
	board := NewBoard("soak")
	s := summary(map[string]uint64{"v1": 1000, "v2": 10, "v3": 1000})
	for i := range 20 {
		s.Failures = append(s.Failures, attack.Failure{Name: "http-error", Status: 503, Version: "v3",
			ID: fmt.Sprintf("req-%d", i), Trace: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	}
	b.ReportAllocs()
	for b.Loop() {
		board.Update(func(st *State) { st.SetLoad(s, false) })
	}
}
