package attack

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
)

func TestBoundedWorkersDropTicks(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(200 * time.Millisecond)
		_, _ = w.Write([]byte("page v1"))
	})
	s := run(t, Options{Target: ts.URL, Rate: 200, Duration: 500 * time.Millisecond, Workers: 2, MaxWorkers: 5})
	if s.Workers > 5 || s.Dropped == 0 || s.Sent+s.Dropped != 100 || s.Completed != s.Sent {
		t.Errorf("workers %d, sent %d, dropped %d, completed %d; want at most 5 workers, 100 ticks, some dropped",
			s.Workers, s.Sent, s.Dropped, s.Completed)
	}
	if !strings.Contains(s.String(), "were not sent: all 5 workers were busy") {
		t.Errorf("summary does not warn about dropped requests:\n%s", s)
	}
}

// TestIdleWorkersRetire grows the pool with a slow phase, then watches the
// live snapshots for the surplus to retire once the target is fast again.
// It watches instead of judging the end state: on a loaded machine a stall
// late in a fixed-length run can grow the pool again after the last idle
// window, and then the end state says nothing about retirement.
func TestIdleWorkersRetire(t *testing.T) {
	t.Parallel()
	var slow atomic.Bool
	slow.Store(true)
	ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if slow.Load() {
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = w.Write([]byte("page v1"))
	})
	time.AfterFunc(300*time.Millisecond, func() { slow.Store(false) })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var retired atomic.Pointer[Summary]
	a, err := New(Options{Target: ts.URL, Rate: 200, Duration: 10 * time.Second, Workers: 2, Classify: fakeClassify,
		Every: 20 * time.Millisecond, Progress: func(s *Summary) {
			if !slow.Load() && s.PeakWorkers >= 10 && s.Workers < s.PeakWorkers && retired.Load() == nil {
				retired.Store(s)
				cancel() // seen; the rest of the run would prove nothing more
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	a.idleWindow = 200 * time.Millisecond
	s, err := a.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := retired.Load()
	if r == nil {
		t.Fatalf("workers %d, peak %d after %d requests in 10s: the burst's workers never retired", s.Workers, s.PeakWorkers, s.Sent)
	}
	if r.Workers < 2 || s.Workers < 2 || s.Completed != s.Sent {
		t.Errorf("workers %d (then %d), peak %d, sent %d, completed %d; want at least the 2 started up front, nothing lost",
			r.Workers, s.Workers, s.PeakWorkers, s.Sent, s.Completed)
	}
}

// TestWarmUp checks that a fast open-loop attack opens its connections
// before the clock starts, uses them, and closes every one at the end.
func TestWarmUp(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, page("v1"))
	s := run(t, Options{Target: ts.URL, Rate: 20000, Requests: 400, Workers: 4})
	if want := openWorkers(Options{Rate: 20000, Workers: 4, MaxWorkers: DefaultMaxWorkers}); want != 40 || ts.conns.Load() < int64(want) {
		t.Errorf("server saw %d connections; want at least the %d opened up front", ts.conns.Load(), want)
	}
	if s.Count(classify.OK) != 400 {
		t.Errorf("ok = %d; want 400", s.Count(classify.OK))
	}
	deadline := time.Now().Add(2 * time.Second)
	for ts.closed.Load() < ts.conns.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if ts.closed.Load() != ts.conns.Load() {
		t.Errorf("%d of %d connections still open after Run", ts.conns.Load()-ts.closed.Load(), ts.conns.Load())
	}
}
