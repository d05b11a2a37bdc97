package verify

import (
	"bytes"
	"context"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/prom"
	"github.com/canary-gate/canary/scenarios"
)

// Applier applies manifests, named name in messages, to the local mesh or
// a cluster and returns kubectl-style lines, one per object.
type Applier func(ctx context.Context, name string, data []byte) ([]string, error)

// ScenarioEnv is what a scenario run needs from its caller.
type ScenarioEnv struct {
	Dir      string            // directory the scenario's relative paths start from
	Target   string            // overrides the scenario's target when set
	Apply    Applier           // local mesh; nil: manifests steps are an error
	Kube     Applier           // cluster, given "{kube: FILE}" as name; nil: kube steps are an error
	Prepare  func(*Options)    // last say on every gate's options (e.g. the demo's scrape URLs)
	OnStage  func(StageResult) // called as each stage ends, for the live line
	OnStart  func(i int, name string)
	Classify func(*Options) // sets the classifier (rules) on the gate
	// ExpectFrom reads the expectation from a VirtualService or HTTPRoute
	// file, and the route's backend Services other than host (none for a
	// VirtualService) for the server check.
	ExpectFrom func(path, host string) (e decide.Expectation, backends []string, err error)
}

// StageResult is one stage's outcome.
type StageResult struct {
	Name     string         `json:"name"`
	Expect   string         `json:"expect"`
	Verdict  decide.Verdict `json:"verdict"`
	Reason   string         `json:"reason"`
	Gate     *Result        `json:"gate,omitempty"`
	Apply    *StepResult    `json:"apply,omitempty"`
	Rollback *StepResult    `json:"rollback,omitempty"`
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	// Error is set when the stage could not run (apply failed, bad gate
	// options, target unreachable): the run stops there.
	Error string `json:"error,omitempty"`
}

// StepResult is a command's or an apply's outcome, output kept.
type StepResult struct {
	What     string        `json:"what"`
	Output   string        `json:"output"`
	Err      string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
}

// ScenarioResult is a whole run.
type ScenarioResult struct {
	Scenario string         `json:"scenario"`
	Target   string         `json:"target"`
	Verdict  decide.Verdict `json:"verdict"`
	Reason   string         `json:"reason"`
	Stages   []StageResult  `json:"stages"`
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	// Interrupted is set when Ctrl-C stopped the run.
	Interrupted bool `json:"interrupted,omitempty"`
	// Error is the reason when a stage could not run: the run is an error
	// (exit 4), not a verdict, and says so in the word ERROR.
	Error string `json:"error,omitempty"`
}

// Word is the run's headline word: its verdict, or ERROR when a stage
// could not run.
func (r *ScenarioResult) Word() string {
	if r.Error != "" {
		return "ERROR"
	}
	return r.Verdict.String()
}

// RunScenario runs the stages in order: apply, gate, pause. The first stage
// that fails runs its rollback and ends the run, as does an inconclusive
// stage (without rollback: not proven bad) or one that could not run.
func RunScenario(ctx context.Context, sc *scenarios.Scenario, env ScenarioEnv) *ScenarioResult {
	res := &ScenarioResult{Scenario: sc.Name, Target: sc.Target, Start: time.Now(), Verdict: decide.Pass}
	if env.Target != "" {
		res.Target = env.Target
	}
	for i, st := range sc.Stages {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		if env.OnStart != nil {
			env.OnStart(i, st.Name)
		}
		sr := runStage(ctx, sc, i, res.Target, env)
		res.Stages = append(res.Stages, sr)
		if env.OnStage != nil {
			env.OnStage(sr)
		}
		if sr.Error != "" || sr.Verdict != decide.Pass {
			break
		}
		if st.Pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(st.Pause)):
			}
		}
	}
	res.End = time.Now()
	res.Verdict, res.Reason = scenarioVerdict(res, len(sc.Stages))
	for _, s := range res.Stages {
		if s.Error != "" {
			res.Error = res.Reason
		}
	}
	return res
}

func scenarioVerdict(res *ScenarioResult, stages int) (decide.Verdict, string) {
	for _, s := range res.Stages {
		switch {
		case s.Error != "":
			return decide.Inconclusive, fmt.Sprintf("stage %q could not run: %s", s.Name, s.Error)
		case s.Verdict == decide.Fail:
			return decide.Fail, fmt.Sprintf("stage %q failed: %s", s.Name, s.Reason)
		case s.Verdict != decide.Pass:
			return decide.Inconclusive, fmt.Sprintf("stage %q was inconclusive: %s", s.Name, s.Reason)
		}
	}
	if res.Interrupted || len(res.Stages) < stages {
		return decide.Inconclusive, fmt.Sprintf("interrupted after %d of %d stages", len(res.Stages), stages)
	}
	return decide.Pass, fmt.Sprintf("all %d stages passed", stages)
}

