// Package decide is the statistical decision engine of canary verify,
// canary plan and canary soak: from pages tagged with the version that
// served them, or from time windows of them (results.Window), it decides
// whether the observed traffic split matches the expected one. It does no
// I/O and renders nothing; package report shows its numbers.
//
// # Verdicts
//
// A Sequential looks at the evidence after every page and stops at the
// first verdict:
//
//   - FAIL if a page comes from a version expected at 0% (a stray: Envoy
//     never routes to a zero weight, so one is proof), if some version's
//     interval lies entirely outside expected ± tolerance, or if some error
//     bucket's interval lies entirely above the error budget;
//   - PASS if, for every version, a one-sided test has shown its share
//     above expected − tolerance and another has shown it below expected +
//     tolerance, and enough clean pages show that strays, if any, are
//     rarer than the tolerance;
//   - INCONCLUSIVE at MaxRequests pages, with an estimate of how many more
//     pages would likely decide;
//   - PENDING until then.
//
// Every verdict comes with a Decision: counts, shares, intervals, the PASS
// tests with their likelihood ratios and the page each was shown at,
// statuses and a Reason sentence. Pages seen while the new weights settle
// are not evidence; Settle states the rule and says when evidence starts.
//
// # Method
//
// PASS and FAIL are different claims, and each is tested for what it is.
// Every test below is a likelihood ratio of a share p against an edge p₀,
//
//	Λ_n = Σ_j w_j (q_j/p₀)^S ((1−q_j)/(1−p₀))^F   (S pages from the version, F from others),
//
// with every alternative q_j on the far side of p₀ from the null it tests
// ("p ≤ p₀" or "p ≥ p₀"). For any true share on the null's side, each term
// is a nonnegative supermartingale (one page multiplies it by 1 +
// (p−p₀)(q−p₀)/(p₀(1−p₀)) on average, at most 1), so by Ville's inequality
// Λ ever reaches 1/β with probability at most β, however often it is
// looked at and whenever the run stops. No sample size is fixed in
// advance.
//
// PASS claims that every share is inside its band: the intersection of
// the one-sided claims "p > e − δ" and "p < e + δ" for every version (and
// "strays are rarer than δ"). By the intersection-union principle (Berger
// and Hsu, Statistical Science 1996; TOST is the classic case) each part
// may be tested at the full α = 1 − Confidence, with no correction over
// sides or versions: whatever the truth outside the bands, at least one
// part's null holds, its ratio reaches 1/α with probability at most α, and
// PASS needs it to. A part is shown at the first page its ratio reaches
// 1/α and stays shown, since Ville's bound covers every page at once; PASS
// comes at the first page by which every part has been shown. The PASS
// alternatives sit at the expected share e (weight 0.8), where a correctly
// routed split is, and halfway from e to the edge (0.2), which keeps a
// split a little off centre passing.
//
// FAIL claims that some share is outside its band: a union, so its parts
// share α: 90% of α goes to the split, Bonferroni over two sides per
// version (two versions have one share between them, so two parts), and
// 10% to the error budget. Each FAIL part tests the band edge against
// alternatives beyond it at ½, 1, 2 and 4 tolerances (equal weights), so
// a split just off and one far off are both caught soon. The same ratios
// taken against every p₀ instead of the edge give each version's interval
// (Decision's Low and High): the edges no FAIL part rejects. It covers the
// truth at every page at once with probability at least 1 − 0.9α,
// simultaneously over versions, and FAIL is exactly "an interval lies
// outside its band". A PASS interval may still reach past the band: PASS
// is decided by its one-sided tests, each at α, as TOST is by a 1 − 2α
// interval; reports show both and say which decided.
//
// So a false PASS (some share outside its band, or on its edge) has
// probability at most α, and a false FAIL (every share inside or on the
// edge, error rates within budget) at most 0.9α + 0.1α = α (with health
// checks, 0.6α + 0.1α + 0.3α; see Health).
//
// Exact versions: a version expected at 0% fails on its first page. A
// version expected at 100% has no split; PASS needs W = min{n : (1 − δ)^n
// < α} clean pages (59 at 5 points and 95%), so a stray share of δ or
// more passes with probability below α. The error budget: each version
// expected above 0%, and the pages without a version (out of all pages),
// has a beta-mixture confidence sequence for its error rate with a prior
// centred near 3× the budget, at 0.1α split evenly over them. A PASS does
// not wait for the error rates to be shown below the budget, but it does
// wait while one's observed rate is above it: the check then keeps
// collecting until it fails the run, or the run ends INCONCLUSIVE saying
// so. Waiting only removes PASSes, so neither guarantee changes.
//
// # Health
//
// With Criteria.Health set, every other version expected above 0% (a
// canary) is also judged against a baseline version. Each check is a
// one-sided test of a margin with a relative and an absolute part, and a
// regression must exceed both; it can only FAIL:
//
//   - errors: the null "r_c ≤ max(ratio·r_b, r_b + diff)" over the two
//     unknown rates is composite, so its e-value is a universal-inference
//     ratio (Wasserman, Ramdas and Balakrishnan, PNAS 2020): the product of
//     the two versions' beta-mixture marginal likelihoods over the largest
//     likelihood of any null pair. For each null pair, the marginals over
//     that pair's likelihood form a nonnegative martingale with mean 1, and
//     the supremum only lowers it, so Ville's inequality holds for every
//     pair in the null at once. Conditioning on the page counts makes a
//     baseline with no errors usable: the null then lets the canary have
//     diff and the baseline whatever its clean pages still allow.
//   - latency, per quantile p: the null "the canary's p-quantile is at
//     most lim(the baseline's)" holds exactly when some split point x has
//     P(baseline < x) ≤ p and P(canary > lim(x)) ≤ 1 − p, x = the baseline's
//     quantile being one. At a fixed x each is a Bernoulli rate whatever the
//     distribution (the order-statistic argument of Howard and Ramdas'
//     quantile confidence sequences, Bernoulli 2022, that Netflix's KDD'22
//     tests build on), tested by a one-sided likelihood ratio; the streams
//     are independent, so the product of the two ratios is a test
//     supermartingale at that x. The check fails when the product reaches
//     1/β at every split point, hence at the true quantile. Each ratio is
//     mixed half with 1, so split points where one side alone is decisive
//     need no look. Values are counted in results' 0.8%-wide histogram
//     buckets; a split point's counts are taken at the bucket edges that
//     weaken both sides.
//
// PASS waits while a check lacks data or its observed values are past the
// margin (for a tail quantile, once 10 values lie beyond it on each side):
// waiting only removes PASSes. The checks take 0.3α from the split's FAIL
// parts (which keep 0.6α; the budget keeps 0.1α), split equally over
// canaries, then half to errors and half over the quantiles, so a false
// FAIL of a canary inside its margins, with the split as expected, has
// probability at most α in all. CountHealth runs the same checks once on a
// server window: Istio's counts and its latency buckets, whose edges bound
// what a quantile can show.
//
// TestHealthSimulation measures them the same way (go test ./decide -run
// TestHealthSimulation -args -sim.full writes testdata/health_simulation.golden,
// which this doc and the README show as written):
//
//	| canary against baseline v1 (v1=50,v3=50 ±5) | PASS | FAIL | pages to the verdict (all versions): median (p90) | bound checked |
//	|---|---|---|---|---|
//	| same as baseline | 0.9992 | 0.0006 | PASS 813 (1570) | false FAIL ≤ 0.05 |
//	| same, 0.5% errors each | 0.9860 | 0.0004 | PASS 977 (2193) | false FAIL ≤ 0.05 |
//	| at the margins: 10% slower, 2× errors (0.5% → 1%) | 0.4148 | 0.0023 | PASS ≥ 5000 (≥ 5000) | false FAIL ≤ 0.05 |
//	| p50 +20% (every quantile) | 0.0199 | 0.5819 | FAIL 4527 (≥ 5000) | - |
//	| p50 +20%, latency margin 0%,0 | 0.0000 | 1.0000 | FAIL 1020 (1755) | - |
//	| p99 +20% (tail only) | 0.9741 | 0.0028 | FAIL ≥ 20000 (≥ 20000) | - |
//	| p99 +20% (tail only), latency margin 0%,0 | 0.6320 | 0.3574 | FAIL ≥ 20000 (≥ 20000) | - |
//	| errors 0.5% → 2% | 0.0712 | 0.9287 | FAIL 3548 (8896) | - |
//	| 6× slower (as 5 ms more on the local mesh's 1 ms page) | 0.0000 | 1.0000 | FAIL 50 (58) | - |
//	| the split check alone, same as baseline | 0.9984 | 0.0016 | PASS 794 (1534) | - |
//
//	20000 seeded runs per row, 95% confidence, default margins (errors 2× or +0.1 points, latency +10% or +2ms, p50, p90, p99) unless the row says otherwise; latency log-normal with median 100ms and σ of log 0.5; at most 5000 pages (20,000 where the row needs more); each false-FAIL rate is held to α plus Monte Carlo slack 3·sqrt(α(1−α)/runs).
//
// # Measured
//
// TestSimulation feeds seeded runs through the rule, checking the verdict
// after every page, and holds each rate to its bound. Its full run (go
// test ./decide -run TestSimulation -args -sim.full) writes this table to
// testdata/simulation.golden; TestSimulationTableInDocs checks that this
// doc and the README show it as written:
//
//	| truth | expect | PASS | FAIL | pages to the verdict: median (p90) | bound checked |
//	|---|---|---|---|---|---|
//	| 50/50 | v1=50,v3=50 ±5 | 0.9988 | 0.0011 | PASS 795 (1561) | false FAIL ≤ 0.05 |
//	| 55/45 (edge) | v1=50,v3=50 ±5 | 0.0465 | 0.0200 | - | false PASS ≤ 0.05, false FAIL ≤ 0.05 |
//	| 45/55 (edge) | v1=50,v3=50 ±5 | 0.0471 | 0.0198 | - | false PASS ≤ 0.05, false FAIL ≤ 0.05 |
//	| 56/44 | v1=50,v3=50 ±5 | 0.0132 | 0.1155 | - | false PASS ≤ 0.05 |
//	| 52.5/47.5 | v1=50,v3=50 ±5 | 0.8239 | 0.0019 | PASS 1936 (≥ 5000) | false FAIL ≤ 0.05 |
//	| 60/40 | v1=50,v3=50 ±5 | 0.0001 | 1.0000 | FAIL 773 (1670) | false PASS ≤ 0.05 |
//	| 70/30 | v1=50,v3=50 ±5 | 0.0000 | 1.0000 | FAIL 85 (180) | false PASS ≤ 0.05 |
//	| 90/10 | v1=90,v2=10 ±2 | 0.9732 | 0.0006 | PASS 1784 (3507) | false FAIL ≤ 0.05 |
//	| 88/12 (edge) | v1=90,v2=10 ±2 | 0.0428 | 0.0180 | - | false PASS ≤ 0.05, false FAIL ≤ 0.05 |
//	| 34/33/33 | v1=34,v2=33,v3=33 ±5 | 0.9993 | 0.0007 | PASS 982 (1791) | false FAIL ≤ 0.05 |
//	| 39/28/33 (edge) | v1=34,v2=33,v3=33 ±5 | 0.0110 | 0.0112 | - | false PASS ≤ 0.05, false FAIL ≤ 0.05 |
//	| 95 + 5% strays | v1=100 ±5 | 0.0481 | 0.9519 | - | false PASS ≤ 0.04849 |
//
//	20000 seeded runs per row, 95% confidence, the verdict checked after every page, at most 5000 pages; each rate is held to its bound plus Monte Carlo slack 3·sqrt(p(1−p)/runs).
//
// Against the rule before it (two-sided beta-mixture intervals at 0.9α,
// divided again by k with three or more versions, which PASS needed inside
// the band): a true 50/50 passed after a median of 942 pages, 70/30 failed
// after 125. A one-look TOST needs 857 pages for 80% power at 50/50, and
// may look only once. canary plan simulates any expectation the same way.
//
// # Counts
//
// NewCounted decides from a server's counts instead of pages: canary
// verify --passive feeds it each scrape's increase of Istio's
// istio_requests_total per version, with no request sent. Every test above
// depends on the counts alone (the split's ratios on S and F, the error
// buckets' mixtures on errors and requests, the health checks on counts at
// bucket edges; see CountHealth), so judging once per batch is judging at
// a subset of the pages: the guarantees hold as they are. A batch past
// MaxRequests is judged by the tests directly rather than the tables, and
// the run ends INCONCLUSIVE after it if undecided.
//
// What a batch costs is looks: a PASS part whose ratio crossed 1/α inside
// a batch and fell back by its end is not shown there, so PASS comes a
// little later than page by page. TestCountedSimulation measures it, with
// the verdict checked at every scrape for an hour (go test ./decide -run
// TestCountedSimulation -args -sim.full writes
// testdata/counted_simulation.golden, shown here and in the README):
//
//	| truth | expect | traffic | PASS | FAIL | requests to the verdict: median (p90) | bound checked |
//	|---|---|---|---|---|---|---|
//	| 50/50 | v1=50,v3=50 ±5 | 20/s, scraped every 1s | 0.9997 | 0.0003 | PASS 856 (1627) | false FAIL ≤ 0.05 |
//	| 55/45 (edge) | v1=50,v3=50 ±5 | 20/s, scraped every 1s | 0.0404 | 0.0149 | - | false PASS ≤ 0.05, false FAIL ≤ 0.05 |
//	| 45/55 (edge) | v1=50,v3=50 ±5 | 20/s, scraped every 1s | 0.0403 | 0.0147 | - | false PASS ≤ 0.05, false FAIL ≤ 0.05 |
//	| 60/40 | v1=50,v3=50 ±5 | 20/s, scraped every 1s | 0.0001 | 1.0000 | FAIL 829 (1754) | false PASS ≤ 0.05 |
//	| 50/50 | v1=50,v3=50 ±5 | 5/s, scraped every 15s | 0.9999 | 0.0001 | PASS 927 (1732) | false FAIL ≤ 0.05 |
//	| 55/45 (edge) | v1=50,v3=50 ±5 | 5/s, scraped every 15s | 0.0336 | 0.0100 | - | false PASS ≤ 0.05, false FAIL ≤ 0.05 |
//	| 90/10 | v1=90,v2=10 ±2 | 20/s, scraped every 1s | 0.9997 | 0.0003 | PASS 1861 (3604) | false FAIL ≤ 0.05 |
//	| 88/12 (edge) | v1=90,v2=10 ±2 | 20/s, scraped every 1s | 0.0445 | 0.0160 | - | false PASS ≤ 0.05, false FAIL ≤ 0.05 |
//
//	20000 seeded runs per row, 95% confidence, Poisson requests per scrape, the verdict checked at every scrape for an hour (runs that never decide count as the hour's requests); each rate is held to its bound plus Monte Carlo slack 3·sqrt(p(1−p)/runs).
//
// The counts must be a sample of the weights: one proxy's reports between
// two of its scrapes (package prom's Follow aligns them per target), from
// a route without matches. Retries break independence a little: a caller
// reports a retried request once, under the version that answered last.
//
// # Cost
//
// NewSequential precomputes, per version and per page count n, the counts
// at which each of its four parts rejects (about 10 ms at the default
// 5000). Add is then a few integer compares (≈ 20 ns, no allocation) and
// Verdict a field read: check it after every page. Decision computes the
// intervals by bisection and the reason (about 55 µs with two versions,
// 70 µs with three): call it on a verdict or for progress.
//
// # Caveats
//
// Pages without a version are left out of the split; if one version's
// failures hide its version, its share is understated, which the
// unknown-version error bucket is there to catch. The guarantees assume
// each page's version is drawn independently with fixed shares, as Envoy
// draws a weighted route's cluster per request; session affinity or
// header matches break that, and verify refuses routes with matches.
package decide
