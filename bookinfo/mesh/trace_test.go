package mesh

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/canary-gate/canary/bookinfo/app"
	"github.com/canary-gate/canary/bookinfo/internal/pagetest"
)

// keptSpans is an in-memory exporter whose spans survive the mesh's
// Shutdown, which the tests call to have every span ended and flushed.
type keptSpans struct{ *tracetest.InMemoryExporter }

func (keptSpans) Shutdown(context.Context) error { return nil }

// spanView is what a test compares of a span: who reported it, its kind
// and name, its parent, its tags and its status.
type spanView struct {
	Pod    string // from node_id: the reporting pod, or the gateway
	Kind   string
	Name   string
	Parent string // the parent's "POD KIND NAME"; "remote" for the incoming context, "" for a root
	Tags   map[string]string
	Error  bool
}

func (v spanView) key() string { return v.Pod + " " + v.Kind + " " + v.Name }

// views turns exported spans into views, checking that they are all of
// trace traceID (when given) and that their resource names the service
// as Istio does.
func views(t *testing.T, spans tracetest.SpanStubs, traceID string) []spanView {
	t.Helper()
	byID := map[string]spanView{}
	tags := func(s tracetest.SpanStub) map[string]string {
		m := map[string]string{}
		for _, kv := range s.Attributes {
			m[string(kv.Key)] = kv.Value.Emit()
		}
		return m
	}
	view := func(s tracetest.SpanStub) spanView {
		tg := tags(s)
		pod := strings.Split(tg["node_id"], "~")
		if len(pod) != 4 {
			t.Fatalf("span %q: node_id %q", s.Name, tg["node_id"])
		}
		return spanView{Pod: strings.Split(pod[2], ".")[0], Kind: s.SpanKind.String(), Name: s.Name, Tags: tg, Error: s.Status.Code == codes.Error}
	}
	for _, s := range spans {
		byID[s.SpanContext.SpanID().String()] = view(s)
	}
	var out []spanView
	for _, s := range spans {
		v := view(s)
		if traceID != "" && s.SpanContext.TraceID().String() != traceID {
			t.Errorf("span %s: trace id %s, want %s", v.key(), s.SpanContext.TraceID(), traceID)
		}
		service, _ := s.Resource.Set().Value("service.name")
		if want := v.Tags["istio.canonical_service"] + "." + v.Tags["istio.namespace"]; service.AsString() != want {
			t.Errorf("span %s: service.name %q, want %q", v.key(), service.AsString(), want)
		}
		switch p, ok := byID[s.Parent.SpanID().String()]; {
		case ok:
			v.Parent = p.key()
		case s.Parent.IsValid():
			v.Parent = "remote"
		}
		out = append(out, v)
	}
	sortViews(out)
	return out
}

func sortViews(vs []spanView) {
	slices.SortFunc(vs, func(a, b spanView) int {
		return strings.Compare(a.Parent+"|"+a.key()+"|"+a.Tags["http.status_code"], b.Parent+"|"+b.key()+"|"+b.Tags["http.status_code"])
	})
}

// pageTrace builds the spans a product page should produce.
type pageTrace struct {
	m     *Mesh
	spans []spanView
}

const testUA, testRequestID = "trace-test/1", "7f9a5b66-0c1e-4c5e-9d55-2d2f1d6a1c01"

func (pt *pageTrace) pod(workload string) string {
	return pt.m.workloads[workload].pod.Load().name
}

// proxy are the tags of the proxy of workload ("" for the gateway).
func (pt *pageTrace) proxy(workload string) map[string]string {
	if workload == "" {
		return map[string]string{
			"component": "proxy", "node_id": "router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local",
			"istio.canonical_service": "istio-ingressgateway", "istio.canonical_revision": "latest",
			"istio.namespace": "istio-system", "istio.mesh_id": "cluster.local",
		}
	}
	spec, _ := lookupWorkload(workload)
	return map[string]string{
		"component": "proxy", "node_id": "sidecar~127.0.0.1~" + pt.pod(workload) + ".default~default.svc.cluster.local",
		"istio.canonical_service": spec.App, "istio.canonical_revision": spec.Version,
		"istio.namespace": "default", "istio.mesh_id": "cluster.local",
	}
}

