package mesh

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/canary-gate/canary/bookinfo/app"
	"github.com/canary-gate/canary/bookinfo/istio"
)

// DefaultPropagationDelay is how long applied routing takes to reach the
// sidecars. Istio pushes config in about a second on a small mesh; tools that
// verify a rollout right after `kubectl apply` must cope with that window.
const DefaultPropagationDelay = time.Second

// Options configure a local mesh.
type Options struct {
	// Addr is the ingress gateway's listen address, e.g. "127.0.0.1:8080".
	Addr string
	// GatewayAddr is the listen address of the Gateway API Gateway's
	// Deployment (bookinfo-gateway-istio), plain http; "" means
	// 127.0.0.1 with a free port. It routes once a Gateway of class istio
	// is applied, and answers 404 (no route) until then.
	GatewayAddr string
	// AdminAddr serves the sidecars' metrics, Prometheus service discovery
	// and the control API used by `canary bookinfo apply|delete|scale|sidecar`.
	AdminAddr string
	// TLSCertFile and TLSKeyFile, when set, make the ingress serve https
	// on Addr (HTTP/1.1 and HTTP/2 by ALPN) with this PEM certificate and
	// key. Without them it serves plain http, HTTP/1.1 and HTTP/2 with
	// prior knowledge (h2c).
	TLSCertFile, TLSKeyFile string
	// Markup selects the productpage template generation (default current).
	Markup app.Markup
	// PropagationDelay is the time from Apply or Delete to the new routing
	// being used by every sidecar. Zero makes changes take effect at once.
	PropagationDelay time.Duration
	// NoSidecar lists workloads that start without a sidecar.
	NoSidecar []string
	// Ambient starts the mesh's namespace in Istio's ambient mode
	// (istio.io/dataplane-mode=ambient) with no sidecars: ztunnel carries
	// the pods' traffic, and HTTP routes apply once a waypoint serves the
	// namespace. A cluster's namespace labels replace it (kube.Source).
	Ambient bool
	// Logf, if set, receives one line per configuration change.
	Logf func(format string, args ...any)
	// Tracing, when set, is an OTLP/HTTP base URL (http(s)://HOST:PORT,
	// e.g. http://127.0.0.1:4318 of a Jaeger or an OpenTelemetry
	// collector): the sidecars and the gateway then report spans to
	// /v1/traces under it as Istio's Envoy does. An unreachable endpoint
	// is logged once; the spans are dropped.
	Tracing string
	// TraceSampling is the percentage (0-100) of requests arriving without
	// a sampling decision (traceparent's sampled flag, B3's x-b3-sampled)
	// that are traced; requests that carry one keep it. Zero traces only
	// those; `canary bookinfo serve` uses DefaultTraceSampling, Istio's 1%.
	TraceSampling float64

	// traceExporter, for tests, receives the spans instead of an OTLP
	// endpoint, turning tracing on without Tracing.
	traceExporter sdktrace.SpanExporter
}

// Mesh is a running local Bookinfo mesh.
type Mesh struct {
	opts       Options
	transport  *http.Transport
	sessionKey []byte
	ingress    *http.Server
	ingressTLS *tls.Config // nil: plain http
	k8sGateway *http.Server
	admin      *http.Server
	ingressLn  net.Listener
	k8sGwLn    net.Listener
	adminLn    net.Listener
	ingressGW  *gatewayProxy // istio-ingressgateway
	k8sGW      *gatewayProxy // bookinfo-gateway-istio
	started    time.Time
	tracing    *tracing // nil: no spans

	workloads map[string]*workload
	byApp     map[string][]*workload
	peers     map[string]*peer // by workload name, for metadata exchange

	zt        *ztunnel // carries the pods' traffic in ambient mode (ambient.go)
	wpMu      sync.Mutex
	waypoints map[string]*waypointProxy // by Gateway name, started on first use

	cfgMu     sync.Mutex
	desired   *istio.Config // what was last applied: the API answers with this
	gen       uint64
	active    atomic.Pointer[istio.Config] // what the sidecars route by
	activeGen uint64                       // guarded by cfgMu
	timers    []*time.Timer
	synced    bool // guarded by cfgMu: a cluster has configured the mesh

	mirrors chan struct{}  // bounds concurrent shadow requests
	shadows sync.WaitGroup // shadow requests in flight, drained before the pods stop
	wg      sync.WaitGroup
}

