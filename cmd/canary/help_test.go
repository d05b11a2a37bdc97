package main

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// commandPaths lists every command of the app as typed after "canary"
// ("" for canary itself), depth first, in the order --help shows them.
func commandPaths() [][]string {
	var out [][]string
	var walk func(prefix []string, cs []*cli.Command)
	walk = func(prefix []string, cs []*cli.Command) {
		for _, c := range cs {
			p := append(slices.Clone(prefix), c.Name)
			out = append(out, p)
			walk(p, c.Commands)
		}
	}
	out = append(out, nil)
	walk(nil, setUpApp().Commands)
	return out
}

// setUpApp returns the app as it runs, with the commands urfave/cli adds
// when it starts (completion).
func setUpApp() *cli.Command {
	app := newApp()
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	_ = app.Run(context.Background(), []string{"canary", "--help"})
	return app
}

// TestHelpGolden pins every command's --help to testdata/help, so a change
// of wording or flags shows in review; -update rewrites them.
func TestHelpGolden(t *testing.T) {
	for _, p := range commandPaths() {
		name := strings.Join(append([]string{"canary"}, p...), "-")
		t.Run(name, func(t *testing.T) {
			out, errOut, err := runApp(t, append(p, "--help")...)
			if err != nil || errOut != "" {
				t.Fatalf("canary %s --help: %v, stderr %q", strings.Join(p, " "), err, errOut)
			}
			golden := filepath.Join("testdata", "help", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/canary -run TestHelpGolden -update writes it)", err)
			}
			if out != string(want) {
				t.Errorf("canary %s --help differs from %s (-update rewrites it):\n%s", strings.Join(p, " "), golden, out)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "help", "*.txt"))
	if len(files) != len(commandPaths()) {
		t.Errorf("testdata/help has %d files for %d commands: remove the ones of deleted commands", len(files), len(commandPaths()))
	}
}

// flagNames are the long names (and aliases longer than one letter) a
// command defines, without --help.
func flagNames(c *cli.Command) []string {
	var out []string
	for _, f := range c.Flags {
		for _, n := range f.Names() {
			if len(n) > 1 && n != "help" {
				out = append(out, n)
			}
		}
	}
	return out
}

// findCommand returns the command at path p.
func findCommand(p []string) *cli.Command {
	c := setUpApp()
	for _, name := range p {
		i := slices.IndexFunc(c.Commands, func(s *cli.Command) bool { return s.Name == name })
		if i < 0 {
			return nil
		}
		c = c.Commands[i]
	}
	return c
}

// readmeSections splits README.md into its "## " sections.
func readmeSections(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	head := ""
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.HasPrefix(line, "## ") {
			head = strings.TrimSpace(strings.TrimPrefix(line, "## "))
		}
		out[head] += line
	}
	return out
}

// flagToken is a long flag as the README writes it.
var flagToken = regexp.MustCompile("(?:^|[\\s`(\\[{,])--([a-z0-9][a-z0-9.-]*[a-z0-9])")

// foreignFlags are flags of other programs the README shows.
var foreignFlags = []string{"config.file", "web.listen-address", "storage.tsdb.path", "replicas", "server-side", "force-conflicts", "for", "enroll-namespace"} // prometheus, kubectl, istioctl

// TestREADMEFlags holds the README and the code to the same flags: every
// command has a section headed with its name, that section names every flag
// the command (and its subcommands) defines, and every flag the README
// names exists somewhere in canary.
func TestREADMEFlags(t *testing.T) {
	sections := readmeSections(t)
	known := map[string]bool{}
	for _, p := range commandPaths() {
		if len(p) == 0 {
			continue
		}
		for _, n := range flagNames(findCommand(p)) {
			known[n] = true
		}
		if len(p) > 1 {
			continue // subcommands are documented in their parent's section
		}
		head := ""
		for h := range sections {
			if strings.Contains(h, "`canary "+p[0]+"`") || strings.HasPrefix(h, "`canary "+p[0]+" ") {
				head = h
			}
		}
		if head == "" {
			t.Errorf("README.md has no section headed `canary %s`", p[0])
			continue
		}
		mentioned := map[string]bool{}
		for _, m := range flagToken.FindAllStringSubmatch(sections[head], -1) {
			mentioned[m[1]] = true
		}
		var walk func(c *cli.Command, path string)
		walk = func(c *cli.Command, path string) {
			for _, n := range flagNames(c) {
				if !mentioned[n] {
					t.Errorf("README section %q does not mention --%s of canary %s", head, n, path)
				}
			}
			for _, s := range c.Commands {
				walk(s, path+" "+s.Name)
			}
		}
		walk(findCommand(p), p[0])
	}
	for _, text := range sections {
		for _, m := range flagToken.FindAllStringSubmatch(text, -1) {
			if !known[m[1]] && !slices.Contains(foreignFlags, m[1]) && m[1] != "help" && m[1] != "version" {
				t.Errorf("README.md names --%s, which no canary command defines", m[1])
			}
		}
	}
}
