package decide

// tables holds, for each number of pages n, the success counts S at which
// each of a version's four parts (see splitTests) rejects its null. They
// make the per-page check a few integer compares:
//
//	PASS parts:  shown above if S ≥ passLo[n], shown below if S ≤ passHi[n]
//	FAIL parts:  S ≥ failHi[n] (above the band) or S ≤ failLo[n] (below)
//
// "None" is n+1 for lower thresholds and −1 for upper ones. A part's ratio
// rises with S at fixed n for the parts whose alternatives lie above their
// edge and falls for the others, so each condition holds on a run of S
// from one end; the thresholds move little as n grows, so building them
// costs a couple of ratio evaluations per n. TestTablesMatchDirect checks
// them against the parts themselves.
type tables struct {
	passLo, passHi, failHi, failLo []int32
}

// buildTables computes the thresholds for n = 0..maxN.
func buildTables(ts *splitTests, maxN int) tables {
	t := tables{
		passLo: make([]int32, maxN+1), passHi: make([]int32, maxN+1),
		failHi: make([]int32, maxN+1), failLo: make([]int32, maxN+1),
	}
	a, b, c, d := 1, -1, 1, -1
	for n := 0; n <= maxN; n++ {
		a = walkMin(n, a, func(S int) bool { return ts.above.rejects(S, n) })
		b = walkMax(n, b+1, func(S int) bool { return ts.below.rejects(S, n) })
		c = walkMin(n, c, func(S int) bool { return ts.high.rejects(S, n) })
		d = walkMax(n, d+1, func(S int) bool { return ts.low.rejects(S, n) })
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

// outside reports whether S successes of n pages reject a FAIL part.
func (t tables) outside(S, n int) bool {
	s := int32(S)
	return s >= t.failHi[n] || s <= t.failLo[n]
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
