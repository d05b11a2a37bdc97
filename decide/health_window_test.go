package decide

import (
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

// TestHealthAlarms: a window whose canary is 5 ms slower raises a health
// alarm naming its latency; a window of the same versions alike does not.
func TestHealthAlarms(t *testing.T) {
	t.Parallel()
	wc := WindowCriteria{Expect: mustExpect(t, "v1=50,v3=50"), Tolerance: 5, Confidence: 0.95, MaxErrorRate: 0.01,
		Health: DefaultHealth("v1"), Windows: 5}
	if err := wc.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		slower time.Duration
		alarm  bool
	}{{0, false}, {5 * time.Millisecond, true}} {
		agg, err := results.NewAggregator(time.Minute, 0)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		for i := range 200 {
			r := results.Record{At: start.Add(time.Duration(i) * 10 * time.Millisecond), Status: 200, Outcome: classify.OK,
				Version: "v1", Latency: time.Millisecond + time.Duration(i*37%400)*time.Microsecond}
			if i%2 == 1 {
				r.Version, r.Latency = "v3", 1150*time.Microsecond+tt.slower+time.Duration(i*53%500)*time.Microsecond
			}
			agg.Add(&r)
		}
		ws := agg.Close()
		if len(ws) != 1 {
			t.Fatalf("%d windows; want 1", len(ws))
		}
		var health []Alarm
		for _, a := range Judge(ws[0], wc) {
			if a.Kind == AlarmHealth {
				health = append(health, a)
			}
		}
		if got := len(health) > 0; got != tt.alarm || tt.alarm && !strings.Contains(health[0].Message, "v3's latency p50 is past v1's") {
			t.Errorf("v3 %s slower: health alarms %+v; want alarm %v", tt.slower, health, tt.alarm)
		}
	}
}
