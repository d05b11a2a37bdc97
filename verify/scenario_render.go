package verify

import (
	"fmt"
	"github.com/canary-gate/canary/internal/textfmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/canary-gate/canary/decide"
)

// WriteScenario renders a scenario run in one of Formats.
func WriteScenario(w io.Writer, format string, r *ScenarioResult) error {
	return renderers[*ScenarioResult]{text: scenarioText, junit: scenarioJUnit, markdown: scenarioMarkdown, html: scenarioHTML}.write(w, format, r)
}

// stageRow is one stage's line of the final table.
type stageRow struct {
	name, expect, client, server, verdict, effect, took string
}

func stageRows(r *ScenarioResult) []stageRow {
	var out []stageRow
	for _, s := range r.Stages {
		row := stageRow{name: s.Name, expect: s.Expect, client: "-", server: "-", verdict: s.Verdict.String(),
			effect: "-", took: s.End.Sub(s.Start).Round(100 * time.Millisecond).String()}
		if s.Error != "" {
			row.verdict = "ERROR"
		}
		if g := s.Gate; g != nil {
			row.client = clientSplit(g.Client)
			if g.Server != nil && g.Server.Ran {
				row.server = serverSplit(g.Server.Counts)
			}
			if g.Settle.Enabled && !g.Settle.Effective.IsZero() {
				row.effect = textfmt.Span(g.Settle.After)
			}
		}
		out = append(out, row)
	}
	return out
}

func clientSplit(d decide.Decision) string {
	var parts []string
	for _, v := range d.Versions {
		if v.Count > 0 || v.Expected > 0 {
			parts = append(parts, fmt.Sprintf("%s=%.1f", v.Version, v.Share))
		}
	}
	return strings.Join(parts, ",")
}

func serverSplit(counts map[string]float64) string {
	var total float64
	var vs []string
	for v, n := range counts {
		total += n
		if n > 0 {
			vs = append(vs, v)
		}
	}
	sort.Strings(vs)
	var parts []string
	for _, v := range vs {
		parts = append(parts, fmt.Sprintf("%s=%.1f", v, 100*counts[v]/total))
	}
	return strings.Join(parts, ",")
}

func scenarioText(w io.Writer, r *ScenarioResult) error {
	fmt.Fprintf(w, "%s  scenario %s against %s: %s\n", r.Word(), r.Scenario, r.Target, r.Reason)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tEXPECT\tCLIENT %\tSERVER %\tVERDICT\tIN EFFECT AFTER\tDURATION")
	for _, row := range stageRows(r) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.name, row.expect, row.client, row.server, row.verdict, row.effect, row.took)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Stages {
		if s.Verdict != decide.Pass || s.Error != "" {
			fmt.Fprintf(w, "stage %q: %s\n", s.Name, stageWhy(s))
		}
		if s.Rollback != nil {
			fmt.Fprintf(w, "stage %q rolled back: %s%s\n", s.Name, s.Rollback.What, errSuffix(s.Rollback.Err))
		}
	}
	return nil
}

func stageWhy(s StageResult) string {
	if s.Error != "" {
		return "could not run: " + s.Error
	}
	return s.Reason
}

func errSuffix(e string) string {
	if e == "" {
		return " (ok)"
	}
	return " (failed: " + e + ")"
}

func scenarioMarkdown(w io.Writer, r *ScenarioResult) error {
	fmt.Fprintf(w, "### canary run %s: %s\n\n%s\n\n", r.Scenario, r.Word(), r.Reason)
	fmt.Fprintln(w, "| stage | expect | client % | server % | verdict | in effect after | duration |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, row := range stageRows(r) {
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | %s | %s |\n", row.name, row.expect, row.client, row.server, row.verdict, row.effect, row.took)
	}
	for _, s := range r.Stages {
		fmt.Fprintf(w, "\n#### %s: %s\n\n%s\n", s.Name, s.Verdict, stageWhy(s))
		if s.Gate != nil {
			fmt.Fprintln(w)
			for _, line := range details(s.Gate) {
				fmt.Fprintf(w, "- %s\n", line)
			}
		}
		for _, st := range []*StepResult{s.Apply, s.Rollback} {
			if st != nil && strings.TrimSpace(st.Output) != "" {
				fmt.Fprintf(w, "\n`%s`:\n\n```\n%s\n```\n", st.What, strings.TrimSpace(st.Output))
			}
		}
	}
	return nil
}

// scenarioJUnit writes one test case per stage.
func scenarioJUnit(w io.Writer, r *ScenarioResult) error {
	set := junitSet{Name: "canary run " + r.Scenario, Time: r.End.Sub(r.Start).Seconds()}
	for _, s := range r.Stages {
		jc := junitCase{Name: s.Name, Class: "canary.run." + r.Scenario, Output: stageWhy(s)}
		if s.Apply != nil {
			jc.Output += "\n" + s.Apply.What + "\n" + s.Apply.Output
		}
		switch {
		case s.Error == "" && s.Verdict == decide.Pass:
		case s.Error == "" && s.Verdict == decide.Fail:
			jc.Failure = &junitM{Message: s.Reason}
			set.Failures++
		default:
			jc.Skipped = &junitM{Message: "inconclusive: " + stageWhy(s)}
			set.Skipped++
		}
		set.Cases = append(set.Cases, jc)
	}
	return set.write(w)
}
