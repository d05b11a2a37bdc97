package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"istio.io/api/networking/v1alpha3"

	"github.com/canary-gate/canary/bookinfo/istio"
)

// DefaultTraceSampling is Istio's default random sampling, in percent: the
// share of requests arriving without a sampling decision that are traced.
const DefaultTraceSampling = 1.0

const (
	meshID      = "cluster.local" // istio.mesh_id, Istio's default mesh ID
	gatewayPort = 80              // the bookinfo-gateway server port: weighted gateway routes name it
	podIP       = "127.0.0.1"     // every pod listens on loopback
	// traceExportTimeout bounds one OTLP export, and the flush at Shutdown:
	// an unreachable collector must not hold the mesh up.
	traceExportTimeout = 3 * time.Second
	// traceQueue and traceBatch size the span queue for a gate's load: a
	// page makes 8 spans, so 300 pages/s are 2,400 spans/s, and the SDK's
	// default queue (2,048 spans, exported every 5 s) dropped a third of a
	// gate's traces on a busy CI machine. 65,536 spans (about 30 s of such
	// load, some 60 MB at worst) exported every second or per 4,096 spans
	// keep them; a collector slower than that still drops the excess, as
	// Envoy's tracer would.
	traceQueue = 1 << 16
	traceBatch = 4096
)

// tracing reports spans as Istio's Envoy proxies do with an OpenTelemetry
// (or Zipkin) tracer: one client span per request leaving a sidecar or the
// ingress gateway, one server span per request a sidecar lets in. A mesh
// without tracing has a nil *tracing and pays one nil check per hop.
//
// Every workload has its own TracerProvider, so its spans carry its own
// resource (service.name "reviews.default", as Istio names Envoy's
// service), and so has the gateway; all of them share one batch span
// processor and one exporter: one queue, one goroutine, one export stream.
type tracing struct {
	prop     propagation.TextMapPropagator
	sampler  sdktrace.Sampler
	bsp      sdktrace.SpanProcessor
	exporter sdktrace.SpanExporter
	logf     func(format string, args ...any)

	defaultOps map[string]string       // service → its default route's operation
	ops        atomic.Pointer[opTable] // operation names of the active config

	stopOnce sync.Once
}

// checkTracing validates the tracing options; errors name the option.
func checkTracing(o Options) error {
	if o.Tracing != "" {
		if _, err := tracesURL(o.Tracing); err != nil {
			return err
		}
	}
	if !(o.TraceSampling >= 0 && o.TraceSampling <= 100) { // also refuses NaN
		return fmt.Errorf("trace-sampling %v: want a percentage from 0 to 100", o.TraceSampling)
	}
	return nil
}

// tracesURL turns an OTLP/HTTP base URL (http(s)://HOST:PORT) into the
// traces endpoint, HOST:PORT/v1/traces.
func tracesURL(base string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("tracing %q: %s; want an OTLP/HTTP base URL http(s)://HOST:PORT, e.g. http://127.0.0.1:4318", base, why)
	}
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return "", bad("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", bad("scheme is not http or https")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", bad("only scheme, host and port are allowed")
	case u.Path != "" && u.Path != "/":
		return "", bad("has a path (spans go to /v1/traces under the base URL)")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" {
		return "", bad("no HOST:PORT")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", bad("port is not 1-65535")
	}
	return u.Scheme + "://" + u.Host + "/v1/traces", nil
}

// newTracing returns nil when o asks for no tracing.
func newTracing(o Options, logf func(string, ...any)) (*tracing, error) {
	exp := o.traceExporter
	if exp == nil {
		if o.Tracing == "" {
			return nil, nil
		}
		endpoint, err := tracesURL(o.Tracing)
		if err != nil {
			return nil, err
		}
		otlp, err := otlptracehttp.New(context.Background(),
			otlptracehttp.WithEndpointURL(endpoint),
			otlptracehttp.WithTimeout(traceExportTimeout),
			// Envoy drops spans a collector does not take; retrying for a
			// minute would only fill the queue.
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
		if err != nil {
			return nil, fmt.Errorf("tracing %q: %w", o.Tracing, err)
		}
		exp = &onceLogging{SpanExporter: otlp, endpoint: endpoint, logf: logf}
	}
	ratio := sdktrace.TraceIDRatioBased(o.TraceSampling / 100)
	t := &tracing{
		// Extraction runs in order and the last valid context wins:
		// traceparent over B3 when a request carries both.
		prop: propagation.NewCompositeTextMapPropagator(
			b3.New(b3.WithInjectEncoding(b3.B3MultipleHeader)), propagation.TraceContext{}),
		sampler: sdktrace.ParentBased(ratio,
			sdktrace.WithRemoteParentNotSampled(undecidedSampler{ratio})),
		exporter: exp,
		bsp: sdktrace.NewBatchSpanProcessor(exp, sdktrace.WithExportTimeout(traceExportTimeout),
			sdktrace.WithMaxQueueSize(traceQueue), sdktrace.WithMaxExportBatchSize(traceBatch),
			sdktrace.WithBatchTimeout(time.Second)),
		logf:       logf,
		defaultOps: make(map[string]string),
	}
	for _, s := range serviceNames() {
		t.defaultOps[s] = fqdn(s) + ":" + strconv.Itoa(servicePort) + "/*"
	}
	return t, nil
}

// tracer is a workload's (or the gateway's) tracer, reporting as service.
func (t *tracing) tracer(service string) trace.Tracer {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
		sdktrace.WithSampler(t.sampler),
		sdktrace.WithSpanProcessor(t.bsp))
	return tp.Tracer("envoy")
}

