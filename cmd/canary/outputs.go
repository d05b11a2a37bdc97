package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v3"
)

// checkOutputs checks, before any load, that the files a command will
// write can be written: an 8-hour soak must not find its --output
// unwritable at the end, and a report written over --results (or over a
// file `canary report` reads) would destroy what was measured. inputs
// are files the command reads.
func checkOutputs(c *cli.Command, inputs ...string) error {
	type named struct{ flag, path string }
	var outs []named
	for _, f := range []string{"output", "results"} {
		if p := flagString(c, f); p != "" {
			outs = append(outs, named{f, p})
		}
	}
	for i, o := range outs {
		for _, other := range outs[i+1:] {
			if samePath(o.path, other.path) {
				return usageError(fmt.Errorf("--%s and --%s: both name %s; the report would overwrite the results", o.flag, other.flag, o.path))
			}
		}
		for _, in := range inputs {
			if samePath(o.path, in) {
				return usageError(fmt.Errorf("--%s %s: it is also a file this command reads", o.flag, o.path))
			}
		}
		if err := writable(o.path); err != nil {
			return fmt.Errorf("--%s %s: cannot write it: %w", o.flag, o.path, unwrapPath(err)) // I/O: exit 4
		}
	}
	return nil
}

// flagString is c's string flag f, or "" when c has no such flag.
func flagString(c *cli.Command, f string) string {
	for _, fl := range c.Flags {
		for _, n := range fl.Names() {
			if n == f {
				return c.String(f)
			}
		}
	}
	return ""
}

// samePath reports whether a and b name one file: the same path, or the
// same file through links.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// writable opens path for writing without truncating it, and removes it
// again if it did not exist, so a failed check leaves nothing behind.
// Non-blocking: a FIFO nobody reads is refused at once (ENXIO) instead of
// holding the process, while /dev/stdout piped to a reader passes.
func writable(path string) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	if errors.Is(statErr, os.ErrNotExist) {
		return os.Remove(path)
	}
	return nil
}
