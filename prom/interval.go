package prom

import (
	"context"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// ScrapeInterval is the longest scrape interval among the active targets
// of the jobs that export selector's series (of every job when none does
// yet), from the __scrape_interval__ label Prometheus gives each target:
// a passive gate looks once per interval, as often as new counts can
// arrive. 0 when no target says.
func (c *Client) ScrapeInterval(ctx context.Context, selector string) (time.Duration, error) {
	jobs, err := c.jobs(ctx, selector, time.Now())
	if err != nil {
		return 0, err
	}
	var tr v1.TargetsResult
	err = c.retry(ctx, "targets", func(ctx context.Context) error {
		var err error
		tr, err = c.api.Targets(ctx)
		return err
	})
	if err != nil {
		return 0, err
	}
	var longest time.Duration
	for _, t := range tr.Active {
		if len(jobs) > 0 && !jobs[string(t.Labels["job"])] {
			continue
		}
		d, err := model.ParseDuration(t.DiscoveredLabels["__scrape_interval__"])
		if err == nil && time.Duration(d) > longest {
			longest = time.Duration(d)
		}
	}
	return longest, nil
}
