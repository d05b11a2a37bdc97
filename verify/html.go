package verify

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/report"
)

// htmlPage is one page of gates: one for verify, one per stage for run.
type htmlPage struct {
	Title, Verdict, Reason string
	Style                  template.CSS
	Gates                  []htmlGate
}

// htmlGate is one gate's section.
type htmlGate struct {
	Name, Verdict, Reason string
	Witness               string // the evidence column: client pages, or requests in a passive gate
	Facts                 [][2]string
	Versions              []htmlRow
	Health                []healthRow
	Baseline              string
	LatencyChart          template.HTML // the health checks' latency distributions, an inline SVG
	Details               []string
	Traces                *TraceCheck
	HopCols               []string
	Hops                  []htmlHopRow
	Pages                 []PageOfNote
	PagesNote             string
	Unit                  string // what the client counted, plural: pages or responses
}

// htmlRow is a version's line of the table (row, exported for the template).
type htmlRow struct{ Version, Expected, Client, Interval, Server, Status string }

// htmlHopRow is one page version's latency by hop: "p50 / p90" per column.
type htmlHopRow struct {
	Version string
	Cells   []string
}

var gateTemplate = template.Must(template.New("gate").Funcs(template.FuncMap{
	"title": func(s string) string { return strings.ToUpper(s[:1]) + s[1:] },
}).Parse(gateHTML))

func writeHTML(w io.Writer, r *Result) error {
	return gateTemplate.Execute(w, htmlPage{Title: "canary verify " + r.Client.Expect, Verdict: r.Verdict.String(), Reason: r.Reason,
		Style: template.CSS(report.Style), Gates: []htmlGate{gateSection("", r)}})
}

func scenarioHTML(w io.Writer, r *ScenarioResult) error {
	p := htmlPage{Title: "canary run " + r.Scenario, Verdict: r.Word(), Reason: r.Reason, Style: template.CSS(report.Style)}
	for _, s := range r.Stages {
		if s.Gate != nil {
			p.Gates = append(p.Gates, gateSection("stage "+s.Name, s.Gate))
			continue
		}
		p.Gates = append(p.Gates, htmlGate{Name: "stage " + s.Name, Verdict: s.Verdict.String(), Reason: s.Error})
	}
	return gateTemplate.Execute(w, p)
}

func gateSection(name string, r *Result) htmlGate {
	c := r.Client
	g := htmlGate{Name: name, Verdict: r.Verdict.String(), Reason: r.Reason, Traces: r.Traces, Pages: r.Pages, Witness: witness(r)}
	shown := map[string]bool{} // the traces and pages of note have sections of their own
	for _, l := range traceLines(r) {
		shown[l] = true
	}
	for _, l := range details(r) {
		if !shown[l] {
			g.Details = append(g.Details, l)
		}
	}
	for _, rw := range rows(r) {
		g.Versions = append(g.Versions, htmlRow{rw.version, rw.expected, rw.client, rw.interval, rw.server, rw.status})
	}
	if h := c.Health; h != nil {
		g.Health, g.Baseline = healthRows(h), h.Baseline
		var server *decide.HealthResult
		if r.Server != nil {
			server = r.Server.Health
		}
		// The chart is a picture of numbers the table states; a chart that
		// cannot be drawn leaves the table alone.
		if svg, err := report.LatencyCDF(h, server); err == nil {
			g.LatencyChart = template.HTML(svg) // gonum/plot's SVG, labels escaped by svg()
		}
	}
	g.Facts = [][2]string{
		{"target", r.Target},
		{"expect", fmt.Sprintf("%s ± %g points at %g%% confidence", c.Expect, c.Tolerance, 100*c.Confidence)},
		{"period", fmt.Sprintf("%s to %s (%s)", r.Start.UTC().Format(time.DateTime), r.End.UTC().Format(time.TimeOnly), r.End.Sub(r.Start).Round(100*time.Millisecond))},
	}
	if t := r.Traces; t != nil {
		g.Facts = append(g.Facts, [2]string{"traces", fmt.Sprintf("%s: %s", t.Verdict, t.Reason)})
		versions := map[string]map[string]HopLatency{}
		var order []string
		for _, h := range t.Hops {
			if versions[h.Version] == nil {
				versions[h.Version] = map[string]HopLatency{}
				order = append(order, h.Version)
			}
			versions[h.Version][h.Service] = h
		}
		for _, svc := range hopServices {
			for _, v := range versions {
				if _, ok := v[svc]; ok {
					g.HopCols = append(g.HopCols, svc)
					break
				}
			}
		}
		for _, v := range order {
			row := htmlHopRow{Version: v}
			for _, svc := range g.HopCols {
				cell := "-"
				if h, ok := versions[v][svc]; ok {
					cell = fmt.Sprintf("%s / %s (%d)", fmtHop(h.P50), fmtHop(h.P90), h.Count)
				}
				row.Cells = append(row.Cells, cell)
			}
			g.Hops = append(g.Hops, row)
		}
	}
	g.Unit = unitName(r.Client) + "s"
	if r.PagesOfNote > len(r.Pages) {
		g.PagesNote = fmt.Sprintf(": the newest %d of %d", len(r.Pages), r.PagesOfNote)
	}
	return g
}

