package mesh

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestDiscoveryFollowsPods: the metrics path service discovery hands out is
// the pod's, and stops answering when the pod is replaced, as a deleted
// pod's IP does. Otherwise Prometheus, until its next discovery refresh,
// scrapes the new pod's counters under the old pod's label, and a gate
// window spanning the change counts those requests twice.
func TestDiscoveryFollowsPods(t *testing.T) {
	t.Parallel()
	m := startTestMesh(t, "")
	path := func() string {
		t.Helper()
		var targets []httpSDTarget
		if err := json.Unmarshal(fetch(t, nil, "http://"+m.AdminAddr()+"/prometheus/targets"), &targets); err != nil {
			t.Fatal(err)
		}
		for _, tg := range targets {
			if tg.Labels["pod"] != "" && tg.Labels["app"] == "reviews" && tg.Labels["version"] == "v3" {
				return tg.Labels["__metrics_path__"]
			}
		}
		t.Fatalf("no discovery entry for reviews-v3 in %+v", targets)
		return ""
	}
	status := func(p string) int {
		t.Helper()
		resp, err := http.Get("http://" + m.AdminAddr() + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	before := path()
	if got := status(before); got != http.StatusOK {
		t.Fatalf("GET %s: %d, want 200 while its pod runs", before, got)
	}
	scale(t, m, 0, "reviews-v3")
	scale(t, m, 1, "reviews-v3")
	after := path()
	for _, c := range []struct {
		path string
		want int
	}{
		{before, http.StatusNotFound}, // the replaced pod
		{after, http.StatusOK},
		{"/sidecars/reviews-v3/stats/prometheus", http.StatusOK}, // the workload's, for direct scrapers
		{"/sidecars/reviews-v3/pods/reviews-v3-unknown/stats/prometheus", http.StatusNotFound},
	} {
		if got := status(c.path); got != c.want {
			t.Errorf("GET %s: %d, want %d", c.path, got, c.want)
		}
	}
	if before == after {
		t.Errorf("metrics path %s did not change with the pod", after)
	}
}
