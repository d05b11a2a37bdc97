package attack

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
)

func TestRequestsExact(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		tests := []struct {
			name string
			rate float64
		}{
			{"closed loop", 0},
			{"open loop", 2000},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ts := newTestServer(t, page("v1"))
				s := run(t, via(Options{Target: ts.URL, Rate: tc.rate, Requests: 137, Workers: 4}))
				if got := ts.hits.Load(); got != 137 || s.Sent != 137 || s.Completed != 137 {
					t.Errorf("server saw %d, sent %d, completed %d; want 137 each", got, s.Sent, s.Completed)
				}
				if got := s.Count(classify.OK); got != 137 || len(s.Versions) != 1 || s.Versions[0].Name != "v1" {
					t.Errorf("ok = %d, versions %+v; want 137 ok, all v1", got, s.Versions)
				}
			})
		}
	})
}

func TestRateRoughlyRespected(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, page("v2"))
	start := time.Now()
	s := run(t, Options{Target: ts.URL, Rate: 200, Duration: time.Second})
	took := time.Since(start)
	if got := ts.hits.Load(); got != 200 || s.Sent != 200 {
		t.Errorf("server saw %d requests, sent %d in 1s at 200/s; want 200", got, s.Sent)
	}
	// Loose on purpose: a loaded machine delays the pacer, and the rate is
	// measured over the real span.
	if s.Rate < 120 || s.Rate > 201 || took > 5*time.Second {
		t.Errorf("Rate = %.1f/s after %v; want about 200/s within 5s", s.Rate, took)
	}
}

func TestFailuresAreData(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		slow := func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
		tests := []struct {
			name    string
			handler http.HandlerFunc
			timeout time.Duration
			want    classify.Outcome
			status  int
		}{
			{"timeout", slow, 50 * time.Millisecond, classify.TransportError, 0},
			{"server error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, 0, classify.HTTPError, 500},
			{"garbage", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("\x00\xffgarbage")) }, 0,
				classify.Unrecognized, 200},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ts := newTestServer(t, tc.handler)
				s := run(t, via(Options{Target: ts.URL, Requests: 6, Workers: 3, Timeout: tc.timeout}))
				if got := s.Count(tc.want); got != 6 || s.Status[tc.status] != 6 {
					t.Errorf("%s = %d, status %d = %d; want 6 each (summary:\n%s)", tc.want, got, tc.status, s.Status[tc.status], s)
				}
				checkFailureIDs(t, ts, s, 6, tc.want != classify.TransportError)
				if r := s.Failures[0].Reason; tc.timeout > 0 && !strings.Contains(r, "no complete response within the 50ms timeout") {
					t.Errorf("reason %q; want it to name the timeout", r)
				}
			})
		}
	})
}

// checkFailureIDs checks that failed samples keep their ids and, if
// received, that the server saw them (a request that timed out may not
// have reached the server at all).
func checkFailureIDs(t *testing.T, ts *testServer, s *Summary, want int, received bool) {
	t.Helper()
	ids, traces := ts.seen()
	if len(s.Failures) != want {
		t.Fatalf("%d recent failures; want %d", len(s.Failures), want)
	}
	for _, f := range s.Failures {
		if !uuidV4.MatchString(f.ID) || !traceparent.MatchString(f.Trace) {
			t.Errorf("failure %+v: want a request id and a traceparent", f)
		}
		if received && (!slices.Contains(ids, f.ID) || !slices.Contains(traces, f.Trace)) {
			t.Errorf("failure %+v: id or traceparent not sent", f)
		}
	}
}

// TestTargetDown checks that a refused connection is data, not an error,
// also where Run checks TLS or HTTP/2 before the load.
func TestTargetDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scheme string
		http2  bool
	}{
		{"http", "http", false},
		{"https", "https", false},
		{"h2c", "http", true},
		{"h2", "https", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bothClients(t, func(t *testing.T, via func(Options) Options) {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := l.Addr().String()
				l.Close() // nothing listens there any more
				s := run(t, via(Options{Target: tc.scheme + "://" + addr + "/productpage", HTTP2: tc.http2,
					Rate: 100, Duration: 300 * time.Millisecond}))
				if s.Completed == 0 || s.Count(classify.TransportError) != s.Completed || s.Status[0] != s.Completed {
					t.Errorf("completed %d, transport errors %d; want all transport errors:\n%s", s.Completed, s.Count(classify.TransportError), s)
				}
				if line := StatusLine(nil, s); !strings.Contains(line, "target down?") {
					t.Errorf("StatusLine() = %q; want it to say target down?", line)
				}
			})
		})
	}
}