func runStage(ctx context.Context, sc *scenarios.Scenario, i int, target string, env ScenarioEnv) (sr StageResult) {
	st := sc.Stages[i]
	sr = StageResult{Name: st.Name, Expect: st.Expect, Start: time.Now()}
	defer func() { sr.End = time.Now() }()
	hookEnv := []string{"CANARY_SCENARIO=" + sc.Name, "CANARY_STAGE=" + st.Name}
	if st.Apply != nil {
		step := runStep(ctx, *st.Apply, env, hookEnv)
		sr.Apply = &step
		if step.Err != "" {
			sr.Error = "apply: " + step.Err
			return sr
		}
	}
	o, err := stageOptions(sc, i, target, env)
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	if sr.Expect == "" {
		sr.Expect = o.Criteria.Expect.String()
	}
	gate, err := Run(ctx, o)
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	sr.Gate, sr.Verdict, sr.Reason = gate, gate.Verdict, gate.Reason
	if gate.Verdict == decide.Fail && st.OnFail != nil {
		step := runStep(context.WithoutCancel(ctx), *st.OnFail, env, append(hookEnv, "CANARY_VERDICT=FAIL"))
		sr.Rollback = &step
	}
	return sr
}

// runStep runs a command (sh -c, with a timeout, output kept), applies a
// file to the cluster (with the timeout) or applies manifests to the local
// mesh.
func runStep(ctx context.Context, s scenarios.Step, env ScenarioEnv, hookEnv []string) StepResult {
	start := time.Now()
	out := StepResult{}
	defer func() { out.Duration = time.Since(start) }()
	switch {
	case s.Command != "":
		out.What = s.Command
		timeout := time.Duration(s.Timeout)
		if timeout <= 0 {
			timeout = 2 * time.Minute
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		cmd := exec.CommandContext(cctx, "/bin/sh", "-c", s.Command)
		cmd.Dir, cmd.Env = env.Dir, append(os.Environ(), hookEnv...)
		// The timeout ends the command's whole process group: killing only
		// the shell would leave `sleep 100` holding its output open, and the
		// stage waiting for it. WaitDelay bounds what a stray child can hold.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = time.Second
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			out.Err = fmt.Sprintf("%s: %v", s.Command, err)
			if cctx.Err() == context.DeadlineExceeded {
				out.Err = fmt.Sprintf("%s: timed out after %v", s.Command, timeout)
			}
		}
		out.Output = buf.String()
	case s.Kube != "":
		out.What, out.Output, out.Err = applyKube(ctx, s, env)
	default:
		out.What, out.Output, out.Err = applyManifests(ctx, s, env)
	}
	return out
}

func applyManifests(ctx context.Context, s scenarios.Step, env ScenarioEnv) (what, output, errText string) {
	if env.Apply == nil {
		return "apply to the local mesh", "", "manifests steps need the local mesh (canary demo, or canary run --mesh-admin ADDR)"
	}
	type doc struct {
		name string
		data []byte
	}
	var docs []doc
	for _, f := range s.Manifests {
		path := f
		if !filepath.IsAbs(path) {
			path = filepath.Join(env.Dir, f)
		}
		data, err := files.Read(path, files.MaxConfig)
		if err != nil {
			return "apply " + f, "", err.Error()
		}
		docs = append(docs, doc{f, data})
	}
	if s.Inline != "" {
		docs = append(docs, doc{"inline manifest (line " + strconv.Itoa(s.Line) + ")", []byte(s.Inline)})
	}
	var lines, names []string
	for _, d := range docs {
		names = append(names, d.name)
		got, err := env.Apply(ctx, d.name, d.data)
		lines = append(lines, got...)
		if err != nil {
			return "apply " + strings.Join(names, ", "), strings.Join(lines, "\n"), err.Error()
		}
	}
	return "apply " + strings.Join(names, ", "), strings.Join(lines, "\n"), ""
}

