package report

import (
	"io"
	"strings"
	"time"

	"github.com/canary-gate/canary/internal/textfmt"
)

// renderMarkdown writes the report for a CI job summary (GitHub's
// $GITHUB_STEP_SUMMARY, GitLab's markdown reports): verdict heading, run,
// totals, alarms and, folded, the window table.
func renderMarkdown(w io.Writer, v *view) error {
	ew := &errWriter{w: w}
	title := "canary soak"
	if v.rep.Title != "" {
		title = v.rep.Title
	}
	ew.printf("## %s %s: %s\n\n%s\n\n", verdictMark(v.verdict), v.verdict, mdEscape(title), mdEscape(v.reason))
	ew.printf("| | |\n|---|---|\n")
	ew.printf("| sources | %s |\n", mdEscape(strings.Join(v.rep.Sources, ", ")))
	ew.printf("| period | %s |\n| expect | %s |\n", v.period(), mdEscape(v.band()))
	ew.printf("| requests | %d, %s not ok |\n\n", v.total.Total(), fmtShare(v.total.ErrorRate(), v.total.Total()))
	head := "| version | requests | share | expected | errors | p50 | p90 | p99 |"
	if v.server {
		head += " server |"
	}
	ew.printf("%s\n|---|%s\n", head, strings.Repeat("--:|", strings.Count(head, "|")-2))
	for _, r := range v.rows(v.total) {
		ew.printf("| %s | %d | %s | %s | %s | %s | %s | %s |", mdEscape(versionName(r.Version)), r.Requests,
			fmtShare(r.Share, boolInt(r.Version != "")), fmtExpected(r), fmtShare(r.Errors, r.Requests),
			latencyCell(r.P50), latencyCell(r.P90), latencyCell(r.P99))
		if v.server {
			ew.printf(" %s |", fmtShare(r.Server, boolInt(r.HasServer)))
		}
		ew.printf("\n")
	}
	if len(v.alarms) > 0 {
		ew.printf("\n### Alarms (%d)\n\n| window | kind | version | message |\n|---|---|---|---|\n", len(v.alarms))
		for _, a := range v.alarms {
			ew.printf("| %s | %s | %s | %s |\n", v.clock(a.Start), a.Kind, mdEscape(versionName(a.Version)), mdEscape(a.Message))
		}
	}
	v.markdownWindows(ew)
	if lines := v.failedLines(); len(lines) > 0 {
		ew.printf("\n### Failed requests (%d in all; the newest %d)\n\n", v.rep.FailedTotal, len(lines))
		for _, l := range lines {
			ew.printf("- %s\n", mdEscape(l))
		}
	}
	for i, s := range v.rep.Warnings {
		if i == 0 {
			ew.printf("\n### Warnings\n\n")
		}
		ew.printf("- %s\n", mdEscape(s))
	}
	return ew.err
}

func (v *view) markdownWindows(ew *errWriter) {
	if len(v.windows) == 0 {
		return
	}
	rows, k := groups(v.windows, maxRows)
	cols := v.windowColumns()
	ew.printf("\n<details><summary>%s, each row %v</summary>\n\n", textfmt.NOf(len(v.windows), "window"), v.size*time.Duration(k))
	esc := make([]string, len(cols))
	for i, c := range cols {
		esc[i] = mdEscape(c)
	}
	ew.printf("| start | requests | %s | errors | %s | alarms |\n", strings.Join(esc, " | "),
		strings.Join(prefixed("p99 ", esc), " | "))
	ew.printf("|---|%s---|\n", strings.Repeat("--:|", 2+2*len(cols)))
	for _, g := range rows {
		named := g.Total() - g.Count("")
		ew.printf("| %s | %d |", v.clock(g.Start), g.Total())
		for _, c := range cols {
			ew.printf(" %s |", fmtShare(textfmt.Percent(g.Count(c), named), named))
		}
		ew.printf(" %s |", fmtShare(g.ErrorRate(), g.Total()))
		for _, c := range cols {
			ew.printf(" %s |", latencyCell(g.Quantile(c, 0.99)))
		}
		ew.printf(" %s |\n", mdEscape(alarmSummary(v.alarmsIn(g))))
	}
	ew.printf("\n</details>\n")
}

// verdictMark is an emoji for the verdict, readable in a job list.
func verdictMark(verdict string) string {
	switch verdict {
	case "PASS":
		return "✅"
	case "FAIL":
		return "❌"
	}
	return "⚠️"
}

// mdEscape keeps text inside one table cell and out of markup.
var mdEscape = strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`").Replace
