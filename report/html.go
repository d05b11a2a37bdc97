package report

import (
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/canary-gate/canary/internal/textfmt"
)

// htmlPage is what the HTML template shows.
type htmlPage struct {
	Title, Verdict, Reason string
	Facts                  [][2]string
	Server                 bool
	Versions               []htmlVersion
	Alarms                 []htmlAlarm
	Charts                 []chartView
	WindowCols             []string
	WindowNote             string
	Windows                []htmlWindow
	Warnings               []string
	Failed                 []htmlFailed
	FailedNote             string
}

// htmlFailed is a failed request's row: its trace linked when it can be.
type htmlFailed struct {
	When, Outcome, Status, Version, RequestID, TraceID, Link string
	Sampled                                                  bool
}

type htmlVersion struct {
	Name, Requests, Share, Expected, Errors, P50, P90, P99, Server string
}

type htmlAlarm struct{ When, Kind, Version, Message string }

type htmlWindow struct {
	When, Requests, Errors string
	Shares, P99s           []string
	Alarms                 string
}

// htmlRows bounds the page's window table.
const htmlRows = 240

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// renderHTML writes one self-contained page: inline CSS, charts drawn by
// gonum/plot as inline SVG, no script, no font, image or link to fetch.
func renderHTML(w io.Writer, v *view) error {
	charts, err := v.charts()
	if err != nil {
		return err
	}
	p := htmlPage{Title: v.rep.Title, Verdict: v.verdict, Reason: v.reason, Server: v.server, Charts: charts,
		Warnings: v.rep.Warnings}
	if p.Title == "" {
		p.Title = "canary soak"
	}
	p.Facts = [][2]string{
		{"sources", strings.Join(v.rep.Sources, ", ")}, {"period", v.period()}, {"expect", v.band()},
		{"requests", itoa(v.total.Total()) + ", " + fmtShare(v.total.ErrorRate(), v.total.Total()) + " not ok"},
	}
	for _, r := range v.rows(v.total) {
		p.Versions = append(p.Versions, htmlVersion{Name: versionName(r.Version), Requests: itoa(r.Requests),
			Share: fmtShare(r.Share, boolInt(r.Version != "")), Expected: fmtExpected(r),
			Errors: fmtShare(r.Errors, r.Requests), P50: latencyCell(r.P50), P90: latencyCell(r.P90),
			P99: latencyCell(r.P99), Server: fmtShare(r.Server, boolInt(r.HasServer))})
	}
	for _, a := range v.alarms {
		p.Alarms = append(p.Alarms, htmlAlarm{v.clock(a.Start), string(a.Kind), versionName(a.Version), a.Message})
	}
	p.WindowCols, p.WindowNote, p.Windows = v.htmlWindows()
	for _, f := range v.rep.Failed {
		p.Failed = append(p.Failed, htmlFailed{When: v.clock(f.At), Outcome: f.Outcome, Status: itoa(f.Status), Version: versionName(f.Version),
			RequestID: f.RequestID, TraceID: f.TraceID, Link: f.Link, Sampled: f.Sampled})
	}
	if len(p.Failed) > 0 {
		p.FailedNote = itoa(v.rep.FailedTotal) + " in all; the newest " + itoa(len(p.Failed)) + ", oldest first"
	}
	return pageTemplate.Execute(w, p)
}

func (v *view) htmlWindows() (cols []string, note string, rows []htmlWindow) {
	gs, k := groups(v.windows, htmlRows)
	cols = v.windowColumns()
	note = textfmt.NOf(len(v.windows), "window") + ", each row " + (v.size * time.Duration(k)).String()
	for _, g := range gs {
		named := g.Total() - g.Count("")
		r := htmlWindow{When: v.clock(g.Start), Requests: itoa(g.Total()),
			Errors: fmtShare(g.ErrorRate(), g.Total()), Alarms: alarmSummary(v.alarmsIn(g))}
		for _, c := range cols {
			r.Shares = append(r.Shares, fmtShare(textfmt.Percent(g.Count(c), named), named))
			r.P99s = append(r.P99s, latencyCell(g.Quantile(c, 0.99)))
		}
		rows = append(rows, r)
	}
	return cols, note, rows
}

func itoa(n int) string { return strconv.Itoa(n) }