// applyKube applies a kube step's file to the cluster within the step's
// timeout. Messages name the step as written: "{kube: vs.yaml}".
func applyKube(ctx context.Context, s scenarios.Step, env ScenarioEnv) (what, output, errText string) {
	label := "{kube: " + s.Kube + "}"
	what = "apply " + label
	if env.Kube == nil {
		return what, "", label + ": kube steps need a cluster (canary run --kubeconfig FILE)"
	}
	path := s.Kube
	if !filepath.IsAbs(path) {
		path = filepath.Join(env.Dir, path)
	}
	data, err := files.Read(path, files.MaxConfig)
	if err != nil {
		return what, "", label + ": " + err.Error()
	}
	timeout := time.Duration(s.Timeout)
	if timeout <= 0 {
		timeout = scenarios.DefaultStepTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	lines, err := env.Kube(cctx, label, data)
	output = strings.Join(lines, "\n")
	switch {
	case err != nil && cctx.Err() == context.DeadlineExceeded:
		return what, output, fmt.Sprintf("%s: timed out after %v", label, timeout)
	case err != nil:
		return what, output, err.Error()
	}
	return what, output, ""
}

// stageOptions turns the scenario's merged gate settings into verify options.
func stageOptions(sc *scenarios.Scenario, i int, target string, env ScenarioEnv) (Options, error) {
	st, g := sc.Stages[i], sc.StageGate(i)
	var o Options
	e, backends, err := stageExpect(st, env, g.Host)
	if err != nil {
		return o, err
	}
	c := decide.DefaultCriteria(e)
	setF(&c.Tolerance, g.Tolerance)
	setF(&c.Confidence, g.Confidence)
	if g.MaxRequests != nil {
		c.MaxRequests = *g.MaxRequests
	}
	if g.MaxErrorRate != nil {
		c.MaxErrorRate = *g.MaxErrorRate / 100
	}
	if c.Health, err = StageHealth(g, e); err != nil {
		return o, err
	}
	o.Criteria = c
	o.Attack = attack.Options{Target: target, Login: g.Login, Rate: DefaultRate}
	if g.Rate != "" {
		if o.Attack.Rate, err = attack.ParseRate(g.Rate); err != nil {
			return o, fmt.Errorf("rate: %w", err)
		}
	}
	if len(g.Headers) > 0 {
		o.Attack.Headers = map[string][]string{}
		for k, v := range g.Headers {
			o.Attack.Headers[k] = []string{v}
		}
	}
	o.Timeout, o.Settle = time.Duration(g.Timeout), g.Settle != "0"
	o.SettleTimeout, o.SettleMin = time.Duration(g.SettleTimeout), time.Duration(g.SettleMin)
	o.Service, o.Namespace, o.Scrape, o.Backends = g.Host, g.Namespace, g.Scrape, g.Backends
	if len(o.Backends) == 0 {
		o.Backends = backends // the expect-from route's; a gate's backends setting wins
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if err := stageServer(&o, g); err != nil {
		return o, err
	}
	if st.Mirror != "" {
		o.Mirror, err = parseMirror(st.Mirror)
		if err != nil {
			return o, err
		}
	}
	if env.Classify != nil {
		env.Classify(&o)
	}
	if env.Prepare != nil {
		env.Prepare(&o)
	}
	o.Attack.Requests = uint64(o.Criteria.MaxRequests) * 4
	return o, o.Validate()
}

func setF(dst *float64, v *float64) {
	if v != nil {
		*dst = *v
	}
}

func stageServer(o *Options, g scenarios.Gate) error {
	p := g.Prometheus
	o.RequireServer = true
	if p == nil || p.URL == "" {
		o.RequireServer = len(o.Scrape) > 0
		return nil
	}
	if p.Require != nil {
		o.RequireServer = *p.Require
	}
	c, err := prom.New(prom.Options{URL: p.URL, BearerTokenFile: p.BearerTokenFile, BasicAuthFile: p.BasicAuthFile,
		Headers: p.Headers, CAFile: p.CAFile, Insecure: p.Insecure})
	if err != nil {
		return err
	}
	o.Prometheus = c
	return nil
}

// parseMirror reads "v2" or "v2=50".
func parseMirror(s string) (*Mirror, error) {
	v, pct, found := strings.Cut(s, "=")
	m := &Mirror{Version: v, Percent: 100}
	if found {
		p, err := strconv.ParseFloat(pct, 64)
		if err != nil {
			return nil, fmt.Errorf("mirror %q: want VERSION or VERSION=PERCENT", s)
		}
		m.Percent = p
	}
	return m, nil
}

// stageExpect is the stage's expectation, from expect or expect-from, and
// the backends an expect-from route names.
func stageExpect(st scenarios.Stage, env ScenarioEnv, host string) (decide.Expectation, []string, error) {
	if st.Expect != "" {
		e, err := decide.ParseExpect(st.Expect)
		if err != nil {
			return e, nil, fmt.Errorf("expect %q: %w", st.Expect, err)
		}
		return e, nil, nil
	}
	if env.ExpectFrom == nil {
		return decide.Expectation{}, nil, fmt.Errorf("expect-from %s: not supported here", st.ExpectFrom)
	}
	path := st.ExpectFrom
	if !filepath.IsAbs(path) {
		path = filepath.Join(env.Dir, path)
	}
	if host == "" {
		host = "reviews"
	}
	return env.ExpectFrom(path, host)
}

// StageHealth is a stage gate's health checks against expectation e, as
// `canary verify` reads them from its flags (decide.HealthSettings). Errors
// name the scenario key.
func StageHealth(g scenarios.Gate, e decide.Expectation) (*decide.Health, error) {
	return decide.HealthSettings{Off: g.Health != nil && !*g.Health, Baseline: g.Baseline,
		ErrorMargin: g.ErrorMargin, LatencyMargin: g.LatencyMargin, LatencyQuantiles: g.LatencyQuantiles}.Health(e)
}

// CheckScenario checks what Load cannot, as the engine reads it: every
// stage's health settings. It runs before any stage changes routing, so
// it reads them against a split with two versions, where they are read
// whatever the stage's own split.
func CheckScenario(sc *scenarios.Scenario) error {
	e, err := decide.ParseExpect("v1=50,v2=50")
	if err != nil {
		return err
	}
	for i, st := range sc.Stages {
		if _, err := StageHealth(sc.StageGate(i), e); err != nil {
			return fmt.Errorf("stage %q (line %d): %w", st.Name, st.Line, err)
		}
	}
	return nil
}
