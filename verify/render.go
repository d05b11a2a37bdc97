package verify

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/textfmt"
)

// Formats are the output formats of a gate's result.
var Formats = []string{"text", "json", "junit", "markdown", "html"}

// Write renders r in one of Formats.
func Write(w io.Writer, format string, r *Result) error {
	return renderers[*Result]{text: writeText, junit: writeJUnit, markdown: writeMarkdown, html: writeHTML}.write(w, format, r)
}

// renderers are the writers of one result type for the formats other than
// JSON, which is the same for every type.
type renderers[T any] struct {
	text, junit, markdown, html func(io.Writer, T) error
}

func (rs renderers[T]) write(w io.Writer, format string, r T) error {
	switch format {
	case "text", "":
		return rs.text(w, r)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "junit":
		return rs.junit(w, r)
	case "markdown":
		return rs.markdown(w, r)
	case "html":
		return rs.html(w, r)
	}
	return fmt.Errorf("--format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// row is one version's line in the text and Markdown tables.
type row struct {
	version, expected, client, interval, server, status string
}

func rows(r *Result) []row {
	var out []row
	for _, v := range r.Client.Versions {
		rw := row{
			version: v.Version, expected: fmt.Sprintf("%g%%", v.Expected),
			client:   fmt.Sprintf("%.1f%% (%d)", v.Share, v.Count),
			interval: interval(v.Low, v.High),
			server:   "-", status: v.Status.String(),
		}
		if s := r.Server; s != nil && s.Ran {
			var total float64
			for _, n := range s.Counts {
				total += n
			}
			if total > 0 {
				rw.server = fmt.Sprintf("%.1f%% (%.0f)", 100*s.Counts[v.Version]/total, s.Counts[v.Version])
			}
		}
		out = append(out, rw)
	}
	return out
}

func writeText(w io.Writer, r *Result) error {
	c := r.Client
	fmt.Fprintf(w, "%s  expect %s ±%g points at %g%% confidence: %s\n", r.Verdict, c.Expect, c.Tolerance, 100*c.Confidence, r.Reason)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "VERSION\tEXPECTED\t%s\tINTERVAL\tSERVER\tSTATUS\n", strings.ToUpper(witness(r)))
	for _, rw := range rows(r) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rw.version, rw.expected, rw.client, rw.interval, rw.server, rw.status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range details(r) {
		fmt.Fprintln(w, line)
	}
	return nil
}

// details are the lines under the table: samples, timing, errors, server.
func details(r *Result) []string {
	c := r.Client
	units := unitName(c) + "s"
	out := []string{fmt.Sprintf("samples: %d %s in the split (%d in all) over %s; method: %s",
		c.N, units, c.Pages, textfmt.Span(r.End.Sub(r.Start)), c.Method)}
	out = append(out, passiveLines(r.Passive)...)
	split := false
	for _, v := range c.Versions {
		if len(v.Tests) > 0 {
			split = true
			out = append(out, fmt.Sprintf("pass tests: %s %s", v.Version, passTests(v, unitName(c))))
		}
	}
	if split {
		out = append(out, fmt.Sprintf("decided by: PASS when every pass test is shown, each one-sided at %g%% (intersection-union); FAIL when an INTERVAL (simultaneous over versions) lies outside expected ± %g",
			100*c.Confidence, c.Tolerance))
	}
	out = append(out, healthLines(c.Health, "health")...)
	if st := r.Settle; st.Enabled {
		line := fmt.Sprintf("settle: new weights in effect %s after the start (%d settling %ss left out, window %d)",
			textfmt.Span(st.After), st.Discarded, unitName(c), st.Window)
		if st.TimedOut {
			line += "; settling TIMED OUT: the new weights may not have been applied"
		}
		out = append(out, line)
	}
	e := c.Errors
	for _, b := range e.Buckets {
		if b.Errors > 0 {
			name := b.Version
			if name == "" {
				name = "unknown version"
			}
			out = append(out, fmt.Sprintf("errors: %s %d of %d %s (%.2f%%, [%.2f, %.2f]) against a %g%% budget: %s",
				name, b.Errors, b.Pages, units, b.Rate, b.Low, b.High, e.Budget, b.Status))
		}
	}
	if l := r.Load; l != nil {
		for _, o := range l.Outcomes {
			if o.Name != "ok" {
				out = append(out, fmt.Sprintf("outcome %s: %d", o.Name, o.Count))
			}
		}
	}
	if r.Extended > 0 {
		out = append(out, fmt.Sprintf("extended: %d more pages after the pages passed, while the server's health witness had a check past its margin and undecided", r.Extended))
	}
	if r.Passive == nil {
		out = append(out, serverLines(r)...)
	} else if m := r.Mirror; m != nil {
		out = append(out, "mirror: "+m.Reason)
	}
	out = append(out, traceLines(r)...)
	if c.MorePages > 0 {
		out = append(out, fmt.Sprintf("about %d more %s would likely decide", c.MorePages, units))
	}
	return out
}

// witness names the table's evidence column: the client's pages, or in a
// passive gate Istio's requests.
func witness(r *Result) string {
	if r.Passive != nil {
		return "requests"
	}
	return "client"
}

// unitName is what the decision counted: page or request.
func unitName(d decide.Decision) string {
	if d.Unit == "" {
		return "page"
	}
	return d.Unit
}

// passiveLines say what a passive gate read: whose counts, from when, how
// often, the queries, the rates and what departs from the model.
func passiveLines(p *Passive) []string {
	if p == nil {
		return nil
	}
	out := []string{
		fmt.Sprintf("evidence: live traffic, no request sent: istio_requests_total as reporter=%q counts it via %s, from %s (%s)",
			p.Reporter, p.Source, p.From.UTC().Format(time.RFC3339), p.FromWhy),
		fmt.Sprintf("looks: %d, one every %s; %d scrapes of %d targets; query: %s", p.Polls, p.Poll, p.Scrapes, p.Targets, p.Query),
		"per version, as the walkthrough asks: " + p.PerVersion,
	}
	if !p.RouteChanged.IsZero() {
		out = append(out, "route last changed: "+p.RouteChanged.UTC().Format(time.RFC3339))
	}
	if len(p.PerSecond) > 0 {
		out = append(out, "requests/s since then: "+perVersion(p.PerSecond, "%.2f"))
	}
	if len(p.Destination) > 0 {
		out = append(out, "destination sidecars counted: "+perVersion(p.Destination, "%.0f"))
	}
	for _, rs := range p.Responses {
		if rs.Code != "200" {
			out = append(out, fmt.Sprintf("responses: %s answered %.0f requests with %s (flags %s)", rs.Version, rs.Count, rs.Code, rs.Flags))
		}
	}
	for _, n := range p.Notes {
		out = append(out, "note: "+n)
	}
	if p.Error != "" {
		out = append(out, "prometheus: stopped answering: "+p.Error)
	}
	return out
}

// perVersion prints "v1 0.49, v3 0.47", versions in order.
func perVersion(m map[string]float64, format string) string {
	vs := make([]string, 0, len(m))
	for v := range m {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v + " " + fmt.Sprintf(format, m[v])
	}
	return strings.Join(parts, ", ")
}

func serverLines(r *Result) []string {
	s := r.Server
	if s == nil {
		return []string{"server: not checked (give --prometheus or --scrape)"}
	}
	if !s.Ran {
		return []string{"server: could not run: " + s.Error}
	}
	out := []string{fmt.Sprintf("server: %s via %s over %s: %s", s.Verdict, s.Source, textfmt.Span(s.End.Sub(s.Start)), s.Reason),
		"server query: " + s.Query}
	if s.Health != nil {
		out = append(out, healthLines(s.Health, "server health")...)
	}
	if s.Extra != 0 {
		out = append(out, fmt.Sprintf("server: %+.0f requests beyond the client's pages in the window (retries, other clients, in-flight edges)", s.Extra))
	}
	for _, rs := range s.Responses {
		if rs.Code != "200" {
			out = append(out, fmt.Sprintf("server: %s answered %.0f requests with %s (flags %s)", rs.Version, rs.Count, rs.Code, rs.Flags))
		}
	}
	if m := r.Mirror; m != nil {
		out = append(out, "mirror: "+m.Reason)
	}
	return out
}

// traceLines are the trace check and the pages of note with their traces.
func traceLines(r *Result) []string {
	var out []string
	if t := r.Traces; t != nil {
		api := ""
		if t.API != "" {
			api = " (API " + t.API + ")"
		}
		out = append(out, fmt.Sprintf("traces: %s via jaeger %s%s: %s", t.Verdict, t.Jaeger, api, t.Reason))
		for _, d := range t.Disagreements {
			out = append(out, fmt.Sprintf("traces: page %s, trace %s for x-request-id %s: %s", d.Page, d.Trace, d.RequestID, d.Link))
		}
		for _, u := range t.Unreadable {
			out = append(out, "traces: unreadable: "+u)
		}
		if t.Error != "" {
			out = append(out, "traces: error: "+t.Error)
		}
		for _, h := range t.Hops {
			out = append(out, fmt.Sprintf("latency by hop: %s %s p50 %s p90 %s max %s over %d traces", h.Version, h.Service,
				h.P50.Round(10*time.Microsecond), h.P90.Round(10*time.Microsecond), h.Max.Round(10*time.Microsecond), h.Count))
		}
	}
	if r.PagesOfNote > len(r.Pages) {
		out = append(out, fmt.Sprintf("%ss of note: %d, the newest %d below", unitName(r.Client), r.PagesOfNote, len(r.Pages)))
	}
	for _, p := range r.Pages {
		where := "trace " + p.TraceID
		switch {
		case p.Link != "":
			where = p.Link
		case !p.Sampled:
			where += " (not sampled)"
		}
		out = append(out, fmt.Sprintf("%s of note: %s %s (status %d) x-request-id %s %s", unitName(r.Client),
			p.At.UTC().Format("15:04:05.000"), p.Why, p.Status, p.RequestID, where))
	}
	return out
}

func writeMarkdown(w io.Writer, r *Result) error {
	c := r.Client
	fmt.Fprintf(w, "### canary verify: %s\n\n", r.Verdict)
	fmt.Fprintf(w, "Expect `%s` ±%g points at %g%% confidence. %s\n\n", c.Expect, c.Tolerance, 100*c.Confidence, r.Reason)
	fmt.Fprintf(w, "| version | expected | %s | interval | server | status |\n", witness(r))
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, rw := range rows(r) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", rw.version, rw.expected, rw.client, rw.interval, rw.server, rw.status)
	}
	fmt.Fprintln(w)
	for _, line := range details(r) {
		fmt.Fprintf(w, "- %s\n", line)
	}
	return nil
}

type junitSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Suites  []junitSet `xml:"testsuite"`
}

type junitSet struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

// write writes the set as a JUnit XML document of one suite.
func (set junitSet) write(w io.Writer) error {
	set.Tests = len(set.Cases)
	fmt.Fprint(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSet{set}}); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

type junitCase struct {
	Name    string  `xml:"name,attr"`
	Class   string  `xml:"classname,attr"`
	Failure *junitM `xml:"failure,omitempty"`
	Skipped *junitM `xml:"skipped,omitempty"`
	Output  string  `xml:"system-out,omitempty"`
}

type junitM struct {
	Message string `xml:"message,attr"`
}

// writeJUnit writes one test case per check: each version's share, the
// error budget, the server side and the mirror.
func writeJUnit(w io.Writer, r *Result) error {
	set := junitSet{Name: "canary verify " + r.Client.Expect, Time: r.End.Sub(r.Start).Seconds()}
	add := func(name string, v decide.Verdict, msg string) {
		jc := junitCase{Name: name, Class: "canary.verify", Output: msg}
		switch v {
		case decide.Fail:
			jc.Failure = &junitM{Message: msg}
			set.Failures++
		case decide.Pass:
		default:
			jc.Skipped = &junitM{Message: "inconclusive: " + msg}
			set.Skipped++
		}
		set.Cases = append(set.Cases, jc)
	}
	for _, v := range r.Client.Versions {
		add("share of "+v.Version, statusVerdict(v.Status, r.Client.Verdict),
			strings.TrimSuffix(fmt.Sprintf("%.1f%% %s of %d %ss, expected %g%% ± %g; %s", v.Share, interval(v.Low, v.High), r.Client.N, unitName(r.Client), v.Expected, r.Client.Tolerance, passTests(v, unitName(r.Client))), "; "))
	}
	add("error budget", statusVerdict(r.Client.Errors.Status, decide.Pass), fmt.Sprintf("budget %g%%", r.Client.Errors.Budget))
	healthCases(r.Client.Health, "health", add)
	if s := r.Server; s != nil {
		v, msg := s.Verdict, s.Reason
		if !s.Ran {
			v, msg = decide.Inconclusive, s.Error
		}
		add("server-side split", v, msg)
		healthCases(s.Health, "server health", add)
	}
	if m := r.Mirror; m != nil {
		v := decide.Fail
		if m.OK {
			v = decide.Pass
		}
		add("mirror to "+m.Version, v, m.Reason)
	}
	if t := r.Traces; t != nil {
		add("traces agree with pages", t.Verdict, t.Reason)
	}
	add("verdict", r.Verdict, r.Reason)
	return set.write(w)
}

