// Package labtest starts the lab's real Kubernetes API server for a test.
// Without kube-apiserver or etcd the test is skipped with the way to get
// them, except under CI=true, where .ci/run must have provided both.
package labtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/canary-gate/canary/internal/lab"
)

// Start runs a lab with Istio's CRDs until the test ends and writes the
// administrator's kubeconfig into the test's temporary directory.
func Start(t testing.TB) (*lab.Lab, string) {
	t.Helper()
	return StartWith(t, lab.Options{})
}

// StartWith is Start with options, e.g. more CRDs.
func StartWith(t testing.TB, opts lab.Options) (*lab.Lab, string) {
	t.Helper()
	if _, _, err := lab.Binaries(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the lab needs its binaries under CI=true: %v", err)
		}
		t.Skipf("no lab control plane: %v", err)
	}
	l, err := lab.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Stop(); err != nil {
			t.Errorf("stop the lab: %v", err)
		}
	})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := l.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	return l, kubeconfig
}
