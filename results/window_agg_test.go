package results

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/google/go-cmp/cmp"
)

// span is a window's start and end as offsets from t0, with its total.
type span struct {
	Start, End time.Duration
	Total      int
}

func spans(ws []Window) []span {
	var out []span
	for _, w := range ws {
		out = append(out, span{w.Start.Sub(t0), w.End.Sub(t0), w.Total()})
	}
	return out
}

func TestAggregator(t *testing.T) {
	t.Parallel()
	const s = time.Second
	tests := []struct {
		name      string
		at        []time.Duration // records, in arrival order
		flush     time.Duration   // Flush(t0+flush) after adding them
		wantFlush []span
		wantClose []span
		wantLate  int
	}{
		{name: "one window", at: []time.Duration{0, s / 2, s - 1}, flush: 20 * s,
			wantFlush: []span{{0, 10 * s, 3}}},
		{name: "truncated to the window", at: []time.Duration{9 * s, 10 * s, 25 * s}, flush: 25 * s,
			wantFlush: []span{{0, 10 * s, 1}, {10 * s, 20 * s, 1}}, wantClose: []span{{20 * s, 30 * s, 1}}},
		{name: "grace keeps a window open", at: []time.Duration{0, 12 * s}, flush: 10*s + s/2,
			wantClose: []span{{0, 10 * s, 1}, {10 * s, 20 * s, 1}}},
		{name: "out of order within grace", at: []time.Duration{12 * s, 3 * s, 14 * s, 9 * s}, flush: 12 * s,
			wantFlush: []span{{0, 10 * s, 2}}, wantClose: []span{{10 * s, 20 * s, 2}}},
		{name: "before the start of time", at: []time.Duration{-3 * s}, flush: 0,
			wantClose: []span{{-10 * s, 0, 1}}},
		{name: "nothing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := NewAggregator(10*s, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			for _, at := range tc.at {
				r := rec(at, "v1", classify.OK, 200, time.Millisecond)
				a.Add(&r)
			}
			if diff := cmp.Diff(tc.wantFlush, spans(a.Flush(t0.Add(tc.flush)))); diff != "" {
				t.Errorf("Flush (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantClose, spans(a.Close())); diff != "" {
				t.Errorf("Close (-want +got):\n%s", diff)
			}
			if got := a.Late(); got != tc.wantLate {
				t.Errorf("Late() = %d; want %d", got, tc.wantLate)
			}
		})
	}
}

// TestAggregatorLate: a record for a window already handed out is not
// lost; it comes out again as a window with the same start.
func TestAggregatorLate(t *testing.T) {
	t.Parallel()
	a, err := NewAggregator(time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := rec(100*time.Millisecond, "v1", classify.OK, 200, time.Millisecond)
	a.Add(&r)
	first := a.Flush(t0.Add(time.Second))
	r2 := rec(200*time.Millisecond, "v3", classify.OK, 200, time.Millisecond)
	a.Add(&r2)
	a.Add(&r2)
	second := a.Close()
	if got, want := spans(append(first, second...)), []span{{0, time.Second, 1}, {0, time.Second, 2}}; !cmp.Equal(got, want) {
		t.Errorf("windows = %v; want %v", got, want)
	}
	if got, want := a.Late(), 2; got != want {
		t.Errorf("Late() = %d; want %d", got, want)
	}
}

func TestNewAggregatorInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		size, grace time.Duration
	}{{"zero size", 0, 0}, {"negative grace", time.Second, -1}} {
		if _, err := NewAggregator(tc.size, tc.grace); !errors.Is(err, errInvalidWindow) {
			t.Errorf("%s: NewAggregator(%v, %v) error = %v; want errInvalidWindow", tc.name, tc.size, tc.grace, err)
		}
	}
}

// TestAggregatorConstantMemory adds 2 million records across 1,000
// windows, arriving up to 1.5 s out of order, flushing as it goes: the
// open windows stay bounded by grace/size + 2 and nothing is lost.
func TestAggregatorConstantMemory(t *testing.T) {
	t.Parallel()
	const (
		n     = 2_000_000
		size  = time.Second
		grace = 2 * time.Second
		step  = 1000 * size / n // 1,000 windows
	)
	a, err := NewAggregator(size, grace)
	if err != nil {
		t.Fatal(err)
	}
	versions := [...]string{"v1", "v3", "v1", "v3", ""}
	var r Record
	total, windows, maxOpen := 0, 0, 0
	for i := range n {
		r.At = t0.Add(time.Duration(i)*step - time.Duration(i%7)*250*time.Millisecond)
		r.Version, r.Latency, r.Status = versions[i%len(versions)], time.Duration(i%5000)*time.Microsecond, 200
		a.Add(&r)
		if i%500 == 0 {
			for _, w := range a.Flush(t0.Add(time.Duration(i) * step)) {
				total += w.Total()
				windows++
			}
			maxOpen = max(maxOpen, len(a.open))
		}
	}
	for _, w := range a.Close() {
		total += w.Total()
		windows++
	}
	if limit := int(grace/size) + 2; maxOpen > limit {
		t.Errorf("open windows reached %d; want at most %d", maxOpen, limit)
	}
	// 1,000 s of sends, 1.5 s of jitter: 1,002 windows.
	if total != n || windows != 1002 || a.Late() != 0 {
		t.Errorf("handed out %d records in %d windows, %d late; want %d in 1002, 0 late", total, windows, a.Late(), n)
	}
}

// TestAggregatorStream reads a results file with a torn last line through
// NewScanner into the Aggregator, flushing by record time.
func TestAggregatorStream(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rw := NewWriter(&buf)
	for i := range 3000 {
		r := rec(time.Duration(i)*20*time.Millisecond, []string{"v1", "v3"}[i%2], classify.OK, 200, time.Duration(i)*time.Microsecond)
		if err := rw.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	buf.WriteString(`{"t":"2026-11-25T08:01:00.000000Z","l":12`) // killed mid-write

	a, err := NewAggregator(10*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sc := NewScanner(&buf, "soak.jsonl")
	var ws []Window
	for sc.Scan() {
		r := sc.Record()
		a.Add(&r)
		ws = append(ws, a.Flush(r.At)...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	ws = append(ws, a.Close()...)
	if sc.Warning() == nil {
		t.Error("Warning() = nil; want the torn last line")
	}
	want := []span{{0, 10 * time.Second, 500}, {10 * time.Second, 20 * time.Second, 500}}
	if got := spans(ws); len(got) != 6 || !cmp.Equal(got[:2], want) {
		t.Errorf("windows = %v; want 6 of 500 starting %v", got, want)
	}
}

// BenchmarkAggregatorAdd is the per-record hot path: 1,000 records per
// window, two versions, flushing every 1,000 records.
func BenchmarkAggregatorAdd(b *testing.B) {
	a, err := NewAggregator(time.Second, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	versions := [...]string{"v1", "v3", "v1", "v3", ""}
	outcomes := [...]classify.Outcome{classify.OK, classify.OK, classify.OK, classify.HTTPError}
	var r Record
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.At = t0.Add(time.Duration(i) * time.Millisecond)
		r.Version, r.Outcome = versions[i%len(versions)], outcomes[i%len(outcomes)]
		r.Status, r.Latency = 200, time.Duration(1000+i%50000)*time.Microsecond
		a.Add(&r)
		if i%1000 == 999 {
			a.Flush(r.At)
		}
		i++
	}
}
