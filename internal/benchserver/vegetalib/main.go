// Command vegetalib is the in-process baseline for the attack benchmark:
// the vegeta library at maximum rate with bodies captured, each result
// classified with classify.Page in the loop that ranges over the results,
// which is how the library is meant to be used.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/canary-gate/canary/classify"
)

func main() {
	target := flag.String("target", "http://127.0.0.1:18080/productpage", "`URL` to attack")
	workers := flag.Uint64("workers", 50, "concurrent workers")
	duration := flag.Duration("duration", 10*time.Second, "how long to attack")
	flag.Parse()

	atk := vegeta.NewAttacker(
		vegeta.Workers(*workers), vegeta.MaxWorkers(*workers),
		vegeta.MaxBody(-1), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second),
	)
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: *target})
	counts := map[string]uint64{}
	var n uint64
	start := time.Now()
	for r := range atk.Attack(tr, vegeta.ConstantPacer{}, *duration, "bench") {
		n++
		if r.Code == 0 {
			counts[classify.TransportError.String()]++
			continue
		}
		counts[classify.Page(int(r.Code), r.Headers, r.Body).Outcome.String()]++
	}
	secs := time.Since(start).Seconds()
	out := map[string]any{"requests": n, "seconds": secs, "rps": float64(n) / secs, "outcomes": counts}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "vegetalib:", err)
		os.Exit(1)
	}
}
