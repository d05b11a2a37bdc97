package decide

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/canary-gate/canary/results"
)

// Split returns each version's share of the window's requests that have a
// version, with its interval and status against expected ± tolerance, as
// Judge uses them: the listed versions in their order, then any others
// (strays), sorted. Shares and intervals are in percent.
//
// The intervals are those of Sequential's FAIL parts (see Method) at the
// per-window confidence of c, simultaneous over versions; a version is
// within when both its PASS parts show it at the window's count. They are wider than a one-look interval such as Wilson's,
// but their coverage holds at any n (no small-sample optimism) and while a
// window is still filling, so Judge may be called on an open window as
// often as liked.
func Split(w results.Window, c WindowCriteria) []VersionResult {
	cc := c.criteria()
	s := &Sequential{c: cc, nExact: cc.exactPages(), n: w.Total() - w.Count("")}
	var split []int
	for i, v := range cc.Expect.versions {
		tr := track{name: v, share: snap(cc.Expect.percents[i] / 100), count: w.Count(v)}
		if tr.share > 0 && tr.share < 1 {
			split = append(split, i)
		}
		s.tracks = append(s.tracks, tr)
	}
	fail := failLevel(cc, len(split))
	for _, i := range split {
		tr := &s.tracks[i]
		tr.tests = newSplitTests(tr.share, cc.delta(), cc.alpha(), fail)
		tr.mark(s.n, tr.tests.above.rejects(tr.count, s.n), tr.tests.below.rejects(tr.count, s.n))
	}
	out := make([]VersionResult, 0, len(s.tracks)+1)
	for i := range s.tracks {
		out = append(out, s.versionResult(&s.tracks[i]))
	}
	for _, v := range w.Versions() {
		if s.index(v) < 0 {
			out = append(out, s.strayResult(v, w.Count(v)))
		}
	}
	return out
}

// alarmedStarts returns the distinct window starts among alarms, sorted.
func alarmedStarts(alarms []Alarm) []time.Time {
	var starts []time.Time
	for _, a := range alarms {
		starts = append(starts, a.Start)
	}
	slices.SortFunc(starts, time.Time.Compare)
	return slices.CompactFunc(starts, time.Time.Equal)
}

// listStarts names up to limit alarmed windows with their alarm kinds:
// "08:04:00 (split v3), 08:31:00 (errors v1, latency v1) and 3 more",
// with dates when dated.
func listStarts(starts []time.Time, alarms []Alarm, limit int, dated bool) string {
	var parts []string
	for _, s := range starts[:min(len(starts), limit)] {
		var kinds []string
		for _, a := range alarms {
			if a.Start.Equal(s) {
				kinds = append(kinds, strings.TrimSpace(string(a.Kind)+" "+a.Version))
			}
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", textfmt.Clock(s, dated), strings.Join(slices.Compact(kinds), ", ")))
	}
	out := strings.Join(parts, ", ")
	if more := len(starts) - limit; more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out
}
