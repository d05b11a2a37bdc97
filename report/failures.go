package report

import (
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

// KeepFailed is how many failed requests a report lists: the newest.
const KeepFailed = 20

// RequestRef is one request of the run, with the ids that find its trace
// and, when a Jaeger was given, the link to it: a failed request here, a
// page of note in verify.
type RequestRef struct {
	At        time.Time `json:"at"`
	Version   string    `json:"version,omitempty"`
	Outcome   string    `json:"outcome"`
	Status    int       `json:"status"`
	RequestID string    `json:"x_request_id"`
	TraceID   string    `json:"trace_id,omitempty"`
	Sampled   bool      `json:"sampled"` // its traceparent asked for a trace
	Link      string    `json:"link,omitempty"`
}

// RefOf is r's RequestRef, without a link.
func RefOf(r *results.Record) RequestRef {
	ref := RequestRef{At: r.At, Version: r.Version, Outcome: r.Outcome.String(), Status: r.Status, RequestID: r.ID}
	ref.TraceID, ref.Sampled = results.TraceContext(r.Trace)
	return ref
}

// Newest keeps the newest Keep values added and counts them all, in
// constant memory however long the run.
type Newest[T any] struct {
	Keep  int
	total int
	ring  []T
	next  int
}

// Add counts v and keeps it, dropping the oldest kept when full.
func (n *Newest[T]) Add(v T) {
	n.total++
	if len(n.ring) < n.Keep {
		n.ring = append(n.ring, v)
		return
	}
	if n.Keep == 0 {
		return
	}
	n.ring[n.next] = v
	n.next = (n.next + 1) % n.Keep
}

// List returns a copy of the kept values, oldest first.
func (n *Newest[T]) List() []T {
	return append(append([]T(nil), n.ring[n.next:]...), n.ring[:n.next]...)
}

// Total is how many values were added.
func (n *Newest[T]) Total() int { return n.total }

// Failures keeps the newest KeepFailed failed records and counts them all.
type Failures struct {
	newest Newest[RequestRef]
}

// Add looks at one record; only failed ones are kept.
func (f *Failures) Add(r *results.Record) {
	if r.Outcome == classify.OK {
		return
	}
	f.newest.Keep = KeepFailed
	f.newest.Add(RefOf(r))
}

// List returns the kept failures, oldest first, linked with link (a
// Jaeger UI address for a trace id) when it is not nil and the request
// asked for a trace, and how many failed in all.
func (f *Failures) List(link func(traceID string) string) ([]RequestRef, int) {
	out := f.newest.List()
	for i := range out {
		if link != nil && out[i].Sampled {
			out[i].Link = link(out[i].TraceID)
		}
	}
	return out, f.newest.Total()
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
