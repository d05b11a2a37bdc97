package attack

import (
	"fmt"
	"strings"
	"time"

	"github.com/canary-gate/canary/classify"
)

// StatusLine renders the one-line live status (for a terminal) or periodic
// log line: achieved against requested rate, shares per version and
// outcome, p50/p99 and errors. prev is the snapshot the previous line was
// built from, or nil; with it, the rate and the warnings describe the last
// interval rather than the whole run, so a target that just went down shows
// at once.
func StatusLine(prev, cur *Summary) string {
	var b strings.Builder
	recent := interval(prev, cur)
	fmt.Fprintf(&b, "%s  rate %s of %s  done %d", cur.Elapsed.Round(time.Second),
		fmtRate(perSecond(recent.Sent, recent.Elapsed)), requested(cur.Requested), cur.Completed)
	if inflight := cur.InFlight(); inflight > 0 {
		fmt.Fprintf(&b, " (%d in flight)", inflight)
	}
	if cur.Completed == 0 {
		b.WriteString(" | no responses yet")
	} else {
		b.WriteString(" |")
		for _, v := range cur.Versions {
			fmt.Fprintf(&b, " %s %s", versionName(v.Name), pct(v.Count, cur.Completed))
		}
		b.WriteString(" |")
		for _, c := range cur.Outcomes {
			fmt.Fprintf(&b, " %s %s", c.Name, pct(c.Count, cur.Completed))
		}
		fmt.Fprintf(&b, " | p50 %s p99 %s | errors %d", fmtDur(cur.Latency.P50), fmtDur(cur.Latency.P99), cur.Errors())
	}
	if cur.Dropped > 0 {
		fmt.Fprintf(&b, " | dropped %d (max workers %d busy)", cur.Dropped, cur.MaxWorkers)
	}
	if w := warning(recent, cur); w != "" {
		b.WriteString(" | ")
		b.WriteString(w)
	}
	return b.String()
}

// window is what happened between two snapshots.
type window struct {
	Elapsed                    time.Duration
	Sent, Completed, Transport uint64
	HTTP                       uint64
}

func interval(prev, cur *Summary) window {
	w := window{
		Elapsed:   cur.Elapsed,
		Sent:      cur.Sent,
		Completed: cur.Completed,
		Transport: cur.Count(classify.TransportError),
		HTTP:      cur.Count(classify.HTTPError),
	}
	if prev == nil || prev.Elapsed >= cur.Elapsed {
		return w
	}
	w.Elapsed -= prev.Elapsed
	w.Sent -= min(prev.Sent, w.Sent)
	w.Completed -= min(prev.Completed, w.Completed)
	w.Transport -= min(prev.Count(classify.TransportError), w.Transport)
	w.HTTP -= min(prev.Count(classify.HTTPError), w.HTTP)
	return w
}

// warning words the likely cause when errors dominate the last interval.
func warning(w window, cur *Summary) string {
	last := w.Elapsed.Round(time.Second)
	switch {
	case w.Completed > 0 && 2*w.Transport > w.Completed:
		return fmt.Sprintf("target down? %s transport errors in the last %s", pct(w.Transport, w.Completed), last)
	case w.Completed > 0 && 2*w.HTTP > w.Completed:
		return fmt.Sprintf("target failing? %s HTTP errors in the last %s", pct(w.HTTP, w.Completed), last)
	case w.Completed == 0 && cur.InFlight() > 0 && w.Elapsed >= time.Second:
		return fmt.Sprintf("target slow? no responses in the last %s, %d in flight", last, cur.InFlight())
	}
	return ""
}

func pct(n, total uint64) string {
	if total == 0 {
		return "0%"
	}
	p := 100 * float64(n) / float64(total)
	if p < 10 && p > 0 {
		return fmt.Sprintf("%.1f%%", p)
	}
	return fmt.Sprintf("%.0f%%", p)
}
