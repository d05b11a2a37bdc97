package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/textfmt"
)

// errWriter keeps the first write error so that renderers can print
// freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// renderText writes the report for a terminal: the verdict line, the run,
// totals per version, a compact window table and the alarms.
func renderText(w io.Writer, v *view) error {
	ew := &errWriter{w: w}
	ew.printf("%s: %s\n", v.verdict, v.reason)
	if v.rep.Title != "" {
		ew.printf("%s\n", v.rep.Title)
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw)
	if len(v.rep.Sources) > 0 {
		fmt.Fprintf(tw, "sources\t%s\n", strings.Join(v.rep.Sources, ", "))
	}
	fmt.Fprintf(tw, "period\t%s\n", v.period())
	fmt.Fprintf(tw, "expect\t%s\n", v.band())
	fmt.Fprintf(tw, "requests\t%d, %s not ok\n", v.total.Total(), fmtShare(v.total.ErrorRate(), v.total.Total()))
	tw.Flush()
	v.textTotals(ew)
	v.textWindows(ew)
	if len(v.alarms) > 0 {
		ew.printf("\nalarms (%d)\n", len(v.alarms))
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, a := range v.alarms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.clock(a.Start), a.Kind, versionName(a.Version), a.Message)
		}
		tw.Flush()
	}
	if lines := v.failedLines(); len(lines) > 0 {
		ew.printf("\nfailed requests (%d in all; the newest %d, oldest first)\n", v.rep.FailedTotal, len(lines))
		for _, l := range lines {
			ew.printf("  %s\n", l)
		}
	}
	if len(v.rep.Warnings) > 0 {
		ew.printf("\nwarnings\n")
		for _, s := range v.rep.Warnings {
			ew.printf("  %s\n", s)
		}
	}
	return ew.err
}

func (v *view) textTotals(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "version\trequests\tshare\texpected\terrors\tp50\tp90\tp99\t"
	if v.server {
		head += "server\t"
	}
	rows := v.rows(v.total)
	width := len("version")
	for _, r := range rows {
		width = max(width, len(versionName(r.Version)))
	}
	fmt.Fprintf(tw, "\n%-*s\t%s\n", width, "version", strings.TrimPrefix(head, "version\t"))
	for _, r := range rows {
		fmt.Fprintf(tw, "%-*s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t", width, versionName(r.Version), r.Requests,
			fmtShare(r.Share, boolInt(r.Version != "")), fmtExpected(r),
			fmtShare(r.Errors, r.Requests), latencyCell(r.P50), latencyCell(r.P90), latencyCell(r.P99))
		if v.server {
			fmt.Fprintf(tw, "%s\t", fmtShare(r.Server, boolInt(r.HasServer)))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// textWindows writes one row per window, or per run of windows merged so
// that at most maxRows remain.
func (v *view) textWindows(w io.Writer) {
	if len(v.windows) == 0 {
		return
	}
	rows, k := groups(v.windows, maxRows)
	fmt.Fprintf(w, "\n%s, each row %v\n", textfmt.NOf(len(v.windows), "window"), v.size*time.Duration(k))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	cols := v.windowColumns()
	fmt.Fprintf(tw, "start\trequests\t%s\terrors\t%s\t  alarms\n", strings.Join(prefixed("", cols), "\t"),
		strings.Join(prefixed("p99 ", cols), "\t"))
	for _, g := range rows {
		named := g.Total() - g.Count("")
		fmt.Fprintf(tw, "%s\t%d\t", v.clock(g.Start), g.Total())
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", fmtShare(textfmt.Percent(g.Count(c), named), named))
		}
		fmt.Fprintf(tw, "%s\t", fmtShare(g.ErrorRate(), g.Total()))
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", latencyCell(g.Quantile(c, 0.99)))
		}
		if a := alarmSummary(v.alarmsIn(g)); a != "" {
			fmt.Fprintf(tw, "  %s", a)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// windowColumns are the versions shown per window: at most six.
func (v *view) windowColumns() []string {
	return v.versions[:min(len(v.versions), 6)]
}

// alarmSummary is "split v3, errors v1" (kinds and versions, once each).
func alarmSummary(alarms []decide.Alarm) string {
	var parts []string
	for _, a := range alarms {
		p := strings.TrimSpace(string(a.Kind) + " " + a.Version)
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// fmtExpected prints the expected share as written: "50%", or "-" for
// requests without a version.
func fmtExpected(r versionRow) string {
	if r.Version == "" || !r.HasExpected {
		return "-" // no expectation: nothing was expected, not 0%
	}
	return textfmt.Num(r.Expected) + "%"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
