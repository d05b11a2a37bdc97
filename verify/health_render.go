package verify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/canary-gate/canary/decide"
)

// healthRow is one health check in the reports: what was compared, the
// observed values, the bounds the test used and where it stands.
type healthRow struct {
	Canary, Check, Canaries, Baseline, Bounds, Limit, Status string
}

// healthRows lays out health checks; nil when health was not judged.
func healthRows(h *decide.HealthResult) []healthRow {
	if h == nil {
		return nil
	}
	out := make([]healthRow, 0, len(h.Checks))
	for _, k := range h.Checks {
		rw := healthRow{
			Canary: k.Canary, Check: k.Check, Status: k.Status,
			Canaries: fmt.Sprintf("%s (%d)", value(k.Value, k), k.CanaryPages),
			Baseline: fmt.Sprintf("%s (%d)", value(k.Baseline, k), k.BaselinePages),
			Bounds:   "-", Limit: "-",
		}
		if k.Limit != nil {
			rw.Limit = value(*k.Limit, k)
		}
		rw.Bounds = fmt.Sprintf("e-value %s (fails at %s)", ratio(k.EValue), ratio(k.Threshold))
		if k.Split != nil {
			rw.Bounds += fmt.Sprintf(", weakest split %s", value(*k.Split, k))
		}
		out = append(out, rw)
	}
	return out
}

// value prints an error rate (percent) or a latency (ms) of check k.
func value(x float64, k decide.HealthCheck) string {
	if k.Unit() == "ms" {
		return strconv.FormatFloat(x, 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "%"
}

// healthLines are the text and Markdown lines of the client's health
// checks (label "health") or the server's ("server health").
func healthLines(h *decide.HealthResult, label string) []string {
	if h == nil {
		return []string{label + ": not judged (--health=false, or fewer than two versions expected above 0%)"}
	}
	head := fmt.Sprintf("%s: canaries against baseline %s from %s at %g%% confidence for all checks; a check fails only when shown past its margin (errors %s, latency %s)",
		label, h.Baseline, h.Witness, 100*h.Confidence, h.ErrorMargin, h.LatencyMargin)
	if h.Witness == "requests" {
		head += "; latency is read at the histogram's bucket edges, which limit what it can show"
	}
	out := []string{head}
	for _, rw := range healthRows(h) {
		out = append(out, fmt.Sprintf("%s: %s %s %s vs %s; %s; limit %s: %s",
			label, rw.Canary, rw.Check, rw.Canaries, rw.Baseline, rw.Bounds, rw.Limit, rw.Status))
	}
	return out
}

// healthCases adds a JUnit case per health check, named with label.
func healthCases(h *decide.HealthResult, label string, add func(name string, v decide.Verdict, msg string)) {
	for _, rw := range healthRows(h) {
		v := decide.Inconclusive
		switch rw.Status {
		case decide.HealthRegressed:
			v = decide.Fail
		case decide.HealthOK:
			v = decide.Pass
		}
		add(fmt.Sprintf("%s %s %s", label, rw.Canary, rw.Check), v,
			strings.Join([]string{rw.Canaries + " vs " + rw.Baseline, rw.Bounds, "limit " + rw.Limit, rw.Status}, "; "))
	}
}

// heldChecks lists the checks past their margin and undecided, as "v3
// errors 3.05% vs 0%".
func heldChecks(h *decide.HealthResult) []string {
	var out []string
	for _, rw := range healthRows(h) {
		if rw.Status == decide.HealthHeld {
			out = append(out, fmt.Sprintf("%s %s %s vs %s", rw.Canary, rw.Check, rw.Canaries, rw.Baseline))
		}
	}
	return out
}
