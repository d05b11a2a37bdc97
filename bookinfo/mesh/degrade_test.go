package mesh

import (
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/bookinfo/app"
)

// TestDegrade makes reviews-v3 a bad build and reads its effects where an
// SRE would: in the page, in the destination sidecar's telemetry and in
// the time a page takes; then restores it.
func TestDegrade(t *testing.T) {
	t.Parallel()
	m := startTestMesh(t, app.MarkupCurrent)
	applyYAML(t, m, reviewsTo("v3"))
	page := "http://" + m.Addr() + "/productpage"

	if err := m.Degrade("reviews-v3", Degradation{ErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	const unavailable = "product reviews are currently unavailable"
	if body := string(fetch(t, nil, page)); !strings.Contains(body, unavailable) {
		t.Errorf("page does not say %q while reviews-v3 answers every request with 503", unavailable)
	}
	// productpage tries reviews twice; both answers are the app's 503,
	// reported by reviews-v3's own sidecar.
	if got := countSeries(t, m, "reviews-v3", `reporter="destination"`, `response_code="503"`); got != 2 {
		t.Errorf("reviews-v3 requests answered 503 = %v; want 2", got)
	}

	if err := m.Degrade("reviews-v3", Degradation{Delay: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if body := string(fetch(t, nil, page)); strings.Contains(body, unavailable) {
		t.Errorf("page says %q while reviews-v3 is only slow", unavailable)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("page with reviews-v3 delayed 300ms took %v", d)
	}
	if st := m.Status(); st.Workloads[5].Name != "reviews-v3" || st.Workloads[5].Degraded == nil || st.Workloads[5].Degraded.String() != "delay 300ms" {
		t.Errorf("status of reviews-v3 = %+v; want degraded: delay 300ms", st.Workloads[5])
	}

	if err := m.Degrade("reviews-v3", Degradation{}); err != nil {
		t.Fatal(err)
	}
	if st := m.Status(); st.Workloads[5].Degraded != nil {
		t.Errorf("status after restoring = %+v; want no degradation", st.Workloads[5])
	}
}

func TestDegradeInvalid(t *testing.T) {
	t.Parallel()
	m := startTestMesh(t, app.MarkupCurrent)
	tests := []struct {
		name, workload string
		d              Degradation
		want           string
	}{
		{"unknown workload", "reviews-v9", Degradation{}, `unknown workload "reviews-v9"`},
		{"negative delay", "reviews-v3", Degradation{Delay: -time.Second}, "reviews-v3: delay -1s: want 0 to 1m0s"},
		{"error rate over 100%", "reviews-v3", Degradation{ErrorRate: 1.5}, "reviews-v3: error rate 150%: want 0 to 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Degrade(tc.workload, tc.d)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Degrade(%s, %+v) = %v; want an error containing %q", tc.workload, tc.d, err, tc.want)
			}
		})
	}
}
