package verify

import (
	"fmt"
	"math"
	"strings"

	"github.com/canary-gate/canary/decide"
)

// serverVerdict judges the server side: it fails on a confident FAIL of the
// same test or on disagreement with the client, and cannot confirm anything
// when proxies restarted or a version reports no telemetry.
func serverVerdict(o *Options, s *Server) (decide.Verdict, string) {
	var total float64
	for _, n := range s.Counts {
		total += n
	}
	switch {
	case len(s.Restarted) > 0:
		return decide.Inconclusive, fmt.Sprintf("proxies restarted inside the window (%s): their counts may be short", strings.Join(s.Restarted, ", "))
	case total == 0 && o.Reporter == "waypoint":
		return decide.Inconclusive, fmt.Sprintf("no server-side requests in the window: in ambient mode only a waypoint reports HTTP; does one serve %s (istio.io/use-waypoint), and is Prometheus scraping it?", o.Service)
	case total == 0:
		return decide.Inconclusive, "no server-side requests in the window: is Prometheus scraping the sidecars?"
	case len(s.NoTelemetry) > 0 && o.ServerSeries == "":
		// Istio's counts missing a version mean a sidecar missing; an
		// app's own counter missing one disagrees with the pages, which
		// the split check below judges.
		var parts []string
		for _, v := range s.NoTelemetry {
			if o.ServerSeries != "" {
				parts = append(parts, fmt.Sprintf("%s counts no requests of version %s=%q", o.ServerSeries, o.versionLabel(), v))
				continue
			}
			if o.Reporter == "waypoint" {
				parts = append(parts, fmt.Sprintf("the waypoint reports no requests to %s-%s", o.Service, v))
				continue
			}
			parts = append(parts, fmt.Sprintf("no telemetry from %s-%s: is its sidecar injected?", o.Service, v))
		}
		return decide.Inconclusive, strings.Join(parts, "; ")
	case s.Decision.Verdict == decide.Fail:
		return decide.Fail, "server: " + s.Decision.Reason
	case len(s.Health.Regressions()) > 0:
		return decide.Fail, "server (" + s.Source + "): " + strings.Join(s.Health.Regressions(), "; ")
	}
	for _, a := range s.Agreement {
		if !a.OK {
			unit := "pages"
			if o.Classifier != "" {
				unit = "responses"
			}
			return decide.Fail, fmt.Sprintf("client and server disagree on %s: %.1f%% of %s, %.1f%% of requests (more than %g points apart)",
				a.Version, a.Client, unit, a.Server, o.Criteria.Tolerance)
		}
	}
	if s.Decision.Verdict == decide.Pass {
		return decide.Pass, fmt.Sprintf("server split confirmed over %.0f requests: every share within tolerance at the same confidence", total)
	}
	return decide.Pass, fmt.Sprintf("server split agrees with the pages within %g points over %.0f requests (its own interval is not yet decisive)",
		o.Criteria.Tolerance, total)
}

// mirror checks shadow traffic: the mirror target's destination-reported
// requests against the primary's, and that no page came from it.
func (g *gate) mirror(s *Server) *MirrorResult {
	m := g.o.Mirror
	if m == nil {
		return nil
	}
	g.mu.Lock()
	r := &MirrorResult{Version: m.Version, Expected: m.Percent, Pages: g.mirrored}
	g.mu.Unlock()
	if !s.Ran {
		r.Reason = "the server check did not run, so mirroring could not be checked"
		return r
	}
	for _, rs := range s.Responses {
		if rs.Version == m.Version {
			r.Mirrored += rs.Count
		} else {
			r.Primary += rs.Count
		}
	}
	if r.Pages > 0 {
		r.Reason = fmt.Sprintf("%d pages came from %s: mirrored answers must never reach clients", r.Pages, m.Version)
		return r
	}
	r.judge(g.o.Criteria.Tolerance, "no primary requests in the window", ", and served no page")
	return r
}

// judge compares the mirrored requests with the primary's: within
// tolerance points of the expected percent. none is the reason when there
// are no primary requests; okNote ends a passing reason.
func (r *MirrorResult) judge(tolerance float64, none, okNote string) {
	if r.Primary > 0 {
		r.Observed = 100 * r.Mirrored / r.Primary
	}
	switch {
	case r.Primary == 0:
		r.Reason = none
	case math.Abs(r.Observed-r.Expected) > tolerance:
		r.Reason = fmt.Sprintf("%s received %.0f mirrored requests, %.1f%% of the primary's %.0f; expected %g%% ± %g",
			r.Version, r.Mirrored, r.Observed, r.Primary, r.Expected, tolerance)
	default:
		r.OK = true
		r.Reason = fmt.Sprintf("%s received %.0f mirrored requests, %.1f%% of the primary's %.0f (expected %g%%)%s",
			r.Version, r.Mirrored, r.Observed, r.Primary, r.Expected, okNote)
	}
}

