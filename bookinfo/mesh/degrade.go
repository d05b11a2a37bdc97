package mesh

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// Degradation is a bad build of a workload: its app answers every request
// Delay later, and ErrorRate of them (a fraction) with 503, as a slow or
// failing image would. The sidecar sees and reports the app's answer, so
// Istio's metrics and productpage's retry of reviews behave as they would
// upstream. The zero value is a healthy build.
type Degradation struct {
	Delay     time.Duration `json:"delay"`
	ErrorRate float64       `json:"errorRate"`
}

// MaxDelay bounds a degradation's delay, so a typo cannot hang callers
// past their own timeouts for good.
const MaxDelay = time.Minute

// Validate reports a bad field as a one-line error.
func (d Degradation) Validate() error {
	switch {
	case d.Delay < 0 || d.Delay > MaxDelay:
		return fmt.Errorf("delay %v: want 0 to %v", d.Delay, MaxDelay)
	case !(d.ErrorRate >= 0 && d.ErrorRate <= 1):
		return fmt.Errorf("error rate %g%%: want 0 to 100", 100*d.ErrorRate)
	}
	return nil
}

// String describes the degradation: "delay 5ms, 3% errors", or "healthy".
func (d Degradation) String() string {
	switch {
	case d == Degradation{}:
		return "healthy"
	case d.ErrorRate == 0:
		return "delay " + d.Delay.String()
	case d.Delay == 0:
		return fmt.Sprintf("%g%% errors", 100*d.ErrorRate)
	}
	return fmt.Sprintf("delay %v, %g%% errors", d.Delay, 100*d.ErrorRate)
}

// serveApp runs the workload's app behind its degradation, if any.
func (w *workload) serveApp(rw http.ResponseWriter, r *http.Request) {
	d := w.degrade.Load()
	if d == nil {
		w.app.ServeHTTP(rw, r)
		return
	}
	if d.Delay > 0 {
		t := time.NewTimer(d.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if d.ErrorRate > 0 && rand.Float64() < d.ErrorRate {
		http.Error(rw, w.spec.Name+": degraded build: injected error", http.StatusServiceUnavailable)
		return
	}
	w.app.ServeHTTP(rw, r)
}

// Degrade sets a workload's degradation; the zero Degradation restores a
// healthy build. It takes effect on the next request, without a restart.
func (m *Mesh) Degrade(workload string, d Degradation) error {
	w, ok := m.workloads[workload]
	if !ok {
		_, err := lookupWorkload(workload)
		return err
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("%s: %w", workload, err)
	}
	if d == (Degradation{}) {
		w.degrade.Store(nil)
	} else {
		w.degrade.Store(&d)
	}
	m.logf("degrade: %s %s", workload, d)
	return nil
}

// DegradeRequest asks for a workload's degradation.
type DegradeRequest struct {
	Workload string `json:"workload"`
	Degradation
}
