package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/cluster"
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
		ws, err := cluster.RouteSplit(vs, r.Name)
		if err != nil {
			return report.Expectation{}, fmt.Errorf("--expect-from %s: %w", r.Source, err)
		}
		parts := make([]string, len(ws))
		for i, w := range ws {
			if w.Subset == "" {
				return report.Expectation{}, fmt.Errorf("--expect-from %s: VirtualService %s routes to %s without a subset: no version to expect (--expect-from cluster reads it from the pods)", r.Source, r.Name, w.Host)
			}
			parts[i] = fmt.Sprintf("%s=%d", w.Subset, w.Percent)
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
