// Package promtest starts a real Prometheus server (Debian's prometheus
// binary) for end-to-end tests, on a free loopback port with a temporary
// data directory, and reads exact counter increases from it by walking the
// raw samples, the method measured in the project's Prometheus study.
package promtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Server is a running Prometheus.
type Server struct {
	URL string
	API v1.API
	cmd *exec.Cmd
}

// Stop kills the server before the test ends, for tests of a Prometheus
// that dies mid-run.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
}

// Binary finds the prometheus binary. Without one the test is skipped, but
// under CI=true a missing dependency fails the test: CI must install it.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prometheus binary not found on PATH: CI must install Debian's prometheus package")
		}
		t.Skip("prometheus binary not found on PATH: apt-get install prometheus to run this end-to-end test")
	}
	return path
}

// Start runs Prometheus with the given configuration until the test ends.
func Start(t testing.TB, config string) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("prometheus log:\n%s", b)
			}
		}
	})
	s := &Server{URL: "http://" + addr, cmd: cmd}
	client, err := api.NewClient(api.Config{Address: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	s.API = v1.NewAPI(client)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s not ready after 20s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreeAddr returns a loopback address whose port is free right now, for a
// server a test is about to start.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WaitScraped waits until every active target was scraped after t and at
// least want targets are up, so that counts up to t are all visible.
func (s *Server) WaitScraped(ctx context.Context, after time.Time, want int) error {
	for {
		tr, err := s.API.Targets(ctx)
		if err == nil {
			up, fresh := 0, true
			for _, at := range tr.Active {
				if at.Health == v1.HealthGood {
					up++
				}
				if !at.LastScrape.After(after) {
					fresh = false
				}
			}
			if up >= want && fresh && len(tr.Active) > 0 {
				// The sample is committed a few ms after the scrape starts.
				time.Sleep(150 * time.Millisecond)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for a scrape after %s with %d targets up: %w (last error %v)", after.Format(time.RFC3339Nano), want, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Increase returns, per value of label by, how much the counters selected by
// selector grew from before first to end: the raw samples of every series
// are walked, a series born inside the window counts from 0, and a drop is
// a counter reset. increase() and rate() are not exact and are not used.
func (s *Server) Increase(ctx context.Context, selector, by string, first, end time.Time) (map[string]float64, error) {
	window := end.Sub(first) + 5*time.Minute
	q := selector + "[" + strconv.FormatInt(int64(window/time.Second)+1, 10) + "s]"
	val, _, _, err := s.API.Query(ctx, q, end)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %s: got %s, want a matrix", q, val.Type())
	}
	out := make(map[string]float64)
	for _, ss := range m {
		out[string(ss.Metric[model.LabelName(by)])] += walk(ss.Values, model.TimeFromUnixNano(first.UnixNano()))
	}
	return out, nil
}

func walk(vals []model.SamplePair, first model.Time) float64 {
	var total, prev float64
	started := false
	for _, v := range vals {
		if v.Timestamp < first {
			prev, started = float64(v.Value), true
			continue
		}
		cur := float64(v.Value)
		switch {
		case !started:
			total += cur // born inside the window: its baseline is 0
		case cur >= prev:
			total += cur - prev
		default:
			total += cur // reset
		}
		prev, started = cur, true
	}
	return total
}
