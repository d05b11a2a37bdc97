package prom

import (
	"context"
	"errors"
	"fmt"
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
	m, server, c, ctx := meshAndPrometheus(t)
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

// TestFollowAgainstRealPrometheus: a Follow polled while requests flow
// counts, per version, exactly the requests sent after its target's first
// scrape at or after From, the same as the sidecar's own counters, with
// each poll reading about a minute of samples.
func TestFollowAgainstRealPrometheus(t *testing.T) {
	m, server, c, ctx := meshAndPrometheus(t)
	pages := func(n int) {
		for range n {
			resp, err := http.Get("http://" + m.Addr() + "/productpage")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	// Before From, so that productpage's series exist at its first scrape
	// after From; a version not called yet is born inside and counts from 0.
	pages(2)
	const sel = `istio_requests_total{reporter="source",destination_service_name="reviews"}`
	from := time.Now()
	f := c.Follow(sel, from)
	if err := server.WaitScraped(ctx, from, 7); err != nil {
		t.Fatal(err)
	}
	res, err := f.Poll(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Targets != 1 || len(res.Sum("destination_version")) == 0 {
		t.Fatalf("first poll after a scrape: %d targets, sums %v; want productpage's baselines", res.Targets, res.Sum("destination_version"))
	}
	sc := &Scraper{URLs: []string{"http://" + m.AdminAddr() + "/sidecars/productpage-v1/stats/prometheus"}}
	before, err := sc.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for batch := 1; batch <= 3; batch++ {
		pages(40)
		if err := c.WaitScraped(ctx, sel, time.Now()); err != nil {
			t.Fatal(err)
		}
		if res, err = f.Poll(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := res.Sum("destination_version"); got["v1"]+got["v2"]+got["v3"] != float64(40*batch) {
			t.Errorf("poll after %d pages: %v", 40*batch, got)
		}
	}
	after, err := sc.Settle(ctx, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	direct := Diff(before, after).Filter(func(l map[string]string) bool {
		return l["reporter"] == "source" && l["destination_service_name"] == "reviews"
	}).Sum("destination_version")
	got := res.Sum("destination_version")
	if diff := cmp.Diff(direct, got); diff != "" {
		t.Errorf("Follow differs from the sidecar's own counters (-scrape +follow):\n%s", diff)
	}
	if total := got["v1"] + got["v2"] + got["v3"]; total != 120 {
		t.Errorf("Follow counted %v reviews requests for 120 pages", total)
	}
	var secs int
	if _, err := fmt.Sscanf(res.Query[len(sel):], "[%ds]", &secs); err != nil || secs > 75 {
		t.Errorf("last poll sent %q; want a range of about a minute", res.Query)
	}
	if res.Scrapes < 3 {
		t.Errorf("%d scrapes after the first; want one at least per batch", res.Scrapes)
	}
	t.Logf("%s: %d scrapes of %d targets", res.Query, res.Scrapes, res.Targets)
}

// meshAndPrometheus starts the local mesh and a real Prometheus scraping
// its sidecars every second, and returns them with a client of it and a
// context bounding the test, once every sidecar has been scraped.
func meshAndPrometheus(t *testing.T) (*mesh.Mesh, *promtest.Server, *Client, context.Context) {
	t.Helper()
	promtest.Binary(t)
	m, err := mesh.Start(mesh.Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	server := promtest.Start(t, mesh.PrometheusConfig(m.AdminAddr(), time.Second))
	c, err := New(Options{URL: server.URL, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	if err := server.WaitScraped(ctx, time.Now(), 7); err != nil {
		t.Fatal(err)
	}
	return m, server, c, ctx
}
