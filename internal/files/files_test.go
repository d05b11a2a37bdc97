package files

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		limit      int64
		want, err  string
	}{
		{"within the bound", small, 5, "12345", ""},
		{"over the bound", small, 4, "", "file too large: over 4 bytes"},
		{"a device", "/dev/zero", 1 << 20, "", "not a regular file (a device)"},
		{"a FIFO nobody writes to", fifo, 1 << 20, "", "not a regular file (a FIFO)"},
		{"a directory", dir, 1 << 20, "", "not a regular file (a directory)"},
		{"missing", filepath.Join(dir, "none"), 1, "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			got, err := Read(tc.path, tc.limit)
			if time.Since(start) > 2*time.Second {
				t.Fatalf("Read(%s) took %s: it blocked", tc.path, time.Since(start))
			}
			switch {
			case tc.err == "" && (err != nil || string(got) != tc.want):
				t.Errorf("Read = %q, %v; want %q", got, err, tc.want)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("Read error = %v; want it to say %q", err, tc.err)
			}
		})
	}
	if _, err := Read(small, 2); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read over the bound = %v; want ErrTooLarge", err)
	}
	if got := Size(16 << 20); got != "16 MiB" {
		t.Errorf("Size(16 MiB) = %q", got)
	}
}