// Start binds the ingress and admin listeners, starts every workload and
// applies the built-in gateway and destination rules, so the mesh starts as
// the walkthrough has it after deploying Bookinfo. It returns once every
// listener accepts connections.
func Start(opts Options) (*Mesh, error) {
	if opts.Markup == "" {
		opts.Markup = app.MarkupCurrent
	}
	if opts.Markup != app.MarkupCurrent && opts.Markup != app.Markup122 {
		return nil, fmt.Errorf("markup %q: want %q or %q", opts.Markup, app.MarkupCurrent, app.Markup122)
	}
	if opts.PropagationDelay < 0 {
		return nil, fmt.Errorf("propagation delay %v: want zero or more", opts.PropagationDelay)
	}
	if err := checkTracing(opts); err != nil {
		return nil, err
	}
	ingressTLS, err := loadIngressTLS(opts.TLSCertFile, opts.TLSKeyFile)
	if err != nil {
		return nil, err
	}
	m := &Mesh{
		opts: opts,
		transport: &http.Transport{
			Proxy: nil, MaxIdleConns: 0, MaxIdleConnsPerHost: 512,
			IdleConnTimeout: 90 * time.Second, DisableCompression: true,
			DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		},
		ingressTLS: ingressTLS,
		sessionKey: make([]byte, 32),
		workloads:  make(map[string]*workload),
		byApp:      make(map[string][]*workload),
		peers:      map[string]*peer{},
		started:    time.Now(),
		mirrors:    make(chan struct{}, 256),
		waypoints:  map[string]*waypointProxy{},
	}
	m.zt = newZtunnel(m)
	_, _ = crand.Read(m.sessionKey)
	if m.tracing, err = newTracing(opts, m.logf); err != nil {
		return nil, err
	}
	m.ingressGW = m.newGateway(ingressPeer, func(*istio.Table) string { return gatewayName })
	m.k8sGW = m.newGateway(k8sGatewayPeer, func(t *istio.Table) string { return istio.GatewayKey(t.K8sGateway()) })
	noSidecar := opts.NoSidecar
	if opts.Ambient {
		noSidecar = WorkloadNames()
	}
	if err := m.startWorkloads(noSidecar); err != nil {
		m.abortStart()
		return nil, err
	}
	if err := m.applyBuiltin(); err != nil {
		m.abortStart()
		return nil, err
	}
	if err := m.listen(); err != nil {
		m.abortStart()
		return nil, err
	}
	return m, nil
}

// abortStart undoes a Start that failed half-way.
func (m *Mesh) abortStart() {
	m.closeWorkloads()
	if m.tracing != nil {
		m.tracing.shutdown(context.Background())
	}
}

func (m *Mesh) startWorkloads(noSidecar []string) error {
	for _, name := range noSidecar {
		if _, err := lookupWorkload(name); err != nil {
			return fmt.Errorf("no-sidecar: %w", err)
		}
	}
	for _, spec := range workloads {
		w := &workload{spec: spec, peer: workloadPeer(spec), mesh: m}
		if m.tracing != nil {
			w.tracer = m.tracing.tracer(spec.App + "." + Namespace)
			w.inboundOp = m.tracing.defaultOps[spec.App]
		}
		w.sidecar.Store(!slices.Contains(noSidecar, spec.Name))
		w.app = newApp(m, w)
		m.workloads[spec.Name] = w
		m.byApp[spec.App] = append(m.byApp[spec.App], w)
		m.peers[spec.Name] = w.peer
		if err := w.scale(1); err != nil {
			return err
		}
	}
	return nil
}

// newApp returns the application container of a workload, given what it
// needs from the mesh: a client through the workload's sidecar, the name of
// its running pod, the markup and the mesh's session key.
func newApp(m *Mesh, w *workload) http.Handler {
	return app.New(app.Env{
		App: w.spec.App, Version: w.spec.Version,
		PodName: func() string {
			if p := w.pod.Load(); p != nil {
				return p.name
			}
			return ""
		},
		Client:     &http.Client{Transport: &outbound{m: m, src: w}},
		Markup:     m.opts.Markup,
		SessionKey: m.sessionKey,
	})
}