// passTests says where a version's one-sided PASS tests stand: "above
// 45% shown at page 412 (ratio 21.43 ≥ 20), below 55% not shown (ratio 3.172
// < 20)".
func passTests(v decide.VersionResult, unit string) string {
	parts := make([]string, 0, len(v.Tests))
	for _, t := range v.Tests {
		edge := strconv.FormatFloat(t.Edge, 'f', -1, 64)
		if t.ShownAt > 0 {
			parts = append(parts, fmt.Sprintf("%s %s%% shown at %s %d (ratio %s ≥ %s)", t.Side, edge, unit, t.ShownAt, ratio(t.Ratio), ratio(t.Threshold)))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s%% not shown (ratio %s < %s)", t.Side, edge, ratio(t.Ratio), ratio(t.Threshold)))
		}
	}
	return strings.Join(parts, ", ")
}

// ratio prints a likelihood ratio with four significant digits.
func ratio(x float64) string {
	switch {
	case x >= 1e300: // an edge at 0% or 100% that one page rules out
		return "∞"
	case x >= 1e6:
		return strconv.FormatFloat(x, 'e', 2, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// statusVerdict maps a version's status to a test case outcome; undecided
// takes the overall client verdict (a PASS decides every version).
func statusVerdict(s decide.Status, overall decide.Verdict) decide.Verdict {
	switch s {
	case decide.Within:
		return decide.Pass
	case decide.Outside, decide.Stray:
		return decide.Fail
	}
	if overall == decide.Pass {
		return decide.Pass
	}
	return decide.Inconclusive
}

// interval prints a share's interval as the verdict's sentence does:
// rounded outwards, so the two never disagree.
func interval(lo, hi float64) string {
	l, h := textfmt.Interval(lo, hi)
	return fmt.Sprintf("[%.1f, %.1f]", l, h)
}
