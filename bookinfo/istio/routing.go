package istio

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Request is what a sidecar knows about an outbound request when it routes it.
type Request struct {
	Host   string      // service short name for mesh traffic, or the HTTP Host for the ingress gateway
	Path   string      // URL path without the query string (Envoy matches on the path once the query is removed)
	Header http.Header // header matching uses lower-case names, like Istio
}

// Target is a place to send a request: a service and the labels its pods must
// carry (nil labels = every version). Labels belongs to the routing table and
// must not be modified.
type Target struct {
	Service string
	Labels  map[string]string
	Subset  string // DestinationRule subset, "" when the route names none
	// Backend is the backend Service an HTTPRoute sends to (reviews-v1),
	// which Istio reports as destination_service_name; "" means Service.
	Backend string
}

// DestService is the Service a request to t is reported for
// (destination_service_name): the HTTPRoute's backend, else the Service.
func (t Target) DestService() string {
	if t.Backend != "" {
		return t.Backend
	}
	return t.Service
}

// MissingSubsetLabel is the only label of Target.Labels when a route names a
// subset that no DestinationRule defines (any more): no pod carries it, so
// the sidecar answers 503 with response flag "NC", as Envoy does for a route
// to a cluster Istio never built.
const MissingSubsetLabel = "bookinfo.local/missing-subset"

// RetryPolicy is a route's retry policy; the zero value means no retries.
type RetryPolicy struct {
	Attempts      int           // retries after the first try
	PerTryTimeout time.Duration // 0 = the route timeout applies
	RetryOn       []string      // Envoy retry conditions, e.g. "5xx", "503"; shared, do not modify
}

// Decision is the routing outcome for one request, already sampled (weights,
// fault and mirror percentages).
type Decision struct {
	Target      Target
	NoRoute     bool          // no VS route matched (ingress: 404 with response_flags "NR")
	Delay       time.Duration // fault delay to apply (0 when not sampled)
	AbortStatus int           // fault abort status (0 when not sampled); response_flags "FI"
	Mirror      *Target       // nil when no mirror or not sampled; shared, do not modify
	Retries     RetryPolicy
	Timeout     time.Duration // route timeout (0 = none)
	Route       string        // "VirtualService reviews, http[1]" or "" for default routing — for logs and tests
}

// Table is the compiled routing table of one Config snapshot. It is immutable
// and safe for concurrent use; the zero value and nil route by default.
type Table struct {
	mesh       map[string]*tableVS   // service short name → its mesh VirtualService or HTTPRoute
	gateways   map[string][]*tableVS // gateway name (GatewayKey for the Gateway API) → its routes in the order they are tried: by name, or compileGatewayRoutes'  order
	k8sGateway string                // the Gateway API Gateway, "" when none
	namespace  map[string]string     // the mesh namespace's labels (ambient.go)
	waypoints  map[string]bool       // the waypoint Gateways
	// serviceWaypoint is the istio.io/use-waypoint label of the Services
	// that carry one.
	serviceWaypoint map[string]string
}

// Route decides where r goes. gateway "" routes mesh traffic as a sidecar;
// any other value (e.g. "bookinfo-gateway", or GatewayKey("bookinfo-gateway")
// for the Gateway API's) routes as that ingress gateway.
// Random draws use rnd, or the goroutine-safe top-level math/rand/v2
// functions when rnd is nil. Route does not allocate.
func (t *Table) Route(gateway string, r Request, rnd *rand.Rand) Decision {
	var rt *tableRoute
	if gateway == "" {
		host := shortHost(stripPort(r.Host))
		var vs *tableVS
		if t != nil {
			vs = t.mesh[host]
		}
		if vs == nil {
			return Decision{Target: Target{Service: host}}
		}
		rt = vs.match(&r)
	} else if t != nil {
		host := stripPort(r.Host)
		vhost := ""
		for _, vs := range t.gateways[gateway] {
			if !vs.matchHost(host) {
				continue
			}
			if vs.vhost {
				// Envoy picks the most specific virtual host, then matches
				// only its routes: no fall-through to a wider hostname.
				if vhost != "" && vs.hosts[0] != vhost {
					break
				}
				vhost = vs.hosts[0]
			}
			if rt = vs.match(&r); rt != nil {
				break
			}
		}
	}
	if rt == nil {
		return Decision{NoRoute: true}
	}
	return rt.decide(rnd)
}

// decide samples the route's weights, mirror and faults, in that order.
func (rt *tableRoute) decide(rnd *rand.Rand) Decision {
	dec := Decision{
		Target:  rt.dests[0].target,
		Retries: rt.retries,
		Timeout: rt.timeout,
		Route:   rt.name,
	}
	if len(rt.dests) > 1 {
		n := randIntN(rnd, rt.total)
		for i := range rt.dests {
			if n < rt.dests[i].upTo {
				dec.Target = rt.dests[i].target
				break
			}
		}
	}
	if rt.mirror != nil && sample(rnd, rt.mirrorPct) {
		dec.Mirror = rt.mirror
	}
	if rt.delay > 0 && sample(rnd, rt.delayPct) {
		dec.Delay = rt.delay
	}
	if rt.abort != 0 && sample(rnd, rt.abortPct) {
		dec.AbortStatus = rt.abort
	}
	return dec
}

func randIntN(rnd *rand.Rand, n int) int {
	if rnd == nil {
		return rand.IntN(n)
	}
	return rnd.IntN(n)
}

// sample reports true with probability pct percent.
func sample(rnd *rand.Rand, pct float64) bool {
	switch {
	case pct >= 100:
		return true
	case pct <= 0:
		return false
	case rnd == nil:
		return rand.Float64()*100 < pct
	}
	return rnd.Float64()*100 < pct
}

// hostSuffixes are the DNS suffixes a service of the default namespace may be
// written with.
var hostSuffixes = [...]string{".default.svc.cluster.local", ".default.svc", ".default"}

// shortHost normalises "reviews.default.svc.cluster.local" (or .default.svc,
// .default) to "reviews"; other hosts are only lower-cased.
func shortHost(h string) string {
	h = strings.ToLower(h) // no allocation when already lower-case
	for _, suffix := range hostSuffixes {
		if strings.HasSuffix(h, suffix) {
			return h[:len(h)-len(suffix)]
		}
	}
	return h
}

// isMeshService reports whether host names one of the mesh's services.
func isMeshService(host string) bool {
	short := shortHost(host)
	for _, s := range meshServices {
		if s == short {
			return true
		}
	}
	return false
}

// stripPort removes a ":port" suffix from a host (IPv6 literals keep theirs).
func stripPort(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h[i:], ']') < 0 {
		return h[:i]
	}
	return h
}
