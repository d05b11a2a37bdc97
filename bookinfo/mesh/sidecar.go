package mesh

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/canary-gate/canary/bookinfo/istio"
)

// outbound is the client side of a sidecar: apps call plain
// http://SERVICE:9080/... and the RoundTripper routes the request the way
// Envoy would, then reports it with reporter="source".
type outbound struct {
	m   *Mesh
	src *workload     // nil for a gateway or a waypoint
	gw  *gatewayProxy // nil for mesh sidecars
	// wp is set for a waypoint (ambient.go), with the caller it serves.
	wp     *waypointProxy
	caller *peer
}

func (o *outbound) RoundTrip(req *http.Request) (*http.Response, error) {
	service := req.URL.Hostname()
	if o.src != nil && !o.src.sidecar.Load() {
		if cfg := o.m.active.Load(); cfg.Routes().Ambient() {
			return o.ambient(req, cfg, service)
		}
		return o.direct(req, service)
	}
	start := time.Now()
	var srcPeer *peer
	var tel *telemetry
	var p *pod // the caller's, nil for the gateway
	if o.gw != nil {
		srcPeer, tel = o.gw.peer, o.gw.tel
	} else {
		srcPeer = o.src.peer
		if p = o.src.pod.Load(); p == nil {
			return nil, errors.New("caller pod is not running")
		}
		tel = p.tel.Load()
	}
	cfg := o.m.active.Load()
	gateway := ""
	if o.gw != nil {
		gateway = o.gw.key(cfg.Routes())
	}
	d := cfg.Routes().Route(gateway, istio.Request{Host: routeHost(req, gateway), Path: req.URL.Path, Header: req.Header}, nil)
	var span trace.Span
	if t := o.m.tracing; t != nil {
		var tr trace.Tracer
		var attrs []attribute.KeyValue
		if o.gw != nil {
			tr, attrs = o.gw.tracer, o.gw.attrs
		} else {
			tr, attrs = o.src.tracer, p.spanAttrs
		}
		req, span = t.startClient(o, tr, attrs, cfg, d, req)
	}
	resp, dst, flags := o.decide(req, d)
	if span != nil {
		resp = endClient(span, resp, flags)
	}
	if tel != nil {
		svc := d.Target.DestService()
		if d.NoRoute {
			svc = ""
		}
		tel.record(call{reporter: reporterSource, src: srcPeer, dst: dst, service: svc,
			code: resp.StatusCode, flags: flags}, time.Since(start))
	}
	return resp, nil
}

// routeHost is what VirtualService hosts are matched against: the service
// name inside the mesh, the Host header at the gateway.
func routeHost(req *http.Request, gateway string) string {
	if gateway == "" {
		return req.URL.Hostname()
	}
	return req.Host
}

func (o *outbound) decide(req *http.Request, d istio.Decision) (*http.Response, *peer, string) {
	if d.NoRoute {
		return localReply(req, http.StatusNotFound, ""), unknownPeer, "NR"
	}
	flags := "-"
	if d.Delay > 0 {
		flags = "DI"
		t := time.NewTimer(d.Delay)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return localReply(req, 499, "client disconnected"), unknownPeer, "DC"
		}
	}
	if d.AbortStatus > 0 {
		return localReply(req, d.AbortStatus, "fault filter abort"), unknownPeer, "FI"
	}
	if d.Mirror != nil && (req.Body == nil || req.Body == http.NoBody) {
		o.mirror(req, *d.Mirror)
	}
	resp, dst, f := o.forward(req, d)
	if f != "-" {
		flags = f
	}
	return resp, dst, flags
}

// forward sends the request to a pod of the target, retrying as the route's
// retry policy says. Envoy keeps the weighted cluster it chose for every
// attempt, so retries stay within d.Target.
func (o *outbound) forward(req *http.Request, d istio.Decision) (*http.Response, *peer, string) {
	ctx := req.Context()
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel() // the body is read within the timeout below
	}
	attempts := 1
	if req.Body == nil || req.Body == http.NoBody {
		attempts += d.Retries.Attempts
	}
	var resp *http.Response
	dst, flags := unknownPeer, "-"
	for i := 0; i < attempts; i++ {
		resp, dst, flags = o.try(ctx, req, d)
		if i == attempts-1 || !retriable(resp, flags, d.Retries.RetryOn) {
			break
		}
		resp.Body.Close()
	}
	if d.Timeout > 0 && resp.Body != http.NoBody {
		// The route timeout covers the whole response, so read it now.
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return localReply(req, http.StatusGatewayTimeout, "upstream request timeout"), unknownPeer, "UT"
		}
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	if attempts > 1 && flags == "-" && retriable(resp, flags, d.Retries.RetryOn) {
		flags = "URX" // retries exhausted on a still-retriable answer
	}
	return resp, dst, flags
}

