package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLoadPage checks both sources of the served page: the rendered one
// must be bookinfo's golden 1.22 v3 page to the byte, so that benchmarks
// measure the page the project tests; -page serves a file as it is.
func TestLoadPage(t *testing.T) {
	t.Parallel()
	golden := filepath.Join("..", "..", "bookinfo", "app", "testdata", "golden", "1.22-v3.html")
	missing := filepath.Join(t.TempDir(), "missing.html")
	tests := []struct {
		name, path, wantName string
		wantErr              bool
	}{
		{"rendered", "", renderedPage, false},
		{"file", golden, golden, false},
		{"missing file", missing, "", true},
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, name, err := loadPage(tc.path)
			if tc.wantErr {
				if err == nil {
					t.Errorf("loadPage(%q) = nil error; want one", tc.path)
				}
				return
			}
			if err != nil || name != tc.wantName {
				t.Fatalf("loadPage(%q) = %q, %v; want %q", tc.path, name, err, tc.wantName)
			}
			if diff := cmp.Diff(string(want), string(page)); diff != "" {
				t.Errorf("loadPage(%q) differs from %s (-golden +served):\n%s", tc.path, golden, diff)
			}
		})
	}
}
