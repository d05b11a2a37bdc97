package report

import (
	"html/template"
	"math"
	"slices"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/canary-gate/canary/results"
	"gonum.org/v1/plot/plotter"
)

// chartView is one rendered chart for the HTML page.
type chartView struct {
	Title, Note string
	SVG         template.HTML // made by gonum/plot; labels are escaped by it
}

// timeline holds the chart points: one per group of windows, with a NaN
// x between groups that have missing windows between them, so lines break
// where there was no traffic.
type timeline struct {
	v      *view
	groups []results.Window
	merged int // windows per group
	xs     []float64
	idx    []int // group of each x, -1 at a gap
}

func (v *view) timeline() *timeline {
	gs, k := groups(v.windows, chartPoints)
	tl := &timeline{v: v, groups: gs, merged: k}
	for i, g := range gs {
		if i > 0 && g.Start.Sub(gs[i-1].End) >= v.size {
			tl.xs, tl.idx = append(tl.xs, math.NaN()), append(tl.idx, -1)
		}
		mid := g.Start.Add(g.End.Sub(g.Start) / 2)
		tl.xs, tl.idx = append(tl.xs, unixSeconds(mid)), append(tl.idx, i)
	}
	return tl
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// ys evaluates f on every group; f returns NaN where it has no value.
func (tl *timeline) ys(f func(results.Window) float64) []float64 {
	out := make([]float64, len(tl.xs))
	for i, g := range tl.idx {
		out[i] = math.NaN()
		if g >= 0 {
			out[i] = f(tl.groups[g])
		}
	}
	return out
}

// alarmed returns the points of ys whose group has an alarm of one of
// kinds for version.
func (tl *timeline) alarmed(ys []float64, version string, kinds ...decide.AlarmKind) plotter.XYs {
	var pts plotter.XYs
	for i, g := range tl.idx {
		if g < 0 || math.IsNaN(ys[i]) {
			continue
		}
		for _, a := range tl.v.alarmsIn(tl.groups[g]) {
			if a.Version == version && slices.Contains(kinds, a.Kind) {
				pts = append(pts, plotter.XY{X: tl.xs[i], Y: ys[i]})
				break
			}
		}
	}
	return pts
}

func (tl *timeline) chart(ylabel string) *chart {
	return newChart(ylabel, tl.xs, unixSeconds(tl.v.start), unixSeconds(tl.v.end))
}

// shareOf is a version's share of the requests with a version, in percent.
func shareOf(version string) func(results.Window) float64 {
	return func(w results.Window) float64 {
		named := w.Total() - w.Count("")
		if named == 0 {
			return math.NaN()
		}
		return textfmt.Percent(w.Count(version), named)
	}
}

// serverShareOf is a version's share of the server-side counts, in percent.
func serverShareOf(version string) func(results.Window) float64 {
	return func(w results.Window) float64 {
		total := 0.0
		for _, n := range w.Server {
			total += n
		}
		if total == 0 {
			return math.NaN()
		}
		return w.Server[version] / total * 100
	}
}

// intervals returns, by version, the interval of its share at every point
// that Judge would use for the point's windows (merged ones judged as
// one), centred on the share; points without a versioned request are
// left out.
func (tl *timeline) intervals(c decide.WindowCriteria) map[string]intervalBars {
	out := map[string]intervalBars{}
	for i, g := range tl.idx {
		if g < 0 || tl.groups[g].Total() == tl.groups[g].Count("") {
			continue
		}
		for _, r := range decide.Split(tl.groups[g], c) {
			out[r.Version] = append(out[r.Version], intervalBar{x: tl.xs[i], y: r.Share, low: r.Share - r.Low, high: r.High - r.Share})
		}
	}
	return out
}

// intervalBars are plotter.YErrorBars' input: a share with the distances
// down to its interval's low end and up to its high end.
type intervalBars []intervalBar

type intervalBar struct{ x, y, low, high float64 }

func (b intervalBars) Len() int                    { return len(b) }
func (b intervalBars) XY(i int) (float64, float64) { return b[i].x, b[i].y }
func (b intervalBars) YError(i int) (float64, float64) {
	return b[i].low, b[i].high
}
