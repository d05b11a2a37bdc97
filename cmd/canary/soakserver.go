package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/canary-gate/canary/prom"
	"github.com/canary-gate/canary/results"
	"github.com/canary-gate/canary/verify"
	"github.com/urfave/cli/v3"
)

// soakServer gives each closed window the server-side requests per version
// for its span, from sidecar snapshots taken at every window boundary
// (--scrape) or from Prometheus (--prometheus). With Prometheus the window
// edges fall at each target's scrape, so per-window counts are good to
// about one scrape interval of traffic; over the whole run they are exact.
type soakServer struct {
	size    time.Duration
	filter  func(map[string]string) bool
	scraper *prom.Scraper
	client  *prom.Client
	sel     string

	mu    sync.Mutex
	snaps map[time.Time]prom.Snapshot
	// failed and failedAt are the last query error and when: windows that
	// close within a window's length of it are marked without querying
	// again, so a dead Prometheus costs one timeout per window at most
	// and the queries keep pace with the windows.
	failed   error
	failedAt time.Time
}

func newSoakServer(c *cli.Command, size time.Duration) (*soakServer, error) {
	q := verify.ServerQuery{Service: c.String("host"), Namespace: c.String("namespace"), Backends: c.StringSlice("backend"), Reporter: c.String("reporter")}
	if err := q.Validate(); err != nil {
		return nil, usageError(err)
	}
	s := &soakServer{size: size, snaps: map[time.Time]prom.Snapshot{}, sel: q.Selector(), filter: q.Matches}
	switch {
	case c.String("prometheus") != "" && len(c.StringSlice("scrape")) > 0:
		return nil, usageError(fmt.Errorf("--prometheus and --scrape: give one"))
	case c.String("prometheus") != "":
		client, err := prom.New(prom.Options{URL: c.String("prometheus")})
		if err != nil {
			return nil, usageError(err)
		}
		s.client = client
	case len(c.StringSlice("scrape")) > 0:
		s.scraper = &prom.Scraper{URLs: c.StringSlice("scrape")}
	default:
		return nil, nil
	}
	return s, nil
}

// run snapshots the sidecars at every window boundary until ctx ends.
func (s *soakServer) run(ctx context.Context) {
	if s.scraper == nil {
		return
	}
	for {
		s.snapshot(ctx, time.Now().Truncate(s.size))
		next := time.Now().Truncate(s.size).Add(s.size)
		select {
		case <-ctx.Done():
			s.snapshot(context.Background(), time.Now())
			return
		case <-time.After(time.Until(next)):
		}
	}
}

func (s *soakServer) snapshot(ctx context.Context, at time.Time) {
	snap, err := s.scraper.Snapshot(ctx)
	if err != nil {
		return // the window shows no server counts rather than wrong ones
	}
	s.mu.Lock()
	s.snaps[at] = snap
	s.mu.Unlock()
}

// fill sets w.Server when the counts for its span can be had, else
// w.ServerError saying why not. It is called as each window closes, so
// the queries keep pace with the windows, bounded by the window's length
// so that a Prometheus that hangs cannot hold the soak back.
func (s *soakServer) fill(ctx context.Context, w *results.Window) {
	ctx, cancel := context.WithTimeout(ctx, min(s.size, 5*time.Second))
	defer cancel()
	var res prom.Result
	if s.client != nil {
		if s.failed != nil && time.Since(s.failedAt) < s.size {
			w.ServerError = fmt.Sprintf("Prometheus failing since %s: %s", s.failedAt.Format(time.TimeOnly), oneLine(s.failed))
			return
		}
		r, err := s.client.Increase(ctx, s.sel, w.Start, w.End)
		if err != nil {
			s.failed, s.failedAt = err, time.Now()
			w.ServerError = oneLine(err)
			return
		}
		s.failed = nil
		res = r
	} else {
		s.mu.Lock()
		before, ok1 := s.snaps[w.Start]
		after, ok2 := s.snaps[w.End]
		delete(s.snaps, w.Start)
		s.mu.Unlock()
		if !ok1 || !ok2 {
			w.ServerError = "the sidecars could not be scraped at the window's edges"
			return
		}
		res = prom.Diff(before, after).Filter(s.filter)
	}
	w.Server = res.Sum("destination_version")
}

// ready checks the server side before any load, as verify does: a
// Prometheus or sidecar unreachable at the start is an error (exit 4), not
// hours of windows without their server side.
func (s *soakServer) ready(ctx context.Context) error {
	if s.client != nil {
		return s.client.Ping(ctx)
	}
	_, err := s.scraper.Snapshot(ctx)
	return err
}
