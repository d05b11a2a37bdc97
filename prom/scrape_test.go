package prom

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const sidecarText = `# TYPE istio_requests_total counter
istio_requests_total{reporter="destination",destination_version="%[1]s",response_code="200"} %[2]d
istio_requests_total{reporter="source",destination_version="%[1]s",response_code="200"} 99
# TYPE envoy_server_uptime gauge
envoy_server_uptime{} %[3]d
`

// sidecar serves a counter that grows by step on each scrape while load
// runs, and an uptime that drops when restart is set.
type sidecar struct {
	version string
	count   atomic.Int64
	uptime  atomic.Int64
}

func (s *sidecar) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintf(w, sidecarText, s.version, s.count.Load(), s.uptime.Load())
}

func TestScrapeDiff(t *testing.T) {
	t.Parallel()
	v1, v3 := &sidecar{version: "v1"}, &sidecar{version: "v3"}
	v1.count.Store(10)
	v1.uptime.Store(500)
	v3.uptime.Store(500)
	s1, s3 := httptest.NewServer(v1), httptest.NewServer(v3)
	defer s1.Close()
	defer s3.Close()
	sc := &Scraper{URLs: []string{s1.URL, s3.URL}}
	ctx := context.Background()
	before, err := sc.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v1.count.Store(25)
	v3.count.Store(7)
	v3.uptime.Store(3) // v3's proxy restarted
	after, err := sc.Settle(ctx, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	res := Diff(before, after).Filter(func(l map[string]string) bool { return l["reporter"] == "destination" })
	if diff := cmp.Diff(map[string]float64{"v1": 15, "v3": 7}, res.Sum("destination_version")); diff != "" {
		t.Errorf("diff by version (-want +got):\n%s", diff)
	}
	if len(res.Restarted) != 1 || res.Restarted[0] != s3.URL {
		t.Errorf("Restarted = %v, want [%s]", res.Restarted, s3.URL)
	}
}

func TestScrapeFailureIsAnError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := (&Scraper{URLs: []string{srv.URL}}).Snapshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sidecar injected") {
		t.Errorf("Snapshot() of a 404 endpoint = %v, want an error asking about the sidecar", err)
	}
}

// FuzzParseExposition feeds arbitrary text to the scrape parser: it must
// never panic, and what it accepts must have a label set per value.
func FuzzParseExposition(f *testing.F) {
	f.Add(fmt.Sprintf(sidecarText, "v1", 3, 10))
	f.Add("istio_requests_total 1\n")
	f.Add("# TYPE istio_requests_total counter\nistio_requests_total{a=\"\\\"\"} NaN\n")
	f.Add("envoy_server_uptime{} 1234\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		snap := newSnapshot()
		if err := parseInto(strings.NewReader(text), "e", &snap); err != nil {
			return
		}
		for k := range snap.Values {
			if snap.Labels[k]["endpoint"] != "e" {
				t.Fatalf("series %q has no endpoint label", k)
			}
		}
	})
}
