// Package scenarios is the data of `canary run`: a canary rollout written as
// ordered stages in YAML, each applying routing, gating it with the verify
// engine, pausing, and rolling back on failure.
//
// The package is pure data. It parses and validates scenario files (every
// error is one line naming the file, the line and the field), merges a
// scenario's default gate with each stage's overrides, and embeds the
// built-in scenarios. It runs nothing and imports only the standard library
// and the YAML parser, so every other package may depend on it.
package scenarios
