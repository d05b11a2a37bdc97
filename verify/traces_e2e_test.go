package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/jaegertest"
	"github.com/canary-gate/canary/jaeger"
)

// tracedMesh runs the local mesh reporting spans to j, with routing vs.
func tracedMesh(t *testing.T, j *jaegertest.Server, vs string) *mesh.Mesh {
	t.Helper()
	return startMeshWith(t, mesh.Options{Tracing: j.OTLPHTTP, TraceSampling: 1}, vs)
}

// ratingsAbortForJason is the walkthrough's fault injection: ratings
// answers 500 to jason's requests, every other user's pass.
const ratingsAbortForJason = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    fault:
      abort: {percentage: {value: 100}, httpStatus: 500}
    route:
    - destination: {host: ratings, subset: v1}
  - route:
    - destination: {host: ratings, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
`

// TestTraceCheck: the third witness against a real Jaeger fed by the
// local mesh. Every sampled page's trace names the page's reviews version;
// a ratings fault fails the gate with links to traces that show the 500 at
// ratings; at 1% sampling the check says how many traces it could check.
func TestTraceCheck(t *testing.T) {
	j := jaegertest.Start(t)
	jc, err := jaeger.New(j.QueryURL, nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("50/50, every page sampled", func(t *testing.T) {
		m := tracedMesh(t, j, fiftyFifty)
		o := gateOptions(t, m, "v1=50,v3=50", 5)
		o.Attack.Rate = 100 // 800 spans a second: gentle on a busy CI machine under -race
		o.Traces = &Traces{Jaeger: jc, Check: 40, Wait: 30 * time.Second}
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", strings.Join(traceLines(res), "\n"))
		tc := res.Traces
		if res.Verdict != decide.Pass || tc == nil || tc.Verdict != decide.Pass || tc.Checked != 40 || tc.Agreed != 40 || tc.API != "v3" {
			t.Fatalf("verdict %s (%s); traces %+v; want PASS with 40 of 40 traces agreeing, read through API v3", res.Verdict, res.Reason, tc)
		}
		hops := map[string]bool{}
		for _, h := range tc.Hops {
			hops[h.Version+" "+h.Service] = h.Count > 0 && h.P50 > 0 && h.P50 <= h.Max
		}
		for _, want := range []string{"v1 productpage", "v1 reviews", "v3 reviews", "v3 ratings"} {
			if !hops[want] {
				t.Errorf("no latency for hop %q in %+v", want, tc.Hops)
			}
		}
		if hops["v1 ratings"] {
			t.Errorf("a ratings hop for v1 pages: reviews v1 never calls ratings")
		}
	})

	t.Run("ratings abort for jason", func(t *testing.T) {
		m := tracedMesh(t, j, ratingsAbortForJason)
		o := gateOptions(t, m, "v2=100", 5)
		o.Attack.Login = "jason"
		o.Settle, o.RequireServer = false, false
		o.Traces = &Traces{Jaeger: jc, Check: 5, Wait: 30 * time.Second}
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != decide.Fail || len(res.Pages) == 0 {
			t.Fatalf("verdict %s (%s) with %d pages of note; want FAIL on the error budget, with pages", res.Verdict, res.Reason, len(res.Pages))
		}
		p := res.Pages[len(res.Pages)-1]
		if !strings.HasPrefix(p.Why, "failed: ratings-unavailable") || p.Link != j.QueryURL+"/trace/"+p.TraceID {
			t.Fatalf("page of note %+v; want a ratings-unavailable page linked to its trace", p)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var tr *jaeger.Trace
		for tr == nil {
			if tr, err = jc.Trace(ctx, p.TraceID); err != nil && ctx.Err() != nil {
				t.Fatalf("trace %s of the failed page: %v", p.TraceID, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
		h, err := tr.Served("ratings")
		if err != nil || h.From != "upstream_cluster" || h.Status != "500" || h.Flags != "FI" {
			// The fault is injected at reviews' sidecar: ratings never sees
			// the request, so only the caller's client span tells of it.
			t.Errorf("ratings hop %+v, %v; want the client span's 500 with flags FI", h, err)
		}
	})

	t.Run("1% sampled", func(t *testing.T) {
		m := tracedMesh(t, j, fiftyFifty)
		o := gateOptions(t, m, "v1=50,v3=50", 5)
		o.Attack.Rate = 100
		o.Attack.Unsampled = 99
		o.Traces = &Traces{Jaeger: jc, Check: 500, Wait: 30 * time.Second}
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		tc := res.Traces
		if tc == nil || tc.Sampled == 0 || tc.Sampled > res.Client.Pages/20 {
			t.Fatalf("traces %+v after %d pages; want about 1%% of pages sampled", tc, res.Client.Pages)
		}
		if tc.Verdict != decide.Pass || tc.Checked != tc.Sampled || !strings.Contains(tc.Reason, "only ") {
			t.Errorf("trace check %s %q, %d of %d sampled checked; want PASS saying how few were sampled", tc.Verdict, tc.Reason, tc.Checked, tc.Sampled)
		}
	})
}
