package verify

import (
	"bytes"
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

// startMesh runs the local mesh in-process (so the race detector sees the
// gate and the mesh) with routing applied from YAML.
func startMesh(t *testing.T, vs string) *mesh.Mesh {
	t.Helper()
	return startMeshWith(t, mesh.Options{PropagationDelay: 300 * time.Millisecond}, vs)
}

// startMeshWith is startMesh with the mesh's options (its addresses are
// free ports).
func startMeshWith(t *testing.T, o mesh.Options, vs string) *mesh.Mesh {
	t.Helper()
	o.Addr, o.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	m, err := mesh.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	rs, err := istio.ParseManifests("vs.yaml", []byte(vs))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(rs); err != nil {
		t.Fatal(err)
	}
	return m
}

const fiftyFifty = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 50
    - destination: {host: reviews, subset: v3}
      weight: 50
`

func gateOptions(t *testing.T, m *mesh.Mesh, expect string, tolerance float64) Options {
	e, err := decide.ParseExpect(expect)
	if err != nil {
		t.Fatal(err)
	}
	c := decide.DefaultCriteria(e)
	c.Tolerance = tolerance
	o := Options{
		Attack:   attack.Options{Target: "http://" + m.Addr() + "/productpage", Rate: 300, Requests: 20000},
		Criteria: c, Settle: true, Timeout: time.Minute, RequireServer: true,
	}
	for _, v := range []string{"v1", "v2", "v3"} {
		o.Scrape = append(o.Scrape, "http://"+m.AdminAddr()+"/sidecars/reviews-"+v+"/stats/prometheus")
	}
	return o
}

// TestGate runs whole gates against the mesh right after a weight change:
// the right expectation passes with the server window holding exactly the
// evidence's requests, and wrong ones fail.
func TestGate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expect string
		tolerance    float64
		want         decide.Verdict
	}{
		{"right split", "v1=50,v3=50", 10, decide.Pass},
		{"shares off", "v1=80,v3=20", 5, decide.Fail},
		{"version expected at zero shows", "v1=50,v2=50", 5, decide.Fail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := startMesh(t, fiftyFifty)
			o := gateOptions(t, m, tc.expect, tc.tolerance)
			o.SettleTimeout = 3 * time.Second
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.want {
				t.Fatalf("Run() verdict = %s (%s); want %s", res.Verdict, res.Reason, tc.want)
			}
			if tc.want != decide.Pass {
				return
			}
			s := res.Server
			if !s.Ran || s.Counts["v1"] != float64(s.ClientPages["v1"]) || s.Counts["v3"] != float64(s.ClientPages["v3"]) {
				t.Errorf("server counts %v, client pages in the window %v: want them equal", s.Counts, s.ClientPages)
			}
			if res.Settle.After < 200*time.Millisecond {
				t.Errorf("new weights in effect %v after the start; the mesh takes 300ms", res.Settle.After)
			}
		})
	}
}

// TestGateUnreachable: a target that is down at the start is an error.
func TestGateUnreachable(t *testing.T) {
	t.Parallel()
	e, _ := decide.ParseExpect("v1=100")
	_, err := Run(context.Background(), Options{
		Attack: attack.Options{Target: "http://127.0.0.1:1/productpage"}, Criteria: decide.DefaultCriteria(e),
	})
	if err == nil {
		t.Fatal("Run() against a closed port: nil error")
	}
}

// goldenResult is a fixed result, so the renderers' output can be golden.
func goldenResult() *Result {
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	return &Result{
		Verdict: decide.Fail, Reason: "v1 share 44.3% [24.8%, 65.0%] is below 70% ± 5 at 95% confidence after 79 pages",
		Target: "http://ingress/productpage", Start: start, End: start.Add(1400 * time.Millisecond),
		Client: decide.Decision{Verdict: decide.Fail, Expect: "v1=70,v3=30", N: 79, Pages: 80, Tolerance: 5, Confidence: 0.95,
			Method: decide.Method,
			Versions: []decide.VersionResult{
				{Version: "v1", Expected: 70, Count: 35, Share: 44.3, Low: 24.8, High: 65, Status: decide.Outside},
				{Version: "v3", Expected: 30, Count: 44, Share: 55.7, Low: 35, High: 75.2, Status: decide.Outside},
			},
			Errors: decide.ErrorBudget{Status: decide.Undecided, Budget: 1, Buckets: []decide.ErrorBucket{{Version: "", Pages: 80, Errors: 1, Rate: 1.25, Low: 0.01, High: 20.3, Status: decide.Undecided}}},
		},
		Settle: SettleInfo{Enabled: true, Window: 59, Discarded: 60, After: 300 * time.Millisecond},
		Server: &Server{Source: "sidecar scrape", Query: "scrape diff of istio_requests_total", Ran: true, Start: start, End: start.Add(time.Second),
			Counts: map[string]float64{"v1": 35, "v3": 46}, ClientPages: map[string]int{"v1": 35, "v3": 44}, Extra: 2,
			Responses: []Responses{{Version: "v3", Code: "200", Flags: "-", Count: 46}, {Version: "v1", Code: "503", Flags: "UF", Count: 1}},
			Verdict:   decide.Fail, Reason: "server: v1 share 43.2% [22.5%, 65.0%] is below 70% ± 5 at 95% confidence after 81 pages"},
		Pages: []PageOfNote{
			{RequestRef: report.RequestRef{At: start.Add(900 * time.Millisecond), Outcome: "http-error", Status: 503, RequestID: "4f1c7a52-3b2e-4c55-9a7e-0d1e2f3a4b5c",
				TraceID: "0af7651916cd43dd8448eb211c80319c", Sampled: true, Link: "http://jaeger:16686/trace/0af7651916cd43dd8448eb211c80319c"}, Why: "failed: http-error"},
			{RequestRef: report.RequestRef{At: start.Add(950 * time.Millisecond), Version: "v2", Outcome: "ok", Status: 200, RequestID: "5a2d8b63-4c3f-4d66-8b8f-1e2f3a4b5c6d",
				TraceID: "1bf8762a27de54ee9559fc322d91420d"}, Why: "stray: v2 is expected at 0%"},
		},
		PagesOfNote: 3,
		Traces: &TraceCheck{Jaeger: "http://jaeger:16686", API: "v3", Hop: "reviews", Wanted: 20, Sampled: 79, Checked: 20, Agreed: 19,
			Disagreements: []TraceDisagreement{{TraceID: "2cf9873b38ef65ff6a6a0d433ea2531e", Link: "http://jaeger:16686/trace/2cf9873b38ef65ff6a6a0d433ea2531e",
				RequestID: "6b3e9c74-5d4a-4e77-9c9a-2f3a4b5c6d7e", Page: "v3", Trace: "v1", Pod: "reviews-v1-7f9c-abcde"}},
			Hops: []HopLatency{
				{Version: "v1", Service: "productpage", Count: 9, P50: 1430 * time.Microsecond, P90: 2100 * time.Microsecond, Max: 3020 * time.Microsecond},
				{Version: "v1", Service: "reviews", Count: 9, P50: 310 * time.Microsecond, P90: 420 * time.Microsecond, Max: 500 * time.Microsecond},
				{Version: "v3", Service: "reviews", Count: 10, P50: 820 * time.Microsecond, P90: 990 * time.Microsecond, Max: 1200 * time.Microsecond},
				{Version: "v3", Service: "ratings", Count: 10, P50: 60 * time.Microsecond, P90: 90 * time.Microsecond, Max: 150 * time.Microsecond},
			},
			Verdict: decide.Fail, Reason: "1 of 20 traces disagree with their pages: trace 2cf9873b38ef65ff6a6a0d433ea2531e says reviews v1 (pod reviews-v1-7f9c-abcde) served request 6b3e9c74-5d4a-4e77-9c9a-2f3a4b5c6d7e, its page shows v3"},
	}
}

// passResult is a PASS decided by the engine itself from a fixed page
// sequence (v1 every other page and one more every 25), so the golden files
// show the one-sided PASS tests beside the intervals, and the health checks
// of v3 (0.15 ms slower, as on the local mesh) against v1.
func passResult(t testing.TB) *Result {
	return engineResult(t, 0)
}

// slowResult is the same sequence with v3 5 ms slower: a latency FAIL.
func slowResult(t testing.TB) *Result {
	return engineResult(t, 5*time.Millisecond)
}

func engineResult(t testing.TB, slower time.Duration) *Result {
	c := decide.DefaultCriteria(mustParse(t, "v1=50,v3=50"))
	c.Health = decide.DefaultHealth("v1")
	s, err := decide.NewSequential(c)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; s.Verdict() == decide.Pending; i++ {
		v, lat := "v3", 1150*time.Microsecond+slower+time.Duration(i*53%500)*time.Microsecond
		if i%2 == 0 || i%25 == 0 {
			v, lat = "v1", 1000*time.Microsecond+time.Duration(i*37%400)*time.Microsecond
		}
		s.Add(v, true, lat)
	}
	d := s.Decision()
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	return &Result{Verdict: d.Verdict, Reason: d.Reason, Target: "http://ingress/productpage", Start: start,
		End: start.Add(40 * time.Second), Client: d, Settle: SettleInfo{Enabled: true, Window: 59, Discarded: 61, After: 1200 * time.Millisecond}}
}

func mustParse(t testing.TB, expect string) decide.Expectation {
	t.Helper()
	e, err := decide.ParseExpect(expect)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	cases := map[string]*Result{"fail": goldenResult(), "pass": passResult(t), "slow": slowResult(t), "passive": passiveResult(t)}
	for _, format := range Formats {
		for name, r := range cases {
			t.Run(name+"/"+format, func(t *testing.T) {
				t.Parallel()
				writeGolden(t, name+"."+format, format, r)
			})
		}
	}
	if err := Write(&bytes.Buffer{}, "yaml", goldenResult()); err == nil {
		t.Error("Write(yaml): nil error, want an unknown-format error")
	}
}

func writeGolden(t *testing.T, file, format string, r *Result) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, r); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", file)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Write(%s) differs from %s:\n%s", format, path, buf.String())
	}
}

func TestPassTests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    decide.VersionResult
		want string
	}{
		{"both shown", decide.VersionResult{Tests: []decide.EdgeTest{
			{Side: "above", Edge: 45, Ratio: 21.434, Threshold: 20, ShownAt: 412},
			{Side: "below", Edge: 55, Ratio: 20.04, Threshold: 20, ShownAt: 781}}},
			"above 45% shown at page 412 (ratio 21.43 ≥ 20), below 55% shown at page 781 (ratio 20.04 ≥ 20)"},
		{"one open", decide.VersionResult{Tests: []decide.EdgeTest{
			{Side: "above", Edge: 45, Ratio: 3e7, Threshold: 20, ShownAt: 30},
			{Side: "below", Edge: 55, Ratio: 0.0001273, Threshold: 20}}},
			"above 45% shown at page 30 (ratio 3.00e+07 ≥ 20), below 55% not shown (ratio 0.0001273 < 20)"},
		{"edge at 0%", decide.VersionResult{Tests: []decide.EdgeTest{
			{Side: "above", Edge: 0, Ratio: math.MaxFloat64, Threshold: 20, ShownAt: 3}}},
			"above 0% shown at page 3 (ratio ∞ ≥ 20)"},
		{"no split", decide.VersionResult{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := passTests(tc.v, "page"); got != tc.want {
				t.Errorf("passTests() = %q; want %q", got, tc.want)
			}
		})
	}
}
