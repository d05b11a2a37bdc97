package verify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/jaeger"
	"github.com/canary-gate/canary/report"
	"github.com/canary-gate/canary/results"
)

// Traces configure the third witness: Istio's spans in Jaeger.
type Traces struct {
	Jaeger *jaeger.Client
	// Check is how many sampled, classified pages of the evidence have
	// their trace fetched and compared with the page; 0 only links pages.
	Check int
	// Wait bounds how long traces may take to arrive after the last page
	// (tracers export in batches, every few seconds); default 30s.
	Wait time.Duration
}

// DefaultTraceWait is Traces.Wait's default.
const DefaultTraceWait = 30 * time.Second

// MaxTraceCheck bounds Traces.Check: each check is one query to Jaeger.
const MaxTraceCheck = 1000

// keepNotable is how many pages of note a result lists (the newest).
const keepNotable = 20

// PageOfNote is a failed, stray or unrecognized page of the evidence, with
// what is needed to find its trace.
type PageOfNote struct {
	report.RequestRef
	Why string `json:"why"`
}

// TraceCheck is what the traces of sampled pages said.
type TraceCheck struct {
	Jaeger string `json:"jaeger"`
	API    string `json:"api,omitempty"` // the query API that answered: v3 or v1
	Hop    string `json:"hop"`           // the service whose version is compared
	// Wanted pages to check, Sampled pages that could be (their
	// traceparent asked for a trace), Checked traces found, Agreed ones
	// naming the page's version.
	Wanted        int                 `json:"wanted"`
	Sampled       int                 `json:"sampled"`
	Checked       int                 `json:"checked"`
	Agreed        int                 `json:"agreed"`
	Missing       int                 `json:"missing"`
	Unreadable    []string            `json:"unreadable,omitempty"` // traces without a readable hop, why
	Disagreements []TraceDisagreement `json:"disagreements,omitempty"`
	Hops          []HopLatency        `json:"hops,omitempty"`
	Verdict       decide.Verdict      `json:"verdict"`
	Reason        string              `json:"reason"`
	Error         string              `json:"error,omitempty"`
}

// TraceDisagreement is a page whose trace names another version.
type TraceDisagreement struct {
	TraceID   string `json:"trace_id"`
	Link      string `json:"link"`
	RequestID string `json:"x_request_id"`
	Page      string `json:"page_version"`
	Trace     string `json:"trace_version"`
	Pod       string `json:"pod,omitempty"`
}

// HopLatency is one service's server-span latency in the checked traces of
// one page version.
type HopLatency struct {
	Version string        `json:"version"` // the page's
	Service string        `json:"service"`
	Count   int           `json:"count"`
	P50     time.Duration `json:"p50"`
	P90     time.Duration `json:"p90"`
	Max     time.Duration `json:"max"`
}

// hopServices are the Bookinfo hops whose latency is reported, in call order.
var hopServices = []string{"productpage", "details", "reviews", "ratings"}

// tracePage is a page whose trace may be checked.
type tracePage struct {
	version, id, trace string
	partial            string // why the trace found so far could not be read
}

// traceSampler collects, during the evidence, a uniform sample of the
// sampled, classified pages (reservoir sampling: the first pages are no
// likelier than the last) and the newest pages of note.
type traceSampler struct {
	o       *Options
	rng     *rand.Rand
	seen    int // candidates so far
	pick    []tracePage
	notable report.Newest[PageOfNote]
}

func newTraceSampler(o *Options) *traceSampler {
	return &traceSampler{o: o, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), notable: report.Newest[PageOfNote]{Keep: keepNotable}}
}

// observe looks at one evidence page; the gate's lock is held.
func (ts *traceSampler) observe(r *results.Record) {
	traceID, sampled := results.TraceContext(r.Trace)
	if why := ts.notableWhy(r); why != "" {
		p := PageOfNote{RequestRef: report.RefOf(r), Why: why}
		if t := ts.o.Traces; t != nil && p.Sampled {
			p.Link = t.Jaeger.Link(p.TraceID)
		}
		ts.notable.Add(p)
	}
	t := ts.o.Traces
	if t == nil || t.Check == 0 || !sampled || r.Version == "" || r.Outcome != classify.OK {
		return
	}
	ts.seen++
	p := tracePage{version: r.Version, id: r.ID, trace: traceID}
	if len(ts.pick) < t.Check {
		ts.pick = append(ts.pick, p)
	} else if i := ts.rng.IntN(ts.seen); i < t.Check {
		ts.pick[i] = p
	}
}

// notableWhy says why a page is of note, or "" when it is not.
func (ts *traceSampler) notableWhy(r *results.Record) string {
	switch {
	case r.Outcome != classify.OK:
		return "failed: " + r.Outcome.String()
	case r.Version == "":
		return "no version"
	case ts.o.Mirror != nil && r.Version == ts.o.Mirror.Version:
		return "from the mirror target: mirrored answers must never reach clients"
	case ts.o.Criteria.Expect.Percent(r.Version) == 0:
		return fmt.Sprintf("stray: %s is expected at 0%%", r.Version)
	}
	return ""
}

