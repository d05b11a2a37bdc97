package decide

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canary-gate/canary/internal/textfmt"
)

// The simulation behind every error rate and speed figure in the docs.
//
//	go test ./decide -run TestSimulation -sim.full           # 20,000 runs per row, compared with testdata/simulation.golden
//	go test ./decide -run TestSimulation -sim.full -update   # rewrite it; then copy it into doc.go and README.md
//
// Without -sim.full the same seeded rows run 2,000 times (400 with
// -short): enough to fail when a guarantee breaks, and fast under -race.
var (
	simFull = flag.Bool("sim.full", false, "run TestSimulation with 20,000 runs per row and compare with testdata/simulation.golden")
	update  = flag.Bool("update", false, "with -sim.full, rewrite testdata/simulation.golden")
)

const simGolden = "testdata/simulation.golden"

// simRow is one truth fed to one expectation, checking the verdict after
// every page up to the default 5000.
type simRow struct {
	truth  string    // per listed version, then strays, as the table shows it
	expect string    // the expectation
	tol    float64   // tolerance, points
	shares []float64 // the truth: per listed version, then an unlisted one
	// bounds are the verdicts whose rate the guarantees cap: a false PASS
	// when some share is outside or on the edge of its band (or strays are
	// δ or more), a false FAIL when every share is inside or on the edge.
	bounds []Verdict
	limit  float64 // the cap, when not α (exact strays bound)
	// speed is the verdict whose median pages the row reports, and goal
	// the most that median may be (0: reported only).
	speed Verdict
	goal  int
}

var simRows = []simRow{
	{truth: "50/50", expect: "v1=50,v3=50", tol: 5, shares: []float64{.5, .5, 0}, bounds: []Verdict{Fail}, speed: Pass, goal: 800},
	{truth: "55/45 (edge)", expect: "v1=50,v3=50", tol: 5, shares: []float64{.55, .45, 0}, bounds: []Verdict{Pass, Fail}},
	{truth: "45/55 (edge)", expect: "v1=50,v3=50", tol: 5, shares: []float64{.45, .55, 0}, bounds: []Verdict{Pass, Fail}},
	{truth: "56/44", expect: "v1=50,v3=50", tol: 5, shares: []float64{.56, .44, 0}, bounds: []Verdict{Pass}},
	{truth: "52.5/47.5", expect: "v1=50,v3=50", tol: 5, shares: []float64{.525, .475, 0}, bounds: []Verdict{Fail}, speed: Pass},
	{truth: "60/40", expect: "v1=50,v3=50", tol: 5, shares: []float64{.6, .4, 0}, bounds: []Verdict{Pass}, speed: Fail, goal: 900},
	{truth: "70/30", expect: "v1=50,v3=50", tol: 5, shares: []float64{.7, .3, 0}, bounds: []Verdict{Pass}, speed: Fail, goal: 140},
	{truth: "90/10", expect: "v1=90,v2=10", tol: 2, shares: []float64{.9, .1, 0}, bounds: []Verdict{Fail}, speed: Pass},
	{truth: "88/12 (edge)", expect: "v1=90,v2=10", tol: 2, shares: []float64{.88, .12, 0}, bounds: []Verdict{Pass, Fail}},
	{truth: "34/33/33", expect: "v1=34,v2=33,v3=33", tol: 5, shares: []float64{.34, .33, .33, 0}, bounds: []Verdict{Fail}, speed: Pass},
	{truth: "39/28/33 (edge)", expect: "v1=34,v2=33,v3=33", tol: 5, shares: []float64{.39, .28, .33, 0}, bounds: []Verdict{Pass, Fail}},
	{truth: "95 + 5% strays", expect: "v1=100", tol: 5, shares: []float64{.95, .05}, bounds: []Verdict{Pass}, limit: math.Pow(0.95, 59)},
}

// bound is the cap on the row's bounded rates: its own limit, else α at
// the default confidence every row runs at.
func (row simRow) bound() float64 {
	if row.limit > 0 {
		return row.limit
	}
	return 1 - DefaultConfidence
}

func simRunsPerRow() int {
	switch {
	case *simFull:
		return 20_000
	case testing.Short():
		return 400
	}
	return 2000
}

// simResult is what runs of one row showed.
type simResult struct {
	row simRow
	tally
	maxRequests int
	rates       map[Verdict]float64
	limits      map[Verdict]float64
}

func simulateRow(t testing.TB, row simRow, runs int) simResult {
	c := DefaultCriteria(mustExpect(t, row.expect))
	c.Tolerance = row.tol
	s := mustSequential(t, c)
	names := append(c.Expect.Versions(), "stray")
	h := fnv.New64a()
	h.Write([]byte(row.truth + row.expect))
	rng := rand.New(rand.NewPCG(20261206, h.Sum64()))
	r := simResult{row: row, maxRequests: c.MaxRequests, rates: map[Verdict]float64{}, limits: map[Verdict]float64{}}
	sim := simulation{s: s, names: names, rng: rng}
	r.tally = playRuns(runs, c.MaxRequests, row.speed, func() (Verdict, int) { return sim.run(row.shares) })
	r.rate()
	return r
}

// rate sets the row's bounded rates and their limits: the bound plus
// Monte Carlo slack of three standard errors.
func (r *simResult) rate() {
	for _, b := range r.row.bounds {
		limit := r.row.bound()
		hits := r.pass
		if b == Fail {
			hits = r.fail
		}
		r.rates[b] = float64(hits) / float64(r.runs)
		r.limits[b] = limit + 3*math.Sqrt(limit*(1-limit)/float64(r.runs))
	}
}

