package jaeger

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServed: which reviews version served a page, from each API's
// answer for the same Bookinfo trace (testdata, recorded from a real
// Jaeger fed by the local mesh).
func TestServed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file, parser string
		parse        func([]byte) (*Trace, error)
	}{
		{"trace-v3.json", "v3", parseV3},
		{"trace-v1.json", "v1", parseV1},
	} {
		t.Run(c.parser, func(t *testing.T) {
			tr, err := c.parse(readTestdata(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if tr.API != c.parser || len(tr.Spans) < 6 {
				t.Fatalf("API %s, %d spans; want %s and a whole Bookinfo trace", tr.API, len(tr.Spans), c.parser)
			}
			for _, want := range []Hop{
				{Service: "productpage", Tries: 1},
				{Service: "reviews", Version: "v3", Tries: 1},
				{Service: "ratings", Version: "v1", Tries: 1},
			} {
				h, err := tr.Served(want.Service)
				if err != nil {
					t.Fatalf("Served(%s): %v", want.Service, err)
				}
				if (want.Version != "" && h.Version != want.Version) || h.Tries != want.Tries || h.Status != "200" || h.Duration <= 0 || h.Pod == "" {
					t.Errorf("Served(%s) = %+v; want version %q, %d try, status 200, a duration and a pod", want.Service, h, want.Version, want.Tries)
				}
			}
		})
	}
}

// TestServedRules: the serving span among retries, and the client span's
// upstream_cluster when the callee has no sidecar.
func TestServedRules(t *testing.T) {
	t.Parallel()
	server := func(id, version, status string) Span {
		return Span{SpanID: id, Kind: "server", Service: "reviews.default", Tags: map[string]string{
			"istio.canonical_service": "reviews", "istio.canonical_revision": version, "http.status_code": status,
			"node_id": "sidecar~10.0.0.1~reviews-" + version + "-abc.default~default.svc.cluster.local"}}
	}
	client := func(cluster string) Span {
		return Span{Kind: "client", Service: "productpage.default", Tags: map[string]string{"upstream_cluster": cluster, "http.status_code": "200"}}
	}
	for _, c := range []struct {
		name    string
		spans   []Span
		version string
		from    string
		tries   int
		err     string
	}{
		{"one", []Span{server("a", "v2", "200")}, "v2", "", 1, ""},
		{"retry after a 503", []Span{server("a", "v1", "503"), server("b", "v3", "200")}, "v3", "", 2, ""},
		{"ok then failed", []Span{server("a", "v3", "200"), server("b", "v1", "500")}, "v3", "", 2, ""},
		{"all failed: the last", []Span{server("a", "v1", "500"), server("b", "v2", "503")}, "v2", "", 2, ""},
		{"no sidecar: the subset", []Span{client("outbound|9080|v2|reviews.default.svc.cluster.local")}, "v2", "upstream_cluster", 0, ""},
		{"other service only", []Span{client("outbound|9080|v1|details.default.svc.cluster.local")}, "", "", 0, "no span of reviews"},
		{"no revision tag", []Span{{Kind: "server", Service: "reviews.default", Tags: map[string]string{}}}, "", "", 1, "names no istio.canonical_revision"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := (&Trace{ID: traceID, Spans: c.spans}).Served("reviews")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v; want one with %q", err, c.err)
				}
				return
			}
			if err != nil || h.Version != c.version || h.From != c.from || h.Tries != c.tries {
				t.Errorf("Served = %+v, %v; want version %s from %q after %d tries", h, err, c.version, c.from, c.tries)
			}
		})
	}
}

// TestClientAPIs: v3 when served, v1 when v3 is not (a Jaeger that answers
// its UI's HTML page, or a router's plain 404), not found and server errors
// told apart.
func TestClientAPIs(t *testing.T) {
	t.Parallel()
	v3, v1 := readTestdata(t, "trace-v3.json"), readTestdata(t, "trace-v1.json")
	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
		api     string
		err     error
	}{
		{"v3", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(v3)
		}, "v3", nil},
		{"v1 behind an HTML v3", func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/v3/") {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html>jaeger ui</html>"))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(v1)
		}, "v1", nil},
		{"v1 behind a plain 404", func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/v3/") {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(v1)
		}, "v1", nil},
		{"not found (v3), as Jaeger v1.75 says it", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"httpCode":404,"message":"No traces found"}}`))
		}, "", ErrNotFound},
		{"not found (v1), as Jaeger v1.75 says it", func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/v3/") {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}`))
		}, "", ErrNotFound},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "storage down", http.StatusInternalServerError)
		}, "", ErrUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				c.handler(w, r)
			}))
			defer srv.Close()
			jc, err := New(srv.URL+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second call goes straight to the API found
				tr, err := jc.Trace(context.Background(), traceID)
				if c.err != nil {
					if !errors.Is(err, c.err) {
						t.Fatalf("err = %v, want %v", err, c.err)
					}
					continue
				}
				if err != nil || tr.API != c.api {
					t.Fatalf("Trace = %v, %v; want one from API %s", tr, err, c.api)
				}
			}
			if c.api == "v1" && calls.Load() != 3 {
				t.Errorf("%d requests for two traces; want 3 (v3 tried once)", calls.Load())
			}
			if got := jc.Link(traceID); got != srv.URL+"/trace/"+traceID {
				t.Errorf("Link = %s", got)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "jaeger:16686", "ftp://x", "http://", "http://x/?q=1"} {
		if _, err := New(u, nil); err == nil || !strings.Contains(err.Error(), "--jaeger") {
			t.Errorf("New(%q) = %v; want an error naming --jaeger", u, err)
		}
	}
	jc, _ := New("http://x", nil)
	if _, err := jc.Trace(context.Background(), "xyz"); err == nil {
		t.Errorf("Trace(xyz): nil error; want a bad trace id")
	}
}

// FuzzParse: no answer, however mangled, panics either parser or Served.
// The seeds are one-span answers of each API in the recorded traces'
// shape: with the whole 11 KB recordings as seeds the fuzzer managed
// about one input a second, with these thousands.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"result":{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"reviews.default"}}]},` +
		`"scopeSpans":[{"scope":{},"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","parentSpanId":"00f067aa0ba902b8",` +
		`"name":"reviews.default.svc.cluster.local:9080/*","kind":2,"startTimeUnixNano":"1796523448045880101","endTimeUnixNano":"1796523448050880101",` +
		`"attributes":[{"key":"istio.canonical_service","value":{"stringValue":"reviews"}},{"key":"istio.canonical_revision","value":{"stringValue":"v3"}},` +
		`{"key":"http.status_code","value":{"stringValue":"200"}},{"key":"node_id","value":{"stringValue":"sidecar~127.0.0.1~reviews-v3-a.default~default.svc.cluster.local"}}],"status":{}}]}]}]}}`))
	f.Add([]byte(`{"data":[{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spans":[{"spanID":"00f067aa0ba902b7","operationName":"reviews.default.svc.cluster.local:9080/*",` +
		`"references":[{"refType":"CHILD_OF","spanID":"00f067aa0ba902b8"}],"startTime":1796523448045880,"duration":5000,` +
		`"tags":[{"key":"span.kind","type":"string","value":"client"},{"key":"upstream_cluster","type":"string","value":"outbound|9080|v2|reviews.default.svc.cluster.local"},` +
		`{"key":"http.status_code","type":"int64","value":200}],"processID":"p1"}],"processes":{"p1":{"serviceName":"productpage.default"}}}]}`))
	f.Add([]byte(`{"result":{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"","kind":99}]}]}]}}`))
	f.Add([]byte(`{"data":[{"spans":[{"tags":[{"key":"node_id","value":"~~"}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) (*Trace, error){parseV3, parseV1} {
			if tr, err := parse(b); err == nil {
				_, _ = tr.Served("reviews")
			}
		}
	})
}
