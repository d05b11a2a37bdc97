package main

import (
	"context"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"github.com/canary-gate/canary/internal/redact"
	"net"
	"os"
	"regexp"
	"strings"

	"github.com/urfave/cli/v3"
)

// newApp builds the command tree; tests build a fresh one per case.
//
// urfave/cli v3 reads flags anywhere among the arguments (`canary report
// soak.jsonl --window 1m`) and stops at `--`; v2 stopped at the first
// argument, so a flag after a file was taken for a file name.
func newApp() *cli.Command {
	app := &cli.Command{
		Name:    "canary",
		Usage:   "prove that an Istio canary rollout splits traffic as its VirtualService says",
		Version: buildVersion(),
		Description: "Exit codes: 0 pass, 1 fail, 2 usage error, 3 inconclusive, 4 other error " +
			"(target or Prometheus unreachable, I/O).\n" +
			"Files that flags name are read up to " + files.Size(files.MaxConfig) + " (scenarios, routes, rules, pages) or " +
			files.Size(files.MaxSecret) + " (tokens, passwords, certificates); FIFOs and devices are refused.\n" +
			"Secrets are never printed: URL passwords, token and password files, --prom-header values, and\n" +
			"Authorization, Cookie and other credential headers are masked as *** in every output and report.",
		// Everything printed passes the redaction rule (see package redact).
		Writer:    redact.NewWriter(os.Stdout),
		ErrWriter: redact.NewWriter(os.Stderr),
		Commands: []*cli.Command{
			bookinfoCommand(),
			classifyCommand(),
			attackCommand(),
			verifyCommand(),
			checkCommand(),
			serveCommand(),
			planCommand(),
			runCommand(),
			scenariosCommand(),
			demoCommand(),
			reportCommand(),
			soakCommand(),
			versionCommand(),
		},
		// `canary completion bash|zsh|fish|pwsh` prints the script; the
		// script asks canary itself, so completion never drifts from the flags.
		EnableShellCompletion: true,
		ConfigureShellCompletionCommand: func(c *cli.Command) {
			c.Hidden = false
			c.Usage = "print a shell completion script: bash, zsh, fish or pwsh (source <(canary completion bash))"
		},
		// Errors are printed once, by main, as one line; codes come from exitCode.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		OnUsageError: func(_ context.Context, c *cli.Command, err error, _ bool) error {
			return usageError(flagError(c, err))
		},
		HideHelpCommand: true,
		// Repeatable flags take each value whole: a header value or URL may
		// hold a comma.
		DisableSliceFlagSeparator: true,
		Action:                    unknownCommand,
	}
	for _, c := range app.Commands {
		setUsageErrors(c)
	}
	return app
}

// unknownCommand is the action of commands that only group subcommands: with
// no argument it shows help, with one it is a usage error, not a silent 0.
func unknownCommand(_ context.Context, c *cli.Command) error {
	if c.NArg() > 0 {
		return usageError(fmt.Errorf("unknown command %q (see %s --help)", c.Args().First(), c.FullName()))
	}
	return cli.ShowSubcommandHelp(c)
}

// setUsageErrors makes flag errors of every subcommand exit with ExitUsage.
func setUsageErrors(c *cli.Command) {
	c.OnUsageError = func(_ context.Context, c *cli.Command, err error, _ bool) error {
		return usageError(fmt.Errorf("%s: %w", commandPath(c), flagError(c, err)))
	}
	if len(c.Commands) > 0 && c.Action == nil {
		c.Action = unknownCommand
	}
	if c.Before == nil {
		c.Before = checkFlagSyntax
	}
	for _, sub := range c.Commands {
		setUsageErrors(sub)
	}
}

// commandPath names a subcommand as typed after "canary", e.g. "bookinfo apply".
func commandPath(c *cli.Command) string {
	return strings.TrimPrefix(c.FullName(), c.Root().Name+" ")
}

var (
	undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	badFlagValue  = regexp.MustCompile(`^invalid value (".*") for flag -+([^:]+): (.*)$`)
)

// flagError words the flag package's errors the way the rest of canary
// speaks: --name first, then what is wrong with it.
func flagError(c *cli.Command, err error) error {
	msg := err.Error()
	if m := undefinedFlag.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("unknown flag --%s (see %s --help)", m[1], c.FullName())
	}
	if m := badFlagValue.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("--%s %s: %s", m[2], m[1], m[3])
	}
	return err
}

// checkFlagSyntax refuses, for every command alike, what flag parsing lets
// through: a negative duration (a timeout of -5s is no limit at all, not
// an instant one) and a listen or target address that is not HOST:PORT.
func checkFlagSyntax(ctx context.Context, c *cli.Command) (context.Context, error) {
	for _, f := range c.Flags {
		name := f.Names()[0]
		if !c.IsSet(name) {
			continue
		}
		switch f.(type) {
		case *cli.DurationFlag:
			if d := c.Duration(name); d < 0 {
				return ctx, usageError(fmt.Errorf("--%s %s: want a duration of 0 or more", name, d))
			}
		case *cli.StringFlag:
			if name != "addr" && !strings.HasSuffix(name, "-addr") {
				continue
			}
			if _, port, err := net.SplitHostPort(c.String(name)); err != nil || port == "" {
				return ctx, usageError(fmt.Errorf("--%s %q: want HOST:PORT, e.g. 127.0.0.1:8080 or :8080", name, c.String(name)))
			}
		}
	}
	return ctx, nil
}
