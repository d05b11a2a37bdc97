package live

import (
	"slices"
	"strings"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
)

// MaxFailed is how many of the newest failures the state keeps.
const MaxFailed = 20

// version returns the named version, adding it (unexpected, counted by
// nobody yet) if it is new.
func (st *State) version(name string) *Version {
	for i := range st.Versions {
		if st.Versions[i].Name == name {
			return &st.Versions[i]
		}
	}
	st.Versions = append(st.Versions, Version{Name: name, Client: Side{High: 100}})
	return &st.Versions[len(st.Versions)-1]
}

// SetExpect names the expected versions and their bands before any
// evidence, so that the page shows what the gate looks for from the start.
func (st *State) SetExpect(e decide.Expectation, tolerance float64) {
	st.Expect, st.Tolerance = e.String(), tolerance
	for _, n := range slices.Sorted(slices.Values(e.Versions())) {
		st.version(n).expect(e.Percent(n), tolerance)
	}
}

// expect sets the version's expected share and its band, expected ±
// tolerance clipped to 0–100.
func (v *Version) expect(share, tolerance float64) {
	v.Expected = &share
	v.BandLow, v.BandHigh = max(0, share-tolerance), min(100, share+tolerance)
}

// SetDecision takes the gate's decision so far: the verdict, and each
// version's count, share, interval and status as the gate judged them.
func (st *State) SetDecision(d decide.Decision) {
	st.Verdict, st.Reason = d.Verdict.String(), d.Reason
	st.Expect, st.Tolerance, st.Confidence = d.Expect, d.Tolerance, d.Confidence
	if d.Unit != "" {
		st.Unit = d.Unit
	}
	for _, r := range d.Versions {
		if r.Version == "" {
			continue
		}
		v := st.version(r.Version)
		v.Status = r.Status.String()
		if r.Status != decide.Stray {
			v.expect(r.Expected, d.Tolerance)
		}
		v.Client.Count, v.Client.Share = r.Count, r.Share
		v.Client.Low, v.Client.High = r.Low, r.High
	}
	for _, b := range d.Errors.Buckets {
		if b.Version != "" {
			st.version(b.Version).Client.Errors = b.Errors
		}
	}
}

// SetLoad takes the load's summary so far: counts by version and outcome,
// latency, and the newest failures. With a decision, the decision's
// counts stand (they leave settling pages out); without one (a soak),
// the load's counts are the client's.
func (st *State) SetLoad(s *attack.Summary, decided bool) {
	if s == nil {
		return
	}
	if st.Started.IsZero() || !s.Start.IsZero() && s.Start.Before(st.Started) {
		st.Started = s.Start
	}
	clear(st.Outcomes)
	for _, o := range s.Outcomes {
		st.Outcomes[o.Name] = int(o.Count)
	}
	total := 0
	for _, sv := range s.Versions {
		if sv.Name != "" {
			total += int(sv.Count)
		}
	}
	if st.sent == nil {
		st.sent = map[string]int{}
	}
	for _, sv := range s.Versions {
		if sv.Name == "" {
			continue
		}
		st.sent[sv.Name] = int(sv.Count)
		v := st.version(sv.Name)
		v.Latency = Latency{P50: ms(sv.Latency.P50), P90: ms(sv.Latency.P90), P99: ms(sv.Latency.P99)}
		if decided {
			continue
		}
		v.Client.Count = int(sv.Count)
		v.Client.Share = pct(float64(sv.Count), float64(total))
		v.Client.Errors = 0
		for _, o := range sv.Outcomes {
			if o.Name != "ok" {
				v.Client.Errors += int(o.Count)
			}
		}
	}
	st.Failed = st.Failed[:0]
	for _, f := range s.Failures[max(0, len(s.Failures)-MaxFailed):] {
		st.Failed = append(st.Failed, Failure{At: f.At, Version: f.Version, Outcome: f.Name, Status: f.Status,
			RequestID: f.ID, TraceID: traceID(f.Trace), Link: f.Link})
	}
}

// SetCounts takes the counts per version since the start and the errors
// among them, when no load summary exists (a passive soak reads Istio's
// counts only).
func (st *State) SetCounts(counts, errors map[string]int) {
	for n, side := range sides(counts, errors) {
		st.version(n).Client = side
	}
}

// SetMesh takes the mesh's counts per version since the start (all
// responses) and its errors (5xx) per version.
func (st *State) SetMesh(counts, errors map[string]int) {
	for n, side := range sides(counts, errors) {
		st.version(n).Mesh = &side
	}
	for i := range st.Versions {
		if v := &st.Versions[i]; v.Mesh == nil && st.Mesh != nil {
			v.Mesh = &Side{High: 100}
		}
	}
}

// sides turns counts and errors per version into each version's Side:
// its count, its share of all counted with a version, and no interval.
func sides(counts, errors map[string]int) map[string]Side {
	total := 0
	for n, c := range counts {
		if n != "" {
			total += c
		}
	}
	out := make(map[string]Side, len(counts))
	for n, c := range counts {
		if n != "" {
			out[n] = Side{Count: c, Share: pct(float64(c), float64(total)), High: 100, Errors: errors[n]}
		}
	}
	return out
}

// traceID is the trace id of a W3C traceparent (00-TRACE-SPAN-FLAGS).
func traceID(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) == 4 {
		return parts[1]
	}
	return ""
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
