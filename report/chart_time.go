package report

import (
	"math"
	"time"

	"gonum.org/v1/plot"
)

// tickSteps are the steps a time axis may use, smallest first.
var tickSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	2 * 24 * time.Hour, 7 * 24 * time.Hour,
}

// timeTicks labels an axis of Unix seconds in UTC at round steps (every
// 10 minutes, every hour…), at most 8 labels, with the date on the first
// label of each day when the axis spans more than one.
type timeTicks struct{}

// Ticks implements plot.Ticker.
func (timeTicks) Ticks(lo, hi float64) []plot.Tick {
	span := time.Duration((hi - lo) * float64(time.Second))
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 7 {
			step = s
			break
		}
	}
	first := math.Ceil(lo/step.Seconds()) * step.Seconds()
	multiDay := time.Unix(int64(lo), 0).UTC().YearDay() != time.Unix(int64(hi), 0).UTC().YearDay()
	var ticks []plot.Tick
	lastDay := -1
	for x := first; x <= hi; x += step.Seconds() {
		t := time.Unix(int64(x), 0).UTC()
		layout := "15:04"
		switch {
		case step < time.Minute:
			layout = "15:04:05"
		case step >= 24*time.Hour:
			layout = "Jan 2"
		case multiDay && t.YearDay() != lastDay:
			layout = "Jan 2 15:04"
		}
		lastDay = t.YearDay()
		ticks = append(ticks, plot.Tick{Value: x, Label: t.Format(layout)})
	}
	return ticks
}
