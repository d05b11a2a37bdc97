package mesh

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// peerHeader carries the caller's workload to the callee's sidecar and the
// callee's workload back, as Istio's metadata exchange does with its
// x-envoy-peer-metadata headers. Sidecars strip it before the app sees it.
const peerHeader = "x-envoy-peer-metadata-id"

// serviceHeader tells the destination's sidecar which Service the request
// was routed to when that is not the app's own (an HTTPRoute's version
// Service), as Envoy's inbound listener learns it from the destination
// cluster; it reports it as destination_service_name. It is sent only then,
// and written in canonical form, so that the walkthrough's hops allocate
// nothing more for it.
const serviceHeader = "X-Bookinfo-Destination-Service"

// workload is one Deployment with at most one pod.
type workload struct {
	spec    workloadSpec
	peer    *peer
	mesh    *Mesh
	app     http.Handler
	sidecar atomic.Bool // injected: routes outbound calls and reports telemetry

	tracer    trace.Tracer // nil without tracing
	inboundOp string       // its sidecar's server span name

	mu      sync.Mutex // serialises scale and sidecar changes
	pod     atomic.Pointer[pod]
	degrade atomic.Pointer[Degradation] // nil for a healthy build
}

// pod is one running instance of a workload, with its own listener and, when
// injected, its own sidecar telemetry that starts from zero like a new pod's.
type pod struct {
	w       *workload
	name    string
	addr    string
	srv     *http.Server
	started time.Time
	tel     atomic.Pointer[telemetry] // nil without a sidecar

	spanAttrs []attribute.KeyValue // its proxy's span tags, with tracing
}

func (w *workload) matches(labels map[string]string) bool {
	for k, v := range labels {
		switch {
		case k == "app" && v == w.spec.App, k == "version" && v == w.spec.Version:
		default:
			return false
		}
	}
	return true
}

// scale starts (1) or stops (0) the workload's pod. A new pod gets a new name
// and fresh counters, which is what a scale-up does to Prometheus series.
func (w *workload) scale(replicas int) error {
	if replicas != 0 && replicas != 1 {
		return fmt.Errorf("%s=%d: the local mesh runs 0 or 1 replicas per workload", w.spec.Name, replicas)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	old := w.pod.Load()
	if replicas == 0 {
		if old != nil {
			w.pod.Store(nil)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = shutdown(ctx, old.srv)
		}
		return nil
	}
	if old != nil {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start %s: %w", w.spec.Name, err)
	}
	p := &pod{w: w, name: podName(w.spec.Name), addr: ln.Addr().String(), started: time.Now()}
	if w.sidecar.Load() {
		p.tel.Store(newTelemetry(p.started))
	}
	if w.tracer != nil {
		p.spanAttrs = proxyAttrs("sidecar", p.name, Namespace, w.spec.App, w.spec.Version)
	}
	p.srv = newServer(p)
	w.mesh.serve(p.srv, ln)
	w.pod.Store(p)
	return nil
}

// setSidecar injects or removes the sidecar. Istio does that by restarting
// the pod, so the running pod is replaced and a new one starts.
func (w *workload) setSidecar(on bool) error {
	if w.sidecar.Load() == on {
		return nil
	}
	w.sidecar.Store(on)
	if w.pod.Load() == nil {
		return nil
	}
	if err := w.scale(0); err != nil {
		return err
	}
	return w.scale(1)
}

// ServeHTTP is the pod's inbound path: the destination sidecar, then the app.
func (p *pod) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	caller, service := r.Header.Get(peerHeader), r.Header.Get(serviceHeader)
	r.Header.Del(peerHeader)
	r.Header.Del(serviceHeader)
	if service == "" {
		service = p.w.spec.App // called without a sidecar: Kubernetes' Service
	}
	tel := p.tel.Load()
	if tel == nil {
		p.w.serveApp(rw, r)
		return
	}
	src := p.w.mesh.peers[caller]
	if src == nil {
		src = unknownPeer
	}
	rw.Header().Set(peerHeader, p.w.spec.Name)
	var span trace.Span
	if t := p.w.mesh.tracing; t != nil {
		span = t.startServer(p, r)
	}
	rec := &statusRecorder{ResponseWriter: rw, code: http.StatusOK}
	start := time.Now()
	p.w.serveApp(rec, r)
	tel.record(call{
		reporter: reporterDestination, src: src, dst: p.w.peer, service: service,
		code: rec.code, flags: "-", mtls: src != unknownPeer,
	}, time.Since(start))
	if span != nil {
		endServer(span, rec.code)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Scale sets a workload's replicas to 0 or 1. With 0 its callers get Envoy's
// "no healthy upstream" 503, as with an empty endpoint set.
func (m *Mesh) Scale(workload string, replicas int) error {
	w, ok := m.workloads[workload]
	if !ok {
		_, err := lookupWorkload(workload)
		return err
	}
	if err := w.scale(replicas); err != nil {
		return err
	}
	m.logf("scale: %s=%d", workload, replicas)
	return nil
}

// SetSidecar injects (true) or removes (false) a workload's sidecar. Without
// one the workload reports no telemetry and its outbound calls bypass
// VirtualService routing, as in a partly injected namespace.
func (m *Mesh) SetSidecar(workload string, on bool) error {
	w, ok := m.workloads[workload]
	if !ok {
		_, err := lookupWorkload(workload)
		return err
	}
	if err := w.setSidecar(on); err != nil {
		return err
	}
	m.logf("sidecar: %s=%v", workload, on)
	return nil
}
