package report

// Style is the HTML reports' inline CSS, shared with verify's page so that
// every report of a run looks alike.
const Style = `:root{--ink:#222;--muted:#6b6b6b;--line:#e4e4e4;--pass:#2e7d32;--fail:#c62828;--other:#a15c00}
*{box-sizing:border-box}
body{margin:0;background:#f5f6f8;color:var(--ink);font:14px/1.45 "Liberation Sans",Arial,Helvetica,sans-serif}
main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
header{display:flex;align-items:center;gap:14px;margin:8px 0 4px}
h1{font-size:22px;margin:0;font-weight:600}
h2{font-size:15px;margin:0 0 10px;font-weight:600}
.badge{color:#fff;font-weight:700;letter-spacing:.04em;padding:4px 12px;border-radius:4px;background:var(--other)}
.badge.PASS{background:var(--pass)}.badge.FAIL{background:var(--fail)}
.reason{margin:6px 0 16px;font-size:15px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:14px 18px;margin:0 0 14px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:0}
dt{color:var(--muted)}dd{margin:0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{color:var(--muted);font-weight:600}
th:first-child,td:first-child,td.text,th.text{text-align:left}
td.text{white-space:normal}
tr.alarmed td{background:#fdecea}
.kind{font-weight:600;color:var(--fail)}
.none{color:var(--muted);margin:0}
.charts{display:grid;grid-template-columns:1fr;gap:0}
svg{display:block;width:100%;height:auto}
.note{color:var(--muted);font-size:12px;margin:4px 0 0}
details summary{cursor:pointer;font-weight:600}
details table{margin-top:10px}
footer{color:var(--muted);font-size:12px;text-align:center}
`

// pageHTML is the HTML report: inline CSS, no script, nothing to fetch.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Verdict}} · {{.Title}}</title>
<style>
` + Style + `</style>
</head>
<body>
<main>
<header><span class="badge {{.Verdict}}">{{.Verdict}}</span><h1>{{.Title}}</h1></header>
<p class="reason">{{.Reason}}</p>
<section><dl>{{range .Facts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl></section>
<section><h2>Versions</h2>
<table><thead><tr><th>version</th><th>requests</th><th>share</th><th>expected</th><th>not ok</th><th>p50</th><th>p90</th><th>p99</th>{{if .Server}}<th>server share</th>{{end}}</tr></thead><tbody>
{{range .Versions}}<tr><td>{{.Name}}</td><td>{{.Requests}}</td><td>{{.Share}}</td><td>{{.Expected}}</td><td>{{.Errors}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P99}}</td>{{if $.Server}}<td>{{.Server}}</td>{{end}}</tr>
{{end}}</tbody></table></section>
<section><h2>Alarms ({{len .Alarms}})</h2>
{{if .Alarms}}<table><thead><tr><th>window</th><th class="text">kind</th><th class="text">version</th><th class="text">message</th></tr></thead><tbody>
{{range .Alarms}}<tr><td>{{.When}}</td><td class="text kind">{{.Kind}}</td><td class="text">{{.Version}}</td><td class="text">{{.Message}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">No window alarmed.</p>{{end}}</section>
{{range .Charts}}<section class="chart"><h2>{{.Title}}</h2>
{{.SVG}}{{if .Note}}<p class="note">{{.Note}}</p>{{end}}</section>
{{end}}{{if .Windows}}<section><details><summary>Windows: {{.WindowNote}}</summary>
<table><thead><tr><th>start</th><th>requests</th>{{range .WindowCols}}<th>{{.}}</th>{{end}}<th>not ok</th>{{range .WindowCols}}<th>p99 {{.}}</th>{{end}}<th class="text">alarms</th></tr></thead><tbody>
{{range .Windows}}<tr{{if .Alarms}} class="alarmed"{{end}}><td>{{.When}}</td><td>{{.Requests}}</td>{{range .Shares}}<td>{{.}}</td>{{end}}<td>{{.Errors}}</td>{{range .P99s}}<td>{{.}}</td>{{end}}<td class="text">{{.Alarms}}</td></tr>
{{end}}</tbody></table></details></section>
{{end}}{{if .Failed}}<section><h2>Failed requests: {{.FailedNote}}</h2>
<table><thead><tr><th>sent</th><th class="text">outcome</th><th>status</th><th class="text">version</th><th class="text">x-request-id</th><th class="text">trace</th></tr></thead><tbody>
{{range .Failed}}<tr><td>{{.When}}</td><td class="text">{{.Outcome}}</td><td>{{.Status}}</td><td class="text">{{.Version}}</td><td class="text">{{.RequestID}}</td><td class="text">{{if .Link}}<a href="{{.Link}}">{{.TraceID}}</a>{{else}}{{.TraceID}}{{if not .Sampled}} (not sampled){{end}}{{end}}</td></tr>
{{end}}</tbody></table></section>
{{end}}{{if .Warnings}}<section><h2>Warnings</h2><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul></section>
{{end}}<footer>canary soak report · self-contained, works offline</footer>
</main>
</body>
</html>
`
