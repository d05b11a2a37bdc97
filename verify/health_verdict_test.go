package verify

import (
	"strings"
	"testing"

	"github.com/canary-gate/canary/decide"
)

// TestWitnessNote: a regression one witness shows and the other does not
// is said so, check by check; both showing it adds nothing.
func TestWitnessNote(t *testing.T) {
	t.Parallel()
	hr := func(errors, p50 string) *decide.HealthResult {
		return &decide.HealthResult{Baseline: "v1", Checks: []decide.HealthCheck{
			{Canary: "v3", Check: "errors", Status: errors}, {Canary: "v3", Check: "latency p50", Quantile: 0.5, Status: p50}}}
	}
	tests := []struct {
		shown, other *decide.HealthResult
		want         string
	}{
		{hr(decide.HealthRegressed, decide.HealthOK), hr(decide.HealthHeld, decide.HealthOK), "; the pages do not show v3's errors (held)"},
		{hr(decide.HealthRegressed, decide.HealthRegressed), hr(decide.HealthRegressed, decide.HealthFew), "; the pages do not show v3's latency p50 (few in tail)"},
		{hr(decide.HealthRegressed, decide.HealthOK), hr(decide.HealthRegressed, decide.HealthOK), ""},
		{hr(decide.HealthRegressed, decide.HealthOK), nil, ""},
	}
	for i, tt := range tests {
		if got := witnessNote(tt.shown, tt.other, "the pages"); got != tt.want {
			t.Errorf("case %d: %q; want %q", i, got, tt.want)
		}
	}
	if !strings.Contains(witnessNote(hr(decide.HealthOK, decide.HealthRegressed), hr(decide.HealthOK, decide.HealthOK), "Istio's counts and buckets"), "v3's latency p50 (ok)") {
		t.Error("a latency regression only the pages show is not noted")
	}
}
