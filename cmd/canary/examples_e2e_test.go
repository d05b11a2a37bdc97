package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canary-gate/canary/internal/lab"
	"github.com/canary-gate/canary/internal/labtest"
)

// controllerCRDs are the controllers' CRDs from their own module zips,
// at the releases the examples are written for.
var controllerCRDs = []struct{ module, file string }{
	{"github.com/fluxcd/flagger@v1.36.1", "artifacts/flagger/crd.yaml"},
	{"github.com/argoproj/argo-rollouts@v1.8.3", "manifests/crds/analysis-template-crd.yaml"},
	{"github.com/argoproj/argo-rollouts@v1.8.3", "manifests/crds/rollout-crd.yaml"},
}

// TestExamplesAccepted applies every Kubernetes example to the lab's real
// API server with Flagger's and Argo Rollouts' CRDs installed: the API
// server's validation (CRD schemas included) is the judge of each file.
func TestExamplesAccepted(t *testing.T) {
	istio, err := lab.IstioCRDs()
	if err != nil {
		t.Fatal(err)
	}
	files := []string{istio}
	for _, c := range controllerCRDs {
		files = append(files, filepath.Join(moduleZip(t, c.module), c.file))
	}
	_, kubeconfig := labtest.StartWith(t, lab.Options{CRDFiles: files})
	for _, f := range []string{"canary-serve.yaml", "flagger-canary.yaml", "argo-rollouts-analysistemplate.yaml", "k8s-job.yaml"} {
		out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "apply", "-f", filepath.Join("..", "..", "examples", f)).CombinedOutput()
		if err != nil {
			t.Errorf("kubectl apply -f examples/%s: %v\n%s", f, err, out)
			continue
		}
		t.Logf("examples/%s:\n%s", f, strings.TrimSpace(string(out)))
	}
}

// moduleZip downloads a module's zip through the module proxy (nothing is
// built) and returns its directory.
func moduleZip(t *testing.T, mod string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = t.TempDir() // outside this module: not added to its go.mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if err != nil || json.Unmarshal(out, &m) != nil || m.Dir == "" {
		t.Fatalf("go mod download %s: %v %s %s", mod, err, m.Error, out)
	}
	return m.Dir
}