func (pt *pageTrace) add(workload, kind, name, parent, url, cluster string, code int, flags string) string {
	tags := pt.proxy(workload)
	for k, v := range map[string]string{
		"http.url": url, "http.method": "GET", "http.protocol": "HTTP/1.1", "user_agent": testUA,
		"guid:x-request-id": testRequestID, "http.status_code": itoa(code), "response_flags": flags,
	} {
		tags[k] = v
	}
	if cluster != "" {
		tags["upstream_cluster"] = cluster
	}
	pod := "istio-ingressgateway"
	if workload != "" {
		pod = pt.pod(workload)
	}
	v := spanView{Pod: pod, Kind: kind, Name: name, Parent: parent, Tags: tags, Error: code >= 500}
	pt.spans = append(pt.spans, v)
	return v.key()
}

// hop adds the client span of from's call and, unless flags say the call
// never reached a pod, the server span of to; it returns the server span.
func (pt *pageTrace) hop(parent, from, to, op, subset, path string, code int, flags string) string {
	spec, _ := lookupWorkload(to)
	url := "http://" + spec.App + ":9080" + path
	client := pt.add(from, "client", op, parent, url, "outbound|9080|"+subset+"|"+fqdn(spec.App), code, flags)
	if flags == "FI" {
		return ""
	}
	return pt.add(to, "server", fqdn(spec.App)+":9080/*", client, url, "inbound|9080||", code, "-")
}

// productpage is the head of every trace of GET /productpage: the
// gateway's span, productpage's server span and its call to details. It
// returns productpage's server span, the parent of its calls to reviews.
func (pt *pageTrace) productpage() string {
	pageURL := "http://" + pt.m.Addr() + "/productpage"
	gw := pt.add("", "client", "productpage.default.svc.cluster.local:9080/productpage", "remote", pageURL,
		"outbound|9080||productpage.default.svc.cluster.local", 200, "-")
	pp := pt.add("productpage-v1", "server", "productpage.default.svc.cluster.local:9080/*", gw, pageURL, "inbound|9080||", 200, "-")
	pt.hop(pp, "productpage-v1", "details-v1", "details.default.svc.cluster.local:9080/*", "", "/details/0", 200, "-")
	return pp
}

// page is the whole trace of GET /productpage through the gateway, with
// reviews served by version v (its client span named reviewsOp, to
// subset reviewsSubset) and, past v1, its call to ratings.
func (pt *pageTrace) page(v, reviewsOp, reviewsSubset string) {
	pp := pt.productpage()
	rv := pt.hop(pp, "productpage-v1", "reviews-"+v, reviewsOp, reviewsSubset, "/reviews/0", 200, "-")
	if v != "v1" {
		pt.hop(rv, "reviews-"+v, "ratings-v1", "ratings.default.svc.cluster.local:9080/*", "", "/ratings/0", 200, "-")
	}
}

func itoa(n int) string { return attribute.IntValue(n).Emit() }

const reviewsSplit = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 50
    - destination: {host: reviews, subset: v3}
      weight: 50
`

// TestTraceSpans checks the spans of one product page through the gateway:
// which proxies report them, their names, parents and Istio's tags, and
// when the page is sampled at all.
func TestTraceSpans(t *testing.T) {
	t.Parallel()
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
	)
	page := func(pt *pageTrace, v string) {
		pt.page(v, "reviews:9080/*", v) // the weighted route names its VirtualService
	}
	tests := []struct {
		name     string
		sampling float64
		header   map[string]string
		yaml     string // routing instead of the 50/50 reviews split
		traceID  string // the trace the spans must be of; "" for a new one
		want     func(pt *pageTrace, v string)
	}{
		{name: "traceparent sampled", sampling: 0, header: map[string]string{"traceparent": "00-" + traceID + "-" + spanID + "-01"},
			traceID: traceID, want: page},
		{name: "traceparent not sampled", sampling: 100, header: map[string]string{"traceparent": "00-" + traceID + "-" + spanID + "-00"}},
		{name: "b3 sampled", sampling: 0, header: map[string]string{"x-b3-traceid": traceID, "x-b3-spanid": spanID, "x-b3-sampled": "1"},
			traceID: traceID, want: page},
		{name: "b3 not sampled", sampling: 100, header: map[string]string{"x-b3-traceid": traceID, "x-b3-spanid": spanID, "x-b3-sampled": "0"}},
		{name: "b3 deferred, sampling 100", sampling: 100, header: map[string]string{"x-b3-traceid": traceID, "x-b3-spanid": spanID},
			traceID: traceID, want: page},
		{name: "b3 deferred, sampling 0", sampling: 0, header: map[string]string{"x-b3-traceid": traceID, "x-b3-spanid": spanID}},
		{name: "b3 single header sampled", sampling: 0, header: map[string]string{"b3": traceID + "-" + spanID + "-1"},
			traceID: traceID, want: page},
		{name: "no context, sampling 100", sampling: 100, want: func(pt *pageTrace, v string) {
			page(pt, v)
			pt.spans[0].Parent = "" // the gateway starts the trace
		}},
		{name: "no context, sampling 0", sampling: 0},
		{
			name: "fault abort on ratings", sampling: 100, traceID: traceID,
			header: map[string]string{"traceparent": "00-" + traceID + "-" + spanID + "-01"},
			yaml: reviewsTo("v2") + `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts: [ratings]
  http:
  - fault:
      abort: {httpStatus: 500, percentage: {value: 100}}
    route:
    - destination: {host: ratings, subset: v1}
