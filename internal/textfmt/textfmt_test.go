package textfmt

import (
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 25, 8, 4, 5, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{Num(50), "50"},
		{Num(33.3), "33.3"},
		{Num(0.5), "0.5"},
		{Latency(850 * time.Microsecond), "850µs"},
		{Latency(21400 * time.Microsecond), "21.4ms"},
		{Latency(812 * time.Millisecond), "812ms"},
		{Latency(1230 * time.Millisecond), "1.23s"},
		{Span(19981231028 * time.Nanosecond), "20s"},
		{Span(3995976465 * time.Nanosecond), "4s"},
		{Span(3912 * time.Millisecond), "3.9s"},
		{Span(412345 * time.Microsecond), "412ms"},
		{Span(time.Hour + 2*time.Second + 600*time.Millisecond), "1h0m3s"},
		{Clock(day, false), "08:04:05"},
		{Clock(day, true), "11-25 08:04:05"},
		{NOf(1, "window"), "1 window"},
		{NOf(2, "window"), "2 windows"},
		{NOf(0, "request"), "0 requests"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q; want %q", tc.got, tc.want)
		}
	}
	if got := Percent(1, 4); got != 25 {
		t.Errorf("Percent(1, 4) = %v; want 25", got)
	}
	if got := Percent(1, 0); got != 0 {
		t.Errorf("Percent(1, 0) = %v; want 0", got)
	}
	midnight := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	if SpansDays(day, midnight) {
		t.Error("SpansDays: a run ending at midnight spans one day")
	}
	if !SpansDays(day, midnight.Add(time.Nanosecond)) {
		t.Error("SpansDays: a run past midnight spans two days")
	}
}
