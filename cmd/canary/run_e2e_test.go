package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canary-gate/canary/live"
)

// TestDemo runs `canary demo` as the README's first command does: every
// stage of the built-in walkthrough passes on the local mesh, with a real
// Prometheus when one is installed (always under CI); and so does its
// Gateway API twin, whose server check counts the backend Services. The
// walkthrough runs with --listen, and its live state, read while it runs,
// shows the stages in order, the one in progress, each verdict as it
// ends, and the mesh's counts beside the pages' (TestLiveView watches the
// page itself).
func TestDemo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		stages []string
		passes int // PASS lines: one per stage in the table, and the verdict
		watch  bool
	}{
		{nil, []string{"round-robin", "all-v1", "canary-50-50", "mirror"}, 10, true},
		{[]string{"--scenario", "gateway-api"}, []string{"version-services", "all-v1", "canary-90-10", "canary-50-50", "promote-v3"}, 6, false},
	} {
		t.Run(strings.Join(append([]string{"demo"}, tc.args...), " "), func(t *testing.T) {
			t.Parallel()
			report := filepath.Join(t.TempDir(), "demo.md")
			args := append([]string{"demo", "--output", report}, tc.args...)
			var out, stderr string
			var code int
			if tc.watch {
				var states []live.State
				out, stderr, code, states = runWatched(t, args...)
				checkLiveRun(t, states)
			} else {
				out, stderr, code = run(t, "", args...)
			}
			if code != ExitPass {
				t.Fatalf("canary demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			md, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			for _, stage := range tc.stages {
				if !strings.Contains(string(md), stage) {
					t.Errorf("demo report lacks stage %s", stage)
				}
			}
			if strings.Count(out, "PASS") < tc.passes || strings.Contains(out, "FAIL") {
				t.Errorf("demo table:\n%s\nwant every stage PASS", out)
			}
			if os.Getenv("CI") == "true" && !strings.Contains(stderr, "Prometheus at") {
				t.Errorf("under CI the demo must check against the installed Prometheus; stderr:\n%s", stderr)
			}
			if os.Getenv("CI") == "true" && !strings.Contains(out, "server split confirmed") && !strings.Contains(stderr+string(md), "server split confirmed") {
				t.Errorf("under CI the server side must confirm the split:\n%s\n%s", out, stderr)
			}
		})
	}
}

// TestRunWrongStageRollsBack: a stage expecting v2 while routing sends v3
// fails, runs its rollback with the stage and verdict in the environment,
// and stops the run with exit 1.
func TestRunWrongStageRollsBack(t *testing.T) {
	mp := startMesh(t, "--propagation-delay", "300ms")
	marker := filepath.Join(t.TempDir(), "rolled-back")
	t.Setenv("ROLLBACK_MARKER", marker)
	out, stderr, code := run(t, "", "run", "--mesh-admin", mp.admin, "--target", mp.url("/productpage"), "testdata/scenarios/wrong-stage.yaml")
	if code != ExitFail {
		t.Fatalf("canary run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFail, out, stderr)
	}
	got, err := os.ReadFile(marker)
	if err != nil || strings.TrimSpace(string(got)) != "rolled back expects-v2 after FAIL" {
		t.Errorf("rollback marker = %q, %v; want the stage and verdict from the rollback's environment", got, err)
	}
	if strings.Contains(out+stderr, "never-reached") {
		t.Errorf("the run went on after the failed stage:\n%s\n%s", out, stderr)
	}
}

// TestScenariosShow: every built-in scenario prints and loads back.
func TestScenariosShow(t *testing.T) {
	t.Parallel()
	out, _, code := run(t, "", "scenarios")
	if code != 0 || !strings.Contains(out, "walkthrough") || !strings.Contains(out, "progressive") {
		t.Fatalf("canary scenarios: exit %d\n%s", code, out)
	}
	yaml, _, code := run(t, "", "scenarios", "show", "progressive")
	f := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(f, []byte(yaml), 0o644); err != nil || code != 0 {
		t.Fatal(err, code)
	}
	_, stderr, code := run(t, "", "run", f)
	if code != ExitUsage || !strings.Contains(stderr, "target") {
		t.Errorf("run of a scenario without target: exit %d, stderr %q; want a usage error asking for --target", code, stderr)
	}
}

// checkLiveRun wants the live states of the walkthrough's run: its stages
// listed from the start, each in progress in turn, a stage's PASS shown
// before the next began, the split of the 50/50 stage with its band, and,
// under CI (a real Prometheus), the mesh's counts of the same requests.
func checkLiveRun(t *testing.T, states []live.State) {
	t.Helper()
	if len(states) < 5 {
		t.Fatalf("read %d live states during the demo; want one every second or so", len(states))
	}
	var current []string
	passedBefore := false
	mesh := false
	for _, st := range states {
		if st.Command != "run" || len(st.Stages) < 4 {
			t.Fatalf("live state: command %q with %d stages", st.Command, len(st.Stages))
		}
		for i, s := range st.Stages {
			if s.Current && !slices.Contains(current, s.Name) {
				current = append(current, s.Name)
				passedBefore = passedBefore || i > 0 && st.Stages[i-1].Verdict == "PASS"
			}
		}
		for _, v := range st.Versions {
			if v.Name == "v3" && st.Expect == "v1=50,v3=50" && (v.BandLow != 45 || v.BandHigh != 55) {
				t.Errorf("50/50 stage: v3's band %g–%g", v.BandLow, v.BandHigh)
			}
			mesh = mesh || v.Mesh != nil && v.Mesh.Count > 0
		}
	}
	if len(current) < 3 {
		t.Errorf("stages seen in progress: %v; want the walkthrough's in turn", current)
	}
	if !passedBefore {
		t.Error("no stage's PASS was shown before the next stage began")
	}
	if os.Getenv("CI") == "true" && !mesh {
		t.Error("under CI the live state must show the mesh's counts from Prometheus")
	}
}
