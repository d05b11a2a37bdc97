package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v3"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// buildVersion is the version to report: the -ldflags one, else the module
// version `go install …@vX` records, else the VCS revision go build stamps.
func buildVersion() string {
	if version != "dev" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print canary's version, the Go version and the versions of the modules it was built with",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "short", Usage: "print only the version"},
		},
		Action: func(_ context.Context, c *cli.Command) error {
			if c.NArg() > 0 {
				return usageError(fmt.Errorf("version: unexpected argument %q", c.Args().First()))
			}
			if c.Bool("short") {
				_, err := fmt.Fprintln(c.Writer, buildVersion())
				return err
			}
			return writeVersion(c.Writer)
		},
	}
}

// writeVersion prints what a bug report needs: the version, the build's
// Go and platform, its VCS stamp, and every module compiled in.
func writeVersion(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "canary %s\n", buildVersion())
	fmt.Fprintf(&b, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if strings.HasPrefix(s.Key, "vcs.") {
				fmt.Fprintf(&b, "%s: %s\n", s.Key, s.Value)
			}
		}
		fmt.Fprintf(&b, "module: %s %s\n", bi.Main.Path, bi.Main.Version)
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			fmt.Fprintf(&b, "dep: %s %s\n", d.Path, d.Version)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