// overall combines the checks: any FAIL fails the gate; a client verdict
// that did not decide, or a required server check that did not run or
// could not confirm, is INCONCLUSIVE.
func overall(o *Options, r *Result) (decide.Verdict, string) {
	c := r.Client
	if r.Unreachable != "" && c.Verdict != decide.Fail {
		return decide.Inconclusive, fmt.Sprintf("%s; the evidence before it: %s", r.Unreachable, c.Reason)
	}
	if alike := failsAlike(c); alike != "" {
		return decide.Inconclusive, alike
	}
	if c.Verdict == decide.Fail {
		return decide.Fail, c.Reason + witnessNote(c.Health, serverHealth(r), "Istio's counts and buckets")
	}
	if s := r.Server; s != nil && s.Ran && s.Verdict == decide.Fail {
		return decide.Fail, s.Reason + witnessNote(s.Health, c.Health, "the "+unitName(c)+"s")
	}
	if t := r.Traces; t != nil && t.Verdict == decide.Fail {
		return decide.Fail, "traces: " + t.Reason
	}
	if m := r.Mirror; m != nil && !m.OK && (r.Server.Ran || o.RequireServer) {
		return decide.Fail, "mirror: " + m.Reason
	}
	if c.Verdict != decide.Pass {
		reason := c.Reason
		if r.Interrupted || c.Verdict == decide.Pending {
			reason = fmt.Sprintf("stopped after %d %ss before the evidence decided: %s", c.Pages, unitName(c), c.Reason)
		}
		return decide.Inconclusive, reason
	}
	s := r.Server
	if s == nil {
		return decide.Pass, c.Reason
	}
	if held := heldChecks(s.Health); s.Ran && s.Verdict == decide.Pass && len(held) > 0 {
		return decide.Inconclusive, fmt.Sprintf("client: %s; but the server's health witness is past the margin and undecided after %d more %ss: %s",
			c.Reason, r.Extended, unitName(c), strings.Join(held, ", "))
	}
	if !s.Ran || s.Verdict != decide.Pass {
		why := s.Error
		if s.Ran {
			why = s.Reason
		}
		if o.RequireServer {
			return decide.Inconclusive, "client: " + c.Reason + "; but the server-side check could not confirm it: " + why
		}
		return decide.Pass, c.Reason + " (server-side check not used: " + why + ")"
	}
	return decide.Pass, c.Reason + "; " + s.Reason
}

// serverHealth is the server's health view when the server check ran.
func serverHealth(r *Result) *decide.HealthResult {
	if r.Server == nil || !r.Server.Ran {
		return nil
	}
	return r.Server.Health
}

// witnessNote says when a health regression one witness shows is not
// shown by the other, check by check: "; the pages do not show v3's
// errors (held)". Empty when both show it, or when other did not judge.
func witnessNote(shown, other *decide.HealthResult, otherName string) string {
	if shown == nil || other == nil {
		return ""
	}
	status := map[string]string{}
	for _, k := range other.Checks {
		status[k.Canary+" "+k.Check] = k.Status
	}
	var parts []string
	for _, k := range shown.Checks {
		if st, ok := status[k.Canary+" "+k.Check]; k.Status == decide.HealthRegressed && ok && st != decide.HealthRegressed {
			parts = append(parts, fmt.Sprintf("%s's %s (%s)", k.Canary, k.Check, st))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("; %s do not show %s", otherName, strings.Join(parts, ", "))
}

// failsAlike reports a FAIL that only error budgets caused, with every
// version expected above 0% over its budget and no canary shown worse than
// its baseline: the versions fail alike, so the fault is shared (the
// ingress, a common dependency) and rolling the canary back would not fix
// it. "" when the FAIL blames a version, or for a single serving version.
func failsAlike(d decide.Decision) string {
	if d.Verdict != decide.Fail || len(d.Health.Regressions()) > 0 {
		return ""
	}
	serving := 0
	for _, v := range d.Versions {
		if v.Status == decide.Outside || v.Status == decide.Stray {
			return ""
		}
		if v.Expected > 0 {
			serving++
		}
	}
	var rates []string
	over := 0
	for _, b := range d.Errors.Buckets {
		if b.Version == "" {
			continue
		}
		if b.Status != decide.Outside {
			return ""
		}
		over++
		rates = append(rates, fmt.Sprintf("%s %.1f%%", b.Version, b.Rate))
	}
	if serving < 2 || over < serving {
		return ""
	}
	return fmt.Sprintf("every version fails alike (%s, each over the %g%% budget) and no canary is shown worse than its baseline: not the canary's doing; is the ingress or a shared dependency failing? %s",
		strings.Join(rates, ", "), d.Errors.Budget, d.Reason)
}
