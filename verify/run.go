package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/prom"
	"github.com/canary-gate/canary/results"
)

// A gate runs in two phases of load with a quiet pause between them:
//
//	settle ── pause: server baseline ── evidence ── pause: final scrape
//
// Settling pages are not evidence. The pause lets every sidecar's counters
// be read (Prometheus scrape or direct) while no request is in flight, so
// the server window holds exactly the evidence phase's requests: with load
// running, each target's baseline would fall at its own scrape phase and
// the windows would differ by up to rate × scrape interval requests.
type gate struct {
	o     *Options
	start time.Time

	mu        sync.Mutex
	seq       *decide.Sequential
	settle    *decide.Settle
	discarded int
	effective time.Time // first evidence page
	pages     map[string]int
	lastDone  time.Time
	mirrored  int     // pages from the mirror target: must stay 0
	lost      lostRun // transport errors in a row
	sight     sight   // whether the classifier names any version
	settleCut bool    // settling used its half of the budget unsettled
	sent      int     // requests sent in all phases, within MaxRequests
	traces    *traceSampler
	stop      context.CancelFunc
}

// Run runs one gate until the evidence decides, MaxRequests, the timeout or
// ctx ends it, then checks the server side. It returns an error only when
// the gate could not run at all (bad options, target or Prometheus
// unreachable at the start).
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := probe(ctx, o.Attack); err != nil {
		return nil, err
	}
	if o.Prometheus != nil {
		if err := o.Prometheus.Ping(ctx); err != nil {
			return nil, err
		}
	}
	seq, err := decide.NewSequential(o.Criteria)
	if err != nil {
		return nil, err
	}
	if o.Classifier != "" {
		seq.SetUnit("response") // not Bookinfo: its answers are no pages
	}
	g := &gate{o: &o, start: time.Now(), seq: seq, pages: map[string]int{}}
	g.sight.watch(&g.o.Attack)
	g.traces = newTraceSampler(g.o)
	if o.Settle {
		g.settle = decide.NewSettle(o.Criteria, o.SettleTimeout)
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	if g.settle != nil || o.SettleMin > 0 {
		// Settling gets at most half the budget, so a route that never
		// settles (a wrong expectation's strays) leaves the evidence
		// enough pages to decide.
		if _, err := g.phaseN(ctx, g.settleObserve, max(o.Criteria.MaxRequests/2, 1)); err != nil {
			return nil, err
		}
		g.mu.Lock()
		g.settleCut = g.stop != nil // the phase ended before the settle rule did
		g.mu.Unlock()
	}
	if err := g.sight.err(g.o); err != nil {
		return nil, err
	}
	base := g.baseline(ctx)
	sum, err := g.phase(ctx, g.evidenceObserve)
	if err != nil {
		return nil, err
	}
	if err := g.sight.err(g.o); err != nil {
		return nil, err
	}
	res := g.result(ctx, sum, base)
	for ctx.Err() == nil && serverHeld(res) {
		n := g.extension()
		if n == 0 {
			break
		}
		if _, err := g.phaseN(ctx, g.evidenceObserve, n); err != nil {
			break
		}
		res = g.result(ctx, sum, base)
		res.Extended += n
	}
	res.Interrupted = ctx.Err() != nil && seq.Verdict() == decide.Pending
	return res, nil
}

// unreachable says since when the target has answered nothing, when it
// stopped the gate; "" otherwise.
func (g *gate) unreachable() string {
	if !g.lost.unreachable() {
		return ""
	}
	return fmt.Sprintf("target unreachable since %s: the last %d requests got no response", g.lost.first.UTC().Format("15:04:05.000"), g.lost.n)
}

// serverHeld reports whether the pages passed while the server's health
// witness has a check past its margin and undecided: the gate must not
// pass on it, so it sends more load for the server to decide.
func serverHeld(r *Result) bool {
	return r.Client.Verdict == decide.Pass && r.Server != nil && r.Server.Ran && r.Server.Verdict == decide.Pass &&
		len(heldChecks(r.Server.Health)) > 0
}

// extension is how many more pages the server witness gets: as many again
// as the evidence so far, so the rounds are few, within MaxRequests in all.
func (g *gate) extension() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	total := 0
	for _, n := range g.pages {
		total += n
	}
	return max(0, min(total, g.o.Criteria.MaxRequests-g.sent))
}

// phase runs load until observe stops it or ctx ends.
func (g *gate) phase(ctx context.Context, observe func(*results.Record)) (*attack.Summary, error) {
	return g.phaseN(ctx, observe, 0)
}

// phaseN is phase stopping after n requests (0: no limit).
func (g *gate) phaseN(ctx context.Context, observe func(*results.Record), n int) (*attack.Summary, error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g.mu.Lock()
	g.stop = cancel
	g.mu.Unlock()
	ao := g.o.Attack
	// Settling, evidence and extensions share one budget: --max-requests
	// bounds what the gate sends in all.
	g.mu.Lock()
	left := g.o.Criteria.MaxRequests - g.sent
	g.mu.Unlock()
	if left <= 0 {
		return &attack.Summary{}, nil
	}
	if n <= 0 || n > left {
		n = left
	}
	ao.Requests = uint64(n)
	ao.Observe = observe
	if g.o.Progress != nil {
		ao.Progress, ao.Every = func(s *attack.Summary) {
			p := g.progress()
			p.Load = s
			g.o.Progress(p)
		}, time.Second
	}
	return attack.Run(pctx, ao)
}

// probeTimeout bounds the probe's one request.
const probeTimeout = 10 * time.Second