func TestMaxBodyKeepsConnections(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		body := "page v3" + strings.Repeat("x", 100<<10)
		ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) })
		var longest atomic.Int64
		classifyLen := func(status int, h http.Header, b []byte) classify.Result {
			if n := int64(len(b)); n > longest.Load() {
				longest.Store(n)
			}
			return fakeClassify(status, h, b)
		}
		s := run(t, via(Options{Target: ts.URL, Requests: 40, Workers: 2, MaxBody: 1000, Classify: classifyLen}))
		if got := longest.Load(); got != 1000 {
			t.Errorf("longest body classified = %d bytes; want MaxBody = 1000", got)
		}
		// The Transport returns a drained connection to its pool asynchronously,
		// so a loaded machine may see a few more connections than workers.
		if s.Count(classify.OK) != 40 || ts.conns.Load() > 8 {
			t.Errorf("ok %d over %d connections; want 40 over a few (drained and reused)", s.Count(classify.OK), ts.conns.Load())
		}
	})
}

func TestKeepAliveOff(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		ts := newTestServer(t, page("v1"))
		run(t, via(Options{Target: ts.URL, Requests: 10, Workers: 1, DisableKeepAlives: true}))
		if got := ts.conns.Load(); got != 10 {
			t.Errorf("10 requests used %d connections; want 10 with keep-alive off", got)
		}
	})
}

func TestHeadersAndIDs(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		ts := newTestServer(t, page("v1"))
		h := http.Header{"X-Canary": {"yes"}, "Host": {"bookinfo.example"}}
		run(t, via(Options{Target: ts.URL + "/productpage?u=normal", Requests: 200, Workers: 4, Headers: h}))
		ids, traces := ts.seen()
		seen := map[string]bool{}
		for i, id := range ids {
			if !uuidV4.MatchString(id) || !traceparent.MatchString(traces[i]) || seen[id] || seen[traces[i]] {
				t.Fatalf("request %d: x-request-id %q, traceparent %q; want fresh, valid ids", i, id, traces[i])
			}
			seen[id], seen[traces[i]] = true, true
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		for _, r := range ts.requests {
			if r.Header.Get("X-Canary") != "yes" || r.Host != "bookinfo.example" || r.URL.RequestURI() != "/productpage?u=normal" {
				t.Fatalf("request %s %s host %q headers %v; want the custom headers and Host", r.Method, r.URL, r.Host, r.Header)
			}
		}
	})
}

func TestLoginOncePerWorker(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		var noCookie atomic.Int64
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login" {
				if r.Method != http.MethodPost || r.FormValue("username") != "jason" || r.FormValue("passwd") != "pw" {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "jason-session"})
				http.Redirect(w, r, "/productpage", http.StatusFound)
				return
			}
			if c, err := r.Cookie("session"); err != nil || c.Value != "jason-session" {
				noCookie.Add(1)
			}
			time.Sleep(5 * time.Millisecond) // so that every worker gets a turn
			_, _ = w.Write([]byte("page v2"))
		})
		s := run(t, via(Options{Target: ts.URL + "/productpage", Requests: 60, Workers: 3, Login: "jason:pw"}))
		if got := ts.logins.Load(); got != 3 || s.Logins != 3 {
			t.Errorf("server saw %d logins, summary %d; want 3 (one per worker)", got, s.Logins)
		}
		if noCookie.Load() != 0 || s.Count(classify.OK) != 60 {
			t.Errorf("%d requests without the session cookie, %d ok; want 0 and 60", noCookie.Load(), s.Count(classify.OK))
		}
	})
}

func TestLoginFailureIsCounted(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) })
		s := run(t, via(Options{Target: ts.URL, Requests: 5, Workers: 1, Login: "jason"}))
		if s.Count(classify.HTTPError) != 5 || ts.logins.Load() != 5 || ts.hits.Load() != 0 {
			t.Errorf("http errors %d, logins tried %d, pages %d; want 5, 5, 0", s.Count(classify.HTTPError), ts.logins.Load(), ts.hits.Load())
		}
	})
}

func TestCancelStopsPromptly(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, page("v1"))
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	s, err := Run(ctx, Options{Target: ts.URL, Rate: 1000, Classify: fakeClassify})
	if err != nil {
		t.Fatalf("Run() error: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run() returned %v after start; want soon after the cancel at 300ms", took)
	}
	if !s.Interrupted || s.Completed != s.Sent || s.Sent == 0 || int64(s.Sent) != ts.hits.Load() {
		t.Errorf("interrupted %v, sent %d, completed %d, server %d; want all sent requests counted",
			s.Interrupted, s.Sent, s.Completed, ts.hits.Load())
	}
}
