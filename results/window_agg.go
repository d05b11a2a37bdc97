package results

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Aggregator sorts records into windows of a fixed size by the time each
// request was sent, and hands windows out once no more records are expected
// for them, so its memory stays bounded however long the run: about
// grace/size + 2 open windows, each a few counters and one 20 KiB histogram
// per version. It takes times from the records and from its caller and
// never reads the clock. It is not safe for concurrent use.
//
// Records arrive in completion order, so a request sent at t may be written
// up to its timeout later; choose grace at least that long. A record for a
// window already handed out is not lost: it opens the window again, and the
// next Flush hands out a second window with the same Start, which Merge
// folds into the first (report.Render does so by itself). Late counts them.
type Aggregator struct {
	size, grace time.Duration
	open        map[int64]*Window // by Start in Unix nanoseconds
	cur         *Window           // the window of the last record
	curLate     bool
	done        time.Time // the latest End handed out
	late        int
}

// errInvalidWindow is wrapped by NewAggregator's errors.
var errInvalidWindow = errors.New("invalid window")

// NewAggregator returns an Aggregator of windows of the given size whose
// windows close once grace has passed after their end. The size must be
// positive and the grace not negative.
func NewAggregator(size, grace time.Duration) (*Aggregator, error) {
	if size <= 0 || grace < 0 {
		return nil, fmt.Errorf("%w: size %v must be positive and grace %v not negative", errInvalidWindow, size, grace)
	}
	return &Aggregator{size: size, grace: grace, open: make(map[int64]*Window)}, nil
}

// Add counts one record in the window of r.At.Truncate(size). It is O(1)
// and does not allocate, except for the first record of a window or of a
// version within it.
func (a *Aggregator) Add(r *Record) {
	w := a.cur
	if w == nil || r.At.Before(w.Start) || !r.At.Before(w.End) {
		w = a.window(r.At)
	}
	if a.curLate {
		a.late++
	}
	w.add(r)
}

// window finds or opens the window holding t and makes it current.
func (a *Aggregator) window(t time.Time) *Window {
	start := t.Truncate(a.size)
	key := start.UnixNano()
	w := a.open[key]
	if w == nil {
		w = newWindow(start, start.Add(a.size))
		a.open[key] = w
	}
	a.cur, a.curLate = w, start.Before(a.done)
	return w
}

// Flush closes and returns, oldest first, the windows whose end is at
// least grace before now. Call it on a ticker with the wall clock, or,
// when reading files, with the time of the latest record read.
func (a *Aggregator) Flush(now time.Time) []Window {
	return a.close(func(w *Window) bool { return !w.End.Add(a.grace).After(now) })
}

// Close closes and returns every open window, oldest first.
func (a *Aggregator) Close() []Window {
	return a.close(func(*Window) bool { return true })
}

// Late is the number of records that came after their window was handed
// out (and so reopened it).
func (a *Aggregator) Late() int { return a.late }

func (a *Aggregator) close(due func(*Window) bool) []Window {
	var out []Window
	for k, w := range a.open {
		if !due(w) {
			continue
		}
		delete(a.open, k)
		if w == a.cur {
			a.cur = nil
		}
		if w.End.After(a.done) {
			a.done = w.End
		}
		w.pack()
		out = append(out, *w)
	}
	slices.SortFunc(out, func(x, y Window) int { return x.Start.Compare(y.Start) })
	return out
}