// shutdown flushes the spans still queued. Failures are logged, never
// returned: tracing must not fail the mesh.
func (t *tracing) shutdown(ctx context.Context) {
	t.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, traceExportTimeout)
		defer cancel()
		if err := t.bsp.Shutdown(ctx); err != nil && t.logf != nil {
			t.logf("tracing: flushing spans at shutdown: %v", err)
		}
	})
}

// proxyAttrs are the tags every span of one proxy carries, as Istio's
// Envoy sets them. kind is "sidecar" or "router" (a gateway).
func proxyAttrs(kind, pod, namespace, canonicalService, canonicalRevision string) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("component", "proxy"),
		attribute.String("node_id", kind+"~"+podIP+"~"+pod+"."+namespace+"~"+namespace+".svc.cluster.local"),
		attribute.String("istio.canonical_service", canonicalService),
		attribute.String("istio.canonical_revision", canonicalRevision),
		attribute.String("istio.namespace", namespace),
		attribute.String("istio.mesh_id", meshID),
	}
}

// requestAttrs are the tags Envoy takes from the request.
func requestAttrs(scheme, host string, r *http.Request) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("http.url", scheme+"://"+host+r.URL.RequestURI()),
		attribute.String("http.method", r.Method),
		attribute.String("http.protocol", r.Proto),
		attribute.String("user_agent", r.UserAgent()),
		attribute.String("guid:x-request-id", r.Header.Get("x-request-id")),
	}
}

// endAttrs tags a span with the response, as Envoy does when the stream
// ends: the status code and response flags as strings; 5xx is an error.
func endAttrs(span trace.Span, code int, flags string) {
	span.SetAttributes(
		attribute.String("http.status_code", strconv.Itoa(code)),
		attribute.String("response_flags", flags))
	if code >= 500 {
		span.SetStatus(codes.Error, "")
	}
}

// startClient starts the client span of a request leaving a proxy. Its
// parent is the context in the request's headers, which the app forwarded
// from its own inbound request (or the client sent to the gateway). The
// span rides in the returned request's context; send injects it into the
// request to the pod, every retry and the mirror alike.
func (t *tracing) startClient(o *outbound, tr trace.Tracer, attrs []attribute.KeyValue, cfg *istio.Config, d istio.Decision, req *http.Request) (*http.Request, trace.Span) {
	ctx := t.extract(req.Context(), req.Header)
	ctx, span := tr.Start(ctx, t.operation(cfg, d, o.gw != nil, req), trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		scheme, host := "http", req.URL.Host
		if o.gw != nil {
			scheme, host = o.m.Scheme(), req.Host
		}
		span.SetAttributes(attrs...)
		span.SetAttributes(requestAttrs(scheme, host, req)...)
		if c := upstreamCluster(d); c != "" {
			span.SetAttributes(attribute.String("upstream_cluster", c))
		}
	}
	return req.WithContext(ctx), span
}

// endClient tags the client span with the answer; the span ends when the
// caller closes the body, as Envoy's ends with the stream.
func endClient(span trace.Span, resp *http.Response, flags string) *http.Response {
	if !span.IsRecording() {
		span.End()
		return resp
	}
	endAttrs(span, resp.StatusCode, flags)
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp
}

// upstreamCluster is the Envoy cluster a route chose, "" when there is
// none (no route, or a subset no DestinationRule defines).
func upstreamCluster(d istio.Decision) string {
	if d.NoRoute {
		return ""
	}
	if _, gone := d.Target.Labels[istio.MissingSubsetLabel]; gone {
		return ""
	}
	return "outbound|" + strconv.Itoa(servicePort) + "|" + d.Target.Subset + "|" + fqdn(d.Target.DestService())
}

