package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/results"
)

// jsonReport is the json format: the whole report, every window.
type jsonReport struct {
	Title     string         `json:"title"`
	Verdict   string         `json:"verdict"`
	Reason    string         `json:"reason"`
	Expect    string         `json:"expect"`
	Tolerance float64        `json:"tolerance_pct"`
	Start     time.Time      `json:"start"`
	End       time.Time      `json:"end"`
	Window    float64        `json:"window_s"` // the usual window size
	Sources   []string       `json:"sources"`
	Warnings  []string       `json:"warnings"`
	Totals    jsonWindow     `json:"totals"`
	Windows   []jsonWindow   `json:"windows"`
	Alarms    []decide.Alarm `json:"alarms"`
	// Failed are the newest failed requests, FailedTotal all of them.
	Failed      []RequestRef `json:"failed_requests,omitempty"`
	FailedTotal int          `json:"failed_total,omitempty"`
}

type jsonWindow struct {
	Start     time.Time     `json:"start"`
	End       time.Time     `json:"end"`
	Requests  int           `json:"requests"`
	ErrorRate float64       `json:"error_rate_pct"`
	Status    map[int]int   `json:"status"`
	Versions  []jsonVersion `json:"versions"`
	Alarmed   bool          `json:"alarmed"`
}

type jsonVersion struct {
	Version  string         `json:"version"` // "" for requests without one
	Requests int            `json:"requests"`
	Share    float64        `json:"share_pct"` // of requests with a version
	Expected float64        `json:"expected_pct"`
	Outcomes map[string]int `json:"outcomes"`
	Errors   float64        `json:"errors_pct"`
	P50      float64        `json:"p50_ms"`
	P90      float64        `json:"p90_ms"`
	P99      float64        `json:"p99_ms"`
	Server   *float64       `json:"server_share_pct,omitempty"`
}

func renderJSON(w io.Writer, v *view) error {
	out := jsonReport{
		Title: v.rep.Title, Verdict: v.verdict, Reason: v.reason, Expect: v.rep.Expect,
		Tolerance: v.rep.Tolerance, Start: v.start.UTC(), End: v.end.UTC(), Window: v.size.Seconds(),
		Sources: nonNil(v.rep.Sources), Warnings: nonNil(v.rep.Warnings), Totals: v.jsonWindow(v.total),
		Windows: make([]jsonWindow, 0, len(v.windows)), Alarms: nonNil(v.alarms),
		Failed: v.rep.Failed, FailedTotal: v.rep.FailedTotal,
	}
	for _, w := range v.windows {
		out.Windows = append(out.Windows, v.jsonWindow(w))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func (v *view) jsonWindow(w results.Window) jsonWindow {
	out := jsonWindow{Start: w.Start.UTC(), End: w.End.UTC(), Requests: w.Total(), ErrorRate: w.ErrorRate(),
		Status: w.Status, Versions: []jsonVersion{}, Alarmed: len(v.alarmsIn(w)) > 0}
	if out.Status == nil {
		out.Status = map[int]int{}
	}
	for _, r := range v.rows(w) {
		jv := jsonVersion{Version: r.Version, Requests: r.Requests, Share: r.Share, Expected: r.Expected,
			Outcomes: outcomes(w, r.Version), Errors: r.Errors,
			P50: ms(r.P50), P90: ms(r.P90), P99: ms(r.P99)}
		if r.HasServer {
			jv.Server = &r.Server
		}
		out.Versions = append(out.Versions, jv)
	}
	return out
}

// outcomes counts version's requests by outcome name.
func outcomes(w results.Window, version string) map[string]int {
	out := map[string]int{}
	for k, n := range w.Counts {
		if k.Version == version {
			out[k.Outcome.String()] += n
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// nonNil makes nil slices encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
