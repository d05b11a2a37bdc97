package attack

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

func readResults(t *testing.T, path string) []results.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := results.NewScanner(f, path)
	var rs []results.Record
	for sc.Scan() {
		rs = append(rs, sc.Record())
	}
	if sc.Err() != nil || sc.Warning() != nil {
		t.Fatalf("reading %s: error %v, warning %v", path, sc.Err(), sc.Warning())
	}
	return rs
}

func TestResultsFile(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, page("v2"))
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := results.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	run(t, Options{Target: ts.URL, Requests: 50, Workers: 2, Results: w})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rs := readResults(t, path)
	ids, _ := ts.seen()
	if len(rs) != 50 {
		t.Fatalf("%d records; want 50", len(rs))
	}
	for _, r := range rs {
		if r.Version != "v2" || r.Outcome != classify.OK || r.Status != 200 || r.Trace != "" || !slices.Contains(ids, r.ID) || r.Latency <= 0 {
			t.Errorf("record %+v; want an ok v2 sample with a sent id and no trace", r)
		}
	}
}

// TestResultsFlushedWhileRunning checks that records reach the disk within
// about a second, so that a killed run keeps what it measured.
func TestResultsFlushedWhileRunning(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, page("v1"))
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := results.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = Run(ctx, Options{Target: ts.URL, Rate: 20, Results: w, Classify: fakeClassify})
	}()
	deadline := time.Now().Add(results.FlushInterval + 700*time.Millisecond)
	for len(readResults(t, path)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(readResults(t, path)); n == 0 {
		t.Errorf("no record on disk %v after start", results.FlushInterval+700*time.Millisecond)
	}
	cancel()
	<-done
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestResultsUnwritable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, page("v1"))
	w := results.NewWriter(failingWriter{})
	defer w.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Run(ctx, Options{Target: ts.URL, Rate: 50, Results: w, Classify: fakeClassify})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("Run() error = %v; want the write error", err)
	}
	if took := time.Since(start); took > 3*time.Second || s == nil {
		t.Errorf("Run() returned after %v with summary %v; want a summary within about a second", took, s)
	}
}

// TestTransferEqualsOnePass is the merge property: samples spread over
// workers and transferred at random points add up to one pass over them all.
func TestTransferEqualsOnePass(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	versions := []string{"v1", "v2", "v3", ""}
	one, many := newAggregate(), newAggregate()
	single := newWorkerStats()
	workers := []*workerStats{newWorkerStats(), newWorkerStats(), newWorkerStats()}
	for i := range 5000 {
		v := versions[rng.IntN(len(versions))]
		s := sample{lat: time.Duration(rng.Int64N(int64(time.Second))), status: 200, outcome: classify.Outcome(rng.IntN(8))}
		add := func(ws *workerStats, agg *aggregate) {
			s.version = ws.versionIndex(v)
			ws.samples = append(ws.samples, s)
			if s.outcome != classify.OK {
				ws.addFailure(Failure{At: time.Unix(int64(i), 0), ID: string(rune('a' + i%26))})
			}
			if len(ws.samples) == cap(ws.samples) || rng.IntN(100) == 0 {
				agg.transfer(ws)
			}
		}
		add(single, one)
		add(workers[rng.IntN(len(workers))], many)
	}
	one.transfer(single)
	for _, ws := range workers {
		many.transfer(ws)
	}
	var a, b Summary
	one.fill(&a)
	many.fill(&b)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("merged summary differs from one pass (-one +merged):\n%s", diff)
	}
}

func TestObserveSeesEveryRequest(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, page("v3"))
	var mu sync.Mutex
	seen := map[string]results.Record{}
	observe := func(r *results.Record) {
		mu.Lock()
		defer mu.Unlock()
		seen[r.ID] = *r
	}
	run(t, Options{Target: ts.URL, Requests: 30, Workers: 3, Observe: observe})
	ids, _ := ts.seen()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 30 {
		t.Fatalf("Observe saw %d distinct requests; want 30", len(seen))
	}
	for _, id := range ids {
		if r, ok := seen[id]; !ok || r.Version != "v3" || r.Outcome != classify.OK {
			t.Errorf("request %s: observed %+v, %v; want an ok v3 record", id, r, ok)
		}
	}
}
