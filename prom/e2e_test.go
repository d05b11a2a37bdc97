package prom

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/internal/promtest"
	"github.com/google/go-cmp/cmp"
)

const reviewsSel = `istio_requests_total{reporter="destination",destination_service_name="reviews",destination_service_namespace="default"}`

// TestAgainstRealPrometheus: the raw walk through a real Prometheus and the
// direct scrape diff both give the sidecars' exact counts for a window, and
// a Prometheus that dies gives ErrUnavailable, not a wrong number.
func TestAgainstRealPrometheus(t *testing.T) {
	promtest.Binary(t)
	m, err := mesh.Start(mesh.Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	server := promtest.Start(t, mesh.PrometheusConfig(m.AdminAddr(), time.Second))
	c, err := New(Options{URL: server.URL, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := server.WaitScraped(ctx, time.Now(), 7); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, v := range []string{"v1", "v2", "v3"} {
		urls = append(urls, "http://"+m.AdminAddr()+"/sidecars/reviews-"+v+"/stats/prometheus")
	}
	sc := &Scraper{URLs: urls}
	before, err := sc.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 150 { // no VirtualService: a third each
		resp, err := http.Get("http://" + m.Addr() + "/productpage")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	last := time.Now()
	after, err := sc.Settle(ctx, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	direct := Diff(before, after).Filter(func(l map[string]string) bool { return l["reporter"] == "destination" }).Sum("destination_version")
	if err := c.WaitScraped(ctx, reviewsSel, last); err != nil {
		t.Fatal(err)
	}
	res, err := c.Increase(ctx, reviewsSel, start, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(direct, res.Sum("destination_version")); diff != "" {
		t.Errorf("Prometheus walk differs from the sidecars' own counters (-scrape +prometheus):\n%s", diff)
	}
	if total := direct["v1"] + direct["v2"] + direct["v3"]; total != 150 {
		t.Errorf("sidecars counted %v reviews requests for 150 pages", total)
	}
	restarted, err := c.Restarts(ctx, res)
	if err != nil || len(restarted) != 0 {
		t.Errorf("Restarts() = %v, %v; want none", restarted, err)
	}
	server.Stop()
	if _, err := c.Increase(ctx, reviewsSel, start, time.Now()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Increase() after Prometheus died = %v, want ErrUnavailable", err)
	}
}
