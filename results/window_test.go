package results

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/google/go-cmp/cmp"
)

var (
	t0          = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	windowComps = cmp.AllowUnexported(Window{}, histogram{})
)

// rec is a record sent at t0+at.
func rec(at time.Duration, version string, o classify.Outcome, status int, lat time.Duration) Record {
	return Record{At: t0.Add(at), Version: version, Outcome: o, Status: status, Latency: lat}
}

// randomRecords draws n records over span: versions (and none), outcomes,
// statuses, and latencies log-uniform from 0 to past the 60 s cap.
func randomRecords(rng *rand.Rand, n int, span time.Duration) []Record {
	versions := []string{"v1", "v2", "v3", ""}
	out := make([]Record, n)
	for i := range out {
		lat := time.Duration(math.Exp(rng.Float64()*math.Log(90e9))) - 1
		if rng.IntN(20) == 0 {
			lat = 0
		}
		out[i] = rec(time.Duration(rng.Int64N(int64(span))), versions[rng.IntN(len(versions))],
			classify.Outcome(rng.IntN(8)), []int{200, 200, 200, 503, 0}[rng.IntN(5)], lat)
	}
	return out
}

// onePass aggregates records into windows of size.
func onePass(t testing.TB, size time.Duration, rs []Record) []Window {
	t.Helper()
	a, err := NewAggregator(size, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		a.Add(&rs[i])
	}
	return a.Close()
}

// TestWindowMergeProperty: merging the windows of any split of the records
// equals one pass over all of them, whatever the grouping (associativity).
// Fortio's RecordN/Merge bug lost counts when merging histograms; here
// every bucket must match.
func TestWindowMergeProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 40 {
		rs := randomRecords(rng, 1+rng.IntN(400), time.Minute)
		var parts [3][]Record
		for _, r := range rs {
			k := rng.IntN(3)
			parts[k] = append(parts[k], r)
		}
		one := func(rs []Record) Window {
			if ws := onePass(t, time.Hour, rs); len(ws) == 1 {
				return ws[0]
			}
			return Window{Start: t0, End: t0.Add(time.Hour)} // no records
		}
		want := one(rs)
		a, b, c := one(parts[0]), one(parts[1]), one(parts[2])
		left, right := a.Merge(b).Merge(c), a.Merge(b.Merge(c))
		if diff := cmp.Diff(want, left, windowComps); diff != "" {
			t.Fatalf("iteration %d: (a·b)·c differs from one pass (-want +got):\n%s", iter, diff)
		}
		if diff := cmp.Diff(want, right, windowComps); diff != "" {
			t.Fatalf("iteration %d: a·(b·c) differs from one pass (-want +got):\n%s", iter, diff)
		}
		if diff := cmp.Diff(want, c.Merge(a).Merge(b), windowComps); diff != "" {
			t.Fatalf("iteration %d: (c·a)·b differs from one pass (-want +got):\n%s", iter, diff)
		}
	}
}

func TestWindowMergeSpans(t *testing.T) {
	t.Parallel()
	rs := []Record{rec(0, "v1", classify.OK, 200, time.Millisecond),
		rec(3*time.Minute, "v3", classify.HTTPError, 503, time.Second)}
	ws := onePass(t, time.Minute, rs)
	ws[1].Server = map[string]float64{"v3": 2.5}
	m := ws[1].Merge(ws[0])
	if !m.Start.Equal(t0) || !m.End.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("Merge span = [%v, %v); want [%v, %v)", m.Start, m.End, t0, t0.Add(4*time.Minute))
	}
	if got, want := m.Total(), 2; got != want {
		t.Errorf("Total() = %d; want %d", got, want)
	}
	if diff := cmp.Diff(map[string]float64{"v3": 2.5}, m.Server); diff != "" {
		t.Errorf("Server (-want +got):\n%s", diff)
	}
	if ws[0].Server != nil {
		t.Errorf("Merge changed its input: Server = %v", ws[0].Server)
	}
}

