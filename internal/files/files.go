// Package files reads the files canary's flags name, within bounds: a
// flag pointed at /dev/zero, a FIFO nobody writes to, or a log that grew
// to gigabytes must end in one line naming the flag, not in a process
// that fills memory or waits forever.
//
// It is a leaf: it imports only the standard library.
package files

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Bounds for what canary reads, generous for real use and stated in --help.
const (
	// MaxConfig bounds a configuration file: a scenario, routes, rules,
	// a page to classify.
	MaxConfig = 16 << 20
	// MaxSecret bounds a token, password or certificate file.
	MaxSecret = 1 << 20
)

// ErrTooLarge means a file is over its bound.
var ErrTooLarge = errors.New("file too large")

// Read reads the regular file at path, at most limit bytes. Anything else
// (a FIFO, a device, a directory) is refused without blocking: the file is
// opened non-blocking and checked before a byte is read.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, limit)
}

// Open opens the regular file at path for reading, refusing anything else
// without blocking on it.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, kind(st.Mode()))
	}
	return f, nil
}

// ReadAll reads r to its end, failing once it passes limit bytes.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: over %s", name, ErrTooLarge, Size(limit))
	}
	return data, nil
}

// Size prints a bound: "16 MiB", "1 MiB", "64 KiB".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0, m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.String()
}
