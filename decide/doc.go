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
//   - PASS if every version's interval lies strictly inside expected ±
//     tolerance and enough clean pages show that strays, if any, are rarer
//     than the tolerance;
//   - INCONCLUSIVE at MaxRequests pages, with an estimate of how many more
//     pages would likely decide;
//   - PENDING until then.
//
// Every verdict comes with a Decision: counts, shares, intervals, statuses
// and a Reason sentence. Pages seen while the new weights settle are not
// evidence; Settle states the rule and says when evidence starts.
//
// # Method
//
// Each version's share p is covered by an anytime-valid confidence
// sequence: the set of p whose beta-mixture Bayes factor
// ∫q^S(1−q)^F dπ(q) / p^S(1−p)^F is below 1/β. That ratio is a martingale
// with mean 1 under the true p, so by Ville's inequality the set misses the
// truth at any page, ever, with probability at most β, however often it is
// looked at and whenever the run stops. No sample size is fixed in advance.
//
// Both guarantees follow from coverage. If some share is outside the
// tolerance, a PASS needs that version's interval inside the band, hence
// missing the truth: probability ≤ β. If all shares are inside, a FAIL
// needs some interval outside the band, again missing the truth.
//
// The error rate α = 1 − Confidence is spent so that the union bound holds:
//
//   - 90% of α goes to the split. With two versions the shares are
//     complementary and one interval serves both (β = 0.9α); with k ≥ 3
//     versions each gets β = 0.9α/k (Bonferroni), so the intervals are
//     simultaneous over versions.
//   - 10% of α goes to the error budget, split evenly over its buckets
//     (each version expected above 0%, plus pages without a version; the
//     rate of the last is out of all pages). Each bucket has its own
//     confidence sequence, with a prior centred near 3× the budget.
//   - Strays cost nothing: under the expected split they never occur. A
//     PASS needs W = min{n : (1 − δ)^n < α} clean pages (59 at 5 points and
//     95%), so a stray share of δ or more passes with probability < α.
//
// So a false FAIL (all shares within tolerance, error rates within budget)
// has probability ≤ 0.9α + 0.1α = α, and a false PASS (some share outside)
// has probability ≤ α. A PASS does not wait for the error rates to be
// shown below the budget: the budget only detects failures, and its
// intervals are reported either way.
//
// # Tuning and efficiency
//
// The prior π for a version expected at share e with tolerance δ mixes
// Beta(mean e, sd δ/4) with weight 0.8, which makes PASS fast when the
// truth is near e, and Beta(mean e, sd 3δ) with weight 0.2, which makes
// FAIL fast when it is far. Measured by TestEfficiency (2000 seeded runs,
// verdict checked after every page, 95% confidence, 5 points, v1=50,v3=50):
//
//	truth 50/50: PASS in 100% of runs, median 942 pages (p90 1707).
//	  A one-look TOST needs 857 pages for 80% power (538 for 50%).
//	truth 70/30: FAIL in 100% of runs, median 125 pages (p90 238).
//	  A one-look test of "share ≤ 55%" needs 65 pages for 80% power
//	  (30 for 50%), but only if the 70/30 truth is known in advance.
//
// Other tunings measured the same way (median pages at 50/50 and 70/30):
// a near-point narrow part (sd δ/100) 893 and 125, but it passes 65% of
// 47.5/52.5 runs within 5000 pages instead of 76%; narrow sd δ/2 1043 and
// 131; weight 0.5 1051 and 108; weight 0.9 918 and 142.
//
// Simulated rates (TestGuarantees, 2000 runs each, every page checked up to
// 5000, α = 0.05, Monte-Carlo limit α + 3·sqrt(α(1−α)/2000) = 0.0646):
//
//	50/50 truth          false FAIL 0.0000
//	55/45 (inside edge)  false FAIL 0.0025
//	55/45, 45/55 edge    false PASS 0.0190, 0.0225
//	90/10 ±10 truth      false FAIL 0.0000   80/20 edge false PASS 0.0275
//	34/33/33 truth       false FAIL 0.0000   39/28/33   false PASS 0.0010
//	v1=100, 5% strays    false PASS 0.0460   (exact bound 0.95^59 = 0.0485)
//
// # Cost
//
// NewSequential precomputes, per version and per page count n, the counts
// at which the interval enters or leaves the band (about 10 ms at the
// default 5000). Add is then a few integer compares (≈ 20 ns, no
// allocation) and Verdict a field read: check it after every page.
// Decision computes the intervals by Newton's method and the reason
// (≈ 4 µs with two versions): call it on a verdict or for progress.
//
// # Caveats
//
// Pages without a version are left out of the split; if one version's
// failures hide its version, its share is understated, which the
// unknown-version error bucket is there to catch. The intervals are wider
// than fixed-sample ones at the same n: that is the price of looking
// after every page. With three or more versions, Bonferroni makes PASS
// slower (see Plan).
package decide
