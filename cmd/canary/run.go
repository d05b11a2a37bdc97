package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"github.com/canary-gate/canary/internal/redact"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/cluster"
	"github.com/canary-gate/canary/scenarios"
	"github.com/canary-gate/canary/verify"
	"github.com/urfave/cli/v3"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a whole rollout: each stage applies routing, gates it with verify, pauses; a failed stage rolls back",
		ArgsUsage: "SCENARIO.yaml|BUILTIN",
		Description: "Exits 0 if every stage passed, 1 on the first failed stage (after its rollback), 3 if a stage\n" +
			"was inconclusive, 4 if a stage could not run. See `canary scenarios` for the built-in scenarios.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "target", Usage: "page `URL`, overriding the scenario's target"},
			&cli.StringFlag{Name: "mesh-admin", Usage: "apply the scenario's manifests steps to the local mesh at `HOST:PORT`"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "report: text, json, junit, markdown or html"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` (the text table still goes to stdout)"},
			listenFlag(),
		}, append(clusterFlags()[:2:2], tlsFlags()...)...),
		Action: runAction,
	}
}

func scenariosCommand() *cli.Command {
	return &cli.Command{
		Name:  "scenarios",
		Usage: "list the built-in scenarios, or print one to copy and edit (canary scenarios show NAME)",
		Commands: []*cli.Command{{
			Name: "show", Usage: "print a built-in scenario's YAML", ArgsUsage: "NAME",
			Action: func(ctx context.Context, c *cli.Command) error {
				src, ok := scenarios.BuiltinSource(c.Args().First())
				if !ok || c.NArg() != 1 {
					return usageError(fmt.Errorf("scenarios show: want one of %s", strings.Join(scenarios.Builtin(), ", ")))
				}
				_, err := c.Writer.Write(src)
				return err
			},
		}},
		Action: func(ctx context.Context, c *cli.Command) error {
			if c.NArg() > 0 {
				return unknownCommand(ctx, c)
			}
			for _, name := range scenarios.Builtin() {
				src, _ := scenarios.BuiltinSource(name)
				sc, err := scenarios.Load(name, src)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.Writer, "%-12s %d stages  %s\n", name, len(sc.Stages), sc.Description)
			}
			return nil
		},
	}
}

// loadScenario reads a scenario file, or a built-in by name.
func loadScenario(arg string) (*scenarios.Scenario, string, error) {
	if src, ok := scenarios.BuiltinSource(arg); ok {
		sc, err := scenarios.Load(arg, src)
		return sc, ".", err
	}
	data, err := files.Read(arg, files.MaxConfig)
	if err != nil {
		return nil, "", usageError(fmt.Errorf("run: %s: %w (built-ins: %s)", arg, unwrapPath(err), strings.Join(scenarios.Builtin(), ", ")))
	}
	sc, err := scenarios.Load(arg, data)
	if err != nil {
		return nil, "", usageError(err)
	}
	if err := verify.CheckScenario(sc); err != nil {
		return nil, "", usageError(fmt.Errorf("%s: %w", arg, err))
	}
	return sc, filepath.Dir(arg), nil
}

func runAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() != 1 {
		return usageError(errors.New("run: want one SCENARIO.yaml or built-in name"))
	}
	if f := c.String("format"); !slices.Contains(verify.Formats, f) {
		return usageError(fmt.Errorf("--format %q: want one of %s", f, strings.Join(verify.Formats, ", ")))
	}
	if err := checkOutputs(c, c.Args().First()); err != nil {
		return err
	}
	sc, dir, err := loadScenario(c.Args().First())
	if err != nil {
		return err
	}
	env := verify.ScenarioEnv{Dir: dir, Target: c.String("target"), ExpectFrom: expectFromFile,
		Prepare: func(o *verify.Options) { setTLS(c, &o.Attack) }}
	if h := c.String("host-header"); h != "" {
		prev := env.Prepare
		env.Prepare = func(o *verify.Options) {
			prev(o)
			if o.Attack.Headers == nil {
				o.Attack.Headers = http.Header{}
			}
			o.Attack.Headers.Set("Host", h)
		}
	}
	if admin := c.String("mesh-admin"); admin != "" {
		env.Apply = adminApplier(admin)
	}
	if err := kubeApplier(c, sc, &env); err != nil {
		return err
	}
	if env.Target == "" && sc.Target == "" {
		return usageError(errors.New("run: the scenario has no target: give --target URL"))
	}
	return runScenario(ctx, c, sc, env, c.String("format"), c.String("output"))
}

// runScenario runs it with live stage lines and writes the reports.
func runScenario(ctx context.Context, c *cli.Command, sc *scenarios.Scenario, env verify.ScenarioEnv, format, output string) error {
	w := c.ErrWriter
	env.OnStart = func(i int, name string) { fmt.Fprintf(w, "stage %d/%d %s ...\n", i+1, len(sc.Stages), name) }
	env.OnStage = func(s verify.StageResult) {
		fmt.Fprintf(w, "stage %s: %s in %s: %s\n", s.Name, verdictWord(s), s.End.Sub(s.Start).Round(100*time.Millisecond), firstLine(s))
	}
	lctx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	board, err := startLive(lctx, c, "run")
	if err != nil {
		return err
	}
	liveRun(lctx, board, sc, &env)
	res := verify.RunScenario(ctx, sc, env)
	liveRunDone(board, res)
	if output != "" {
		if err := writeFile(output, func(f io.Writer) error { return verify.WriteScenario(f, format, res) }); err != nil {
			return err
		}
	} else if format != "text" {
		if err := verify.WriteScenario(c.Writer, format, res); err != nil {
			return err
		}
		return scenarioExit(res)
	}
	if err := verify.WriteScenario(c.Writer, "text", res); err != nil {
		return err
	}
	return scenarioExit(res)
}

func verdictWord(s verify.StageResult) string {
	if s.Error != "" {
		return "ERROR"
	}
	return s.Verdict.String()
}

func firstLine(s verify.StageResult) string {
	if s.Error != "" {
		return s.Error
	}
	return s.Reason
}

// scenarioExit maps a run to the exit code: a stage that could not run is
// an error (4), not a verdict.
func scenarioExit(res *verify.ScenarioResult) error {
	if res.Error != "" {
		// One canary: line, as every error has, besides the report's.
		return &codedError{err: errors.New(res.Error), code: ExitError}
	}
	return verdictError(res.Verdict)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	rw := redact.NewWriter(f)
	if err := write(rw); err != nil {
		f.Close()
		return err
	}
	if err := errors.Join(rw.Flush(), f.Close()); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	return nil
}

// kubeApplier connects to the cluster for the scenario's kube steps, and
// only when it has some: a scenario without them runs on any machine.
func kubeApplier(c *cli.Command, sc *scenarios.Scenario, env *verify.ScenarioEnv) error {
	step := ""
	for i, st := range sc.Stages {
		for _, s := range []*scenarios.Step{st.Apply, st.OnFail} {
			if s != nil && s.Kube != "" && step == "" {
				step = fmt.Sprintf("stage %d (%s) applies {kube: %s}", i+1, st.Name, s.Kube)
			}
		}
	}
	if step == "" {
		return nil
	}
	cl, err := cluster.Load(c.String("kubeconfig"), c.String("context"))
	if errors.Is(err, cluster.ErrNoCluster) {
		return usageError(fmt.Errorf("run: %s: want --kubeconfig FILE: %w", step, err))
	}
	if err != nil {
		return usageError(fmt.Errorf("--kubeconfig: %w", err))
	}
	fmt.Fprintf(c.ErrWriter, "cluster %s: kube steps apply here (server-side apply, field manager %s)\n", cl.Where, cluster.FieldManager)
	env.Kube = cl.Apply
	return nil
}

// adminApplier applies manifests through a running mesh's admin API.
func adminApplier(admin string) verify.Applier {
	return func(ctx context.Context, name string, data []byte) ([]string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+admin+"/apply?source="+url.QueryEscape(name), bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		resp, err := adminClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("local mesh admin API at %s unreachable: %w", admin, err)
		}
		defer resp.Body.Close()
		var ans struct {
			Changes []string `json:"changes"`
			Error   string   `json:"error"`
		}
		if err := decodeJSON(resp.Body, &ans); err != nil {
			return nil, err
		}
		if ans.Error != "" {
			return nil, errors.New(ans.Error)
		}
		return ans.Changes, nil
	}
}

// meshApplier applies manifests to an in-process mesh.
func meshApplier(m *mesh.Mesh) verify.Applier {
	return func(_ context.Context, name string, data []byte) ([]string, error) {
		rs, err := istio.ParseManifests(name, data)
		if err != nil {
			return nil, err
		}
		changes, err := m.Apply(rs)
		lines := make([]string, len(changes))
		for i, ch := range changes {
			lines[i] = ch.String()
		}
		return lines, err
	}
}
