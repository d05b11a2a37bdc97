package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/report"
)

// expectFromFile takes the expected split from the VirtualService for host
// in a manifest file, parsed with Istio's own types: the weights of its
// first route, so a pipeline verifies exactly the file it just applied.
// Header matches make the split depend on who asks, so such files are
// refused rather than guessed at.
func expectFromFile(path, host string) (report.Expectation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return report.Expectation{}, fmt.Errorf("--expect-from %s: %w", path, unwrapPath(err))
	}
	rs, err := istio.ParseManifests(path, data)
	if err != nil {
		return report.Expectation{}, fmt.Errorf("--expect-from: %w", err)
	}
	for _, r := range rs {
		vs := r.VirtualService
		if vs == nil || !hostListed(vs.GetHosts(), host) {
			continue
		}
		routes := vs.GetHttp()
		if len(routes) == 0 {
			return report.Expectation{}, fmt.Errorf("--expect-from %s: VirtualService %s has no http routes", r.Source, r.Name)
		}
		if len(routes) > 1 || len(routes[0].GetMatch()) > 0 {
			return report.Expectation{}, fmt.Errorf("--expect-from %s: VirtualService %s routes by match (%d routes): the split depends on the request; use --expect with the headers you send",
				r.Source, r.Name, len(routes))
		}
		var parts []string
		dests := routes[0].GetRoute()
		for _, d := range dests {
			w := d.GetWeight()
			if len(dests) == 1 && w == 0 {
				w = 100
			}
			subset := d.GetDestination().GetSubset()
			if subset == "" {
				return report.Expectation{}, fmt.Errorf("--expect-from %s: VirtualService %s routes to %s without a subset: no version to expect", r.Source, r.Name, d.GetDestination().GetHost())
			}
			parts = append(parts, fmt.Sprintf("%s=%d", subset, w))
		}
		return report.ParseExpect(strings.Join(parts, ","))
	}
	return report.Expectation{}, fmt.Errorf("--expect-from %s: no VirtualService for host %q (see --host)", path, host)
}

func hostListed(hosts []string, host string) bool {
	for _, h := range hosts {
		if h == host || strings.HasPrefix(h, host+".") {
			return true
		}
	}
	return false
}
