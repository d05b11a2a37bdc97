package attack

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// reqState is a worker's reusable request: the *http.Request, its Header map
// and its context are built once and reused for every request, which saves
// about 1 KB of allocation and a timer per request.
//
// Two things make reuse unsafe, and either one makes the worker build a
// fresh state:
//   - The Transport may still be writing the previous request: a server can
//     answer before reading it. The WroteRequest hook tells us it is done.
//   - The timeout fired, which cancelled the context for good.
type reqState struct {
	req    *http.Request
	id     []string // the X-Request-Id value slice inside req.Header
	tp     []string // the Traceparent value slice inside req.Header
	cancel context.CancelFunc
	timer  *time.Timer // cancels the context when a request takes too long
	wrote  atomic.Bool
	used   bool
	fired  bool
}

func (w *worker) newReqState() *reqState {
	st := &reqState{id: []string{""}, tp: []string{""}}
	h := w.a.o.Headers.Clone()
	if h == nil {
		h = make(http.Header, 3)
	}
	h["X-Request-Id"] = st.id
	h["Traceparent"] = st.tp
	if w.cookie != "" {
		h["Cookie"] = []string{w.cookie}
	}
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { st.wrote.Store(true) }}
	ctx, cancel := context.WithCancel(httptrace.WithClientTrace(w.a.base, trace))
	st.cancel = cancel
	st.timer = time.AfterFunc(time.Hour, cancel)
	st.timer.Stop()
	st.req = (&http.Request{
		Method:     http.MethodGet,
		URL:        w.a.target,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       w.a.host,
	}).WithContext(ctx)
	return st
}

// prepare returns the request for the next hit with fresh ids set.
func (w *worker) prepare(id, tp string) *reqState {
	if st := w.req; st.used && (st.fired || !st.wrote.Load()) {
		st.cancel() // releases whatever the Transport still holds
		w.req = w.newReqState()
	}
	st := w.req
	st.used = true
	st.wrote.Store(false)
	st.id[0], st.tp[0] = id, tp
	return st
}

// arm starts the request's timeout.
func (st *reqState) arm(d time.Duration) { st.timer.Reset(d) }

// disarm stops the timeout once the body is read. If the timer already
// fired, or is firing, the context is (or soon will be) cancelled.
func (st *reqState) disarm() {
	if !st.timer.Stop() {
		st.fired = true
	}
}

// close releases the state when the worker exits.
func (st *reqState) close() {
	st.timer.Stop()
	st.cancel()
}
