package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// runApp runs a fresh app in-process and returns stdout and stderr.
func runApp(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	app := newApp()
	var out, errb bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errb
	err := app.Run(context.Background(), append([]string{"canary"}, args...))
	return out.String(), errb.String(), err
}

// TestFlagsAnywhere: flags are read before and after positional arguments
// in every command that takes arguments, `--` ends them, and an unknown flag
// after a file is a usage error naming the flag, never "no such file".
func TestFlagsAnywhere(t *testing.T) {
	t.Parallel()
	page := filepath.Join("..", "..", "classify", "testdata", "rules", "example.yaml")
	results := filepath.Join("..", "..", "results", "testdata", "TestAppendGolden.golden.jsonl")
	scenario := filepath.Join("testdata", "scenarios", "wrong-stage.yaml")
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string // regexps on stdout and on the error
	}{
		{"report flags after the file", []string{"report", results, "--window", "1m", "--format", "json"}, ExitPass, `"windows"`, ``},
		{"report -o after the file", []string{"report", results, "--format", "markdown", "-o", "@OUT@"}, ExitPass, ``, ``},
		{"report unknown flag after the file", []string{"report", results, "--windw", "1m"}, ExitUsage, ``, `^report: unknown flag --windw \(see canary report --help\)$`},
		{"report bad value after the file", []string{"report", results, "--window", "soon"}, ExitUsage, ``, `^report: --window "soon": `},
		{"report -- ends flags", []string{"report", results, "--", "--window"}, ExitUsage, ``, `^report: --window: no such file or directory$`},
		{"classify --json after the file", []string{"classify", page, "--json"}, ExitPass, `^\{"source":".*example.yaml","version":"","outcome":"not-productpage"`, ``},
		{"classify flags on both sides", []string{"classify", "--version-header", "x-version", page, "--json"}, ExitPass, `"outcome":"unrecognized","reason":"no rule matched and no version header X-Version"`, ``},
		{"classify -- ends flags", []string{"classify", "--", "--json"}, ExitUsage, ``, `^classify: --json: no such file or directory$`},
		{"run flags after the file", []string{"run", scenario, "--format", "yaml"}, ExitUsage, ``, `^--format "yaml": want one of`},
		{"scenarios show flag after the name", []string{"scenarios", "show", "progressive", "--bogus"}, ExitUsage, ``, `^scenarios show: unknown flag --bogus`},
		{"bookinfo scale flag after the pairs", []string{"bookinfo", "scale", "reviews-v3=0", "--admin-addr", "127.0.0.1:1"}, ExitError, ``, `admin API at 127.0.0.1:1 unreachable`},
		{"bookinfo degrade flags after the workload", []string{"bookinfo", "degrade", "reviews-v3", "--delay", "5ms", "--admin-addr", "127.0.0.1:1"}, ExitError, ``, `admin API at 127.0.0.1:1 unreachable`},
		{"bookinfo degrade error rate over 100", []string{"bookinfo", "degrade", "reviews-v3", "--error-rate", "101"}, ExitUsage, ``, `^bookinfo degrade reviews-v3: error rate 101%: want 0 to 100$`},
		{"bookinfo degrade unknown workload", []string{"bookinfo", "degrade", "reviews-v9"}, ExitUsage, ``, `^bookinfo degrade: want one WORKLOAD argument, one of productpage-v1,`},
		{"plan error rate of 100", []string{"plan", "--expect", "v1=50,v3=50", "--error-rate", "100"}, ExitUsage, ``, `^--error-rate 100: want a percent in \[0, 100\)$`},
		{"bookinfo apply -f after the subcommand", []string{"bookinfo", "apply", "--admin-addr", "127.0.0.1:1", "-f", page}, ExitError, ``, `admin API at 127.0.0.1:1 unreachable`},
		{"verify --reporter source", []string{"verify", "--target", "http://127.0.0.1:1/productpage", "--expect", "v1=100", "--reporter", "source"}, ExitUsage, ``, `--reporter "source": want destination \(sidecars\) or waypoint \(ambient mode\)`},
		{"soak --reporter source", []string{"soak", "--target", "http://127.0.0.1:1/productpage", "--expect", "v1=100", "--prometheus", "http://127.0.0.1:1", "--reporter", "source"}, ExitUsage, ``, `--reporter "source": want destination \(sidecars\) or waypoint \(ambient mode\)`},
		{"verify --latency-margin without a percent", []string{"verify", "--target", "http://127.0.0.1:1/productpage", "--expect", "v1=50,v3=50", "--latency-margin", "10,2ms"}, ExitUsage, ``, `^--latency-margin: invalid latency margin "10,2ms": want PERCENT%,DURATION such as 10%,2ms$`},
		{"verify --error-margin below 1x", []string{"verify", "--target", "http://127.0.0.1:1/productpage", "--expect", "v1=50,v3=50", "--error-margin", "0.5x,0"}, ExitUsage, ``, `^--error-margin: invalid error margin "0.5x,0": ratio 0.5x is not from 1 to 1000$`},
		{"verify --latency-quantiles p100", []string{"verify", "--target", "http://127.0.0.1:1/productpage", "--expect", "v1=50,v3=50", "--latency-quantiles", "p50,p100"}, ExitUsage, ``, `^--latency-quantiles: invalid latency quantiles "p50,p100": p100 is not from p1 to p99.9$`},
		{"verify --baseline not expected", []string{"verify", "--target", "http://127.0.0.1:1/productpage", "--expect", "v1=50,v3=50", "--baseline", "v2"}, ExitUsage, ``, `^invalid health: baseline v2 is not in the expectation v1=50,v3=50$`},
		{"plan flag value after a flag", []string{"plan", "--expect", "v1=90,v2=10", "--rate", "0"}, ExitUsage, ``, `^--rate "0": want a positive rate`},
		{"unknown top-level flag", []string{"--bogus"}, ExitUsage, ``, `^unknown flag --bogus \(see canary --help\)$`},
		{"unknown command", []string{"verfy"}, ExitUsage, ``, `^unknown command "verfy"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			for i, a := range args {
				if a == "@OUT@" {
					args = append(append([]string{}, args[:i]...), append([]string{filepath.Join(t.TempDir(), "out.md")}, args[i+1:]...)...)
				}
			}
			out, errOut, err := runApp(t, args...)
			msg := ""
			if err != nil {
				msg = oneLine(err)
			}
			if code := exitCode(err); code != tc.code {
				t.Fatalf("canary %s: exit %d (%s), want %d; stderr %q", strings.Join(args, " "), code, msg, tc.code, errOut)
			}
			if !regexp.MustCompile(tc.out).MatchString(out) {
				t.Errorf("canary %s: stdout %q, want it to match %q", strings.Join(args, " "), out, tc.out)
			}
			if !regexp.MustCompile(tc.err).MatchString(msg) {
				t.Errorf("canary %s: error %q, want it to match %q", strings.Join(args, " "), msg, tc.err)
			}
			if tc.code == ExitUsage && strings.Contains(errOut, "Incorrect Usage") {
				t.Errorf("canary %s: urfave/cli's own usage text leaked to stderr: %q", strings.Join(args, " "), errOut)
			}
		})
	}
}

// TestVersion: canary version names the build's Go and its modules, and
// --short and --version print the version alone.
func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, err := runApp(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"canary " + buildVersion() + "\n", "go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n",
		"dep: github.com/urfave/cli/v3 ", "dep: github.com/tsenart/vegeta/v12 ", "dep: istio.io/api "} {
		if !strings.Contains(out, want) {
			t.Errorf("canary version: want %q in\n%s", want, out)
		}
	}
	short, _, err := runApp(t, "version", "--short")
	if err != nil || short != buildVersion()+"\n" {
		t.Errorf("canary version --short = %q, %v; want %q", short, err, buildVersion()+"\n")
	}
	flag, _, err := runApp(t, "--version")
	if err != nil || flag != "canary version "+buildVersion()+"\n" {
		t.Errorf("canary --version = %q, %v", flag, err)
	}
}

// TestBuildVersion: a release build's -ldflags version wins over the
// build info, which cannot be faked here.
func TestBuildVersion(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v1.2.3"
	if got := buildVersion(); got != "v1.2.3" {
		t.Errorf("buildVersion() with -X main.version=v1.2.3 = %q", got)
	}
}

// TestCompletion: every shell's script is printed, and bash, with the
// bash-completion package, completes commands and flags by asking canary.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, sh := range []string{"bash", "zsh", "fish", "pwsh"} {
		out, _, err := runApp(t, "completion", sh)
		if err != nil || len(out) < 500 || sh != "pwsh" && !strings.Contains(out, "canary") {
			t.Errorf("canary completion %s: %v, %d bytes", sh, err, len(out))
		}
	}
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing under CI: .ci/run installs Debian's bash-completion", bashCompletion)
		}
		t.Skipf("%s not installed (apt-get install bash-completion); skipping the live bash completion", bashCompletion)
	}
	bin := t.TempDir()
	if err := os.Symlink(canaryBin, filepath.Join(bin, "canary")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{"canary ver", "verify version"},
		{"canary verify --expect-f", "--expect-from"},
		{"canary report results.jsonl --for", "--format"},
		{"canary bookinfo sc", "scale"},
	} {
		words := strings.Fields(tc.line)
		script := "source " + bashCompletion + "\nsource <(canary completion bash)\n" +
			"COMP_WORDS=(" + tc.line + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + "; COMP_LINE='" + tc.line + "'; COMP_POINT=${#COMP_LINE}\n" +
			"__canary_bash_autocomplete; echo \"${COMPREPLY[*]}\"\n"
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("bash completion of %q = %q (%v), want %q", tc.line, got, err, tc.want)
		}
	}
}
