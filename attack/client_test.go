package attack

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canary-gate/canary/classify"
)

// TestResponseHeadersReachClassify checks that the classifier sees each
// response's own headers: the fasthttp client refills one reused map, so a
// header of an earlier response must not leak into a later one.
func TestResponseHeadersReachClassify(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		var n atomic.Int64
		ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
			switch n.Add(1) % 3 {
			case 0:
				w.Header().Set("X-Version", "v2")
			case 1:
				w.Header().Add("X-Version", "v3")
				w.Header().Add("X-Version", "v3b")
			}
			_, _ = w.Write([]byte("page"))
		})
		byHeader := func(_ int, h http.Header, _ []byte) classify.Result {
			switch vs := h.Values("X-Version"); {
			case len(vs) == 0:
				return classify.Result{Outcome: classify.Unrecognized}
			case len(vs) == 1 && vs[0] == "v2":
				return classify.Result{Version: "v2"}
			case len(vs) == 2 && vs[0] == "v3" && vs[1] == "v3b" && h.Get("Content-Length") == "4":
				return classify.Result{Version: "v3"}
			}
			return classify.Result{Outcome: classify.NotProductPage}
		}
		s := run(t, via(Options{Target: ts.URL, Requests: 90, Workers: 1, Classify: byHeader}))
		if s.Count(classify.OK) != 60 || s.Count(classify.Unrecognized) != 30 || len(s.Versions) != 3 {
			t.Errorf("summary:\n%s\nwant 30 v2, 30 v3 and 30 without the header", s)
		}
	})
}

// TestBrokenServers checks that what a broken server sends is counted as a
// transport error with a reason, never lost and never a panic.
func TestBrokenServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reply  string // raw bytes written after reading the request; then the connection closes
		reason string
	}{
		{"not http", "garbage\r\n\r\n", ""},
		{"closed before responding", "", "closed the connection before responding"},
		{"body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npage v1", ""},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\npage\r\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bothClients(t, func(t *testing.T, via func(Options) Options) {
				addr := replyServer(t, tc.reply)
				s := run(t, via(Options{Target: "http://" + addr + "/productpage", Requests: 5, Workers: 1}))
				if s.Count(classify.TransportError) != 5 || s.Completed != 5 {
					t.Fatalf("summary:\n%s\nwant 5 transport errors", s)
				}
				if r := s.Failures[0].Reason; !strings.Contains(r, tc.reason) {
					t.Errorf("reason %q; want it to contain %q", r, tc.reason)
				}
			})
		})
	}
}

// TestBodyUntilClose checks a body that ends when the server closes the
// connection (no Content-Length, not chunked), which HTTP/1.1 allows.
func TestBodyUntilClose(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		addr := replyServer(t, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npage v3")
		s := run(t, via(Options{Target: "http://" + addr + "/productpage", Requests: 5, Workers: 1}))
		if s.Count(classify.OK) != 5 || s.Versions[0].Name != "v3" {
			t.Errorf("summary:\n%s\nwant 5 v3 pages", s)
		}
	})
}

// replyServer answers every request on a fresh connection with reply, then
// closes the connection.
func replyServer(t *testing.T, reply string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				r := bufio.NewReader(c)
				if _, err := http.ReadRequest(r); err != nil {
					return
				}
				_, _ = fmt.Fprint(c, reply)
			}()
		}
	}()
	return l.Addr().String()
}

// TestChunkedBody checks a body without Content-Length, sent in chunks.
func TestChunkedBody(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("page "))
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte("v3" + strings.Repeat(" ", 9000)))
		})
		s := run(t, via(Options{Target: ts.URL, Requests: 20, Workers: 2}))
		if s.Count(classify.OK) != 20 || s.Versions[0].Name != "v3" {
			t.Errorf("summary:\n%s\nwant 20 v3 pages", s)
		}
	})
}

// TestLargeResponseHeaders checks a response whose headers are larger than
// one read buffer, as with the big session cookies of some login proxies.
func TestLargeResponseHeaders(t *testing.T) {
	t.Parallel()
	bothClients(t, func(t *testing.T, via func(Options) Options) {
		cookie := strings.Repeat("c", 24<<10)
		ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Set-Cookie", "sso="+cookie)
			_, _ = w.Write([]byte("page v1"))
		})
		if s := run(t, via(Options{Target: ts.URL, Requests: 10, Workers: 2})); s.Count(classify.OK) != 10 {
			t.Errorf("summary:\n%s\nwant 10 v1 pages", s)
		}
	})
}

// TestHugeResponseHeadersSayWhy checks the reason given for a header over
// what the fasthttp client reads (net/http's limit is 1 MB).
func TestHugeResponseHeadersSayWhy(t *testing.T) {
	t.Parallel()
	cookie := strings.Repeat("c", maxHeaderBytes)
	ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Set-Cookie", "sso="+cookie)
		_, _ = w.Write([]byte("page v1"))
	})
	s := run(t, Options{Target: ts.URL, Requests: 2, Workers: 1})
	if s.Count(classify.TransportError) != 2 || !strings.Contains(s.Failures[0].Reason, "response headers larger than 32 KB") {
		t.Errorf("summary:\n%s\nwant 2 transport errors naming the 32 KB header limit", s)
	}
}
