package scenarios

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestLoadBadGolden loads every testdata/bad/*.yaml and compares the error
// with its sibling .err file; -update rewrites them.
func TestLoadBadGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/bad/*.yaml: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Load(filepath.Base(file), data)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, nil; want an error", file, s)
			}
			checkLoadError(t, file, s, err)
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Load(%s) error:\n got %s want %s", file, got, want)
			}
		})
	}
}

// TestGoldenOrphans fails on a .err file whose .yaml was removed.
func TestGoldenOrphans(t *testing.T) {
	t.Parallel()
	errs, _ := filepath.Glob("testdata/bad/*.err")
	for _, e := range errs {
		if _, err := os.Stat(strings.TrimSuffix(e, ".err") + ".yaml"); err != nil {
			t.Errorf("%s has no .yaml sibling", e)
		}
	}
}

// checkLoadError checks what every error of Load must be: no scenario, an
// ErrInvalid, one line, starting with the file name and line.
func checkLoadError(t *testing.T, file string, s *Scenario, err error) {
	t.Helper()
	msg := err.Error()
	switch {
	case s != nil:
		t.Errorf("Load(%s) returned a scenario with error %q", file, msg)
	case !errors.Is(err, ErrInvalid):
		t.Errorf("Load(%s) error %q does not wrap ErrInvalid", file, msg)
	case strings.ContainsAny(msg, "\n\r"):
		t.Errorf("Load(%s) error is not one line: %q", file, msg)
	case !regexp.MustCompile(`^` + regexp.QuoteMeta(filepath.Base(file)) + `:[1-9][0-9]*: `).MatchString(msg):
		t.Errorf("Load(%s) error %q does not start with FILE:LINE:", file, msg)
	}
}
