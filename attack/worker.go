package attack

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

// initialBody is the first body buffer of a worker; it grows to the
// Content-Length (up to MaxBody) on demand and is then reused for the life
// of the worker, so memory follows the page size, not MaxBody.
const initialBody = 4 << 10

// drainLimit bounds how much of a body beyond MaxBody is read and discarded
// to keep the connection reusable; past it, closing the connection is cheaper.
const drainLimit = 1 << 20

// worker sends requests one at a time. Everything it touches per request is
// its own: buffers, id generator, request template and stats buffer.
type worker struct {
	a       *Attack
	ids     *idGen
	stats   *workerStats
	buf     []byte
	scratch []byte                   // drain buffer, allocated on first use
	req     atomic.Pointer[reqState] // read by the watchdog
	fast    *fastReq                 // the fasthttp request, when the attack uses fasthttp
	cookie  string                   // session cookie after a successful login
	note    string                   // reason for the next failure when the Result has none
}

func (a *Attack) newWorker() *worker {
	w := &worker{a: a, ids: newIDGen(a.o.Unsampled), stats: newWorkerStats()}
	w.buf = make([]byte, min(initialBody, a.o.MaxBody))
	w.req.Store(w.newReqState())
	if a.fast != nil {
		w.fast = a.newFastReq()
	}
	return w
}

// hit sends one request, classifies the response and records the sample.
// It returns false if the attack must stop (the results file failed).
func (w *worker) hit() bool {
	id, tp := w.ids.next()
	if w.a.loginURL != nil && w.cookie == "" {
		start := time.Now()
		if res, status, ok := w.login(id, tp); !ok {
			return w.record(start, time.Since(start), status, res, id, tp)
		}
		id, tp = w.ids.next() // one id per request, so each finds its own trace
	}
	if w.fast != nil {
		return w.hitFast(id, tp)
	}
	st := w.prepare(id, tp)
	start := time.Now()
	st.arm(int64(start.Sub(w.a.start)))
	resp, err := w.a.transport.RoundTrip(st.req)
	if err != nil {
		st.disarm()
		return w.record(start, time.Since(start), 0, classify.Transport(w.a.clientError(st.cause(err))), id, tp)
	}
	body, err := w.read(resp)
	lat := time.Since(start)
	st.disarm()
	if err != nil {
		return w.record(start, lat, resp.StatusCode, classify.Transport(w.a.clientError(st.cause(err))), id, tp)
	}
	return w.record(start, lat, resp.StatusCode, w.a.o.Classify(resp.StatusCode, resp.Header, body), id, tp)
}

// read reads the body with readBody and closes it.
func (w *worker) read(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return w.readBody(resp.Body, resp.ContentLength)
}

// readBody reads up to MaxBody bytes of body into the worker's buffer,
// sized up front from the Content-Length cl (-1 or less: unknown), then
// drains up to drainLimit more so the connection can be reused.
func (w *worker) readBody(body io.Reader, cl int64) ([]byte, error) {
	limit := int(w.a.o.MaxBody)
	if cl > int64(len(w.buf)) && len(w.buf) < limit {
		w.grow(int(min(cl, int64(limit))))
	}
	n := 0
	for {
		if n == len(w.buf) {
			if n >= limit {
				return w.buf[:n], w.drain(body)
			}
			w.grow(min(2*n, limit))
		}
		m, err := body.Read(w.buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return w.buf[:n], nil
		}
		if err != nil {
			return w.buf[:n], err
		}
	}
}

func (w *worker) grow(size int) {
	nb := make([]byte, size)
	copy(nb, w.buf)
	w.buf = nb
}

func (w *worker) drain(body io.Reader) error {
	if w.scratch == nil {
		w.scratch = make([]byte, 4<<10)
	}
	for left := drainLimit; left > 0; {
		m, err := body.Read(w.scratch[:min(len(w.scratch), left)])
		left -= m
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil // the body is closed unread; the Transport drops the connection
}

// record buffers the sample, keeps failures with their ids and writes the
// results record. It returns false if the results file failed.
func (w *worker) record(at time.Time, lat time.Duration, status int, res classify.Result, id, tp string) bool {
	failed := res.Outcome != classify.OK
	ws := w.stats
	ws.mu.Lock()
	vi := ws.versionIndex(res.Version)
	version := ws.versions[vi]
	ws.samples = append(ws.samples, sample{lat: lat, status: int32(status), outcome: res.Outcome, version: vi})
	if failed {
		reason := res.Reason()
		if w.note != "" {
			reason, w.note = w.note, ""
		}
		ws.addFailure(Failure{At: at, Latency: lat, Status: status, Version: version, Outcome: res.Outcome,
			Name: res.Outcome.String(), Reason: reason, ID: id, Trace: tp})
	}
	if len(ws.samples) == cap(ws.samples) {
		w.a.agg.transfer(ws)
	}
	ws.mu.Unlock()
	if w.a.o.Results == nil && w.a.o.Observe == nil {
		return true
	}
	// Observers get every page's traceparent (the gate checks sampled
	// pages' traces); the results file keeps it for failures only.
	rec := results.Record{At: at, Latency: lat, Status: status, Version: version, Outcome: res.Outcome, ID: id, Trace: tp}
	if w.a.o.Observe != nil {
		w.a.o.Observe(&rec)
	}
	if w.a.o.Results == nil {
		return true
	}
	if !failed {
		rec.Trace = ""
	}
	if err := w.a.o.Results.Write(&rec); err != nil {
		w.a.fail(err)
		return false
	}
	return true
}
