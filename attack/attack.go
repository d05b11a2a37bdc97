package attack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/valyala/fasthttp"
)

// lateAfter is how far behind schedule a tick must be dispatched to count
// as late. Go timers wake about 1 ms late as a matter of course; only a
// stall well beyond that is worth reporting.
const lateAfter = 10 * time.Millisecond

// Attack is one run. Create it with New, start it with Run and read live
// numbers with Snapshot from any goroutine.
type Attack struct {
	o         Options
	target    *url.URL
	loginURL  *url.URL
	host      string
	tls       *tls.Config          // shared by both clients
	transport *http.Transport      // for logins, and for requests when fast is nil
	fast      *fasthttp.HostClient // for requests, unless a proxy is in the way or HTTP2 is set
	dialer    *dialer
	pacer     vegeta.ConstantPacer
	interval  time.Duration // between ticks; 0 in closed loop
	headers   bool          // Classify reads response headers

	base  context.Context // for requests: values of Run's ctx, never cancelled
	start time.Time
	ticks chan struct{}
	done  chan struct{}
	halt  func()
	wg    sync.WaitGroup

	sent, dropped, late, logins atomic.Uint64
	paceEnd                     atomic.Int64 // ns after start when sending stopped; 0 while sending
	started, interrupted        atomic.Bool

	// The open-loop pool; see dispatch and janitor.
	free        atomic.Int64 // idle workers minus queued ticks
	backlog     int64        // ticks that may queue for a busy worker
	lowFree     atomic.Int64 // lowest free since the janitor last looked
	retire      chan struct{}
	idleWindow  time.Duration // the const idleWindow; shorter in tests
	peakWorkers atomic.Int64

	wmu     sync.Mutex
	workers []*worker
	agg     *aggregate

	errOnce sync.Once
	err     error
}

// New validates o and prepares an attack; nothing is sent until Run.
func New(o Options) (*Attack, error) {
	u, cfg, err := o.validate()
	if err != nil {
		return nil, err
	}
	headers := o.Classify != nil
	o = o.withDefaults()
	a := &Attack{
		o:      o,
		target: u,
		host:   o.Headers.Get("Host"),
		tls:    cfg,
		ticks:  make(chan struct{}, o.MaxWorkers+int(backlog(o.Rate))),
		retire: make(chan struct{}, o.MaxWorkers),

		idleWindow: idleWindow,
		done:       make(chan struct{}),
		agg:        newAggregate(),
	}
	a.headers = headers
	a.halt = sync.OnceFunc(func() { close(a.done) })
	if o.Login != "" {
		a.loginURL = u.ResolveReference(&url.URL{Path: "/login"})
	}
	if o.Rate > 0 {
		a.backlog = backlog(o.Rate)
		a.pacer = constantPacer(o.Rate)
		a.interval = a.pacer.Per / time.Duration(a.pacer.Freq)
	}
	warm := 0
	if o.Rate >= warmRate && !o.HTTP2 { // HTTP/2 multiplexes the workers over a connection or two
		warm = openWorkers(o)
	}
	a.dialer = newDialer(o.Timeout, warm)
	a.transport = newTransport(o, a.dialer, cfg)
	if !o.viaTransport && !o.HTTP2 && direct(u) {
		a.fast = newFastClient(o, u, a.dialer, cfg)
	}
	return a, nil
}

// backlog is how many ticks may wait for a busy worker: about 0.5 ms
// worth, so none waits longer than a fraction of a millisecond at high
// rates, and none at all below 2,000/s, where a tick is never held back.
func backlog(rate float64) int64 {
	return int64(rate * 0.0005)
}

// constantPacer expresses rate as vegeta's integer Freq per Per.
func constantPacer(rate float64) vegeta.ConstantPacer {
	if rate == math.Trunc(rate) && rate <= math.MaxInt32 {
		return vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}
	}
	return vegeta.ConstantPacer{Freq: 1, Per: time.Duration(math.Round(float64(time.Second) / rate))}
}

