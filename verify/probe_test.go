package verify

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/internal/devcert"
)

// TestProbe checks the one request before a gate: with the attack's TLS
// options, a down target is ErrUnreachable, an untrusted one attack.ErrTLS
// and any HTTP answer, even an error status, is a target that is up.
func TestProbe(t *testing.T) {
	t.Parallel()
	ca, err := devcert.NewCA("verify test CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pair.TLS()
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
	plain := httptest.NewServer(status(http.StatusInternalServerError))
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(status(http.StatusOK))
	secure.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	secure.StartTLS()
	t.Cleanup(secure.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	tests := []struct {
		name string
		o    attack.Options
		want error // nil: the probe passes
	}{
		{"http error status", attack.Options{Target: plain.URL}, nil},
		{"tls with ca-file", attack.Options{Target: secure.URL, CAFile: caFile}, nil},
		{"tls untrusted", attack.Options{Target: secure.URL}, attack.ErrTLS},
		{"down", attack.Options{Target: down}, ErrUnreachable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := probe(t.Context(), tc.o)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("probe() = %v; want %v", err, tc.want)
			}
		})
	}
}

// TestSelector: the server check's PromQL counts Service and, once each, the
// backends Istio reports its routed requests under; names are quoted as
// regular expressions, so a dot in one matches only a dot.
func TestSelector(t *testing.T) {
	t.Parallel()
	tests := []struct {
		backends []string
		want     string
	}{
		{nil, `istio_requests_total{reporter="destination",destination_service_name="reviews",destination_service_namespace="default"}`},
		{[]string{"reviews"}, `istio_requests_total{reporter="destination",destination_service_name="reviews",destination_service_namespace="default"}`},
		{[]string{"reviews-v1", "reviews-v3", "reviews-v1"}, `istio_requests_total{reporter="destination",destination_service_name=~"reviews|reviews-v1|reviews-v3",destination_service_namespace="default"}`},
		{[]string{"reviews.v2"}, `istio_requests_total{reporter="destination",destination_service_name=~"reviews|reviews\\.v2",destination_service_namespace="default"}`},
	}
	for _, tc := range tests {
		o := Options{Service: "reviews", Namespace: "default", Backends: tc.backends}
		if got := o.selector(); got != tc.want {
			t.Errorf("selector() with backends %v = %s; want %s", tc.backends, got, tc.want)
		}
	}
	// Ambient mode: the waypoint's reports.
	o := Options{Service: "reviews", Namespace: "default", Backends: []string{"reviews-v1"}, Reporter: "waypoint"}
	if got, want := o.selector(), `istio_requests_total{reporter="waypoint",destination_service_name=~"reviews|reviews-v1",destination_service_namespace="default"}`; got != want {
		t.Errorf("selector() for the waypoint = %s; want %s", got, want)
	}
	if !o.serverQuery().Matches(map[string]string{"reporter": "waypoint", "destination_service_name": "reviews-v1", "destination_service_namespace": "default"}) ||
		o.serverQuery().Matches(map[string]string{"reporter": "destination", "destination_service_name": "reviews-v1", "destination_service_namespace": "default"}) {
		t.Error("the waypoint query must match the waypoint's series and no sidecar's")
	}

}

// TestServerQueryMatches: a scraped series counts when it is the
// destination's report of Service or one of its backends, in the namespace.
func TestServerQueryMatches(t *testing.T) {
	t.Parallel()
	q := ServerQuery{Service: "reviews", Namespace: "default", Backends: []string{"reviews-v1"}}
	tests := []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{"reporter": "destination", "destination_service_name": "reviews", "destination_service_namespace": "default"}, true},
		{map[string]string{"reporter": "destination", "destination_service_name": "reviews-v1", "destination_service_namespace": "default"}, true},
		{map[string]string{"reporter": "source", "destination_service_name": "reviews-v1", "destination_service_namespace": "default"}, false},
		{map[string]string{"reporter": "destination", "destination_service_name": "reviews-v2", "destination_service_namespace": "default"}, false},
		{map[string]string{"reporter": "destination", "destination_service_name": "reviews-v1", "destination_service_namespace": "other"}, false},
	}
	for _, tc := range tests {
		if got := q.Matches(tc.labels); got != tc.want {
			t.Errorf("Matches(%v) = %v; want %v", tc.labels, got, tc.want)
		}
	}
}
