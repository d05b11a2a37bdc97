package istio

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// sharedDir returns the path of parts under the workspace's shared/ folder
// (../../../shared from this package), which holds the walkthrough's seed
// manifests. They are read in place and never copied into the project.
// Without them the test is skipped, except in CI, where a missing
// workspace is a broken setup rather than a developer checkout. Each bookinfo
// package keeps its own copy, as classify and cmd/canary do.
func sharedDir(t testing.TB, parts ...string) string {
	t.Helper()
	dir := filepath.Join(append([]string{packageDir(), "..", "..", "..", "shared"}, parts...)...)
	if _, err := os.Stat(dir); err != nil {
		msg := "shared fixtures not found at " + dir + "; they ship with the project's CI workspace"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// packageDir is the directory of this test file, so paths hold no matter
// where go test was started. Under -trimpath the recorded path is not a real
// one; go test runs in the package directory, so "." is right then.
func packageDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "."
	}
	if _, err := os.Stat(file); err != nil {
		return "."
	}
	return filepath.Dir(file)
}