// startServer starts the server span of a request entering p's sidecar and
// puts its context into r's headers, for the app to forward to the services
// it calls.
func (t *tracing) startServer(p *pod, r *http.Request) trace.Span {
	ctx := t.extract(r.Context(), r.Header)
	_, span := p.w.tracer.Start(ctx, p.w.inboundOp, trace.WithSpanKind(trace.SpanKindServer))
	if span.IsRecording() {
		span.SetAttributes(p.spanAttrs...)
		span.SetAttributes(requestAttrs("http", r.Host, r)...)
		span.SetAttributes(attribute.String("upstream_cluster", "inbound|"+strconv.Itoa(servicePort)+"||"))
	}
	t.inject(span.SpanContext(), r.Header)
	return span
}

func endServer(span trace.Span, code int) {
	if span.IsRecording() {
		endAttrs(span, code, "-")
	}
	span.End()
}

// staleTraceHeaders are removed before a proxy injects its span: the B3
// single header would win over the new context on extraction, and the
// others would describe the previous hop.
var staleTraceHeaders = []string{"B3", "X-B3-Parentspanid", "X-B3-Flags", "X-B3-Sampled", "Tracestate"}

// inject writes sc into h as traceparent (and tracestate) and B3 multi
// headers, with the sampling decision always explicit, as Envoy does.
func (t *tracing) inject(sc trace.SpanContext, h http.Header) {
	if !sc.IsValid() {
		return
	}
	for _, k := range staleTraceHeaders {
		delete(h, k)
	}
	t.prop.Inject(trace.ContextWithSpanContext(context.Background(), sc), headerCarrier(h))
}

// traceKeys are the canonical forms of the header names the propagators
// use, which they ask for in lower case: http.Header.Get would allocate a
// canonical copy of each name on every hop.
var traceKeys = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{"traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"} {
		m[k] = http.CanonicalHeaderKey(k)
	}
	return m
}()

// headerCarrier is propagation.HeaderCarrier without the allocations.
type headerCarrier http.Header

func canonicalKey(k string) string {
	if c, ok := traceKeys[k]; ok {
		return c
	}
	return http.CanonicalHeaderKey(k)
}

func (h headerCarrier) Get(key string) string {
	if v := h[canonicalKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (h headerCarrier) Set(key, value string) { h[canonicalKey(key)] = []string{value} }

func (h headerCarrier) Keys() []string { return propagation.HeaderCarrier(h).Keys() }

type undecidedKey struct{}

// extract reads the trace context of h into ctx and marks a context that
// carries a trace id but no sampling decision (B3 without x-b3-sampled):
// for that Envoy decides itself, by the random sampling percentage.
func (t *tracing) extract(ctx context.Context, h http.Header) context.Context {
	ctx = t.prop.Extract(ctx, headerCarrier(h))
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !sc.IsSampled() && undecided(h) {
		ctx = context.WithValue(ctx, undecidedKey{}, true)
	}
	return ctx
}

// undecided reports whether h's only trace context is B3 with the sampling
// decision deferred.
func undecided(h http.Header) bool {
	c := headerCarrier(h)
	if c.Get("traceparent") != "" {
		return false // traceparent always carries the sampled flag
	}
	if v := c.Get("b3"); v != "" {
		return strings.Count(v, "-") == 1 // TRACEID-SPANID, no sampling state
	}
	return c.Get("x-b3-sampled") == "" && c.Get("x-b3-flags") == ""
}

// undecidedSampler samples a remote parent that is not sampled: by ratio
// when the parent left the decision open, else never.
type undecidedSampler struct{ ratio sdktrace.Sampler }

func (s undecidedSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if p.ParentContext.Value(undecidedKey{}) != nil {
		return s.ratio.ShouldSample(p)
	}
	return sdktrace.NeverSample().ShouldSample(p)
}

func (s undecidedSampler) Description() string {
	return "Undecided{" + s.ratio.Description() + "}"
}

// spanBody ends the client span when the caller is done with the answer.
type spanBody struct {
	io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.span.End() })
	return err
}

// onceLogging hides export failures from the SDK, which would report each
// one, and logs the first: a missing collector is worth one line.
type onceLogging struct {
	sdktrace.SpanExporter
	endpoint string
	logf     func(string, ...any)
	once     sync.Once
}

func (e *onceLogging) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.logOnce(err)
	}
	return nil
}

func (e *onceLogging) Shutdown(ctx context.Context) error {
	if err := e.SpanExporter.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		e.logOnce(err)
	}
	return nil
}

func (e *onceLogging) logOnce(err error) {
	e.once.Do(func() {
		if e.logf != nil {
			e.logf("tracing: cannot send spans to %s: %v (spans are dropped; further errors are not logged)", e.endpoint, err)
		}
	})
}

// Operation names (Jaeger's span names), as Istio decorates Envoy routes
// (pilot route.GetRouteOperation): "HOST:PORT" of the route's only
// destination, else "VIRTUALSERVICE:LISTENERPORT", followed by the match's
// path: the exact path, the prefix and "*", the regex, or "/*". A route
// without a VirtualService is "reviews.default.svc.cluster.local:9080/*",
// and so is every inbound route. A request no route matched has no
// decorator: Envoy calls its span "egress HOST".

