package report

import (
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"

	"github.com/canary-gate/canary/decide"
)

// LatencyCDF draws the health checks' latency distributions as an inline
// SVG: for each version, the fraction of requests at most x ms (x on a log
// axis), a solid line from the pages and dashed steps from the server's
// histogram, so a canary's curve right of its baseline's is slower, and
// where the witnesses disagree shows. Empty when there is nothing to draw.
func LatencyCDF(client, server *decide.HealthResult) (string, error) {
	var versions []string
	for _, h := range []*decide.HealthResult{client, server} {
		if h == nil {
			continue
		}
		for _, d := range h.Distributions {
			if !slices.Contains(versions, d.Version) {
				versions = append(versions, d.Version)
			}
		}
	}
	if len(versions) == 0 {
		return "", nil
	}
	c := newChart("fraction of requests at most", nil, 0, 1)
	p := c.p
	p.X.Tick.Marker = msTicks{}
	p.X.Scale = plot.LogScale{}
	p.X.Label.Text = "ms (log scale)"
	p.X.Label.TextStyle.Font = sansFont
	p.X.Label.TextStyle.Font.Size = 9
	p.Y.Min, p.Y.Max = 0, 1
	p.X.Min, p.X.Max = math.Inf(1), math.Inf(-1)
	for i, v := range versions {
		for _, w := range []struct {
			h      *decide.HealthResult
			server bool
		}{{client, false}, {server, true}} {
			if w.h == nil {
				continue
			}
			for _, d := range w.h.Distributions {
				if d.Version != v {
					continue
				}
				pts := cdfPoints(d.Points, w.server)
				if len(pts) == 0 {
					continue
				}
				for _, pt := range pts {
					p.X.Min, p.X.Max = math.Min(p.X.Min, pt.X), math.Max(p.X.Max, pt.X)
				}
				line, err := plotter.NewLine(pts)
				if err != nil {
					return "", err
				}
				line.LineStyle = vgdraw.LineStyle{Color: versionColor(i), Width: 1.4}
				name := v + " pages"
				if w.server {
					line.LineStyle.Dashes = []vg.Length{4, 2}
					line.StepStyle = plotter.PreStep
					name = v + " server"
				}
				p.Add(line)
				c.legend.Add(name, line)
			}
		}
	}
	p.X.Min, p.X.Max = p.X.Min/1.1, p.X.Max*1.1
	return c.svg("latency distribution by version")
}

// cdfPoints are a distribution's points with positive latency (a log axis
// cannot show 0); a server's histogram starts from 0 at its first edge.
func cdfPoints(ps []decide.CDFPoint, server bool) plotter.XYs {
	var out plotter.XYs
	for _, p := range ps {
		if p.Ms > 0 {
			out = append(out, plotter.XY{X: p.Ms, Y: p.Fraction})
		}
	}
	if server && len(out) > 0 && out[0].Y > 0 {
		out = append(plotter.XYs{{X: out[0].X / 2, Y: 0}}, out...)
	}
	return out
}

// msTicks labels a log axis of milliseconds at 1, 2 and 5 times each power
// of ten.
type msTicks struct{}

// Ticks implements plot.Ticker.
func (msTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			x := m * math.Pow(10, e)
			if x < lo || x > hi {
				continue
			}
			ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)})
		}
	}
	if len(ticks) < 2 { // a narrow range: round steps inside it
		ticks = plot.DefaultTicks{}.Ticks(lo, hi)
	}
	return ticks
}
