package mesh

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/canary-gate/canary/bookinfo/istio"
)

// Ambient mode, as Istio runs it when the namespace is labelled
// istio.io/dataplane-mode=ambient: pods have no sidecar; the node's ztunnel
// carries their connections (L4, mutual TLS) and reports TCP metrics only,
// reporter "destination". HTTP routing, an HTTPRoute's weights or a
// VirtualService, happens only in a waypoint, the Envoy of a Gateway of
// class istio-waypoint that the namespace names (istio.io/use-waypoint); the
// waypoint reports istio_requests_total with reporter "waypoint". Without a
// waypoint a Service's L7 route is not applied: ztunnel sends each
// connection to any ready pod of the Service.

const reporterWaypoint = "waypoint"

// ztunnelPeer is the node's ztunnel, a DaemonSet pod of istio-system.
var ztunnelPeer = &peer{
	workload: "ztunnel", namespace: "istio-system", app: "ztunnel", version: "unknown",
	principal: "spiffe://cluster.local/ns/istio-system/sa/ztunnel", canonicalRevision: "latest",
}

// tcpLabels are the labels of ztunnel's istio_tcp_* metrics: Istio's
// standard ones without the HTTP response's.
var tcpLabels = slices.DeleteFunc(slices.Clone(istioLabels), func(l string) bool {
	return l == "response_code" || l == "grpc_response_status"
})

// ztunnel is the node's L4 proxy: it counts the connections it carries to
// the pods it captures. Connections are pooled per source identity and
// Service, as the counters' labels are: a connection carries one client's
// requests to one Service.
type ztunnel struct {
	m       *Mesh
	pod     string
	reg     *prometheus.Registry
	handler http.Handler
	opened  *prometheus.CounterVec
	closed  *prometheus.CounterVec
	sent    *prometheus.CounterVec // by the destination: the response bytes
	recv    *prometheus.CounterVec // by the destination: the request bytes

	mu         sync.Mutex
	transports map[ztunnelKey]*http.Transport
}

type ztunnelKey struct {
	src     *peer
	service string
}

func newZtunnel(m *Mesh) *ztunnel {
	z := &ztunnel{m: m, pod: podName(ztunnelPeer.workload), reg: prometheus.NewRegistry(), transports: map[ztunnelKey]*http.Transport{}}
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, tcpLabels)
	}
	z.opened = vec("istio_tcp_connections_opened_total", "Total TCP connections opened")
	z.closed = vec("istio_tcp_connections_closed_total", "Total TCP connections closed")
	z.sent = vec("istio_tcp_sent_bytes_total", "Total bytes sent by the destination")
	z.recv = vec("istio_tcp_received_bytes_total", "Total bytes received by the destination")
	z.reg.MustRegister(z.opened, z.closed, z.sent, z.recv)
	z.handler = promhttp.HandlerFor(z.reg, promhttp.HandlerOpts{})
	return z
}

// transport is the pool of connections src opens to service's pods
// through ztunnel.
func (z *ztunnel) transport(src *peer, service string) *http.Transport {
	k := ztunnelKey{src, service}
	z.mu.Lock()
	defer z.mu.Unlock()
	if t, ok := z.transports[k]; ok {
		return t
	}
	d := &net.Dialer{Timeout: 2 * time.Second}
	t := &http.Transport{
		Proxy: nil, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			dst := z.m.peerAt(addr)
			lv := tcpLabelValues(src, dst, service)
			cc := &countedConn{Conn: c, sent: z.sent.WithLabelValues(lv...), recv: z.recv.WithLabelValues(lv...), closed: z.closed.WithLabelValues(lv...)}
			z.opened.WithLabelValues(lv...).Inc()
			return cc, nil
		},
	}
	z.transports[k] = t
	return t
}

func (z *ztunnel) closeIdle() {
	z.mu.Lock()
	defer z.mu.Unlock()
	for _, t := range z.transports {
		t.CloseIdleConnections()
	}
}

