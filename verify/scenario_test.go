package verify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/scenarios"
	"github.com/canary-gate/canary/verify"
)

// TestKubeStep: a kube step reads its file relative to the scenario, hands
// it to the cluster's applier named as written, and a failure stops the
// run before any load with one line naming the step.
func TestKubeStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vs.yaml"), []byte("kind: VirtualService\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := func(file string, timeout time.Duration) *scenarios.Scenario {
		return &scenarios.Scenario{Name: "s", Target: "http://127.0.0.1:1/productpage", Stages: []scenarios.Stage{
			{Name: "canary", Expect: "v1=50,v3=50", Apply: &scenarios.Step{Kube: file, Timeout: scenarios.Duration(timeout)}},
			{Name: "never", Expect: "v3=100"},
		}}
	}
	refuse := func(_ context.Context, name string, data []byte) ([]string, error) {
		if name != "{kube: vs.yaml}" || string(data) != "kind: VirtualService\n" {
			t.Errorf("Kube(%q, %q); want the step's name and the file's content", name, data)
		}
		return []string{"destinationrule.networking.istio.io/reviews serverside-applied"},
			errors.New(name + ": document 2 (VirtualService reviews): forbidden")
	}
	block := func(ctx context.Context, _ string, _ []byte) ([]string, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tests := []struct {
		name    string
		file    string
		timeout time.Duration
		kube    verify.Applier
		want    string
	}{
		{"refused", "vs.yaml", 0, refuse, "apply: {kube: vs.yaml}: document 2 (VirtualService reviews): forbidden"},
		{"no cluster", "vs.yaml", 0, nil, "apply: {kube: vs.yaml}: kube steps need a cluster (canary run --kubeconfig FILE)"},
		{"no file", "gone.yaml", 0, refuse, "apply: {kube: gone.yaml}: open " + filepath.Join(dir, "gone.yaml") + ": no such file or directory"},
		{"timeout", "vs.yaml", 50 * time.Millisecond, block, "apply: {kube: vs.yaml}: timed out after 50ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := verify.RunScenario(context.Background(), sc(tc.file, tc.timeout), verify.ScenarioEnv{Dir: dir, Kube: tc.kube})
			if len(res.Stages) != 1 || res.Verdict != decide.Inconclusive {
				t.Fatalf("RunScenario: %d stages, %s; want the first stage only, inconclusive", len(res.Stages), res.Verdict)
			}
			st := res.Stages[0]
			if st.Error != tc.want || st.Gate != nil {
				t.Errorf("stage error = %q (gate %v); want %q and no gate", st.Error, st.Gate != nil, tc.want)
			}
			if st.Apply == nil || st.Apply.What != "apply {kube: "+tc.file+"}" {
				t.Errorf("stage apply = %+v; want What %q", st.Apply, "apply {kube: "+tc.file+"}")
			}
			if tc.name == "refused" && !strings.Contains(st.Apply.Output, "serverside-applied") {
				t.Errorf("stage apply output %q; want the lines applied before the error", st.Apply.Output)
			}
		})
	}
}

// TestStageHealth reads a stage gate's health settings as verify reads its
// flags: on by default with the first serving version as baseline, off on
// request or with one version serving, and a bad value names its key.
func TestStageHealth(t *testing.T) {
	t.Parallel()
	off := false
	tests := []struct {
		name, expect string
		gate         scenarios.Gate
		baseline     string // "" for no health checks
		err          string
	}{
		{"default", "v1=50,v3=50", scenarios.Gate{}, "v1", ""},
		{"named baseline", "v1=50,v3=50", scenarios.Gate{Baseline: "v3"}, "v3", ""},
		{"off", "v1=50,v3=50", scenarios.Gate{Health: &off}, "", ""},
		{"one version serving", "v3=100", scenarios.Gate{}, "", ""},
		{"bad latency margin", "v1=50,v3=50", scenarios.Gate{LatencyMargin: "10ms"}, "", "latency-margin: invalid latency margin"},
		{"bad quantiles", "v1=50,v3=50", scenarios.Gate{LatencyQuantiles: "p0"}, "", "latency-quantiles: invalid latency quantiles"},
	}
	for _, tt := range tests {
		e, err := decide.ParseExpect(tt.expect)
		if err != nil {
			t.Fatal(err)
		}
		h, err := verify.StageHealth(tt.gate, e)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v; want an error saying %q", tt.name, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.baseline == "" && h != nil, tt.baseline != "" && (h == nil || h.Baseline != tt.baseline):
			t.Errorf("%s: health %+v; want baseline %q", tt.name, h, tt.baseline)
		}
	}
}
