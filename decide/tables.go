package decide

// tables holds, for each number of pages n, the success counts S at which a
// version's confidence interval leaves or enters its tolerance band
// [lo, hi]. They make the per-page check a few integer compares:
//
//	within:  pass[n] ≤ S ≤ passHi[n]   (interval inside (lo, hi))
//	outside: S ≥ failHi[n] or S ≤ failLo[n] (interval above hi or below lo)
//
// "None" is n+1 for lower thresholds and −1 for upper ones. The interval's
// ends rise with S at fixed n (a success raises both bounds, a failure
// lowers them), so each condition holds on a run of S from one end, and
// each threshold moves by at most one as n grows: building them costs a
// couple of bound checks per n. TestTablesMatchDirect checks this against
// the direct computation.
type tables struct {
	passLo, passHi, failHi, failLo []int32
}

// buildTables computes the thresholds for n = 0..maxN.
func buildTables(m *mixture, lo, hi float64, maxN int) tables {
	t := tables{
		passLo: make([]int32, maxN+1), passHi: make([]int32, maxN+1),
		failHi: make([]int32, maxN+1), failLo: make([]int32, maxN+1),
	}
	a, b, c, d := 1, -1, 1, -1
	for n := 0; n <= maxN; n++ {
		a = walkMin(n, a, func(S int) bool { return m.at(S, n).lowAbove(lo) })
		b = walkMax(n, b+1, func(S int) bool { return m.at(S, n).highBelow(hi) })
		c = walkMin(n, c, func(S int) bool { return m.at(S, n).lowAbove(hi) })
		d = walkMax(n, d+1, func(S int) bool { return m.at(S, n).highBelow(lo) })
		t.passLo[n], t.passHi[n], t.failHi[n], t.failLo[n] = int32(a), int32(b), int32(c), int32(d)
	}
	return t
}

// mirror returns the tables of the complementary share 1 − p (counts
// n − S), for the second of two versions: its band is [1−hi, 1−lo].
func (t tables) mirror() tables {
	n := len(t.passLo)
	m := tables{
		passLo: make([]int32, n), passHi: make([]int32, n),
		failHi: make([]int32, n), failLo: make([]int32, n),
	}
	for i := range n {
		k := int32(i)
		m.passLo[i], m.passHi[i] = k-t.passHi[i], k-t.passLo[i]
		m.failHi[i], m.failLo[i] = k-t.failLo[i], k-t.failHi[i]
	}
	return m
}

// status classifies S successes of n pages.
func (t tables) status(S, n int) Status {
	s := int32(S)
	switch {
	case s >= t.failHi[n] || s <= t.failLo[n]:
		return Outside
	case s >= t.passLo[n] && s <= t.passHi[n]:
		return Within
	}
	return Undecided
}

// walkMin returns the smallest S in [0, n] for which ok holds (ok being
// monotone: false then true), or n+1, starting the search at start.
func walkMin(n, start int, ok func(int) bool) int {
	s := min(max(start, 0), n+1)
	for s > 0 && ok(s-1) {
		s--
	}
	for s <= n && !ok(s) {
		s++
	}
	return s
}

// walkMax returns the largest S in [0, n] for which ok holds (ok being
// monotone: true then false), or −1, starting the search at start.
func walkMax(n, start int, ok func(int) bool) int {
	s := min(max(start, -1), n)
	for s < n && ok(s+1) {
		s++
	}
	for s >= 0 && !ok(s) {
		s--
	}
	return s
}

// errorTable holds, for each number of pages n, the fewest errors that
// put the error rate above budget r0 at the check's confidence.
func errorTable(m *mixture, r0 float64, maxN int) []int32 {
	t := make([]int32, maxN+1)
	e := 1
	for n := range t {
		if r0 > 0 {
			e = walkMin(n, e, func(E int) bool { return m.at(E, n).lowAbove(r0) })
		}
		t[n] = int32(e) // with a zero budget one error is over it
	}
	return t
}