`,
			want: func(pt *pageTrace, v string) {
				pp := pt.productpage()
				rv := pt.hop(pp, "productpage-v1", "reviews-v2", "reviews.default.svc.cluster.local:9080/*", "v2", "/reviews/0", 200, "-")
				pt.hop(rv, "reviews-v2", "ratings-v1", "ratings.default.svc.cluster.local:9080/*", "v1", "/ratings/0", 500, "FI")
			},
		},
		{
			// productpage tries reviews twice, as upstream does: two client
			// spans, and none of them reaches a reviews pod.
			name: "fault abort on reviews, productpage retries", sampling: 100, traceID: traceID,
			header: map[string]string{"traceparent": "00-" + traceID + "-" + spanID + "-01"},
			yaml: `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - fault:
      abort: {httpStatus: 503, percentage: {value: 100}}
    route:
    - destination: {host: reviews, subset: v1}
`,
			want: func(pt *pageTrace, v string) {
				pp := pt.productpage()
				for range 2 {
					pt.hop(pp, "productpage-v1", "reviews-v1", "reviews.default.svc.cluster.local:9080/*", "v1", "/reviews/0", 503, "FI")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			exp := tracetest.NewInMemoryExporter()
			m := startMesh(t, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Markup: app.MarkupCurrent,
				TraceSampling: tc.sampling, traceExporter: keptSpans{exp}})
			yaml := reviewsSplit
			if tc.yaml != "" {
				yaml = tc.yaml
			}
			applyYAML(t, m, yaml)
			h := map[string]string{"user-agent": testUA, "x-request-id": testRequestID}
			for k, v := range tc.header {
				h[k] = v
			}
			body := get(t, m, "/productpage", h)
			// The pods are stopped by Shutdown: read them first.
			var want []spanView
			if tc.want != nil {
				pt := &pageTrace{m: m}
				v := "v1"
				if served := pagetest.PageFeatures(t, string(app.MarkupCurrent), body).ServedBy; len(served) > 0 {
					v = strings.TrimPrefix(served[0][:strings.Index(served[0], "-v")+3], "reviews-")
				}
				tc.want(pt, v)
				want = pt.spans
				sortViews(want)
			}
			stop(t, m)
			got := views(t, exp.GetSpans(), tc.traceID)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("spans (-want +got):\n%s", diff)
			}
			if tc.traceID == "" || len(got) == 0 {
				return
			}
			// Every proxy takes its parent from the headers; the gateway's
			// is the client's span.
			for _, s := range exp.GetSpans() {
				if s.Resource.Set().Encoded(attribute.DefaultEncoder()) == "service.name=istio-ingressgateway.istio-system" &&
					s.Parent.SpanID().String() != spanID {
					t.Errorf("gateway span %q: parent %s, want the incoming span %s", s.Name, s.Parent.SpanID(), spanID)
				}
			}
		})
	}
}

// get fetches path through the gateway with the headers and returns the
// body of a 200 answer.
func get(t *testing.T, m *Mesh, path string, header map[string]string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+m.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", path, resp.Status, err)
	}
	return body
}

// stop shuts the mesh down, which ends every span and flushes them.
func stop(t *testing.T, m *Mesh) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTraceMirror checks that a mirrored request carries the client span's
// context: the mirror target's sidecar reports a server span for the
// shadow host under the same client span, and no extra client span exists.
func TestTraceMirror(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	m := startMesh(t, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Markup: app.MarkupCurrent,
		TraceSampling: 100, traceExporter: keptSpans{exp}})
	applyYAML(t, m, reviewsTo("v1")+`    mirror: {host: reviews, subset: v2}