// probe makes one request so that a target that is down at the start is an
// error (exit 4), not hours of transport errors counted as evidence. It
// goes through attack.Run, so the attack's own client, TLS options and
// HTTP/2 apply, and a certificate problem comes back as attack.ErrTLS.
func probe(ctx context.Context, o attack.Options) error {
	o.Rate, o.Duration, o.Requests, o.Workers, o.MaxWorkers = 0, 0, 1, 1, 0
	o.Login, o.Results, o.Observe, o.Progress = "", nil, nil, nil
	o.Classify = func(int, http.Header, []byte) classify.Result { return classify.Result{} } // any answer will do
	if o.Timeout == 0 || o.Timeout > probeTimeout {
		o.Timeout = probeTimeout
	}
	s, err := attack.Run(ctx, o)
	if err != nil {
		return err
	}
	if len(s.Failures) > 0 && s.Failures[0].Outcome == classify.TransportError {
		return fmt.Errorf("%w: %s", ErrUnreachable, s.Failures[0].Reason)
	}
	return nil
}

func (g *gate) hasServer() bool { return g.o.Prometheus != nil || len(g.o.Scrape) > 0 }

// settleObserve leaves pages out until the settle rule (and SettleMin)
// says the new weights are in force, then ends the phase.
func (g *gate) settleObserve(r *results.Record) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent++
	if g.sight.blind(r) && g.stop != nil {
		g.stop()
		g.stop = nil
		return
	}
	if g.stop == nil {
		return // settled: pages still in flight are not evidence either
	}
	g.discarded++
	if r.At.Before(g.start.Add(g.o.SettleMin)) {
		return
	}
	if g.settle == nil || g.settle.Observe(r.Version, time.Now()) {
		g.stop()
		g.stop = nil
	}
}

// evidenceObserve feeds every page of the evidence phase to the test.
func (g *gate) evidenceObserve(r *results.Record) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent++
	if g.sight.blind(r) && g.stop != nil {
		g.stop()
		return
	}
	if done := r.At.Add(r.Latency); done.After(g.lastDone) {
		g.lastDone = done
	}
	g.pages[r.Version]++
	if m := g.o.Mirror; m != nil && r.Version == m.Version {
		g.mirrored++
	}
	if g.effective.IsZero() {
		g.effective = r.At
	}
	g.traces.observe(r)
	if g.seq.Verdict() != decide.Pending {
		return // the rest of the in-flight pages are in the server window only
	}
	if r.Outcome == classify.TransportError {
		// No response at all: the target, not a version, failed. It is
		// counted in the load's outcomes, never against a version, and a
		// run of them ends the gate as unreachable, never as a FAIL.
		if g.lost.add(r) && g.stop != nil {
			g.stop()
		}
		return
	}
	g.lost = lostRun{}
	g.seq.Add(r.Version, r.Outcome == classify.OK, r.Latency)
	if g.seq.Verdict() != decide.Pending && g.stop != nil {
		g.stop()
	}
}

// base is the server window's start: when the quiet baseline was read.
type base struct {
	at   time.Time
	snap prom.Snapshot
	err  error
}

// baseline reads the server-side counters while no request is in flight.
func (g *gate) baseline(ctx context.Context) base {
	if !g.hasServer() {
		return base{err: errNoServer}
	}
	ctx, cancel := context.WithTimeout(ctx, g.o.ServerWait)
	defer cancel()
	at := time.Now()
	if c := g.o.Prometheus; c != nil {
		err := c.WaitScraped(ctx, g.o.selector(), at)
		return base{at: time.Now(), err: err}
	}
	snap, err := (&prom.Scraper{URLs: g.o.Scrape}).Settle(ctx, 250*time.Millisecond)
	return base{at: at, snap: snap, err: err}
}

var errNoServer = errors.New("no server-side source")

func (g *gate) progress() Progress {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := Progress{Elapsed: time.Since(g.start), Discarded: g.discarded, Decision: g.seq.Decision()}
	p.Settling = g.settle != nil && !g.settle.Settled()
	return p
}

// result assembles the verdict once the load has stopped.
func (g *gate) result(ctx context.Context, sum *attack.Summary, b base) *Result {
	g.mu.Lock()
	res := &Result{Target: g.o.Attack.Target, Client: g.seq.Decision(), Load: sum, Start: g.start}
	res.Settle = SettleInfo{Enabled: g.settle != nil || g.o.SettleMin > 0, Discarded: g.discarded, Effective: g.effective}
	if g.settle != nil {
		res.Settle.Window, res.Settle.TimedOut = g.settle.Window(), g.settle.TimedOut() || g.settleCut
	}
	if !g.effective.IsZero() {
		res.Settle.After = g.effective.Sub(g.start)
	}
	g.mu.Unlock()
	if g.hasServer() {
		res.Server = g.server(ctx, b)
		res.Mirror = g.mirror(res.Server)
	}
	g.mu.Lock()
	res.Pages, res.PagesOfNote = g.traces.notable.List(), g.traces.notable.Total()
	res.Unreachable = g.unreachable()
	g.mu.Unlock()
	res.Traces = g.traces.check(ctx)
	res.Verdict, res.Reason = overall(g.o, res)
	res.End = time.Now()
	return res
}

// lostRun is a run of requests that got no response. A target that has
// answered nothing for lostFor and lostPages requests is unreachable: the
// gate stops with what it has.
type lostRun struct {
	n           int
	first, last time.Time
}

const (
	lostPages = 20
	lostFor   = 3 * time.Second
)

// add counts one more lost request and reports whether the target is now
// unreachable.
func (l *lostRun) add(r *results.Record) bool {
	if l.n == 0 {
		l.first = r.At
	}
	l.n++
	l.last = r.At
	return l.unreachable()
}

func (l *lostRun) unreachable() bool { return l.n >= lostPages && l.last.Sub(l.first) >= lostFor }
