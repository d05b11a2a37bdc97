package scenarios

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStageGate(t *testing.T) {
	t.Parallel()
	defaults := Gate{Rate: "20/s", Tolerance: ptr(5.0), MaxErrorRate: ptr(1.0), Timeout: Duration(time.Minute),
		Headers: map[string]string{"A": "1", "B": "2"}, Host: "reviews",
		Prometheus: &Prometheus{URL: "http://prom", Require: ptr(true)}}
	tests := []struct {
		name  string
		stage Gate
		want  Gate
	}{
		{"nothing overridden", Gate{}, defaults},
		{
			name:  "zero is an override where it means something",
			stage: Gate{MaxErrorRate: ptr(0.0), Tolerance: ptr(10.0), Settle: "0", SettleMin: Duration(2 * time.Second), Login: "jason"},
			want: Gate{Rate: "20/s", Tolerance: ptr(10.0), MaxErrorRate: ptr(0.0), Timeout: Duration(time.Minute),
				Settle: "0", SettleMin: Duration(2 * time.Second), Login: "jason",
				Headers: map[string]string{"A": "1", "B": "2"}, Host: "reviews",
				Prometheus: &Prometheus{URL: "http://prom", Require: ptr(true)}},
		},
		{
			name:  "headers merge key by key",
			stage: Gate{Headers: map[string]string{"B": "3", "C": "4"}},
			want: Gate{Rate: "20/s", Tolerance: ptr(5.0), MaxErrorRate: ptr(1.0), Timeout: Duration(time.Minute),
				Headers: map[string]string{"A": "1", "B": "3", "C": "4"}, Host: "reviews",
				Prometheus: &Prometheus{URL: "http://prom", Require: ptr(true)}},
		},
		{
			name:  "scrape replaces the default prometheus",
			stage: Gate{Scrape: []string{"http://sidecar/stats"}},
			want: Gate{Rate: "20/s", Tolerance: ptr(5.0), MaxErrorRate: ptr(1.0), Timeout: Duration(time.Minute),
				Headers: map[string]string{"A": "1", "B": "2"}, Host: "reviews", Scrape: []string{"http://sidecar/stats"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &Scenario{Defaults: defaults, Stages: []Stage{{Gate: tc.stage}}}
			got := s.StageGate(0)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("StageGate(0) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStageGateCopies checks that changing a merged gate leaves the
// scenario alone.
func TestStageGateCopies(t *testing.T) {
	t.Parallel()
	s := &Scenario{
		Defaults: Gate{Tolerance: ptr(5.0), Headers: map[string]string{"A": "1"}, Prometheus: &Prometheus{URL: "http://p", Require: ptr(true)}},
		Stages:   []Stage{{Gate: Gate{Scrape: nil}}},
	}
	g := s.StageGate(0)
	*g.Tolerance, g.Headers["A"], g.Prometheus.URL, *g.Prometheus.Require = 9, "2", "http://q", false
	want := Gate{Tolerance: ptr(5.0), Headers: map[string]string{"A": "1"}, Prometheus: &Prometheus{URL: "http://p", Require: ptr(true)}}
	if diff := cmp.Diff(want, s.Defaults); diff != "" {
		t.Errorf("Defaults changed through StageGate's result (-want +got):\n%s", diff)
	}
}