// simulateRows runs every row in a goroutine of its own.
func simulateRows[R any](rows []R, run func(R) simResult) []simResult {
	res := make([]simResult, len(rows))
	done := make(chan int)
	for i, row := range rows {
		go func() {
			res[i] = run(row)
			done <- i
		}()
	}
	for range rows {
		<-done
	}
	return res
}

// tally is what runs of one row showed: verdicts, and the median and 90th
// percentile of pages to the row's speed verdict (runs without it count
// as the page limit).
type tally struct {
	runs, pass, fail int
	median, p90      int
}

// playRuns plays run runs times.
func playRuns(runs, limit int, speed Verdict, run func() (Verdict, int)) tally {
	r := tally{runs: runs}
	pages := make([]int, 0, runs)
	for range runs {
		v, n := run()
		switch v {
		case Pass:
			r.pass++
		case Fail:
			r.fail++
		}
		if v != speed {
			n = limit
		}
		pages = append(pages, n)
	}
	slices.Sort(pages)
	r.median, r.p90 = pages[runs/2], pages[runs*9/10]
	return r
}

// TestSimulation holds the decision rule to its guarantees under
// continuous monitoring (the verdict checked after every page) and
// measures its speed: see simRows.
func TestSimulation(t *testing.T) {
	t.Parallel()
	runs := simRunsPerRow()
	res := simulateRows(simRows, func(row simRow) simResult { return simulateRow(t, row, runs) })
	for _, r := range res {
		r.check(t, r.row.truth+" against "+r.row.expect, "pages")
	}
	checkSimGolden(t, simGolden, simTable(res))
}

// check holds a row's bounded rates to their limits and its median to
// its goal, naming the row as label and what the median counts as unit.
func (r simResult) check(t *testing.T, label, unit string) {
	t.Helper()
	for _, b := range r.row.bounds {
		if r.rates[b] > r.limits[b] {
			t.Errorf("%s: %s rate %.4f over %d runs; want ≤ %.4f", label, b, r.rates[b], r.runs, r.limits[b])
		}
	}
	// Goals are for the full run; the smaller default run gets 5% of
	// Monte Carlo slack, as its medians wander by about that much.
	goal := r.row.goal
	if !*simFull {
		goal += goal / 20
	}
	if r.row.goal > 0 && !testing.Short() && r.median > goal {
		t.Errorf("%s: median %s to %s = %d; want ≤ %d", label, unit, r.row.speed, r.median, goal)
	}
}

// checkSimGolden logs a simulation's table and, in a full run, compares it
// with its golden file (rewriting it with -update).
func checkSimGolden(t *testing.T, golden, table string) {
	t.Logf("\n%s", table)
	if !*simFull {
		return
	}
	if *update {
		if err := os.WriteFile(golden, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -sim.full -update to write it)", err)
	}
	if string(want) != table {
		t.Errorf("simulation table differs from %s (rerun with -update if the rule changed on purpose):\n%s", golden, table)
	}
}

// simTable is the Markdown table the docs copy.
func simTable(res []simResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| truth | expect | PASS | FAIL | pages to the verdict: median (p90) | bound checked |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|\n")
	for _, r := range res {
		speed := "-"
		if r.row.speed != Pending {
			speed = fmt.Sprintf("%s %s (%s)", r.row.speed, pagesOrMore(r.median, r.maxRequests), pagesOrMore(r.p90, r.maxRequests))
		}
		var bounds []string
		for _, v := range r.row.bounds {
			bounds = append(bounds, fmt.Sprintf("false %s ≤ %.4g", v, r.row.bound()))
		}
		fmt.Fprintf(&b, "| %s | %s ±%s | %.4f | %.4f | %s | %s |\n", r.row.truth, r.row.expect, textfmt.Num(r.row.tol),
			float64(r.pass)/float64(r.runs), float64(r.fail)/float64(r.runs), speed, strings.Join(bounds, ", "))
	}
	fmt.Fprintf(&b, "\n%d seeded runs per row, 95%% confidence, the verdict checked after every page, at most %d pages; each rate is held to its bound plus Monte Carlo slack 3·sqrt(p(1−p)/runs).\n", res[0].runs, res[0].maxRequests)
	return b.String()
}

// pagesOrMore prints a page count, "≥ limit" for runs that never decided.
func pagesOrMore(n, limit int) string {
	if n >= limit {
		return fmt.Sprintf("≥ %d", limit)
	}
	return fmt.Sprint(n)
}

// TestSimulationTableInDocs checks that the package doc and the README
// show the simulation's table as TestSimulation -sim.full wrote it.
func TestSimulationTableInDocs(t *testing.T) {
	t.Parallel()
	docs := map[string]func(string) string{
		"doc.go":                         func(line string) string { return strings.TrimRight("//\t"+line, "\t") },
		filepath.Join("..", "README.md"): func(line string) string { return line },
	}
	for _, golden := range []string{simGolden, healthGolden, countedGolden} {
		table, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		for file, quote := range docs {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimSuffix(string(table), "\n"), "\n") {
				want = append(want, quote(line))
			}
			if !strings.Contains(string(src), strings.Join(want, "\n")) {
				t.Errorf("%s does not show %s as written (copy it in):\n%s", file, golden, strings.Join(want, "\n"))
			}
		}
	}
}

func mustSequential(t testing.TB, c Criteria) *Sequential {
	t.Helper()
	s, err := NewSequential(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