// check fetches the picked pages' traces and compares each with its page.
func (ts *traceSampler) check(ctx context.Context) *TraceCheck {
	t := ts.o.Traces
	if t == nil || t.Check == 0 {
		return nil
	}
	tc := &TraceCheck{Jaeger: t.Jaeger.URL(), Hop: ts.o.Service, Wanted: t.Check, Sampled: ts.seen}
	wait := t.Wait
	if wait <= 0 {
		wait = DefaultTraceWait
	}
	deadline := time.Now().Add(wait)
	pending := slices.Clone(ts.pick)
	hops := map[[2]string][]time.Duration{}
	for len(pending) > 0 && ctx.Err() == nil {
		// The last pass, after the deadline, takes what the traces say.
		final := !time.Now().Before(deadline)
		var next []tracePage
		for _, p := range pending {
			tr, err := t.Jaeger.Trace(ctx, p.trace)
			switch {
			case errors.Is(err, jaeger.ErrNotFound):
				next = append(next, p)
				continue
			case err != nil:
				tc.Error = err.Error()
				next = append(next, p)
				continue
			}
			tc.API = tr.API
			hop, err := tr.Served(ts.o.Service)
			if err == nil && hop.From != "" && !final {
				// Only the caller's client span names the subset yet: the
				// callee's server span may still be on its way (a callee
				// without a sidecar never sends one: then, at the deadline,
				// the subset is taken).
				err = fmt.Errorf("trace %s: only the caller's upstream_cluster names %s's subset", p.trace, ts.o.Service)
			}
			if err != nil {
				// Spans of one trace come in several export batches: the
				// hop's may still be on its way.
				p.partial = err.Error()
				next = append(next, p)
				continue
			}
			tc.Checked++
			if hop.Version != p.version {
				tc.Disagreements = append(tc.Disagreements, TraceDisagreement{TraceID: p.trace, Link: t.Jaeger.Link(p.trace),
					RequestID: p.id, Page: p.version, Trace: hop.Version, Pod: hop.Pod})
				continue
			}
			tc.Agreed++
			for _, svc := range hopServices {
				if h, err := tr.Served(svc); err == nil && h.From == "" && h.Duration > 0 {
					k := [2]string{p.version, svc}
					hops[k] = append(hops[k], h.Duration)
				}
			}
		}
		pending = next
		if len(pending) == 0 || final {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	for _, p := range pending {
		if p.partial != "" {
			tc.Unreadable = append(tc.Unreadable, p.partial)
		} else {
			tc.Missing++
		}
	}
	tc.Hops = hopLatencies(hops)
	tc.Verdict, tc.Reason = traceVerdict(ts.o, tc, wait)
	return tc
}

func hopLatencies(hops map[[2]string][]time.Duration) []HopLatency {
	var out []HopLatency
	for k, ds := range hops {
		slices.Sort(ds)
		q := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))] }
		out = append(out, HopLatency{Version: k[0], Service: k[1], Count: len(ds), P50: q(0.5), P90: q(0.9), Max: ds[len(ds)-1]})
	}
	order := func(svc string) int { return slices.Index(hopServices, svc) }
	sort.Slice(out, func(i, j int) bool {
		if out[i].Version != out[j].Version {
			return out[i].Version < out[j].Version
		}
		return order(out[i].Service) < order(out[j].Service)
	})
	return out
}

// traceVerdict judges the trace check: any trace naming another version
// than its page fails it; traces that did not arrive leave it inconclusive
// (a tracer's sampling or delay is not the rollout's fault).
func traceVerdict(o *Options, tc *TraceCheck, wait time.Duration) (decide.Verdict, string) {
	if n := len(tc.Disagreements); n > 0 {
		d := tc.Disagreements[0]
		pod := ""
		if d.Pod != "" {
			pod = " (pod " + d.Pod + ")"
		}
		return decide.Fail, fmt.Sprintf("%d of %d traces disagree with their pages: trace %s says %s %s%s served request %s, its page shows %s",
			n, tc.Checked, d.TraceID, o.Service, d.Trace, pod, d.RequestID, d.Page)
	}
	picked := min(tc.Wanted, tc.Sampled)
	why := ""
	if o.Reporter == "waypoint" {
		// The version is read from the sidecar's server span, which
		// ambient pods do not have.
		why = fmt.Sprintf(" (ambient mode: the pods of %s have no sidecar to report their server span)", o.Service)
	}
	switch {
	case tc.Sampled == 0:
		return decide.Inconclusive, "no sampled, classified page to check: is --trace-sample 0?"
	case tc.Checked == 0 && tc.Error != "":
		return decide.Inconclusive, fmt.Sprintf("none of %d traces could be read: %s", picked, tc.Error)
	case tc.Checked == 0:
		return decide.Inconclusive, fmt.Sprintf("none of %d sampled pages' traces arrived within %s: is the mesh tracing to %s?%s", picked, wait, tc.Jaeger, why)
	case tc.Missing > 0 || len(tc.Unreadable) > 0:
		return decide.Inconclusive, fmt.Sprintf("%d of %d traces checked agree with their pages' %s version; %d did not arrive within %s, %d had no readable %s hop%s",
			tc.Agreed, picked, o.Service, tc.Missing, wait, len(tc.Unreadable), o.Service, why)
	}
	short := ""
	if tc.Sampled < tc.Wanted {
		short = fmt.Sprintf(" (only %d sampled pages of the %d wanted)", tc.Sampled, tc.Wanted)
	}
	return decide.Pass, fmt.Sprintf("all %d traces checked agree with their pages' %s version%s", tc.Checked, o.Service, short)
}