func (m *Mesh) listen() error {
	var err error
	if m.ingressLn, err = net.Listen("tcp", m.opts.Addr); err != nil {
		return fmt.Errorf("ingress --addr: %w", err)
	}
	gwAddr := m.opts.GatewayAddr
	if gwAddr == "" {
		gwAddr = "127.0.0.1:0"
	}
	if m.k8sGwLn, err = net.Listen("tcp", gwAddr); err != nil {
		m.ingressLn.Close()
		return fmt.Errorf("gateway --gateway-addr: %w", err)
	}
	if m.adminLn, err = net.Listen("tcp", m.opts.AdminAddr); err != nil {
		m.ingressLn.Close()
		m.k8sGwLn.Close()
		return fmt.Errorf("admin --admin-addr: %w", err)
	}
	m.ingress = newServer(m.ingressGW)
	m.ingress.Protocols = ingressProtocols()
	m.ingress.TLSConfig = m.ingressTLS
	m.k8sGateway = newServer(m.k8sGW)
	m.k8sGateway.Protocols = ingressProtocols()
	m.admin = newServer(m.adminHandler())
	m.serve(m.ingress, m.ingressLn)
	m.serve(m.k8sGateway, m.k8sGwLn)
	m.serve(m.admin, m.adminLn)
	return nil
}

// serve runs s on ln until Shutdown, over TLS when s has a TLS config.
func (m *Mesh) serve(s *http.Server, ln net.Listener) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if s.TLSConfig != nil {
			_ = s.ServeTLS(ln, "", "") // the certificate is in TLSConfig
			return
		}
		_ = s.Serve(ln) // returns http.ErrServerClosed on Shutdown
	}()
}

// Addr is the ingress gateway's address (host:port).
func (m *Mesh) Addr() string { return m.ingressLn.Addr().String() }

// GatewayAddr is the Gateway API Gateway's address (host:port), plain
// http: what Istio's bookinfo-gateway-istio Service would be.
func (m *Mesh) GatewayAddr() string { return m.k8sGwLn.Addr().String() }

// Scheme is the ingress gateway's URL scheme: "https" with a TLS
// certificate, else "http".
func (m *Mesh) Scheme() string {
	if m.ingressTLS != nil {
		return "https"
	}
	return "http"
}

// AdminAddr is the admin API's address (host:port).
func (m *Mesh) AdminAddr() string { return m.adminLn.Addr().String() }

// Shutdown stops accepting requests, waits for those in flight until ctx
// ends, stops every workload and flushes the spans not yet sent (for at
// most a few seconds; tracing errors are logged, not returned).
func (m *Mesh) Shutdown(ctx context.Context) error {
	m.cfgMu.Lock()
	for _, t := range m.timers {
		t.Stop()
	}
	m.cfgMu.Unlock()
	err := errors.Join(shutdown(ctx, m.ingress), shutdown(ctx, m.k8sGateway), shutdown(ctx, m.admin))
	// With the ingress drained no shadow request starts any more; those in
	// flight finish against running pods (else their own calls, reviews'
	// to ratings, fail as UF), unless ctx ends first.
	drained := make(chan struct{})
	go func() { m.shadows.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
	}
	m.transport.CloseIdleConnections()
	m.zt.closeIdle()
	m.closeWorkloads()
	m.wg.Wait()
	m.transport.CloseIdleConnections()
	m.zt.closeIdle()
	if m.tracing != nil {
		m.tracing.shutdown(ctx)
	}
	return err
}

func (m *Mesh) closeWorkloads() {
	for _, w := range m.workloads {
		_ = w.scale(0)
	}
}

// pickPod chooses a running pod of the target uniformly at random, as
// Kubernetes service load balancing and Envoy's default round robin do over
// a large number of requests. It returns nil when no endpoint exists.
func (m *Mesh) pickPod(t istio.Target) *pod {
	var cand [8]*pod
	n := 0
	for _, w := range m.byApp[t.Service] {
		if !w.matches(t.Labels) {
			continue
		}
		if p := w.pod.Load(); p != nil && n < len(cand) {
			cand[n] = p
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return cand[rand.IntN(n)]
}
