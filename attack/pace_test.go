package attack

import (
	"testing"
	"time"
)

// TestSmoother drives the smoother with a simulated clock: a pacer that
// wakes every wake, with one stall, and sends every due tick it allows.
// No 10 ms window may hold more than maxRatio × its share, and the backlog
// must be gone by the end.
func TestSmoother(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rate     float64
		wake     time.Duration
		stall    time.Duration
		maxRatio float64
	}{
		{"20k/s, 1ms wake-ups, 20ms stall", 20000, time.Millisecond, 20 * time.Millisecond, 1.5},
		{"5k/s, 1ms wake-ups, 30ms stall", 5000, time.Millisecond, 30 * time.Millisecond, 1.5},
		{"5k/s, 3ms wake-ups, no stall", 5000, 3 * time.Millisecond, 0, 1.5},
		{"5k/s, 4ms wake-ups, 10ms stall", 5000, 4 * time.Millisecond, 10 * time.Millisecond, 1.5},
		{"1k/s, 1ms wake-ups, 300ms stall: gives up", 1000, time.Millisecond, 300 * time.Millisecond, 25},
		{"100/s, 4ms wake-ups, no stall", 100, 4 * time.Millisecond, 0, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sent := simulate(tc.rate, tc.wake, tc.stall)
			if want, late := int(tc.rate), sent[len(sent)-1]; len(sent) != want || late > time.Second+tc.wake {
				t.Errorf("sent %d, the last at %v; want %d by 1s (backlog caught up)", len(sent), late, want)
			}
			perWindow := make(map[time.Duration]int)
			for _, s := range sent {
				perWindow[s/(10*time.Millisecond)]++
			}
			for w, n := range perWindow {
				if r := float64(n) / (tc.rate / 100); r > tc.maxRatio {
					t.Errorf("10 ms window %d holds %d ticks = %.2f× its share; want <= %.1f×", w, n, r, tc.maxRatio)
				}
			}
		})
	}
}

// simulate returns the send times of one second of ticks at rate, for a
// pacer that wakes every wake and misses the wake-ups in [100ms, 100ms+stall),
// running on for up to another second to send a backlog.
func simulate(rate float64, wake, stall time.Duration) []time.Duration {
	interval := time.Duration(float64(time.Second) / rate)
	s := newSmoother(interval)
	var sent []time.Duration
	for now := time.Duration(0); now < 2*time.Second; now += wake {
		if now >= 100*time.Millisecond && now < 100*time.Millisecond+stall {
			continue
		}
		for {
			due := time.Duration(len(sent)) * interval
			if due >= time.Second || due > now || now-due < smoothMax && s.wait(now) > 0 {
				break
			}
			sent = append(sent, now)
		}
	}
	return sent
}
