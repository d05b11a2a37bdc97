package attack

import (
	"math"
	"time"
)

// runOpen paces ticks from one goroutine (this one) to a bounded pool.
// Arrivals never wait for responses: a tick that finds every worker busy
// starts a new worker, or, at MaxWorkers, is dropped and counted.
func (a *Attack) runOpen() {
	n := openWorkers(a.o)
	a.free.Store(int64(n))
	a.lowFree.Store(int64(n))
	for range n {
		a.spawn(false, a.openLoop)
	}
	stop := make(chan struct{})
	go a.janitor(stop)
	// The rate is measured over the schedule's span, so a run on time
	// reports exactly the requested rate and a run behind reports less.
	scheduled := time.Duration(a.pace()) * a.interval
	a.paceEnd.Store(int64(max(time.Since(a.start), scheduled, 1)))
	close(stop)
	close(a.ticks)
}

// openLoop serves ticks until the pacer closes the channel or the janitor
// retires the worker. A tick still queued when the attack is halted
// (Ctrl-C) is not sent, and not counted.
func (a *Attack) openLoop(w *worker) {
	for {
		select {
		case _, ok := <-a.ticks:
			if !ok {
				return
			}
		case <-a.retire:
			a.leave(w)
			return
		}
		select {
		case <-a.done:
			a.sent.Add(^uint64(0))
			a.free.Add(1)
			continue
		default:
		}
		ok := w.hit()
		a.free.Add(1)
		if !ok {
			return
		}
	}
}

// pace sends tick n at n×interval after start. It asks vegeta's pacer how
// long to wait; the pacer's clock runs one interval ahead because it
// schedules hit n at (n+1)×interval and we want the first request at once.
//
// When the timer wakes it sends every tick that is due, so at high rates
// one wake-up (Go timers have about 1 ms resolution) serves many ticks.
// After a stall (GC, a busy CPU) the backlog is not sent in one burst: the
// smoother spreads it at a little above the rate.
// It returns the number of ticks scheduled, dropped ones included.
func (a *Attack) pace() (hits uint64) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	smooth := newSmoother(a.interval)
	for {
		if a.o.Requests > 0 && hits >= a.o.Requests {
			return hits
		}
		due := time.Duration(hits) * a.interval
		if a.o.Duration > 0 && due >= a.o.Duration {
			return hits
		}
		elapsed := time.Since(a.start)
		wait, stop := a.pacer.Pace(elapsed+a.interval, hits)
		if stop {
			return hits
		}
		if wait <= 0 && elapsed-due < smoothMax {
			wait = smooth.wait(elapsed)
		}
		if wait > 0 {
			if !a.sleep(timer, wait) {
				return hits
			}
			continue
		}
		if elapsed-due > lateAfter {
			a.late.Add(1)
		}
		if !a.dispatch() {
			return hits
		}
		hits++
	}
}

// sleep waits for d, or returns false once the attack is halted.
func (a *Attack) sleep(timer *time.Timer, d time.Duration) bool {
	timer.Reset(d)
	select {
	case <-timer.C:
		return true
	case <-a.done:
		return false
	}
}

// smoother caps the ticks sent in any 10 ms (in 1 ms slots) at
// smoothRatio times their share, at least share+2. Normal timer lateness
// (a few due ticks per wake-up) passes untouched; after a stall (GC, a busy
// CPU) the backlog goes out at 1.4× the rate instead of in one burst: a
// 20 ms stall at 20k/s becomes 50 ms at 1.4× rather than 400 requests at
// once. A backlog beyond smoothMax (a starved CPU) is sent at once again:
// the average rate matters more than smoothness.
type smoother struct {
	limit int32
	count [10]int32 // ticks sent in each of the last 10 ms
	ms    [10]int64 // which millisecond each count is for
}

const (
	smoothRatio = 1.4
	smoothMax   = 100 * time.Millisecond
)

func newSmoother(interval time.Duration) *smoother {
	share := float64(10*time.Millisecond) / float64(interval)
	return &smoother{limit: int32(max(math.Ceil(smoothRatio*share), math.Floor(share)+2))}
}

// wait counts one tick at now and returns 0, or returns how long until the
// window has room; the tick is then not counted.
func (s *smoother) wait(now time.Duration) time.Duration {
	m := int64(now / time.Millisecond)
	var sum int32
	for i, c := range s.count {
		if s.ms[i] > m-10 {
			sum += c
		}
	}
	if sum >= s.limit {
		return time.Millisecond - now%time.Millisecond
	}
	if i := m % 10; s.ms[i] != m {
		s.ms[i], s.count[i] = m, 1
	} else {
		s.count[i]++
	}
	return 0
}

// dispatch hands one tick to a free worker, or queues it briefly, or
// starts a worker, or drops the tick. It returns false once the attack is
// halted.
//
// free counts idle workers minus queued ticks. It is counted rather than
// found by a non-blocking send on an unbuffered channel: on a busy CPU a
// worker that has finished may not be back at its receive yet, and
// treating it as busy would start workers (and connections) that only add
// load. For the same reason a few ticks (backlog, about 0.5 ms worth) may
// wait for the next worker to finish before a new one is started: each new
// worker dials, and at 20k/s a burst of dials at start-up fed itself until
// MaxWorkers.
func (a *Attack) dispatch() bool {
	select {
	case <-a.done:
		return false
	default:
	}
	switch {
	case a.free.Load() > -a.backlog:
		a.free.Add(-1)
		a.noteFree()
		a.sent.Add(1)
		a.ticks <- struct{}{}
	case a.workerCount() < a.o.MaxWorkers:
		a.lowFree.Store(min(a.lowFree.Load(), 0))
		a.sent.Add(1)
		a.spawn(true, a.openLoop)
	default:
		a.dropped.Add(1)
	}
	return true
}

// runClosed keeps Workers requests in flight until a limit is reached.
func (a *Attack) runClosed() {
	if a.o.Duration > 0 {
		t := time.AfterFunc(a.o.Duration, a.halt)
		defer t.Stop()
	}
	for range a.o.Workers {
		a.spawn(false, a.closedLoop)
	}
	a.wg.Wait()
	a.paceEnd.Store(int64(max(time.Since(a.start), 1)))
}

func (a *Attack) closedLoop(w *worker) {
	for {
		select {
		case <-a.done:
			return
		default:
		}
		if n := a.sent.Add(1); a.o.Requests > 0 && n > a.o.Requests {
			a.sent.Add(^uint64(0)) // not sent after all
			return
		}
		if !w.hit() {
			return
		}
	}
}
