package mesh

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Reporters, as in Istio's istio_stats filter: the client-side sidecar reports
// "source", the server-side sidecar "destination".
const (
	reporterSource      = "source"
	reporterDestination = "destination"
)

// istioLabels are the labels Istio's stats filter puts on istio_requests_total
// and istio_request_duration_milliseconds (istio/proxy istio_stats all_tags_).
var istioLabels = []string{
	"reporter",
	"source_workload", "source_canonical_service", "source_canonical_revision",
	"source_workload_namespace", "source_principal", "source_app", "source_version", "source_cluster",
	"destination_workload", "destination_workload_namespace", "destination_principal",
	"destination_app", "destination_version", "destination_service",
	"destination_canonical_service", "destination_canonical_revision",
	"destination_service_name", "destination_service_namespace", "destination_cluster",
	"request_protocol", "response_code", "grpc_response_status", "response_flags",
	"connection_security_policy",
}

// durationBuckets are Istio's default buckets for request durations in ms.
var durationBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// peer is the identity a sidecar learns about the other end through Istio's
// metadata exchange. unknownPeer stands for a peer without a sidecar (or none
// reached), which Istio labels "unknown".
type peer struct {
	workload, namespace, app, version, principal, canonicalRevision string
}

var unknownPeer = &peer{"unknown", "unknown", "unknown", "unknown", "unknown", "unknown"}

// ingressPeer is the istio-ingressgateway Deployment of istio-system.
var ingressPeer = &peer{
	workload: "istio-ingressgateway", namespace: "istio-system", app: "istio-ingressgateway",
	version: "unknown", principal: "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",
	canonicalRevision: "latest",
}

// k8sGatewayPeer is the Deployment Istio runs for the Gateway API Gateway
// bookinfo-gateway, in the Gateway's namespace.
var k8sGatewayPeer = &peer{
	workload: K8sGatewayService, namespace: Namespace, app: K8sGatewayService,
	version: "unknown", principal: "spiffe://cluster.local/ns/" + Namespace + "/sa/" + K8sGatewayService,
	canonicalRevision: "latest",
}

func workloadPeer(w workloadSpec) *peer {
	return &peer{
		workload: w.Name, namespace: Namespace, app: w.App, version: w.Version,
		principal:         "spiffe://cluster.local/ns/" + Namespace + "/sa/bookinfo-" + w.App,
		canonicalRevision: w.Version,
	}
}

// call is one request as a sidecar saw it.
type call struct {
	reporter string
	src, dst *peer
	service  string // destination service short name ("" when unknown)
	code     int
	flags    string // Envoy response flags, "-" when none
	mtls     bool   // both ends have sidecars
}

type seriesKey struct {
	reporter string
	src, dst *peer
	service  string
	code     int
	flags    string
	mtls     bool
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// telemetry is one sidecar's metrics: a fresh registry per sidecar start, so
// a restarted pod starts its counters from zero like a restarted Envoy.
type telemetry struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler

	mu     sync.RWMutex
	series map[seriesKey]series // resolved children: label hashing is the hot cost
}

func newTelemetry(started time.Time) *telemetry {
	t := &telemetry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "istio_requests_total", Help: "Total requests handled by an Istio proxy",
		}, istioLabels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "istio_request_duration_milliseconds", Help: "Request duration in milliseconds",
			Buckets: durationBuckets,
		}, istioLabels),
		series: make(map[seriesKey]series),
	}
	uptime := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "envoy_server_uptime", Help: "Seconds since this proxy started",
	}, func() float64 { return float64(int64(time.Since(started).Seconds())) })
	t.reg.MustRegister(t.requests, t.duration, uptime)
	t.handler = promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{})
	return t
}

// record counts one request. It is on every hop of every page, so the
// resolved series are cached by a comparable key instead of re-hashing 25
// label values each time.
func (t *telemetry) record(c call, d time.Duration) {
	k := seriesKey(c)
	t.mu.RLock()
	s, ok := t.series[k]
	t.mu.RUnlock()
	if !ok {
		lv := c.labelValues()
		s = series{t.requests.WithLabelValues(lv...), t.duration.WithLabelValues(lv...)}
		t.mu.Lock()
		t.series[k] = s
		t.mu.Unlock()
	}
	s.requests.Inc()
	s.duration.Observe(float64(d) / float64(time.Millisecond))
}

func (c call) labelValues() []string {
	security := "unknown"
	if c.reporter == reporterWaypoint {
		security = "mutual_tls" // HBONE both ways
	}
	if c.reporter == reporterDestination {
		security = "none"
		if c.mtls {
			security = "mutual_tls"
		}
	}
	service, serviceName, serviceNS := "unknown", "unknown", "unknown"
	if c.service != "" {
		service, serviceName, serviceNS = fqdn(c.service), c.service, Namespace
	}
	src, dst := c.src, c.dst
	return []string{
		c.reporter,
		src.workload, src.app, src.canonicalRevision, src.namespace, src.principal, src.app, src.version, clusterOf(src),
		dst.workload, dst.namespace, dst.principal, dst.app, dst.version, service,
		dst.app, dst.canonicalRevision, serviceName, serviceNS, clusterOf(dst),
		"http", strconv.Itoa(c.code), "-", c.flags, security,
	}
}

func clusterOf(p *peer) string {
	if p == unknownPeer {
		return "unknown"
	}
	return "Kubernetes"
}
