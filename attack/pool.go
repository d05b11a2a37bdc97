package attack

import (
	"slices"
	"time"
)

// idleWindow is how long open-loop workers must all have stayed idle before
// the surplus retires. A burst (a slow target, a busy CPU) grows the pool;
// without this the pool, its connections and their memory would stay at
// the burst's size for the rest of a long run.
const idleWindow = 10 * time.Second

// noteFree records the lowest free count the pacer has seen since the
// janitor last looked. Only the pacer writes it.
func (a *Attack) noteFree() {
	if f := a.free.Load(); f < a.lowFree.Load() {
		a.lowFree.Store(f)
	}
}

// janitor retires workers that were idle for a whole a.idleWindow, down to
// the pool started up front, until stop is closed. The idle connections they leave close
// after the Transport's IdleConnTimeout.
func (a *Attack) janitor(stop <-chan struct{}) {
	t := time.NewTicker(a.idleWindow)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		surplus := min(a.lowFree.Swap(a.free.Load()), int64(a.workerCount()-openWorkers(a.o)))
		for ; surplus > 0; surplus-- {
			f := a.free.Load()
			if f <= 0 || !a.free.CompareAndSwap(f, f-1) {
				break // a tick took the worker meanwhile; try next window
			}
			a.retire <- struct{}{}
		}
	}
}

// leave removes a retiring worker, keeping what it measured.
func (a *Attack) leave(w *worker) {
	w.stats.mu.Lock()
	a.agg.transfer(w.stats)
	w.stats.mu.Unlock()
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if i := slices.Index(a.workers, w); i >= 0 {
		a.workers = slices.Delete(a.workers, i, i+1)
	}
}
