package report

import (
	"fmt"
	"html/template"
	"math"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/canary-gate/canary/results"
)

// charts renders the HTML page's charts; none without windows.
func (v *view) charts() ([]chartView, error) {
	if len(v.windows) == 0 {
		return nil, nil
	}
	tl := v.timeline()
	note := ""
	if k := tl.merged; k > 1 {
		note = fmt.Sprintf("each point merges %d windows (%v)", k, v.size*time.Duration(k))
	}
	type spec struct {
		title string
		build func(*timeline) *chart
	}
	specs := []spec{
		{"Share per version", shareChart},
		{"Requests per second", requestChart},
		{"Requests not ok", errorChart},
		{"Latency: p99 (solid) and p50 (dashed)", latencyChart},
	}
	if v.server {
		specs = append(specs, spec{"Client (solid) vs server (dashed) split", serverChart})
	}
	var out []chartView
	for _, s := range specs {
		svg, err := s.build(tl).svg(s.title)
		if err != nil {
			return nil, fmt.Errorf("chart %q: %w", s.title, err)
		}
		out = append(out, chartView{Title: s.title, Note: note, SVG: template.HTML(svg)}) //nolint:gosec // gonum/plot escapes text
	}
	return out, nil
}

func shareChart(tl *timeline) *chart {
	c := tl.chart("% of requests with a version")
	c.p.Y.Min, c.p.Y.Max = 0, 100
	tol := tl.v.rep.Tolerance
	for i, name := range tl.v.versions {
		if e := tl.v.expect.Percent(name); e > 0 && e < 100 {
			c.band(fmt.Sprintf("expected %s±%s", textfmt.Num(e), textfmt.Num(tol)), max(e-tol, 0), e, min(e+tol, 100), versionColor(i))
		}
	}
	var bars map[string]intervalBars
	crit := tl.v.rep.Criteria
	if crit != nil {
		bars = tl.intervals(*crit)
	}
	for i, name := range tl.v.versions {
		ys := tl.ys(shareOf(name))
		if crit != nil {
			if e := crit.Expect.Percent(name); e > 0 && e < 100 {
				c.intervals(bars[name], versionColor(i))
			}
		}
		c.series(name, ys, versionColor(i), false)
		c.alarms(tl.alarmed(ys, name, decide.AlarmSplit, decide.AlarmStray))
	}
	return c
}

func requestChart(tl *timeline) *chart {
	c := tl.chart("requests / s")
	c.p.Y.Min = 0
	rate := func(f func(results.Window) int) func(results.Window) float64 {
		return func(w results.Window) float64 { return float64(f(w)) / w.End.Sub(w.Start).Seconds() }
	}
	c.series("all", tl.ys(rate(results.Window.Total)), inkColor, false)
	for i, name := range tl.v.versions {
		c.series(name, tl.ys(rate(func(w results.Window) int { return w.Count(name) })), versionColor(i), false)
	}
	if none := tl.ys(rate(func(w results.Window) int { return w.Count("") })); anyAbove(none, 0) {
		c.series("no version", none, alarmColor, true)
	}
	return c
}

func errorChart(tl *timeline) *chart {
	c := tl.chart("% not ok")
	c.p.Y.Min, c.p.Y.Max = 0, 1
	all := tl.ys(results.Window.ErrorRate)
	c.series("all", all, inkColor, false)
	c.alarms(tl.alarmed(all, "", decide.AlarmErrors))
	for i, name := range tl.v.versions {
		ys := tl.ys(func(w results.Window) float64 { return textfmt.Percent(w.Errors(name), w.Count(name)) })
		c.series(name, ys, versionColor(i), true)
		c.alarms(tl.alarmed(ys, name, decide.AlarmErrors))
	}
	return c
}

func latencyChart(tl *timeline) *chart {
	c := tl.chart("ms")
	c.p.Y.Min = 0
	for i, name := range tl.v.versions {
		q := func(q float64) func(results.Window) float64 {
			return func(w results.Window) float64 {
				if w.Count(name) == 0 {
					return math.NaN()
				}
				return ms(w.Quantile(name, q))
			}
		}
		p99 := tl.ys(q(0.99))
		c.series(name+" p99", p99, versionColor(i), false)
		c.series(name+" p50", tl.ys(q(0.5)), versionColor(i), true)
		c.alarms(tl.alarmed(p99, name, decide.AlarmLatency))
	}
	return c
}

func serverChart(tl *timeline) *chart {
	c := tl.chart("% of requests")
	c.p.Y.Min, c.p.Y.Max = 0, 100
	for i, name := range tl.v.versions {
		c.series(name+" client", tl.ys(shareOf(name)), versionColor(i), false)
		c.series(name+" server", tl.ys(serverShareOf(name)), versionColor(i), true)
	}
	return c
}

func anyAbove(ys []float64, x float64) bool {
	for _, y := range ys {
		if y > x {
			return true
		}
	}
	return false
}