`)
	get(t, m, "/productpage", map[string]string{"user-agent": testUA, "x-request-id": testRequestID})
	pt := &pageTrace{m: m}
	pt.page("v1", "reviews.default.svc.cluster.local:9080/*", "v1")
	pt.spans[0].Parent = ""                   // no incoming context: the gateway starts the trace
	client := pt.spans[len(pt.spans)-2].key() // productpage's call to reviews
	shadowURL := "http://reviews-shadow:9080/reviews/0"
	shadow := pt.add("reviews-v2", "server", "reviews.default.svc.cluster.local:9080/*", client, shadowURL, "inbound|9080||", 200, "-")
	pt.hop(shadow, "reviews-v2", "ratings-v1", "ratings.default.svc.cluster.local:9080/*", "", "/ratings/0", 200, "-")
	want := pt.spans
	sortViews(want)
	stop(t, m)
	if diff := cmp.Diff(want, views(t, exp.GetSpans(), "")); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
}

// TestTraceOperations checks span names as Istio decorates routes: the
// matched uri of a gateway route, and the VirtualService name for a
// weighted route.
func TestTraceOperations(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	m := startMesh(t, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", TraceSampling: 100, traceExporter: keptSpans{exp}})
	for _, p := range []string{"/static/tailwind/tailwind.css", "/api/v1/products/0/ratings"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+m.Addr()+p, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + m.Addr() + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop(t, m)
	var got []string
	for _, s := range exp.GetSpans() {
		if s.SpanKind.String() == "client" {
			got = append(got, s.Name)
		}
	}
	slices.Sort(got)
	want := []string{
		"egress " + m.Addr(),
		"productpage.default.svc.cluster.local:9080/api/v1/products*",
		"productpage.default.svc.cluster.local:9080/static*",
		"ratings.default.svc.cluster.local:9080/*",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("client span names (-want +got):\n%s", diff)
	}
}

// TestTraceNoSidecar checks that a workload without a sidecar reports no
// spans, while the trace goes on through it.
func TestTraceNoSidecar(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	m := startMesh(t, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", TraceSampling: 100,
		NoSidecar: []string{"reviews-v2"}, traceExporter: keptSpans{exp}})
	applyYAML(t, m, reviewsTo("v2"))
	get(t, m, "/productpage", nil)
	stop(t, m)
	var got []string
	for _, s := range exp.GetSpans() {
		got = append(got, s.Resource.Set().Encoded(attribute.DefaultEncoder())+" "+s.SpanKind.String()+" "+s.Name)
	}
	slices.Sort(got)
	want := []string{
		"service.name=details.default server details.default.svc.cluster.local:9080/*",
		"service.name=istio-ingressgateway.istio-system client productpage.default.svc.cluster.local:9080/productpage",
		"service.name=productpage.default client details.default.svc.cluster.local:9080/*",
		"service.name=productpage.default client reviews.default.svc.cluster.local:9080/*",
		"service.name=productpage.default server productpage.default.svc.cluster.local:9080/*",
		// reviews-v2 calls ratings directly: only ratings' sidecar sees it,
		// as a child of productpage's client span the app forwarded.
		"service.name=ratings.default server ratings.default.svc.cluster.local:9080/*",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
}

// TestTracingOptions checks that Start refuses bad tracing options with one
// line naming the option, and that an unreachable collector is logged once
// and neither fails nor slows the mesh.
func TestTracingOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tracing    string
		sampling   float64
		wantPrefix string
	}{
		{"127.0.0.1:4318", 1, `tracing "127.0.0.1:4318": `},
		{"ftp://127.0.0.1:4318", 1, `tracing "ftp://127.0.0.1:4318": scheme is not http or https`},
		{"http://127.0.0.1", 1, `tracing "http://127.0.0.1": no HOST:PORT`},
		{"http://127.0.0.1:4318/v1/traces", 1, `tracing "http://127.0.0.1:4318/v1/traces": has a path`},
		{"http://127.0.0.1:99999", 1, `tracing "http://127.0.0.1:99999": port is not 1-65535`},
		{"http://127.0.0.1:4318?x=1", 1, `tracing "http://127.0.0.1:4318?x=1": only scheme, host and port`},
		{"http://127.0.0.1:4318", 101, "trace-sampling 101: want a percentage from 0 to 100"},
		{"http://127.0.0.1:4318", -1, "trace-sampling -1: want a percentage from 0 to 100"},
	} {
		m, err := Start(Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Tracing: tc.tracing, TraceSampling: tc.sampling})
		if err == nil {
			_ = m.Shutdown(context.Background())
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.wantPrefix) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Start(Tracing %q, TraceSampling %v) error = %v; want one line starting %q", tc.tracing, tc.sampling, err, tc.wantPrefix)
		}
	}
	for _, u := range []string{"http://127.0.0.1:4318", "https://jaeger.example:4318/"} {
		if err := checkTracing(Options{Tracing: u, TraceSampling: 100}); err != nil {
			t.Errorf("checkTracing(%q) = %v; want nil", u, err)
		}
	}

	// A port nothing listens on: connections are refused.
	var (
		mu     sync.Mutex
		logged []string
	)
	m := startMesh(t, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Tracing: "http://127.0.0.1:1",
		TraceSampling: 100, Logf: func(f string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(f, "tracing:") {
				logged = append(logged, fmt.Sprintf(f, args...))
			}
		}})
	start := time.Now()
	for range 20 {
		get(t, m, "/productpage", nil)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("20 traced pages with no collector took %v", d)
	}
	start = time.Now()
	stop(t, m)
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Shutdown with no collector took %v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 1 {
		t.Errorf("tracing log lines: %q; want one", logged)
	}
}

// TestTracingOTLP checks that spans reach an OTLP/HTTP endpoint: protobuf
// posted to /v1/traces under the base URL, from every proxy's service.
func TestTracingOTLP(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		bodies []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("collector got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		bodies = append(bodies, string(b))
	}))
	defer srv.Close()
	m := startMesh(t, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Tracing: srv.URL + "/", TraceSampling: 100})
	applyYAML(t, m, reviewsTo("v3"))
	get(t, m, "/productpage", nil)
	stop(t, m)
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(bodies, "")
	for _, s := range []string{"istio-ingressgateway.istio-system", "productpage.default", "details.default", "reviews.default", "ratings.default",
		"outbound|9080|v3|reviews.default.svc.cluster.local"} {
		if !strings.Contains(all, s) {
			t.Errorf("the collector got no span of %q", s)
		}
	}
}

// BenchmarkIngressPagesTraced is BenchmarkIngressPages with tracing on,
// the spans going to an exporter that discards them: every page traced,
// and Istio's default 1% of pages without an incoming decision.
func BenchmarkIngressPagesTraced(b *testing.B) {
	for _, sampling := range []float64{100, 1} {
		for _, subset := range []string{"v1", "v3"} {
			b.Run(fmt.Sprintf("sampling-%g/reviews-%s", sampling, subset), func(b *testing.B) {
				benchPages(b, Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Markup: app.MarkupCurrent,
					TraceSampling: sampling, traceExporter: tracetest.NewNoopExporter()}, subset)
			})
		}
	}
}

// TestTraceInject checks that a proxy's injection replaces every trace
// header of the previous hop, whatever format it came in.
func TestTraceInject(t *testing.T) {
	t.Parallel()
	tr, err := newTracing(Options{traceExporter: tracetest.NewNoopExporter()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.shutdown(context.Background())
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 1}, SpanID: trace.SpanID{0xaa, 2}, TraceFlags: trace.FlagsSampled,
	})
	for _, tc := range []struct {
		name string
		in   http.Header
	}{
		{"none", http.Header{}},
		{"b3 single", http.Header{"B3": {"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"}}},
		{"b3 multi, debug", http.Header{"X-B3-Traceid": {"80f198ee56343ba864fe8b2a57d3eff7"}, "X-B3-Spanid": {"e457b5a2e4d86bd1"},
			"X-B3-Parentspanid": {"05e3ac9a4f6e3b90"}, "X-B3-Flags": {"1"}}},
		{"traceparent", http.Header{"Traceparent": {"00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-00"}, "Tracestate": {"a=b"}}},
	} {
		h := tc.in.Clone()
		h.Set("X-Request-Id", "r1")
		tr.inject(sc, h)
		want := http.Header{
			"X-Request-Id": {"r1"},
			"Traceparent":  {"00-4bf90100000000000000000000000000-aa02000000000000-01"},
			"X-B3-Traceid": {"4bf90100000000000000000000000000"}, "X-B3-Spanid": {"aa02000000000000"}, "X-B3-Sampled": {"1"},
		}
		if diff := cmp.Diff(want, h); diff != "" {
			t.Errorf("%s: headers after inject (-want +got):\n%s", tc.name, diff)
		}
		if got := trace.SpanContextFromContext(tr.extract(context.Background(), h)); !got.Equal(sc.WithRemote(true)) {
			t.Errorf("%s: extracted %v; want %v", tc.name, got, sc)
		}
	}
}
