package main

import (
	"errors"
	"strings"
)

// Exit codes, the contract with pipelines (see the README).
const (
	ExitPass         = 0 // the check passed, or the command did its job
	ExitFail         = 1 // the rollout does not do what was expected: roll back
	ExitUsage        = 2 // bad flags, arguments or input files
	ExitInconclusive = 3 // not enough evidence to decide: retry, don't roll back
	ExitError        = 4 // anything else: target or Prometheus unreachable, I/O
)

// errUsage marks errors caused by what the user gave us.
var errUsage = errors.New("usage")

// usageError wraps err so that it exits with ExitUsage.
func usageError(err error) error {
	return &codedError{err: err, code: ExitUsage}
}

// codedError carries an exit code to main.
type codedError struct {
	err  error
	code int
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// exitCode maps what a command returned to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitPass
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	if errors.Is(err, errUsage) {
		return ExitUsage
	}
	return ExitError
}

// oneLine keeps error messages to the single line the README promises.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}
