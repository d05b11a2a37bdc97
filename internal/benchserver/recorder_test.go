package main

import (
	"math"
	"testing"
	"time"
)

func TestRecorderStats(t *testing.T) {
	t.Parallel()
	base := time.Now()
	tests := []struct {
		name       string
		arrivals   func(add func(time.Duration))
		rate       float64
		worst1s    float64
		worst10ms  int32
		avgRateErr float64
	}{
		{"even 1000/s for 2s", func(add func(time.Duration)) {
			for i := range 2000 {
				add(time.Duration(i) * time.Millisecond)
			}
		}, 1000, 0, 10, 0},
		{"burst of 50 at the start of each 100ms", func(add func(time.Duration)) {
			for i := range 20 {
				for range 50 {
					add(time.Duration(i) * 100 * time.Millisecond)
				}
			}
		}, 500, 0, 50, 999.0/1.9/500 - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(base)
			tc.arrivals(func(d time.Duration) { r.arrive(base.Add(time.Second + d)) })
			s := r.stats(tc.rate, 2*time.Second)
			if math.Abs(s.Worst1sDev-tc.worst1s) > 1e-9 || s.Worst10ms != tc.worst10ms || math.Abs(s.RateErr-tc.avgRateErr) > 1e-3 {
				t.Errorf("stats = %+v; want worst 1s dev %v, worst 10ms %d, rate err %v", s, tc.worst1s, tc.worst10ms, tc.avgRateErr)
			}
		})
	}
}
