package report

import (
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

// KeepFailed is how many failed requests a report lists: the newest.
const KeepFailed = 20

// FailedRequest is a failed request of the run, with the ids that find its
// trace and, when a Jaeger was given, the link to it.
type FailedRequest struct {
	At        time.Time `json:"at"`
	Version   string    `json:"version,omitempty"`
	Outcome   string    `json:"outcome"`
	Status    int       `json:"status"`
	RequestID string    `json:"x_request_id"`
	TraceID   string    `json:"trace_id,omitempty"`
	Sampled   bool      `json:"sampled"`
	Link      string    `json:"link,omitempty"`
}

// Failures keeps the newest KeepFailed failed records and counts them all,
// in constant memory however long the run.
type Failures struct {
	total int
	ring  []FailedRequest
	next  int
}

// Add looks at one record; only failed ones are kept.
func (f *Failures) Add(r *results.Record) {
	if r.Outcome == classify.OK {
		return
	}
	f.total++
	fr := FailedRequest{At: r.At, Version: r.Version, Outcome: r.Outcome.String(), Status: r.Status, RequestID: r.ID}
	fr.TraceID, fr.Sampled = results.TraceContext(r.Trace)
	if len(f.ring) < KeepFailed {
		f.ring = append(f.ring, fr)
		return
	}
	f.ring[f.next] = fr
	f.next = (f.next + 1) % KeepFailed
}

// List returns the kept failures, oldest first, linked with link (a
// Jaeger UI address for a trace id) when it is not nil and the request
// asked for a trace, and how many failed in all.
func (f *Failures) List(link func(traceID string) string) ([]FailedRequest, int) {
	out := append(append([]FailedRequest(nil), f.ring[f.next:]...), f.ring[:f.next]...)
	for i := range out {
		if link != nil && out[i].Sampled {
			out[i].Link = link(out[i].TraceID)
		}
	}
	return out, f.total
}

// failedLines are the failed requests as the text and Markdown reports
// list them.
func (v *view) failedLines() []string {
	var out []string
	for _, f := range v.rep.Failed {
		where := "trace " + f.TraceID
		switch {
		case f.Link != "":
			where = f.Link
		case f.TraceID == "":
			where = "no trace context"
		case !f.Sampled:
			where += " (not sampled)"
		}
		out = append(out, v.clock(f.At)+" "+f.Outcome+" status "+itoa(f.Status)+" "+versionName(f.Version)+
			" x-request-id "+f.RequestID+" "+where)
	}
	return out
}
