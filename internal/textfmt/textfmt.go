// Package textfmt prints the numbers, times and counts of canary's
// messages the way a person writes them, so the decision engine's
// sentences and the reports that show them agree to the character. It is
// a leaf: it imports only the standard library.
package textfmt

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Num prints a number the way a user would write it: 50, 33.3, 0.5.
func Num(x float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// Percent is part/whole in percent, 0 for an empty whole.
func Percent(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole) * 100
}

// Latency prints a latency with three significant digits: 850µs,
// 21.4ms, 812ms, 1.23s.
func Latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// Clock prints t in UTC as a time of day, with the date when dated.
func Clock(t time.Time, dated bool) string {
	if dated {
		return t.UTC().Format("01-02 15:04:05")
	}
	return t.UTC().Format("15:04:05")
}

// SpansDays reports whether [start, end) covers more than one UTC day.
func SpansDays(start, end time.Time) bool {
	s, e := start.UTC(), end.UTC().Add(-time.Nanosecond)
	return s.YearDay() != e.YearDay() || s.Year() != e.Year()
}

// Plural is word, with an s unless n is 1.
func Plural(n int, word string) string {
	if n == 1 {
		return word
	}
	if strings.HasSuffix(word, "y") && !strings.HasSuffix(word, "ay") && !strings.HasSuffix(word, "ey") {
		return word[:len(word)-1] + "ies"
	}
	return word + "s"
}

// NOf is "1 window", "2 windows".
func NOf(n int, noun string) string { return fmt.Sprintf("%d %s", n, Plural(n, noun)) }

// Interval rounds a percent interval outwards to one decimal, within
// [0, 100], so that a printed interval is never narrower than the real one
// and every place that prints it agrees (the verdict's sentence and the
// table).
func Interval(lo, hi float64) (float64, float64) {
	l := math.Floor(lo*10+1e-9) / 10
	h := math.Ceil(hi*10-1e-9) / 10
	return math.Max(l, 0), math.Min(h, 100)
}

// Span prints a duration rounded for people: milliseconds under a second
// (412ms), tenths of a second under a minute (19.9s, 4s), whole seconds
// beyond (1m0s, 8h0m3s). The JSON keeps the exact value; text never needs
// nanoseconds of a run's length.
func Span(d time.Duration) string {
	switch {
	case d < time.Second && d > -time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute && d > -time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
