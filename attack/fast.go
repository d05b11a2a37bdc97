package attack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/canary-gate/canary/classify"
)

// The attack's requests go through fasthttp unless an HTTP proxy from the
// environment applies to the target, which only net/http's Transport
// knows how to use, or HTTP2 is set, which fasthttp does not speak. On
// this 2-core box net/http's client cost about 29 µs of CPU per
// classified page, much of it in its per-connection read and write
// goroutines and the hand-offs between them; fasthttp reads and writes in
// the calling goroutine and reuses every request, response and buffer,
// for about 19 µs. Client and server share the cores, so that is
// the difference between about 34k and 45k pages/s (BENCHMARKS.md).

// fastIdle is how long a connection may sit idle in the pool before it is
// closed. The request is never retried (every request sent must be one
// sample), so a connection the server has already closed would cost a
// transport error; closing ours first, earlier than the 5 s of the
// shortest common server keep-alive (Node.js), avoids that race.
const fastIdle = 4 * time.Second

// direct reports whether requests to u go straight to it: no proxy from
// the environment applies, so fasthttp can send them.
func direct(u *url.URL) bool {
	p, err := http.ProxyFromEnvironment(&http.Request{URL: u})
	return p == nil && err == nil
}

// newFastClient returns the client for the target's host, dialing through
// d so that the connections opened before the clock started are used.
func newFastClient(o Options, u *url.URL, d *dialer, cfg *tls.Config) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:      canonicalAddr(u.Scheme, u.Host),
		Name:      userAgent,
		IsTLS:     u.Scheme == "https",
		TLSConfig: cfg,
		Dial: func(addr string) (net.Conn, error) {
			return d.DialContext(context.Background(), "tcp", addr)
		},
		MaxConns:                  o.MaxWorkers + 16, // a worker holds one at a time; closing ones still count
		MaxIdleConnDuration:       fastIdle,
		MaxIdemponentCallAttempts: 1,
		// fasthttp needs a response's whole header in this buffer. The 4 KB
		// default fails on the big cookies of some SSO proxies; Envoy allows
		// up to 60 KB, but every request in flight holds a buffer, and at
		// 20k/s a stall can put 512 in flight: 64 KB took RSS from about 35
		// to 55-90 MB in such runs. 32 KB covers real pages at half that.
		ReadBufferSize:         maxHeaderBytes,
		MaxResponseBodySize:    int(o.MaxBody),
		StreamResponseBody:     true, // bodies above MaxBody: classify the prefix, drain the rest
		DisablePathNormalizing: true, // request the URL exactly as given
	}
}

// fastReq is a worker's reusable request and response, and the
// http.Header that Classify receives, refilled for every response.
type fastReq struct {
	req    *fasthttp.Request
	resp   *fasthttp.Response
	header http.Header
	names  map[string]string // interned header names and values
}

// maxHeaderBytes is the largest response header the fasthttp client reads.
const maxHeaderBytes = 32 << 10

// maxInterned bounds fastReq.names; a header whose value changes with
// every response (a date, a request id) would otherwise grow it forever.
const maxInterned = 512

func (a *Attack) newFastReq() *fastReq {
	f := &fastReq{
		req:    &fasthttp.Request{},
		resp:   &fasthttp.Response{},
		header: make(http.Header, 8),
		names:  make(map[string]string, 32),
	}
	f.req.SetRequestURI(a.target.String())
	f.req.URI().DisablePathNormalizing = true
	for k, vs := range a.o.Headers {
		if http.CanonicalHeaderKey(k) == "Host" {
			continue
		}
		for _, v := range vs {
			f.req.Header.Add(k, v)
		}
	}
	if a.host != "" {
		f.req.Header.SetHost(a.host)
		f.req.UseHostHeader = true
	}
	if a.o.DisableKeepAlives {
		f.req.SetConnectionClose()
	}
	return f
}

// hitFast is hit for the fasthttp client; see hit.
func (w *worker) hitFast(id, tp string) bool {
	f := w.fast
	f.req.Header.Set("X-Request-Id", id)
	f.req.Header.Set("Traceparent", tp)
	start := time.Now()
	if err := w.a.fast.DoTimeout(f.req, f.resp, w.a.o.Timeout); err != nil {
		return w.record(start, time.Since(start), 0, classify.Transport(w.a.clientError(err)), id, tp)
	}
	status := f.resp.StatusCode()
	body, err := w.readFast(f.resp)
	lat := time.Since(start)
	if err != nil {
		return w.record(start, lat, status, classify.Transport(w.a.clientError(err)), id, tp)
	}
	var h http.Header
	if w.a.headers {
		h = f.fill(&f.resp.Header)
	}
	return w.record(start, lat, status, w.a.o.Classify(status, h, body), id, tp)
}

// readFast reads the body as read does: up to MaxBody bytes into the
// worker's buffer, then up to drainLimit more to keep the connection.
// Closing a stream that was not read to its end closes the connection.
func (w *worker) readFast(resp *fasthttp.Response) ([]byte, error) {
	bs := resp.BodyStream()
	if bs == nil { // no body at all, or fasthttp chose to buffer it
		b := resp.Body()
		return b[:min(len(b), int(w.a.o.MaxBody))], nil
	}
	defer resp.CloseBodyStream()
	return w.readBody(bs, int64(resp.Header.ContentLength()))
}

// fill refills f.header from h, reusing the strings of earlier responses,
// so that a page whose headers repeat costs no allocation.
func (f *fastReq) fill(h *fasthttp.ResponseHeader) http.Header {
	for k, vs := range f.header {
		f.header[k] = vs[:0]
	}
	for k, v := range h.All() {
		name := f.intern(k)
		f.header[name] = append(f.header[name], f.intern(v))
	}
	for k, vs := range f.header {
		if len(vs) == 0 {
			delete(f.header, k)
		}
	}
	return f.header
}

func (f *fastReq) intern(b []byte) string {
	if s, ok := f.names[string(b)]; ok {
		return s
	}
	if len(f.names) >= maxInterned {
		clear(f.names)
	}
	s := string(b)
	f.names[s] = s
	return s
}

// clientError words both clients' errors the same way, in terms of what
// the target did.
func (a *Attack) clientError(err error) error {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, errTimedOut):
		return fmt.Errorf("no complete response within the %v timeout", a.o.Timeout)
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, io.EOF):
		return errors.New("the server closed the connection before responding")
	case errors.As(err, new(*fasthttp.ErrSmallBuffer)):
		return fmt.Errorf("response headers larger than %d KB", maxHeaderBytes>>10)
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return errors.New("no free connection to the target")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no complete response within the %v timeout", a.o.Timeout)
	}
	return err
}
