package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/results"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is the start of the tests' first window.
var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// rec is a record sent at t0+at.
func rec(at time.Duration, version string, o classify.Outcome, status int, lat time.Duration) results.Record {
	return results.Record{At: t0.Add(at), Version: version, Outcome: o, Status: status, Latency: lat}
}

// soakSpec describes a synthetic soak: windows of a minute, perMinute
// requests each, split v1=50,v3=50, with trouble in some windows.
type soakSpec struct {
	windows, perMinute int
	drift              map[int]float64 // window → v3 share instead of 0.5
	errors             map[int]float64 // window → v3 error rate
	slow               map[int]float64 // window → share of slow v1 requests
	server             bool            // set server counts
	gap                int             // a window with no traffic (0: none)
}

// soak builds the report the lead's commands would: records through the
// Aggregator, each window judged, the verdict over all.
func soak(t testing.TB, s soakSpec) *Report {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(s.windows)))
	a, err := results.NewAggregator(time.Minute, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ws []results.Window
	for i := range s.windows {
		if i == s.gap && s.gap > 0 {
			continue
		}
		for j := range s.perMinute {
			r := soakRecord(rng, s, i, j)
			a.Add(&r)
			ws = append(ws, a.Flush(r.At)...)
		}
	}
	ws = append(ws, a.Close()...)
	e, err := decide.ParseExpect("v1=50,v3=50")
	if err != nil {
		t.Fatal(err)
	}
	c := decide.WindowCriteria{Expect: e, Tolerance: 5, MaxErrorRate: 0.01,
		LatencyP99: 400 * time.Millisecond, Confidence: 0.95, Windows: s.windows}
	rep := &Report{Title: "Bookinfo soak <stage 2>", Sources: []string{"soak-a.jsonl", "soak-b.jsonl"},
		Expect: c.Expect.String(), Tolerance: c.Tolerance, Warnings: []string{"soak-b.jsonl:1201: torn last line ignored"}}
	for i := range ws {
		if s.server {
			ws[i].Server = map[string]float64{"v1": float64(ws[i].Count("v1")) * 1.02, "v3": float64(ws[i].Count("v3"))}
		}
		rep.Alarms = append(rep.Alarms, decide.Judge(ws[i], c)...)
	}
	rep.Windows = ws
	return withVerdict(rep)
}

func soakRecord(rng *rand.Rand, s soakSpec, i, j int) results.Record {
	at := time.Duration(i)*time.Minute + time.Duration(j)*time.Minute/time.Duration(s.perMinute)
	share3, errRate, slow := 0.5, 0.002, 0.0
	if d, ok := s.drift[i]; ok {
		share3 = d
	}
	if e, ok := s.errors[i]; ok {
		errRate = e
	}
	if sl, ok := s.slow[i]; ok {
		slow = sl
	}
	version, base := "v1", 40.0
	if rng.Float64() < share3 {
		version, base = "v3", 55.0
	}
	lat := time.Duration(base*math.Exp(rng.NormFloat64()*0.35)) * time.Millisecond
	o, status := classify.OK, 200
	switch {
	case version == "v3" && rng.Float64() < errRate:
		o = classify.RatingsUnavailable
	case version == "v1" && rng.Float64() < slow:
		lat = 900 * time.Millisecond
	case rng.IntN(4000) == 0:
		version, o, status, lat = "", classify.TransportError, 0, 10*time.Second
	}
	return rec(at, version, o, status, lat)
}

var renderScenarios = []struct {
	name string
	spec soakSpec
}{
	{"one_window", soakSpec{windows: 1, perMinute: 300}},
	{"soak", soakSpec{windows: 16, perMinute: 600, drift: map[int]float64{5: 0.7, 6: 0.68},
		errors: map[int]float64{9: 0.08}, slow: map[int]float64{12: 0.15}, server: true, gap: 14}},
}

// TestRenderGolden renders each scenario in the text formats and compares
// with testdata/render/<test name>.golden (go test -update rewrites them).
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, sc := range renderScenarios {
		rep := soak(t, sc.spec)
		for _, format := range []string{"text", "json", "junit", "markdown"} {
			t.Run(sc.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				var buf bytes.Buffer
				if err := Render(&buf, format, rep); err != nil {
					t.Fatalf("Render(%s) = %v", format, err)
				}
				golden(t, buf.Bytes())
			})
		}
	}
}

// golden compares got with the golden file named after the test.
func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "render", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestRenderWellFormed checks the machine formats parse and carry every
// window and alarm.
func TestRenderWellFormed(t *testing.T) {
	t.Parallel()
	rep := soak(t, renderScenarios[1].spec)
	var js, ju bytes.Buffer
	if err := Render(&js, "json", rep); err != nil {
		t.Fatal(err)
	}
	if err := Render(&ju, "junit", rep); err != nil {
		t.Fatal(err)
	}
	var got jsonReport
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatalf("json: %v", err)
	}
	if len(got.Windows) != len(rep.Windows) || len(got.Alarms) != len(rep.Alarms) || got.Verdict != "FAIL" {
		t.Errorf("json has %d windows, %d alarms, verdict %s; want %d, %d, FAIL",
			len(got.Windows), len(got.Alarms), got.Verdict, len(rep.Windows), len(rep.Alarms))
	}
	var suites junitSuites
	if err := xml.Unmarshal(ju.Bytes(), &suites); err != nil {
		t.Fatalf("junit: %v", err)
	}
	if got, want := suites.Tests, len(rep.Windows)+1; got != want {
		t.Errorf("junit tests = %d; want %d (a case per window plus the verdict)", got, want)
	}
	alarmed := map[int64]bool{}
	for _, a := range rep.Alarms {
		alarmed[a.Start.UnixNano()] = true
	}
	if got, want := suites.Failures, len(alarmed)+1; got != want {
		t.Errorf("junit failures = %d; want %d (alarmed windows plus the verdict)", got, want)
	}
}

func TestRenderCoalescesLateWindows(t *testing.T) {
	t.Parallel()
	rep := soak(t, soakSpec{windows: 3, perMinute: 100})
	whole := rep.Windows[1]
	a, err := results.NewAggregator(time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	late := rec(time.Minute+time.Second, "v3", classify.OK, 200, time.Millisecond)
	a.Add(&late)
	rep.Windows = append(rep.Windows, a.Close()...)
	v := newView(rep)
	if got, want := len(v.windows), 3; got != want {
		t.Fatalf("windows after coalescing = %d; want %d", got, want)
	}
	if got, want := v.windows[1].Total(), whole.Total()+1; got != want {
		t.Errorf("coalesced window total = %d; want %d", got, want)
	}
}

// withVerdict sets rep's verdict as Render's callers do, from
// decide.SoakVerdict over its windows and alarms.
func withVerdict(rep *Report) *Report {
	v, reason := decide.SoakVerdict(rep.Windows, rep.Alarms)
	rep.Verdict, rep.Reason = v.String(), reason
	return rep
}

func TestRenderUnknownFormat(t *testing.T) {
	t.Parallel()
	err := Render(&bytes.Buffer{}, "pdf", &Report{})
	if !errors.Is(err, decide.ErrInvalid) {
		t.Errorf("Render(pdf) = %v; want ErrInvalid", err)
	}
}

// TestRenderEmpty renders a report without windows in every format.
func TestRenderEmpty(t *testing.T) {
	t.Parallel()
	for format := range renderers {
		var buf bytes.Buffer
		if err := Render(&buf, format, withVerdict(&Report{})); err != nil || buf.Len() == 0 {
			t.Errorf("Render(%s, empty) = %v with %d bytes; want some output", format, err, buf.Len())
		}
	}
}
