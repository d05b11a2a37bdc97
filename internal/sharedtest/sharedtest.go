// Package sharedtest finds the workspace's shared/ folder beside the
// project (fixtures, seed manifests, Gateway API manifests) for tests. It is
// read in place and never copied into the project.
package sharedtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the path of parts under shared/, which a user's clone lacks:
// there the test is skipped with the reason, but under CI=true a missing
// workspace fails it, since CI ships shared/ beside the project.
func Dir(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{root(), "..", "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared workspace file %s missing under CI: %v", p, err)
		}
		t.Skipf("shared workspace not found at %s (it ships beside the project in CI); skipping", p)
	}
	return p
}

// root is the module's directory, from this file's path; under -trimpath
// that path is not a real one, and the module root is found from the
// working directory (go test runs in the package directory) instead.
func root() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if _, err := os.Stat(file); err == nil {
			return filepath.Join(filepath.Dir(file), "..", "..")
		}
	}
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}
