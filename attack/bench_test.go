package attack

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/canary-gate/canary/classify"
)

// rawServer answers every HTTP/1.1 request on a kept-alive connection with
// the same canned response. It allocates almost nothing per request, so the
// allocations a benchmark reports are the client's.
func rawServer(tb testing.TB, body []byte) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveCanned(c, resp)
		}
	}()
	return "http://" + l.Addr().String() + "/productpage"
}

func serveCanned(c net.Conn, resp []byte) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		for { // skip the request head; GETs have no body
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// fixture is the page benchserver serves: the local mesh's 1.22 reviews-v3
// product page, kept as bookinfo's golden file.
func fixture(b *testing.B) []byte {
	body, err := os.ReadFile(filepath.Join("..", "bookinfo", "app", "testdata", "golden", "1.22-v3.html"))
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkClosedLoop measures one op = one request sent, read, classified
// and counted, closed loop with 8 workers. B/op is the client's allocation
// per request (target: at most 4 KB).
func BenchmarkClosedLoop(b *testing.B) {
	body := fixture(b)
	for _, bc := range []struct {
		name     string
		classify func(int, http.Header, []byte) classify.Result
	}{
		{"classify.Page", nil},
		{"fake", fakeClassify},
	} {
		b.Run(bc.name, func(b *testing.B) {
			target := rawServer(b, body)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			s, err := Run(context.Background(), Options{Target: target, Requests: uint64(b.N), Workers: 8, Classify: bc.classify})
			if err != nil {
				b.Fatal(err)
			}
			if s.Completed != uint64(b.N) || s.Errors() != 0 && bc.classify == nil {
				b.Fatalf("completed %d, errors %d of %d:\n%s", s.Completed, s.Errors(), b.N, s)
			}
		})
	}
}

// BenchmarkRecord is the per-sample cost of the stats path alone.
func BenchmarkRecord(b *testing.B) {
	a, err := New(Options{Target: "http://127.0.0.1:1/"})
	if err != nil {
		b.Fatal(err)
	}
	a.base = b.Context()
	w := a.newWorker()
	res := classify.Result{Version: "v2"}
	b.ReportAllocs()
	for b.Loop() {
		w.record(a.start, 1000, 200, res, "id", "tp")
	}
}

func BenchmarkIDs(b *testing.B) {
	g := newIDGen(0)
	b.ReportAllocs()
	for b.Loop() {
		g.next()
	}
}

// BenchmarkClassifyPage is the classifier's share of each request's cost,
// on the page the closed-loop benchmark serves.
func BenchmarkClassifyPage(b *testing.B) {
	body := fixture(b)
	h := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		classify.Page(http.StatusOK, h, body)
	}
}
