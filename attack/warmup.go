package attack

import (
	"context"
	"math"
	"net"
	"sync"
	"time"
)

const (
	// warmSpan sizes the open-loop pool started up front: enough workers
	// for this long of ticks, so a fast target needs no new worker at all.
	warmSpan = 2 * time.Millisecond
	// warmRate is the rate from which connections are opened before the
	// clock starts. At 20k/s, dialing on demand cost the first second
	// about 5% of its requests: each new worker dialed, the dials queued
	// at the server, and the wait started more workers.
	warmRate = 1000
	// warmBudget bounds the wait for those connections: a target that
	// does not answer is measured, not waited for.
	warmBudget = time.Second
)

// openWorkers is how many workers an open-loop attack starts up front.
func openWorkers(o Options) int {
	return min(max(o.Workers, int(math.Ceil(o.Rate*warmSpan.Seconds()))), o.MaxWorkers)
}

// dialer hands out connections opened in advance, then dials as usual.
type dialer struct {
	net   *net.Dialer
	ready chan warmConn
}

// warmConn is a connection opened in advance to addr (host:port as the
// Transport spells it).
type warmConn struct {
	addr string
	conn net.Conn
}

func newDialer(timeout time.Duration, warm int) *dialer {
	return &dialer{
		net:   &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		ready: make(chan warmConn, warm),
	}
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	select {
	case w := <-d.ready:
		if w.addr == addr && network == "tcp" {
			return w.conn, nil
		}
		w.conn.Close() // not for this address after all
	default:
	}
	return d.net.DialContext(ctx, network, addr)
}

// warm opens up to cap(d.ready) connections to the target within
// warmBudget, unless a proxy is in the way (the Transport would dial the
// proxy, not the target). Failures are left to the attack to count.
func (a *Attack) warm(ctx context.Context, d *dialer) {
	n := cap(d.ready)
	if n == 0 {
		return
	}
	if !direct(a.target) {
		return
	}
	addr := canonicalAddr(a.target.Scheme, a.target.Host)
	ctx, cancel := context.WithTimeout(ctx, warmBudget)
	defer cancel()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if c, err := d.net.DialContext(ctx, "tcp", addr); err == nil {
				d.ready <- warmConn{addr: addr, conn: c}
			}
		})
	}
	wg.Wait()
}

// canonicalAddr adds the scheme's default port, as the Transport does.
func canonicalAddr(scheme, host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}

// close closes the connections opened in advance and never used.
func (d *dialer) close() {
	for {
		select {
		case w := <-d.ready:
			w.conn.Close()
		default:
			return
		}
	}
}