// tcpLabelValues are a connection's label values, in tcpLabels' order:
// the HTTP labels of the same call, as its destination reports it over
// mutual TLS, without the response's and with protocol tcp.
func tcpLabelValues(src, dst *peer, service string) []string {
	lv := call{reporter: reporterDestination, src: src, dst: dst, service: service, flags: "-", mtls: true}.labelValues()
	out := lv[:0]
	for i, name := range istioLabels {
		switch name {
		case "response_code", "grpc_response_status":
			continue
		case "request_protocol":
			lv[i] = "tcp"
		}
		out = append(out, lv[i])
	}
	return out
}

// countedConn counts a connection's bytes and its close, from the
// destination's side: what the client writes the destination received.
type countedConn struct {
	net.Conn
	sent, recv, closed prometheus.Counter
	once               sync.Once
}

func (c *countedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.sent.Add(float64(n))
	}
	return n, err
}

func (c *countedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.recv.Add(float64(n))
	}
	return n, err
}

func (c *countedConn) Close() error {
	c.once.Do(c.closed.Inc)
	return c.Conn.Close()
}

// peerAt is the workload whose pod listens at addr; unknownPeer when none
// does any more.
func (m *Mesh) peerAt(addr string) *peer {
	for _, w := range m.workloads {
		if p := w.pod.Load(); p != nil && p.addr == addr {
			return w.peer
		}
	}
	return unknownPeer
}

// waypointProxy is the Deployment Istio runs for a waypoint Gateway: an
// Envoy that routes the namespace's Service traffic by its L7 routes and
// reports it with reporter "waypoint".
type waypointProxy struct {
	name string
	peer *peer
	pod  string
	tel  *telemetry
}

// waypoint returns the running proxy of the waypoint Gateway name, starting
// it on first use: its counters live as long as the mesh.
func (m *Mesh) waypoint(name string) *waypointProxy {
	m.wpMu.Lock()
	defer m.wpMu.Unlock()
	if wp, ok := m.waypoints[name]; ok {
		return wp
	}
	wp := &waypointProxy{
		name: name, pod: podName(name), tel: newTelemetry(time.Now()),
		peer: &peer{workload: name, namespace: Namespace, app: name, version: "unknown",
			principal: "spiffe://cluster.local/ns/" + Namespace + "/sa/" + name, canonicalRevision: "latest"},
	}
	m.waypoints[name] = wp
	return wp
}

// ambient carries a call of a workload without a sidecar in an ambient
// namespace: through the waypoint when one serves the namespace, else
// straight to any ready pod of the Service, as ztunnel does.
func (o *outbound) ambient(req *http.Request, cfg *istio.Config, service string) (*http.Response, error) {
	if name := cfg.Routes().Waypoint(service); name != "" {
		wp := &outbound{m: o.m, wp: o.m.waypoint(name), caller: o.src.peer}
		return wp.viaWaypoint(req, cfg, service)
	}
	// Bookinfo's apps open a connection per call, so picking a pod per
	// request is what ztunnel's per-connection balancing comes to. The
	// local mesh keeps the connections to each pod alive, so it counts
	// fewer connections than a real ztunnel would; bytes are exact.
	p := o.m.pickPod(istio.Target{Service: service})
	if p == nil {
		return nil, errors.New("dial tcp " + service + ":" + strconv.Itoa(servicePort) + ": connect: connection refused")
	}
	return o.send(req.Context(), req, p, service, "")
}

// viaWaypoint routes a request in the waypoint by the mesh routes and
// reports it there.
func (o *outbound) viaWaypoint(req *http.Request, cfg *istio.Config, service string) (*http.Response, error) {
	start := time.Now()
	d := cfg.Routes().Route("", istio.Request{Host: service, Path: req.URL.Path, Header: req.Header}, nil)
	resp, dst, flags := o.decide(req, d)
	svc := d.Target.DestService()
	if d.NoRoute {
		svc = ""
	}
	o.wp.tel.record(call{reporter: reporterWaypoint, src: o.caller, dst: dst, service: svc,
		code: resp.StatusCode, flags: flags, mtls: true}, time.Since(start))
	return resp, nil
}

// ztunnelActive tells whether a hop to p is carried by ztunnel: the mesh is
// in ambient mode and p has no sidecar (a sidecar takes precedence, as in
// Istio).
func ztunnelActive(cfg *istio.Config, p *pod) bool {
	return cfg.Routes().Ambient() && p.tel.Load() == nil
}
