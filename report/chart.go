package report

import (
	"bytes"
	"errors"
	"image/color"
	"math"
	"regexp"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart geometry in points; the page scales the SVG to its width.
const (
	chartWidth   = 760
	chartHeight  = 210
	legendWidth  = 118
	chartPoints  = 400 // most points per series; longer runs merge windows
	sparsePoints = 60  // fewer points than this also get a dot each
)

// palette colours versions in report order (Tableau 10, without red,
// which marks alarms).
var (
	palette = []color.RGBA{
		{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0x59, 0xa1, 0x4f, 0xff},
		{0xb0, 0x7a, 0xa1, 0xff}, {0x76, 0xb7, 0xb2, 0xff}, {0x9c, 0x75, 0x5f, 0xff},
		{0xed, 0xc9, 0x48, 0xff}, {0xba, 0xb0, 0xac, 0xff},
	}
	alarmColor = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	inkColor   = color.RGBA{0x33, 0x33, 0x33, 0xff}
	gridColor  = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	sansFont   = font.Font{Typeface: "Liberation", Variant: "Sans"}
)

func versionColor(i int) color.RGBA { return palette[i%len(palette)] }

// chart is one time-series chart over the run: a gonum plot with its
// legend drawn beside it.
type chart struct {
	p      *plot.Plot
	legend plot.Legend
	xs     []float64   // Unix seconds; NaN marks a gap between windows
	marks  plotter.XYs // points of alarmed windows
	bands  [][2]float64
	// barsNamed: the legend already explains interval bars.
	barsNamed bool
}

// newChart starts a chart over [x0, x1] (Unix seconds); its title is the
// page's heading, not part of the SVG.
func newChart(ylabel string, xs []float64, x0, x1 float64) *chart {
	p := plot.New()
	p.Y.Label.Text = ylabel
	p.X.Min, p.X.Max = x0, x1
	p.X.Tick.Marker = timeTicks{}
	for _, s := range []*font.Font{&p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font} {
		*s = sansFont
	}
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size, p.Y.Label.TextStyle.Font.Size = 8, 8, 9
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.LineStyle.Color, ax.Tick.LineStyle.Color = gridColor, gridColor
		ax.Tick.Label.Color, ax.Label.TextStyle.Color = inkColor, inkColor
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = gridColor, gridColor
	grid.Vertical.Width, grid.Horizontal.Width = 0.5, 0.5
	p.Add(grid)
	legend := plot.NewLegend()
	legend.TextStyle.Font = sansFont
	legend.TextStyle.Font.Size, legend.TextStyle.Color = 8, inkColor
	legend.Top, legend.Left, legend.ThumbnailWidth, legend.Padding = true, true, 14, 3
	return &chart{p: p, legend: legend, xs: xs}
}

// series draws ys (NaN where there is no value) as a line broken at gaps,
// with a dot per point when there are few, and names it in the legend.
func (c *chart) series(name string, ys []float64, col color.Color, dashed bool) {
	style := vgdraw.LineStyle{Color: col, Width: 1.4}
	if dashed {
		style.Dashes = []vg.Length{4, 2}
	}
	dots := len(c.xs) < sparsePoints
	var seg plotter.XYs
	flush := func() {
		if len(seg) > 1 {
			if l, err := plotter.NewLine(seg); err == nil { // seg is finite: never fails
				l.LineStyle = style
				c.p.Add(l)
			}
		}
		if len(seg) == 1 || (dots && len(seg) > 0) {
			c.dots(seg, col, 1.8)
		}
		seg = nil
	}
	for i, x := range c.xs {
		if math.IsNaN(x) || math.IsNaN(ys[i]) {
			flush()
			continue
		}
		seg = append(seg, plotter.XY{X: x, Y: ys[i]})
	}
	flush()
	thumb, _ := plotter.NewLine(plotter.XYs{{}, {X: 1}})
	thumb.LineStyle = style
	c.legend.Add(name, thumb)
}

// dots draws a dot at each point.
func (c *chart) dots(pts plotter.XYs, col color.Color, radius vg.Length) {
	if len(pts) == 0 {
		return
	}
	s, _ := plotter.NewScatter(pts)
	s.GlyphStyle = vgdraw.GlyphStyle{Color: col, Radius: radius, Shape: vgdraw.CircleGlyph{}}
	c.p.Add(s)
}

// alarms rings the points of alarmed windows in red (drawn last, on top).
func (c *chart) alarms(pts plotter.XYs) { c.marks = append(c.marks, pts...) }

func (c *chart) drawAlarms() {
	if len(c.marks) == 0 {
		return
	}
	s, _ := plotter.NewScatter(c.marks)
	s.GlyphStyle = vgdraw.GlyphStyle{Color: alarmColor, Radius: 4.5, Shape: vgdraw.RingGlyph{}}
	c.p.Add(s)
	c.legend.Add("alarm", s)
}

// intervals draws each point's interval as a thin bar in a lighter col,
// under the series line.
func (c *chart) intervals(bars intervalBars, col color.RGBA) {
	if len(bars) == 0 {
		return
	}
	e, err := plotter.NewYErrorBars(bars)
	if err != nil {
		return // a NaN share: nothing sensible to draw
	}
	e.LineStyle = vgdraw.LineStyle{Color: color.NRGBA{col.R, col.G, col.B, 0x70}, Width: 1}
	e.CapWidth = 3
	if len(c.xs) >= sparsePoints {
		e.CapWidth = 0 // caps would touch
	}
	c.p.Add(e)
	if !c.barsNamed {
		thumb, _ := plotter.NewLine(plotter.XYs{{}, {X: 1}})
		thumb.LineStyle = vgdraw.LineStyle{Color: color.NRGBA{0x80, 0x80, 0x80, 0xa0}, Width: 1}
		c.legend.Add("interval", thumb)
		c.barsNamed = true
	}
}

// band shades [lo, hi] across the run, with a dashed line at mid; a band
// already drawn (v1 and v3 both at 50 ± 5) is not drawn again.
func (c *chart) band(name string, lo, mid, hi float64, col color.RGBA) {
	for _, b := range c.bands {
		if b == [2]float64{lo, hi} {
			return
		}
	}
	c.bands = append(c.bands, [2]float64{lo, hi})
	x0, x1 := c.p.X.Min, c.p.X.Max
	poly, _ := plotter.NewPolygon(plotter.XYs{{X: x0, Y: lo}, {X: x1, Y: lo}, {X: x1, Y: hi}, {X: x0, Y: hi}})
	poly.Color = color.NRGBA{col.R, col.G, col.B, 0x30}
	poly.LineStyle.Width = 0
	c.p.Add(poly)
	line, _ := plotter.NewLine(plotter.XYs{{X: x0, Y: mid}, {X: x1, Y: mid}})
	line.LineStyle = vgdraw.LineStyle{Color: color.NRGBA{col.R, col.G, col.B, 0xa0}, Width: 0.8, Dashes: []vg.Length{3, 2}}
	c.p.Add(line)
	c.legend.Add(name, poly)
}

// svg renders the chart as an inline <svg> element: no XML prolog, no
// namespace URLs (the HTML parser needs none), no fixed size, and fonts
// that fall back to the page's sans-serif when Liberation is absent.
func (c *chart) svg(label string) (string, error) {
	c.drawAlarms()
	canvas := vgsvg.New(chartWidth, chartHeight)
	dc := vgdraw.New(canvas)
	c.p.Draw(vgdraw.Crop(dc, 0, -legendWidth, 0, 0))
	c.legend.Draw(vgdraw.Crop(dc, chartWidth-legendWidth+8, 0, 0, -6))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", err
	}
	s := buf.String()
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", errors.New("gonum/plot wrote no <svg> element")
	}
	s = s[i:]
	s = svgHead.ReplaceAllString(s, `<svg viewBox="$1" role="img" aria-label="`+escapeAttr(label)+`">`)
	return fontFamily.ReplaceAllString(s, "font-family:'$1',Arial,Helvetica,sans-serif;"), nil
}

var (
	svgHead    = regexp.MustCompile(`(?s)^<svg [^>]*viewBox="([^"]*)"[^>]*>`)
	fontFamily = regexp.MustCompile(`font-family:([^;"']+);`)
	escapeAttr = strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;").Replace
)