func TestHistogramBuckets(t *testing.T) {
	t.Parallel()
	prev := -1
	for us := int64(0); us <= histMaxMicros; us += 1 + us/300 {
		i := bucketOf(us)
		lo, hi := bucketRange(i)
		switch {
		case i < prev || i >= histBuckets:
			t.Fatalf("bucketOf(%d) = %d after %d; want ascending and < %d", us, i, prev, histBuckets)
		case us < lo || us > hi:
			t.Fatalf("bucketOf(%d) = %d, range [%d, %d]; want it to hold the value", us, i, lo, hi)
		case float64(hi-lo) > float64(lo)/128:
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/128 of its values", i, lo, hi)
		}
		prev = i
	}
	if got, want := bucketOf(int64(time.Hour/time.Microsecond)), bucketOf(histMaxMicros); got != want {
		t.Errorf("bucketOf(1h) = %d; want the 60 s bucket %d", got, want)
	}
}

func TestWindowQuantiles(t *testing.T) {
	t.Parallel()
	var rs []Record
	for i := 1; i <= 1000; i++ {
		rs = append(rs, rec(0, "v1", classify.OK, 200, time.Duration(i)*time.Millisecond))
	}
	rs = append(rs, rec(0, "v3", classify.OK, 200, 100*time.Microsecond))
	w := onePass(t, time.Minute, rs)[0]
	tests := []struct {
		name    string
		version string
		q       float64
		want    time.Duration
	}{
		{"p50", "v1", 0.5, 500 * time.Millisecond},
		{"p90", "v1", 0.9, 900 * time.Millisecond},
		{"p99", "v1", 0.99, 990 * time.Millisecond},
		{"max", "v1", 1, time.Second},
		{"exact below 256µs", "v3", 0.99, 100 * time.Microsecond},
		{"absent", "v2", 0.5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := w.Quantile(tc.version, tc.q)
			if got < tc.want || float64(got-tc.want) > float64(tc.want)/128 {
				t.Errorf("Quantile(%q, %g) = %v; want %v to +0.8%%", tc.version, tc.q, got, tc.want)
			}
		})
	}
	// Slower counts only whole buckets above d: of the 100 requests over
	// 900 ms, those sharing a bucket with 900 ms are not certainly slower.
	if got := w.Slower("v1", 900*time.Millisecond); got < 95 || got > 100 {
		t.Errorf("Slower(v1, 900ms) = %d; want 95 to 100", got)
	}
	for _, tc := range []struct {
		version string
		d       time.Duration
		want    int
	}{{"v1", 0, 1000}, {"v1", time.Second, 0}, {"v3", 0, 1}, {"v2", 0, 0}} {
		if got := w.Slower(tc.version, tc.d); got != tc.want {
			t.Errorf("Slower(%q, %v) = %d; want %d", tc.version, tc.d, got, tc.want)
		}
	}
}

func TestWindowCounts(t *testing.T) {
	t.Parallel()
	w := onePass(t, time.Minute, []Record{
		rec(0, "v1", classify.OK, 200, 0),
		rec(1, "v1", classify.RatingsUnavailable, 200, 0),
		rec(2, "v3", classify.OK, 200, 0),
		rec(3, "", classify.TransportError, 0, 0),
	})[0]
	got := map[string]any{
		"total": w.Total(), "v1": w.Count("v1"), "v1 errors": w.Errors("v1"), "none": w.Count(""),
		"error rate": w.ErrorRate(), "versions": w.Versions(), "status": w.Status,
	}
	want := map[string]any{
		"total": 4, "v1": 2, "v1 errors": 1, "none": 1,
		"error rate": 50.0, "versions": []string{"v1", "v3"}, "status": map[int]int{200: 3, 0: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("window accessors (-want +got):\n%s", diff)
	}
}
