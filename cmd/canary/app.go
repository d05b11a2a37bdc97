package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// newApp builds the command tree; tests build a fresh one per case.
func newApp() *cli.App {
	app := &cli.App{
		Name:    "canary",
		Usage:   "prove that an Istio canary rollout splits traffic as its VirtualService says",
		Version: version,
		Description: "Exit codes: 0 pass, 1 fail, 2 usage error, 3 inconclusive, 4 other error " +
			"(target or Prometheus unreachable, I/O).",
		Writer:    os.Stdout,
		ErrWriter: os.Stderr,
		Commands: []*cli.Command{
			bookinfoCommand(),
			classifyCommand(),
			attackCommand(),
			verifyCommand(),
			planCommand(),
			runCommand(),
			scenariosCommand(),
			demoCommand(),
			reportCommand(),
			soakCommand(),
		},
		// Errors are printed once, by main, as one line; codes come from exitCode.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError(err)
		},
		HideHelpCommand: true,
		Action:          unknownCommand,
	}
	for _, c := range app.Commands {
		setUsageErrors(c)
	}
	return app
}

// unknownCommand is the action of commands that only group subcommands: with
// no argument it shows help, with one it is a usage error, not a silent 0.
func unknownCommand(c *cli.Context) error {
	if c.NArg() > 0 {
		name := c.App.Name
		if c.Command != nil && c.Command.Name != "" {
			name += " " + c.Command.FullName()
		}
		return usageError(fmt.Errorf("unknown command %q (see %s --help)", c.Args().First(), name))
	}
	return cli.ShowSubcommandHelp(c)
}

// setUsageErrors makes flag errors of every subcommand exit with ExitUsage.
func setUsageErrors(c *cli.Command) {
	c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return usageError(fmt.Errorf("%s: %w", c.Name, err))
	}
	if len(c.Subcommands) > 0 && c.Action == nil {
		c.Action = unknownCommand
	}
	for _, sub := range c.Subcommands {
		setUsageErrors(sub)
	}
}
