package attack

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
)

var (
	uuidV4      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	traceparent = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$`)
)

// fakeClassify stands in for classify.Page: "page vN" is version vN, any
// other 200 body is unrecognized.
func fakeClassify(status int, _ http.Header, body []byte) classify.Result {
	switch {
	case status != http.StatusOK:
		return classify.Result{Outcome: classify.HTTPError}
	case bytes.HasPrefix(body, []byte("page v")) && len(body) >= 7:
		return classify.Result{Version: string(body[5:7])}
	}
	return classify.Result{Outcome: classify.Unrecognized}
}

// testServer records what every request carried.
type testServer struct {
	*httptest.Server
	hits, conns, logins atomic.Int64
	closed              atomic.Int64

	mu       sync.Mutex
	ids      []string
	traces   []string
	requests []*http.Request
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	return startTestServer(t, h, (*httptest.Server).Start)
}

// startTestServer is newTestServer with the way the server starts, such as
// StartTLS after setting its TLS config.
func startTestServer(t *testing.T, h http.HandlerFunc, start func(*httptest.Server)) *testServer {
	t.Helper()
	ts := &testServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			ts.logins.Add(1)
		} else {
			ts.hits.Add(1)
		}
		ts.mu.Lock()
		ts.ids = append(ts.ids, r.Header.Get("X-Request-Id"))
		ts.traces = append(ts.traces, r.Header.Get("Traceparent"))
		ts.requests = append(ts.requests, r)
		ts.mu.Unlock()
		h(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			ts.conns.Add(1)
		case http.StateClosed, http.StateHijacked:
			ts.closed.Add(1)
		}
	}
	start(srv)
	ts.Server = srv
	t.Cleanup(srv.Close)
	return ts
}

func page(v string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("page " + v)) }
}

// run runs an attack with a deadline so that no test can hang.
func run(t *testing.T, o Options) *Summary {
	t.Helper()
	s, err := runErr(t, o)
	if err != nil {
		t.Fatalf("Run() error: %v", err)
	}
	if !s.Done {
		t.Errorf("Run() summary has Done = false")
	}
	return s
}

// runErr is run for an attack that may fail.
func runErr(t *testing.T, o Options) (*Summary, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if o.Classify == nil {
		o.Classify = fakeClassify
	}
	return Run(ctx, o)
}

func (ts *testServer) seen() (ids, traces []string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.ids...), append([]string(nil), ts.traces...)
}

// bothClients runs f as a parallel subtest once per HTTP client: fasthttp,
// and net/http's Transport, which the attack uses when a proxy applies.
// f passes its Options through via.
func bothClients(t *testing.T, f func(t *testing.T, via func(Options) Options)) {
	t.Helper()
	for _, c := range []struct {
		name      string
		transport bool
	}{{"fasthttp", false}, {"net-http", true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f(t, func(o Options) Options { o.viaTransport = c.transport; return o })
		})
	}
}