func newTransport(o Options, d *dialer, cfg *tls.Config) *http.Transport {
	t := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         d.DialContext,
		MaxIdleConnsPerHost: o.MaxWorkers,
		DisableKeepAlives:   o.DisableKeepAlives,
		DisableCompression:  true,           // classify the bytes the server sent
		IdleConnTimeout:     2 * idleWindow, // connections of retired workers
		TLSHandshakeTimeout: o.Timeout,
		TLSClientConfig:     cfg,
		// One read syscall for a 5 KB product page instead of two with the
		// default 4 KB; bigger bodies are read straight into the worker's
		// buffer anyway, so more would only cost memory per connection.
		ReadBufferSize: 8 << 10,
	}
	if o.HTTP2 {
		// HTTP/2 only, so that a server without it fails loudly instead of
		// being measured over HTTP/1.1: h2 by ALPN over TLS, prior
		// knowledge over plain http.
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP2(true)
		t.Protocols.SetUnencryptedHTTP2(true)
	}
	return t
}

// Run sends requests until Duration has passed, Requests were sent, ctx is
// done or the results file fails. On ctx cancellation it stops sending, lets
// in-flight requests finish or time out, counts them, and returns the
// summary with a nil error: stopping by Ctrl-C is a normal end.
func Run(ctx context.Context, o Options) (*Summary, error) {
	a, err := New(o)
	if err != nil {
		return nil, err
	}
	return a.Run(ctx)
}

// Run runs the attack; see the package-level Run. It may be called once.
func (a *Attack) Run(ctx context.Context) (*Summary, error) {
	if !a.started.CompareAndSwap(false, true) {
		return nil, errors.New("attack: Run called twice")
	}
	defer a.transport.CloseIdleConnections()
	if a.fast != nil {
		defer a.fast.CloseIdleConnections()
	}
	defer a.dialer.close()
	a.base = context.WithoutCancel(ctx)
	if err := a.check(ctx); err != nil {
		return nil, err
	}
	a.warm(ctx, a.dialer) // before the clock starts
	a.start = time.Now()
	stopBridge := context.AfterFunc(ctx, func() {
		a.interrupted.Store(true)
		a.halt()
	})
	defer stopBridge()
	stopProgress := a.progress()
	stopWatchdog := make(chan struct{})
	if a.fast == nil { // fasthttp enforces Timeout with connection deadlines
		go a.watchdog(stopWatchdog)
	}
	if a.o.Rate > 0 {
		a.runOpen()
	} else {
		a.runClosed()
	}
	a.wg.Wait()
	close(stopWatchdog)
	stopProgress()
	if a.o.Results != nil {
		if err := a.o.Results.Flush(); err != nil {
			a.fail(err)
		}
	}
	s := a.Snapshot()
	s.Done = true
	return s, a.err
}

// fail records the first fatal error and stops the attack.
func (a *Attack) fail(err error) {
	a.errOnce.Do(func() { a.err = fmt.Errorf("attack: %w", err) })
	a.halt()
}

func (a *Attack) progress() (stop func()) {
	if a.o.Progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(a.o.Every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				a.o.Progress(a.Snapshot())
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

// spawn starts a worker; first says whether it owes a hit right away (the
// tick that found no idle worker).
func (a *Attack) spawn(first bool, loop func(*worker)) {
	w := a.newWorker()
	a.wmu.Lock()
	a.workers = append(a.workers, w)
	if n := int64(len(a.workers)); n > a.peakWorkers.Load() {
		a.peakWorkers.Store(n) // under wmu: no lost update
	}
	a.wmu.Unlock()
	a.wg.Go(func() {
		defer func() { w.req.Load().cancel() }()
		if first {
			ok := w.hit()
			a.free.Add(1)
			if !ok {
				return
			}
		}
		loop(w)
	})
}

func (a *Attack) workerCount() int {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	return len(a.workers)
}
