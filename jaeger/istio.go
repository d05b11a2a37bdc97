package jaeger

import (
	"fmt"
	"strings"
	"time"
)

// Hop is what a trace says of one service's part in a request, read from
// the server spans Istio's sidecars report for it.
type Hop struct {
	Service  string        `json:"service"`           // canonical service, e.g. "reviews"
	Version  string        `json:"version"`           // the serving span's istio.canonical_revision
	Pod      string        `json:"pod,omitempty"`     // from its node_id
	Status   string        `json:"status,omitempty"`  // its http.status_code
	Flags    string        `json:"flags,omitempty"`   // its response_flags
	Duration time.Duration `json:"duration"`          // the server span's
	Tries    int           `json:"tries"`             // server spans of the service: more than 1 after retries
	From     string        `json:"from,omitempty"`    // "upstream_cluster" when no server span named the version
	SpanID   string        `json:"span_id,omitempty"` // the serving span
}

// Served finds which version of service (a canonical service name such as
// "reviews") handled the request. Of its server spans, the last one that
// answered 2xx served the page (productpage retries a failed call); with
// none, the last one. A callee without a sidecar reports no server span:
// then the caller's client span names the subset it routed to in its
// upstream_cluster (outbound|9080|v3|reviews.default.svc.cluster.local),
// which is the version only where subsets are named after versions, so
// Hop.From says so.
func (t *Trace) Served(service string) (Hop, error) {
	h := Hop{Service: service}
	var chosen *Span
	for i := range t.Spans {
		s := &t.Spans[i]
		if s.Kind != "server" || !isService(s, service) {
			continue
		}
		h.Tries++
		if chosen == nil || ok2xx(s) || !ok2xx(chosen) {
			chosen = s
		}
	}
	if chosen != nil {
		h.Version, h.Pod, h.SpanID = chosen.Tags["istio.canonical_revision"], podOf(chosen.Tags["node_id"]), chosen.SpanID
		h.Status, h.Flags, h.Duration = chosen.Tags["http.status_code"], chosen.Tags["response_flags"], chosen.Duration
		if h.Version != "" {
			return h, nil
		}
	}
	for i := len(t.Spans) - 1; i >= 0; i-- {
		s := &t.Spans[i]
		if s.Kind != "client" {
			continue
		}
		if subset, svc, ok := upstream(s.Tags["upstream_cluster"]); ok && svc == service && subset != "" {
			h.Version, h.From = subset, "upstream_cluster"
			if h.Status == "" {
				h.Status, h.Flags, h.Duration = s.Tags["http.status_code"], s.Tags["response_flags"], s.Duration
			}
			return h, nil
		}
	}
	if chosen != nil {
		return h, fmt.Errorf("trace %s: %s's server span names no istio.canonical_revision", t.ID, service)
	}
	return h, fmt.Errorf("trace %s: no span of %s (%d spans)", t.ID, service, len(t.Spans))
}

// isService tells whether a span is the service's: by Istio's canonical
// service tag, else by the Jaeger service name "reviews.default".
func isService(s *Span, service string) bool {
	if cs, ok := s.Tags["istio.canonical_service"]; ok {
		return cs == service
	}
	return s.Service == service || strings.HasPrefix(s.Service, service+".")
}

func ok2xx(s *Span) bool { return strings.HasPrefix(s.Tags["http.status_code"], "2") }

// podOf reads the pod from an Envoy node id:
// sidecar~10.0.0.7~reviews-v3-7d9f-abcde.default~default.svc.cluster.local.
func podOf(nodeID string) string {
	parts := strings.Split(nodeID, "~")
	if len(parts) < 3 {
		return ""
	}
	pod, _, _ := strings.Cut(parts[2], ".")
	return pod
}

// upstream reads Envoy's outbound cluster name
// outbound|9080|v3|reviews.default.svc.cluster.local into its subset and
// short service name.
func upstream(cluster string) (subset, service string, ok bool) {
	parts := strings.Split(cluster, "|")
	if len(parts) != 4 || parts[0] != "outbound" {
		return "", "", false
	}
	service, _, _ = strings.Cut(parts[3], ".")
	return parts[2], service, true
}