// opTable is the operation names of one config's VirtualService routes,
// by istio.Decision.Route.
type opTable struct {
	cfg    *istio.Config
	routes map[string][]routeOp
}

// routeOp is one match of a route (Istio makes one Envoy route of each).
type routeOp struct {
	uri           uriMatch
	mesh, gateway string // on a sidecar's listener (9080) and the gateway's (80)
}

type uriMatch struct {
	exact, prefix string
	re            *regexp.Regexp
	fold          bool
	anyPath       bool
}

func (u *uriMatch) matches(path string) bool {
	switch {
	case u.anyPath:
		return true
	case u.re != nil:
		return u.re.MatchString(path)
	case u.exact != "":
		if u.fold {
			return strings.EqualFold(path, u.exact)
		}
		return path == u.exact
	case u.fold:
		return len(path) >= len(u.prefix) && strings.EqualFold(path[:len(u.prefix)], u.prefix)
	}
	return strings.HasPrefix(path, u.prefix)
}

// operation names the client span of a request routed by d.
func (t *tracing) operation(cfg *istio.Config, d istio.Decision, gateway bool, req *http.Request) string {
	if d.NoRoute {
		host := req.URL.Host
		if gateway {
			host = req.Host
		}
		return "egress " + host
	}
	if d.Route != "" {
		ops := t.opsFor(cfg).routes[d.Route]
		for i := range ops {
			if ops[i].uri.matches(req.URL.Path) {
				if gateway {
					return ops[i].gateway
				}
				return ops[i].mesh
			}
		}
	}
	if op, ok := t.defaultOps[d.Target.Service]; ok {
		return op
	}
	return fqdn(d.Target.Service) + ":" + strconv.Itoa(servicePort) + "/*"
}

func (t *tracing) opsFor(cfg *istio.Config) *opTable {
	if ot := t.ops.Load(); ot != nil && ot.cfg == cfg {
		return ot
	}
	ot := buildOps(cfg) // concurrent builders build the same table
	t.ops.Store(ot)
	return ot
}

func buildOps(cfg *istio.Config) *opTable {
	ot := &opTable{cfg: cfg, routes: make(map[string][]routeOp)}
	for _, r := range cfg.Resources() {
		if r.VirtualService == nil {
			continue
		}
		for i, hr := range r.VirtualService.GetHttp() {
			single := ""
			if dests := hr.GetRoute(); len(dests) == 1 {
				port := int(dests[0].GetDestination().GetPort().GetNumber())
				if port == 0 {
					port = servicePort
				}
				single = serviceFQDN(dests[0].GetDestination().GetHost()) + ":" + strconv.Itoa(port)
			}
			name := func(path string, listener int) string {
				if single != "" {
					return single + path
				}
				return r.Name + ":" + strconv.Itoa(listener) + path
			}
			var ops []routeOp
			matches := hr.GetMatch()
			if len(matches) == 0 {
				matches = []*v1alpha3.HTTPMatchRequest{nil}
			}
			for _, m := range matches {
				u, path := uriOp(m)
				ops = append(ops, routeOp{uri: u, mesh: name(path, servicePort), gateway: name(path, gatewayPort)})
			}
			// The format of istio.Decision.Route.
			ot.routes[fmt.Sprintf("VirtualService %s, http[%d]", r.Name, i)] = ops
		}
	}
	return ot
}

// uriOp is a match's URI condition and the path part of its operation.
func uriOp(m *v1alpha3.HTTPMatchRequest) (uriMatch, string) {
	u := uriMatch{fold: m.GetIgnoreUriCase()}
	switch mt := m.GetUri().GetMatchType().(type) {
	case *v1alpha3.StringMatch_Exact:
		u.exact = mt.Exact
		return u, mt.Exact
	case *v1alpha3.StringMatch_Prefix:
		u.prefix = mt.Prefix
		return u, mt.Prefix + "*"
	case *v1alpha3.StringMatch_Regex:
		expr := "^(?:" + mt.Regex + ")$"
		if u.fold {
			expr = "(?i)" + expr
		}
		if re, err := regexp.Compile(expr); err == nil {
			u.re = re
		} else {
			u.anyPath = true
		}
		return u, mt.Regex
	}
	u.anyPath = true
	return u, "/*"
}

// serviceFQDN is the cluster-local name of a destination host as Istio
// resolves short names in the default namespace.
func serviceFQDN(host string) string {
	h := strings.ToLower(host)
	for _, suffix := range []string{".default.svc.cluster.local", ".default.svc", ".default"} {
		if strings.HasSuffix(h, suffix) {
			return fqdn(strings.TrimSuffix(h, suffix))
		}
	}
	if !strings.Contains(h, ".") {
		return fqdn(h)
	}
	return h
}