func fmtHop(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }

// gateHTML lays out gates with the soak report's style: inline CSS, no
// script, nothing to fetch; links to Jaeger are plain anchors, followed
// only when clicked.
const gateHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Verdict}} · {{.Title}}</title>
<style>{{.Style}}
a{color:#1a5fb4}
</style>
</head>
<body>
<main>
<header><span class="badge {{.Verdict}}">{{.Verdict}}</span><h1>{{.Title}}</h1></header>
<p class="reason">{{.Reason}}</p>
{{range .Gates}}{{if .Name}}<header><span class="badge {{.Verdict}}">{{.Verdict}}</span><h1>{{.Name}}</h1></header>
<p class="reason">{{.Reason}}</p>
{{end}}{{if .Facts}}<section><dl>{{range .Facts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl></section>
<section><h2>Versions</h2>
<table><thead><tr><th>version</th><th>expected</th><th>{{.Witness}}</th><th>interval</th><th>server</th><th class="text">status</th></tr></thead><tbody>
{{range .Versions}}<tr><td>{{.Version}}</td><td>{{.Expected}}</td><td>{{.Client}}</td><td>{{.Interval}}</td><td>{{.Server}}</td><td class="text">{{.Status}}</td></tr>
{{end}}</tbody></table></section>
{{end}}{{if .Health}}<section><h2>Health against baseline {{.Baseline}}</h2>
<table><thead><tr><th class="text">canary</th><th class="text">check</th><th>canary's value (n)</th><th>baseline's value (n)</th><th class="text">bounds</th><th>limit</th><th class="text">status</th></tr></thead><tbody>
{{range .Health}}<tr><td class="text">{{.Canary}}</td><td class="text">{{.Check}}</td><td>{{.Canaries}}</td><td>{{.Baseline}}</td><td class="text">{{.Bounds}}</td><td>{{.Limit}}</td><td class="text">{{.Status}}</td></tr>
{{end}}</tbody></table>
{{if .LatencyChart}}<figure class="chart">{{.LatencyChart}}<figcaption>Latency distribution by version: {{.Unit}} (solid) and the server's histogram (dashed steps)</figcaption></figure>{{end}}</section>
{{end}}{{with .Traces}}<section><h2>Traces: {{.Verdict}}</h2>
<p>{{.Reason}} (Jaeger {{.Jaeger}}{{if .API}}, API {{.API}}{{end}}; {{.Checked}} checked of {{.Wanted}} wanted, {{.Sampled}} sampled pages)</p>
{{if .Disagreements}}<table><thead><tr><th class="text">page</th><th class="text">trace</th><th class="text">pod</th><th class="text">x-request-id</th><th class="text">trace</th></tr></thead><tbody>
{{range .Disagreements}}<tr><td class="text">{{.Page}}</td><td class="text">{{.Trace}}</td><td class="text">{{.Pod}}</td><td class="text">{{.RequestID}}</td><td class="text"><a href="{{.Link}}">{{.TraceID}}</a></td></tr>
{{end}}</tbody></table>{{end}}</section>
{{end}}{{if .Hops}}<section><h2>Latency by hop (server spans, p50 / p90, traces)</h2>
<table><thead><tr><th>page version</th>{{range .HopCols}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Hops}}<tr><td>{{.Version}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table></section>
{{end}}{{if .Pages}}<section><h2>{{title .Unit}} of note{{.PagesNote}}</h2>
<table><thead><tr><th>sent</th><th class="text">why</th><th>status</th><th class="text">x-request-id</th><th class="text">trace</th></tr></thead><tbody>
{{range .Pages}}<tr><td>{{.At.UTC.Format "15:04:05.000"}}</td><td class="text">{{.Why}}</td><td>{{.Status}}</td><td class="text">{{.RequestID}}</td><td class="text">{{if .Link}}<a href="{{.Link}}">{{.TraceID}}</a>{{else}}{{.TraceID}}{{if not .Sampled}} (not sampled){{end}}{{end}}</td></tr>
{{end}}</tbody></table></section>
{{end}}{{if .Details}}<section><h2>Details</h2><ul>{{range .Details}}<li>{{.}}</li>{{end}}</ul></section>
{{end}}{{end}}<footer>canary verify report · self-contained, works offline</footer>
</main>
</body>
</html>
`
