package attack

import (
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
	a, err := New(Options{Target: ts.URL, Rate: 200, Duration: 1500 * time.Millisecond, Workers: 2, Classify: fakeClassify})
	if err != nil {
		t.Fatal(err)
	}
	a.idleWindow = 200 * time.Millisecond
	s, err := a.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.PeakWorkers < 10 || s.Workers >= s.PeakWorkers || s.Workers < 2 || s.Completed != s.Sent || s.Sent != 300 {
		t.Errorf("workers %d, peak %d, sent %d, completed %d; want the burst's workers retired, down to 2, nothing lost",
			s.Workers, s.PeakWorkers, s.Sent, s.Completed)
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
