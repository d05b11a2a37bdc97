package decide_test

import (
	"fmt"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/results"
)

// A soak loop: records go into one-minute windows; each closed window is
// judged; the run's verdict comes from all of them.
func ExampleJudge() {
	agg, _ := results.NewAggregator(time.Minute, 10*time.Second)
	start := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for i := range 1200 { // two minutes at 10 requests/s
		r := results.Record{At: start.Add(time.Duration(i) * 100 * time.Millisecond),
			Version: "v1", Latency: 40 * time.Millisecond, Status: 200, Outcome: classify.OK}
		if i%2 == 1 || (i >= 600 && i%4 == 0) { // half, then 3 in 4 in the second minute
			r.Version = "v3"
		}
		agg.Add(&r)
	}
	e, _ := decide.ParseExpect("v1=50,v3=50")
	c := decide.WindowCriteria{Expect: e, Tolerance: 5, MaxErrorRate: 0.01, Confidence: 0.95, Windows: 2}
	windows := agg.Close()
	var alarms []decide.Alarm
	for _, w := range windows {
		alarms = append(alarms, decide.Judge(w, c)...)
	}
	for _, a := range alarms {
		fmt.Printf("%s %s %s: %s\n", a.Start.Format("15:04"), a.Kind, a.Version, a.Message)
	}
	verdict, reason := decide.SoakVerdict(windows, alarms)
	fmt.Println(verdict, reason)
	// Output:
	// 08:01 split v1: v1 share 25.0% of 600, interval [19.3%, 31.4%] at 95% over 2 windows, expected 50% ± 5
	// FAIL 1 of 2 windows alarmed: 08:01:00 (split v1)
}