func (o *outbound) try(ctx context.Context, req *http.Request, d istio.Decision) (*http.Response, *peer, string) {
	if _, gone := d.Target.Labels[istio.MissingSubsetLabel]; gone {
		// The route names a subset no DestinationRule defines any more:
		// Istio builds no cluster for it and Envoy answers "NC".
		return localReply(req, http.StatusServiceUnavailable, "no cluster found"), unknownPeer, "NC"
	}
	p := o.m.pickPod(d.Target)
	if p == nil {
		return localReply(req, http.StatusServiceUnavailable, "no healthy upstream"), unknownPeer, "UH"
	}
	if d.Retries.PerTryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Retries.PerTryTimeout)
		defer cancel()
	}
	resp, err := o.send(ctx, req, p, d.Target.DestService(), "")
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded):
		return localReply(req, http.StatusGatewayTimeout, "upstream request timeout"), unknownPeer, "UT"
	default:
		return localReply(req, http.StatusServiceUnavailable,
			"upstream connect error or disconnect/reset before headers. reset reason: connection failure"), unknownPeer, "UF"
	}
	dst := o.m.peers[resp.Header.Get(peerHeader)]
	resp.Header.Del(peerHeader)
	switch {
	case dst != nil:
	case o.wp != nil || (o.gw != nil && ztunnelActive(o.m.active.Load(), p)):
		dst = p.w.peer // an ambient proxy knows its endpoints' workloads
	default:
		dst = unknownPeer // the destination has no sidecar to tell who it is
	}
	if d.Retries.PerTryTimeout > 0 {
		// The per-try context ends with this function: buffer the body.
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return localReply(req, http.StatusGatewayTimeout, "upstream request timeout"), unknownPeer, "UT"
		}
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	return resp, dst, "-"
}

// send makes the real HTTP request to a pod. service is the Service it was
// routed to, which the destination's sidecar reports ("" without a
// sidecar: nothing is reported). hostSuffix is "-shadow" for mirrored
// requests, which Envoy sends with the Host header so changed.
func (o *outbound) send(ctx context.Context, req *http.Request, p *pod, service, hostSuffix string) (*http.Response, error) {
	out := req.Clone(ctx)
	out.URL.Scheme, out.URL.Host = "http", p.addr
	host := req.URL.Host
	if o.gw != nil {
		host = req.Host
	}
	if hostSuffix != "" {
		name, port, found := strings.Cut(host, ":")
		host = name + hostSuffix
		if found {
			host += ":" + port
		}
	}
	out.Host = host
	out.RequestURI = ""
	if o.wp == nil && (o.src == nil || o.src.sidecar.Load()) {
		out.Header.Set(peerHeader, o.srcPeer().workload)
		if service != "" && service != p.w.spec.App {
			out.Header[serviceHeader] = []string{service}
		} else if _, set := out.Header[serviceHeader]; set {
			delete(out.Header, serviceHeader) // an app forwarding its own inbound headers
		}
		if t := o.m.tracing; t != nil {
			t.inject(trace.SpanContextFromContext(ctx), out.Header) // the client span
		}
	}
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		// A retried request needs its body again.
		if b, err := req.GetBody(); err == nil {
			out.Body = b
		}
	}
	if ztunnelActive(o.m.active.Load(), p) {
		return o.m.zt.transport(o.srcPeer(), service).RoundTrip(out)
	}
	return o.m.transport.RoundTrip(out)
}

// srcPeer is who sends the request: the workload, gateway or waypoint
// (the peer header names it; ztunnel counts its connections).
func (o *outbound) srcPeer() *peer {
	switch {
	case o.wp != nil:
		return o.wp.peer
	case o.gw != nil:
		return o.gw.peer
	}
	return o.src.peer
}

// mirror sends a shadow copy and discards the answer, as Envoy does. Only the
// mirror target's sidecar reports it (reporter="destination"): Envoy's
// client side does not count shadow requests.
func (o *outbound) mirror(req *http.Request, t istio.Target) {
	p := o.m.pickPod(t)
	if p == nil {
		return
	}
	select {
	case o.m.mirrors <- struct{}{}:
	default:
		return // Envoy drops shadow traffic it cannot keep up with, too
	}
	shadow := req.Clone(context.WithoutCancel(req.Context()))
	o.m.wg.Add(1)
	o.m.shadows.Add(1)
	go func() {
		defer func() { <-o.m.mirrors; o.m.shadows.Done(); o.m.wg.Done() }()
		// shadow's context has no deadline or cancellation, but the client
		// span: the shadow carries its trace context, as Envoy's does.
		ctx, cancel := context.WithTimeout(shadow.Context(), 10*time.Second)
		defer cancel()
		resp, err := o.send(ctx, shadow, p, t.DestService(), "-shadow")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
}

// direct is a call from a workload without a sidecar: no VirtualService
// applies, Kubernetes picks any ready pod of the service, nothing is reported.
func (o *outbound) direct(req *http.Request, service string) (*http.Response, error) {
	p := o.m.pickPod(istio.Target{Service: service})
	if p == nil {
		return nil, errors.New("dial tcp " + service + ":" + strconv.Itoa(servicePort) + ": connect: connection refused")
	}
	return o.send(req.Context(), req, p, "", "")
}

// retriable tells whether Envoy's retry policy would try again.
func retriable(resp *http.Response, flags string, retryOn []string) bool {
	code := resp.StatusCode
	for _, on := range retryOn {
		switch on {
		case "5xx":
			if code >= 500 {
				return true
			}
		case "gateway-error":
			if code == 502 || code == 503 || code == 504 {
				return true
			}
		case "connect-failure", "reset", "refused-stream":
			if flags == "UF" {
				return true
			}
		case "retriable-4xx":
			if code == http.StatusConflict {
				return true
			}
		case "unavailable", "cancelled", "deadline-exceeded", "resource-exhausted", "retriable-status-codes":
			// gRPC statuses and the status-code list: not used by Bookinfo.
		default:
			if n, err := strconv.Atoi(on); err == nil && n == code {
				return true
			}
		}
	}
	return false
}

// localReply is a response Envoy makes itself, with its plain-text body.
func localReply(req *http.Request, code int, body string) *http.Response {
	return &http.Response{
		Status: strconv.Itoa(code) + " " + http.StatusText(code), StatusCode: code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/plain"}, "Server": {"envoy"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
