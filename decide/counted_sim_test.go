package decide

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The simulation behind the passive gate's figures (canary verify
// --passive): the same truths as TestSimulation, but the evidence comes as
// a scrape's counts, Poisson requests per scrape, and the verdict is
// checked once per scrape for up to an hour. Scrape intervals and rates
// are the walkthrough's: 1 s scrapes of 20 requests/s, and Istio's
// default 15 s scrapes of 5 requests/s.
//
//	go test ./decide -run TestCountedSimulation -sim.full           # 20,000 runs per row, compared with testdata/counted_simulation.golden
//	go test ./decide -run TestCountedSimulation -sim.full -update   # rewrite it; then copy it into doc.go and README.md
const countedGolden = "testdata/counted_simulation.golden"

// countedRow is one truth watched at one scrape cadence.
type countedRow struct {
	simRow
	rate   float64       // requests per second
	scrape time.Duration // between looks
}

const countedHour = time.Hour

var countedRows = []countedRow{
	{simRow{truth: "50/50", expect: "v1=50,v3=50", tol: 5, shares: []float64{.5, .5, 0}, bounds: []Verdict{Fail}, speed: Pass, goal: 880}, 20, time.Second},
	{simRow{truth: "55/45 (edge)", expect: "v1=50,v3=50", tol: 5, shares: []float64{.55, .45, 0}, bounds: []Verdict{Pass, Fail}}, 20, time.Second},
	{simRow{truth: "45/55 (edge)", expect: "v1=50,v3=50", tol: 5, shares: []float64{.45, .55, 0}, bounds: []Verdict{Pass, Fail}}, 20, time.Second},
	{simRow{truth: "60/40", expect: "v1=50,v3=50", tol: 5, shares: []float64{.6, .4, 0}, bounds: []Verdict{Pass}, speed: Fail, goal: 900}, 20, time.Second},
	{simRow{truth: "50/50", expect: "v1=50,v3=50", tol: 5, shares: []float64{.5, .5, 0}, bounds: []Verdict{Fail}, speed: Pass}, 5, 15 * time.Second},
	{simRow{truth: "55/45 (edge)", expect: "v1=50,v3=50", tol: 5, shares: []float64{.55, .45, 0}, bounds: []Verdict{Pass, Fail}}, 5, 15 * time.Second},
	{simRow{truth: "90/10", expect: "v1=90,v2=10", tol: 2, shares: []float64{.9, .1, 0}, bounds: []Verdict{Fail}, speed: Pass}, 20, time.Second},
	{simRow{truth: "88/12 (edge)", expect: "v1=90,v2=10", tol: 2, shares: []float64{.88, .12, 0}, bounds: []Verdict{Pass, Fail}}, 20, time.Second},
}

// maxRequests is a limit the hour never reaches, so every run is watched
// for the whole hour unless it decides.
func (row countedRow) maxRequests() int {
	return int(row.rate*countedHour.Seconds()*1.2) + 100
}

func simulateCounted(t testing.TB, row countedRow, runs int) simResult {
	c := DefaultCriteria(mustExpect(t, row.expect))
	c.Tolerance, c.MaxRequests = row.tol, row.maxRequests()
	s, err := NewCounted(c)
	if err != nil {
		t.Fatal(err)
	}
	names := append(c.Expect.Versions(), "stray")
	h := fnv.New64a()
	h.Write([]byte(fmt.Sprint(row.truth, row.expect, row.rate, row.scrape)))
	rng := rand.New(rand.NewPCG(20261207, h.Sum64()))
	mean := row.rate * row.scrape.Seconds()
	looks := int(countedHour / row.scrape)
	batch := make(map[string]Counts, len(names))
	run := func() (Verdict, int) {
		s.Reset()
		for range looks {
			clear(batch)
			n := poisson(rng, mean)
			for i, name := range names {
				k := n
				if i < len(names)-1 {
					// The rest of the multinomial: version i's share of
					// what the versions before it left.
					left := 1.0
					for _, p := range row.shares[:i] {
						left -= p
					}
					k = binomial(rng, n, math.Min(1, row.shares[i]/math.Max(left, 1e-12)))
				}
				if k > 0 {
					batch[name] = Counts{Requests: float64(k)}
				}
				n -= k
			}
			s.AddCounts(batch)
			if v := s.Verdict(); v != Pending {
				return v, s.pages
			}
		}
		return Inconclusive, s.pages
	}
	r := simResult{row: row.simRow, maxRequests: c.MaxRequests, rates: map[Verdict]float64{}, limits: map[Verdict]float64{}}
	r.tally = playRuns(runs, c.MaxRequests, row.speed, run)
	r.rate()
	return r
}

// poisson draws a Poisson count by Knuth's product of uniforms, in parts
// of mean at most 20 (a sum of Poisson counts is Poisson).
func poisson(rng *rand.Rand, mean float64) int {
	n := 0
	for mean > 0 {
		m := math.Min(mean, 20)
		mean -= m
		limit, p := math.Exp(-m), rng.Float64()
		for p > limit {
			n++
			p *= rng.Float64()
		}
	}
	return n
}

// binomial draws a Binomial(n, p) count, one request at a time: batches
// here are small, and exactness matters more than speed.
func binomial(rng *rand.Rand, n int, p float64) int {
	k := 0
	for range n {
		if rng.Float64() < p {
			k++
		}
	}
	return k
}

// TestCountedSimulation holds the counted decision (one look per scrape)
// to the same guarantees as the page-by-page one, for an hour of looks.
func TestCountedSimulation(t *testing.T) {
	t.Parallel()
	runs := countedRunsPerRow()
	res := simulateRows(countedRows, func(row countedRow) simResult { return simulateCounted(t, row, runs) })
	for i, r := range res {
		row := countedRows[i]
		r.check(t, fmt.Sprintf("%s against %s, %g/s scraped every %s", r.row.truth, r.row.expect, row.rate, row.scrape), "requests")
	}
	checkSimGolden(t, countedGolden, countedTable(res))
}

// countedTable is the Markdown table the docs copy.
func countedTable(res []simResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| truth | expect | traffic | PASS | FAIL | requests to the verdict: median (p90) | bound checked |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|\n")
	for i, r := range res {
		row := countedRows[i]
		speed := "-"
		if r.row.speed != Pending {
			speed = fmt.Sprintf("%s %s (%s)", r.row.speed, pagesOrMore(r.median, r.maxRequests), pagesOrMore(r.p90, r.maxRequests))
		}
		var bounds []string
		for _, v := range r.row.bounds {
			bounds = append(bounds, fmt.Sprintf("false %s ≤ %.4g", v, r.row.bound()))
		}
		fmt.Fprintf(&b, "| %s | %s ±%g | %g/s, scraped every %s | %.4f | %.4f | %s | %s |\n", r.row.truth, r.row.expect, r.row.tol, row.rate, row.scrape,
			float64(r.pass)/float64(r.runs), float64(r.fail)/float64(r.runs), speed, strings.Join(bounds, ", "))
	}
	fmt.Fprintf(&b, "\n%d seeded runs per row, 95%% confidence, Poisson requests per scrape, the verdict checked at every scrape for an hour (runs that never decide count as the hour's requests); each rate is held to its bound plus Monte Carlo slack 3·sqrt(p(1−p)/runs).\n", res[0].runs)
	return b.String()
}

// countedRunsPerRow: an hour of looks per undecided run is the cost, so
// the default run is smaller than TestSimulation's.
func countedRunsPerRow() int {
	switch {
	case *simFull:
		return 20_000
	case testing.Short():
		return 200
	}
	return 1000
}
