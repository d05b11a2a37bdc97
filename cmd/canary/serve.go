package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"github.com/canary-gate/canary/internal/redact"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/canary-gate/canary/serve"
	"github.com/urfave/cli/v3"
)

// loadSettings are the attack flags a caller may set for Flagger's
// rollout hook; duration defaults to one minute, Flagger's interval.
var loadSettings = []string{
	"target", "rate", "duration", "requests", "header", "login", "host-header", "sni", "http2", "insecure",
	"request-timeout", "workers", "max-workers", "trace-sample",
}

// gateSettings are the verify flags a caller of canary serve may set.
// Flags that name files on the server (--results, --rules, --output,
// --kubeconfig, --ca-file, the Prometheus credential files) are the
// operator's, given to serve itself, never a caller's.
var gateSettings = []string{
	"expect", "expect-from", "target", "host", "namespace", "tolerance", "confidence", "max-requests", "timeout",
	"max-error-rate", "settle", "settle-timeout", "settle-min", "mirror", "prometheus", "server-wait",
	"require-prometheus", "rate", "workers", "max-workers", "request-timeout", "header", "login", "host-header",
	"sni", "http2", "insecure", "ingress", "prometheus-service", "preflight", "jaeger", "trace-check", "trace-wait", "trace-sample",
	"backend", "reporter", "health", "baseline", "error-margin", "latency-margin", "latency-quantiles",
	"passive", "since", "poll", "server-series", "server-version-label",
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run gates for Flagger webhooks and Argo Rollouts web metrics over HTTP, with /metrics",
		Description: "POST /flagger/{hook} takes Flagger's webhook payload; its metadata are verify flags (expect, target, …).\n" +
			"confirm-* and pre-rollout hooks answer 200 PASS, 403 FAIL, 503 INCONCLUSIVE (Flagger waits), 400 bad settings.\n" +
			"GET /v1/verdict?expect=v1=50,v3=50&target=URL answers 200 with {\"verdict\": \"PASS|FAIL|INCONCLUSIVE\", \"reason\", \"report\"}.\n" +
			"GET /metrics: canary_gates_total, canary_pages_total, canary_page_duration_seconds (Istio's buckets), canary_gate_duration_seconds.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "listen address (`HOST:PORT`; :8080 in a pod)"},
			&cli.StringFlag{Name: "token-file", Usage: "require `FILE`'s bearer token on gate requests (read once; never logged)"},
			&cli.IntFlag{Name: "max-gates", Value: serve.DefaultMaxGates, Usage: "gates running at once; more get 409"},
			&cli.DurationFlag{Name: "gate-timeout", Value: serve.DefaultGateTimeout, Usage: "longest gate"},
			&cli.StringFlag{Name: "kubeconfig", Usage: "kubeconfig `FILE` the gates discover from (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)"},
			&cli.StringFlag{Name: "context", Usage: "kubeconfig context `NAME`"},
		},
		Action: serveGatesAction,
	}
}

func serveGatesAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() > 0 {
		return usageError(fmt.Errorf("serve: unexpected argument %q", c.Args().First()))
	}
	token := ""
	if f := c.String("token-file"); f != "" {
		b, err := files.Read(f, files.MaxSecret)
		if err != nil {
			return usageError(fmt.Errorf("--token-file: %w", unwrapPath(err)))
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return usageError(fmt.Errorf("--token-file %s: empty", f))
		}
		redact.Add(token)
	}
	log := slog.New(slog.NewJSONHandler(c.ErrWriter, nil))
	var extra []string
	for _, f := range []string{"kubeconfig", "context"} {
		if v := c.String(f); v != "" {
			extra = append(extra, "--"+f, v)
		}
	}
	srv, err := serve.New(serve.Options{Gate: verifyGate(extra), Load: attackLoad(), Token: token, MaxGates: c.Int("max-gates"),
		GateTimeout: c.Duration("gate-timeout"), Log: log})
	if err != nil {
		return usageError(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", c.String("addr"))
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(c.Writer, "canary serve: listening on http://%s (Flagger: /flagger/{hook}; Argo: /v1/verdict; /metrics); Ctrl-C stops\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// verifyGate runs `canary verify --format json` in-process with the
// settings as its flags, so a gate served over HTTP is exactly the command
// line's: same flags, discovery, preflight and verdicts.
func verifyGate(extra []string) serve.Gate {
	return func(ctx context.Context, settings map[string]string) serve.Outcome {
		args, err := settingsArgs(settings, gateSettings)
		if err != nil {
			return serve.Outcome{Usage: true, Err: err, Reason: err.Error()}
		}
		return runJSON(ctx, slices.Concat([]string{"verify"}, extra, args))
	}
}

// attackLoad runs `canary attack --format json` in-process for the
// rollout hook: steady load during the analysis, as flagger-loadtester's
// tasks give, with every page classified and counted.
func attackLoad() serve.Gate {
	return func(ctx context.Context, settings map[string]string) serve.Outcome {
		if settings["duration"] == "" && settings["requests"] == "" {
			settings["duration"] = "1m"
		}
		args, err := settingsArgs(settings, loadSettings)
		if err != nil {
			return serve.Outcome{Usage: true, Err: err, Reason: err.Error()}
		}
		o := runJSON(ctx, slices.Concat([]string{"attack"}, args))
		o.Verdict = "" // a load decides nothing
		return o
	}
}

// runJSON runs a canary command in process with --format json and reads
// its exit code and report as an outcome.
func runJSON(ctx context.Context, args []string) serve.Outcome {
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = redact.NewWriter(&out), redact.NewWriter(&errOut)
	err := app.Run(ctx, slices.Concat([]string{"canary", args[0], "--format", "json"}, args[1:]))
	flush(app.Writer)
	if err != nil {
		err = redactedError{err} // its one line goes to a caller and the log
	}
	return outcome(exitCode(err), err, out.Bytes())
}

// settingsArgs turns settings into flags, refusing any not in allowed.
func settingsArgs(settings map[string]string, allowed []string) ([]string, error) {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var args []string
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("setting %q: not a gate setting (want one of: %s)", k, strings.Join(allowed, ", "))
		}
		if k == "expect-from" && settings[k] != "cluster" && !strings.HasPrefix(settings[k], "vs/") {
			return nil, fmt.Errorf("setting expect-from %q: want cluster or vs/NAME (files on the server are not a caller's to name)", settings[k])
		}
		args = append(args, "--"+k+"="+settings[k])
	}
	return args, nil
}

// outcome reads verify's exit code and JSON report.
func outcome(code int, err error, stdout []byte) serve.Outcome {
	var o serve.Outcome
	var r struct {
		Reason string `json:"reason"`
	}
	if json.Valid(stdout) {
		o.Report = stdout
		_ = json.Unmarshal(stdout, &r)
		o.Reason = r.Reason
	} else {
		o.Reason = strings.Join(strings.Fields(string(stdout)), " ") // the preflight's lines
	}
	switch code {
	case ExitPass:
		o.Verdict = serve.Pass
	case ExitFail:
		o.Verdict = serve.Fail
	case ExitInconclusive:
		o.Verdict = serve.Inconclusive
	case ExitUsage:
		o.Usage, o.Err = true, err
		o.Reason = oneLine(err)
	default:
		o.Err = err
		if err != nil {
			o.Reason = oneLine(err)
		}
	}
	return o
}

// redactedError is an error whose text passes the redaction rule, keeping
// the error it wraps for errors.Is and the exit code.
type redactedError struct{ err error }

func (e redactedError) Error() string { return redact.String(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }
