package jaeger

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/internal/jaegertest"
)

var update = flag.Bool("update", false, "rewrite testdata/trace-v*.json from a real Jaeger fed by the local mesh")

// TestRealJaeger: the local mesh reports a page's spans to a real Jaeger,
// and both query APIs give back a trace whose reviews and ratings hops
// name the versions that served the page. With -update it records the
// two answers as testdata for the offline tests.
func TestRealJaeger(t *testing.T) {
	j := jaegertest.Start(t)
	m, err := mesh.Start(mesh.Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Tracing: j.OTLPHTTP})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := istio.ParseManifests("vs.yaml", []byte(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v3}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(rs); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%032x", time.Now().UnixNano())
	req, _ := http.NewRequest(http.MethodGet, "http://"+m.Addr()+"/productpage", nil)
	req.Header.Set("traceparent", "00-"+id+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Shutting the mesh down flushes its batched spans.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, api := range []struct{ name, path, file string }{
		{"v3", "/api/v3/traces/", "trace-v3.json"},
		{"v1", "/api/traces/", "trace-v1.json"},
	} {
		var body []byte
		var tr *Trace
		parse := map[string]func([]byte) (*Trace, error){"v3": parseV3, "v1": parseV1}[api.name]
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			resp, err := http.Get(j.QueryURL + api.path + id)
			if err != nil {
				t.Fatal(err)
			}
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if tr, err = parse(body); err == nil && len(tr.Spans) >= 8 {
				break
			}
			if !errors.Is(err, ErrNotFound) && err != nil || time.Now().After(deadline) {
				t.Fatalf("%s: %v after %d spans; last answer %.300s", api.name, err, spanCount(tr), body)
			}
		}
		for svc, want := range map[string]string{"reviews": "v3", "ratings": "v1", "details": "v1", "productpage": "v1"} {
			if h, err := tr.Served(svc); err != nil || h.Version != want || h.From != "" {
				t.Errorf("%s: Served(%s) = %+v, %v; want %s from its server span", api.name, svc, h, err, want)
			}
		}
		if *update {
			if err := os.WriteFile(filepath.Join("testdata", api.file), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func spanCount(t *Trace) int {
	if t == nil {
		return 0
	}
	return len(t.Spans)
}
