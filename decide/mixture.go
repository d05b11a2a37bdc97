package decide

import "math"

// mixture is an anytime-valid confidence sequence for a Bernoulli share p.
// For a fixed prior π, the Bayes factor
//
//	M_n(p) = ∫ q^S (1−q)^F dπ(q) / (p^S (1−p)^F)
//
// is a nonnegative martingale with mean 1 under the true p, so by Ville's
// inequality P(∃n: M_n(p) ≥ 1/β) ≤ β. The set {p : M_n(p) < 1/β} therefore
// covers the true share at every n at once with probability ≥ 1 − β,
// whatever rule decides when to look or stop. π is a mix of beta
// distributions, so the numerator is a sum of beta functions (closed form).
// log M_n is convex in p, so the set is an interval around S/n.
type mixture struct {
	comps []betaComp
	logC  float64 // log(1/β)
}

type betaComp struct{ logw, a, b, lb float64 }

// newMixture mixes beta components given as (weight, mean, sd) triples.
func newMixture(level float64, parts ...[3]float64) *mixture {
	m := &mixture{logC: -math.Log(level)}
	for _, p := range parts {
		m.comps = append(m.comps, newBetaComp(p[0], p[1], p[2]))
	}
	return m
}

// errorMixture is the prior for an error rate with budget r0: centred on
// error rates worth failing for (about 3×r0), so that rates well above the
// budget are caught in a few hundred pages.
func errorMixture(r0, level float64) *mixture {
	r := math.Max(r0, 1e-3) // a zero budget still needs a prior for its interval
	return newMixture(level, [3]float64{1, math.Min(3*r, (1+r)/2), 2 * r})
}

// newBetaComp makes a beta component with the given mean and sd, capping
// the variance so that a+b ≥ 2 (no U-shaped priors).
func newBetaComp(w, mean, sd float64) betaComp {
	v := math.Min(sd*sd, mean*(1-mean)/3)
	k := mean*(1-mean)/v - 1
	a, b := mean*k, (1-mean)*k
	return betaComp{logw: math.Log(w), a: a, b: b, lb: lbeta(a, b)}
}

func lbeta(a, b float64) float64 {
	x, _ := math.Lgamma(a)
	y, _ := math.Lgamma(b)
	z, _ := math.Lgamma(a + b)
	return x + y - z
}

// logN is the log of the prior-averaged likelihood of s successes and f
// failures.
func (m *mixture) logN(s, f float64) float64 {
	var acc logSum
	for _, c := range m.comps {
		acc.add(c.logw + lbeta(c.a+s, c.b+f) - c.lb)
	}
	return acc.value()
}

// logSum adds numbers given by their logs without overflow: the log of
// Σ e^v, kept as the largest v and the sum scaled by it.
type logSum struct {
	best, sum float64
	started   bool
}

func (l *logSum) add(v float64) {
	switch {
	case !l.started:
		l.best, l.sum, l.started = v, 1, true
	case v > l.best:
		l.sum = l.sum*math.Exp(l.best-v) + 1
		l.best = v
	default:
		l.sum += math.Exp(v - l.best)
	}
}

func (l *logSum) value() float64 {
	if !l.started {
		return math.Inf(-1)
	}
	return l.best + math.Log(l.sum)
}

// loglik is the Bernoulli log-likelihood of p, with 0·log 0 = 0.
func loglik(s, f, p float64) float64 {
	l := 0.0
	if s > 0 {
		l += s * math.Log(p)
	}
	if f > 0 {
		l += f * math.Log1p(-p)
	}
	return l
}

// evidence is S successes of n pages seen through a mixture. It computes
// the prior-averaged likelihood once, when first needed, for all the
// questions below.
type evidence struct {
	m     *mixture
	S, n  int
	s, f  float64
	logN  float64
	ready bool
}

func (m *mixture) at(S, n int) *evidence {
	return &evidence{m: m, S: S, n: n, s: float64(S), f: float64(n - S)}
}

// excludes reports whether p is outside the confidence set.
func (e *evidence) excludes(p float64) bool {
	if !e.ready {
		e.logN, e.ready = e.m.logN(e.s, e.f), true
	}
	return e.logN-loglik(e.s, e.f, p) >= e.m.logC
}

// lowAbove reports whether the lower confidence bound exceeds x. The set
// always holds S/n, so that must exceed x first.
func (e *evidence) lowAbove(x float64) bool {
	switch {
	case x < 0:
		return true
	case e.n == 0 || x >= 1 || e.s <= x*float64(e.n):
		return false
	}
	return e.excludes(x)
}

// highBelow reports whether the upper confidence bound is below x.
func (e *evidence) highBelow(x float64) bool {
	switch {
	case x > 1:
		return true
	case e.n == 0 || x <= 0 || e.s >= x*float64(e.n):
		return false
	}
	return e.excludes(x)
}

// bounds returns the confidence interval: where the log-likelihood, which
// is concave with its peak at S/n, falls to logN − logC.
func (e *evidence) bounds() (lo, hi float64) {
	if e.n == 0 {
		return 0, 1
	}
	phat := e.s / float64(e.n)
	lo, hi = 0, 1
	if e.S > 0 {
		lo = e.boundary(phat, 0)
	}
	if e.S < e.n {
		hi = e.boundary(phat, 1)
	}
	return lo, hi
}

// boundary finds the end of the set between phat (inside) and end (0 or
// 1, outside) by Newton's method started outside: the function is concave,
// so each step stays outside and the result is never too narrow.
func (e *evidence) boundary(phat, end float64) float64 {
	e.excludes(phat) // computes logN
	level := e.logN - e.m.logC
	g := func(p float64) float64 { return loglik(e.s, e.f, p) - level }
	p := (phat + end) / 2
	for range 60 {
		if g(p) < 0 {
			break
		}
		p = (p + end) / 2
	}
	for range 60 {
		step := g(p) / (e.s/p - e.f/(1-p))
		if !(math.Abs(step) > 1e-14) {
			break
		}
		p -= step
	}
	return p
}
