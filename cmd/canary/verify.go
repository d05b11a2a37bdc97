package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/jaeger"
	"github.com/canary-gate/canary/prom"
	"github.com/canary-gate/canary/verify"
	"github.com/urfave/cli/v3"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "check that the traffic really splits as expected: PASS, FAIL or INCONCLUSIVE, with an exit code to gate on",
		Description: "Sends load to --target, tells from every page which version served it, and decides with\n" +
			"anytime-valid tests whether each version's share is within --tolerance of --expect, and whether any\n" +
			"canary is shown worse than --baseline by more than the health margins (errors, latency quantiles).\n" +
			"With --prometheus (or --scrape) it checks the same split in Istio's istio_requests_total.\n" +
			"On a cluster (--kubeconfig, KUBECONFIG, ~/.kube/config) it discovers what is not given: the target from the\n" +
			"ingress gateway, Prometheus, and without --expect the live VirtualService's split; then a preflight runs first.\n" +
			"Exit codes: 0 pass, 1 fail, 2 usage error, 3 inconclusive, 4 other error.",
		Flags:  slices.Concat(verifyFlags(), loadFlags(), clusterFlags(), []cli.Flag{preflightFlag(), listenFlag()}),
		Action: verifyAction,
	}
}

func verifyFlags() []cli.Flag {
	return slices.Concat([]cli.Flag{
		&cli.StringFlag{Name: "expect", Usage: "expected split, e.g. `v1=50,v3=50` (versions not listed expect 0%)"},
		&cli.StringFlag{Name: "expect-from", Usage: "take the expected split from the VirtualService in `FILE` (its first route for --host)"},
		&cli.StringFlag{Name: "host", Value: "reviews", Usage: "service whose split is checked (VirtualService host, destination_service_name)"},
		&cli.StringFlag{Name: "namespace", Value: "default", Usage: "the service's namespace (destination_service_namespace)"},
		&cli.StringSliceFlag{Name: "backend", Usage: "also count the server-side requests Istio reports under Service `NAME`, a route's backend for --host (an HTTPRoute's reviews-v1); default: read from the cluster's routes or --expect-from"},
		&cli.StringFlag{Name: "reporter", Usage: "whose istio_requests_total the server check counts: `destination` (sidecars) or waypoint (ambient mode); default: waypoint when the cluster runs --host in ambient mode, else destination (with --passive: source, the callers' sidecars)"},
		&cli.Float64Flag{Name: "tolerance", Value: decide.DefaultTolerance, Usage: "allowed distance from each expected share, in percentage `POINTS`"},
		&cli.Float64Flag{Name: "confidence", Value: decide.DefaultConfidence, Usage: "confidence of the verdict (bounds both false PASS and false FAIL)"},
		&cli.IntFlag{Name: "max-requests", Value: decide.DefaultMaxRequests, Usage: "pages after which an undecided gate is INCONCLUSIVE"},
		&cli.DurationFlag{Name: "timeout", Value: 10 * time.Minute, Usage: "overall time limit; an undecided gate is then INCONCLUSIVE"},
		&cli.Float64Flag{Name: "max-error-rate", Value: 100 * decide.DefaultMaxErrorRate, Usage: "error budget: percent of pages per version that may be not ok"},
	}, healthFlags(), []cli.Flag{
		&cli.BoolFlag{Name: "passive", Usage: "send no request: judge the live traffic from Istio's counts in Prometheus, re-read at every scrape (see README)"},
		&cli.StringFlag{Name: "since", Usage: "with --passive: count requests from `DURATION` ago or from TIME (RFC 3339) instead of the gate's start"},
		&cli.DurationFlag{Name: "poll", Usage: "with --passive: look every `D` (default: Prometheus' scrape interval)"},
		&cli.StringFlag{Name: "settle", Value: "auto", Usage: "auto: leave out pages until the new weights are in force (see README); 0: off"},
		&cli.DurationFlag{Name: "settle-timeout", Value: 60 * time.Second, Usage: "longest settling time"},
		&cli.DurationFlag{Name: "settle-min", Usage: "leave out the pages of the first `D` whatever they show (for changes without strays: 90/10 to 50/50, adding a mirror)"},
		&cli.StringFlag{Name: "mirror", Usage: "check mirroring to `VERSION[=PERCENT]` (default 100): shadow requests reach it, pages never do"},
		&cli.StringFlag{Name: "prometheus", Usage: "Prometheus `URL` for the server-side check"},
		&cli.StringFlag{Name: "prom-bearer-token-file", Usage: "bearer token `FILE` for Prometheus"},
		&cli.StringFlag{Name: "prom-basic-auth-file", Usage: "`FILE` holding user:password for Prometheus"},
		&cli.StringSliceFlag{Name: "prom-header", Usage: "extra header `K=V` for Prometheus (repeatable; values are never printed)"},
		&cli.StringFlag{Name: "prom-ca-file", Usage: "CA bundle `FILE` for an https Prometheus"},
		&cli.BoolFlag{Name: "prom-insecure", Usage: "skip TLS verification of Prometheus"},
		&cli.StringSliceFlag{Name: "scrape", Usage: "without Prometheus: sidecar metrics `URL` read before and after (repeatable)"},
		&cli.StringFlag{Name: "server-series", Usage: "count this Prometheus counter `SELECTOR` in the server check instead of Istio's, e.g. 'http_requests_total{job=\"myapp\"}'"},
		&cli.StringFlag{Name: "server-version-label", Usage: "the --server-series label `NAME` that holds the version (default destination_version)"},
		&cli.DurationFlag{Name: "server-wait", Value: 45 * time.Second, Usage: "longest wait for the scrape after the last request"},
		&cli.BoolFlag{Name: "require-prometheus", Value: true, Usage: "a server check that cannot run makes the gate INCONCLUSIVE; false lets the client verdict stand"},
		&cli.StringFlag{Name: "jaeger", Usage: "Jaeger query `URL` (e.g. http://jaeger-query:16686): pages of note link to their traces"},
		&cli.IntFlag{Name: "trace-check", Usage: "fetch the traces of `N` sampled pages and check their reviews hop names the page's version (needs --jaeger)"},
		&cli.DurationFlag{Name: "trace-wait", Value: verify.DefaultTraceWait, Usage: "longest wait for traces to arrive in Jaeger after the last page"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, json, junit, markdown or html"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` (the text verdict still goes to stdout)"},
	})
}

// healthFlags judge canaries against their baseline; verify, soak, run
// and plan share them.
func healthFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "health", Value: true, Usage: "also judge each canary's errors and latency against --baseline; needs two versions expected above 0% (see README)"},
		&cli.StringFlag{Name: "baseline", Usage: "the `VERSION` canaries are compared with (default: the first version of the expectation)"},
		&cli.StringFlag{Name: "error-margin", Value: "2x,0.1", Usage: "a canary fails on errors only when shown to fail more than `RATIOx,POINTS` allow: RATIO times the baseline's rate and POINTS percentage points more"},
		&cli.StringFlag{Name: "latency-margin", Value: "10%,2ms", Usage: "a canary fails on a latency quantile only when shown slower than `PERCENT%,DURATION` allow: PERCENT and DURATION more than the baseline's"},
		&cli.StringFlag{Name: "latency-quantiles", Value: "p50,p90,p99", Usage: "latency quantiles compared, e.g. `p50,p99` (none: errors only)"},
	}
}

// loadFlags are the load generator's flags, shared by attack and verify.
func loadFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "target", Usage: "page `URL` to load, e.g. http://INGRESS:PORT/productpage"},
		&cli.StringFlag{Name: "rate", Value: "20/s", Usage: "requests per second: `N`, N/s, N/1m; 0 = as fast as the workers go"},
		&cli.StringSliceFlag{Name: "header", Aliases: []string{"H"}, Usage: "request header `K:V` (repeatable)"},
		&cli.StringFlag{Name: "login", Usage: "POST /login as `USER` once per worker and reuse its session cookie (end-user routing)"},
		&cli.DurationFlag{Name: "request-timeout", Value: attack.DefaultTimeout, Usage: "per-request timeout, body included"},
		&cli.IntFlag{Name: "max-body", Value: int(attack.DefaultMaxBody), Usage: "body `BYTES` read and classified; the rest is drained"},
		&cli.BoolFlag{Name: "keepalive", Value: true, Usage: "reuse connections"},
		&cli.IntFlag{Name: "workers", Value: attack.DefaultWorkers, Usage: "workers started up front (closed loop: the concurrency)"},
		&cli.IntFlag{Name: "max-workers", Value: attack.DefaultMaxWorkers, Usage: "bound on workers; ticks finding all busy are dropped and counted"},
		&cli.StringFlag{Name: "results", Usage: "stream one JSON line per request to `FILE`"},
		&cli.StringFlag{Name: "rules", Usage: "classify with the rules in `FILE` (YAML) instead of the Bookinfo classifier"},
		&cli.StringFlag{Name: "version-header", Usage: "take the version from response header `NAME`"},
		&cli.Float64Flag{Name: "trace-sample", Value: 100, Usage: "`PERCENT` of requests whose traceparent asks the mesh for a trace (Istio honours it)"},
	}, tlsFlags()...)
}

// tlsFlags reach an ingress the way real ones listen: https on 443, maybe
// mTLS, routing by host; shared by every command that sends load.
func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ca-file", Usage: "trust the CA bundle in `FILE` (PEM) for an https target instead of the system roots"},
		&cli.BoolFlag{Name: "insecure", Usage: "do not verify the https target's certificate"},
		&cli.StringFlag{Name: "cert", Usage: "client certificate `FILE` (PEM) for an ingress that requires mTLS; with --key"},
		&cli.StringFlag{Name: "key", Usage: "private key `FILE` (PEM) of --cert"},
		&cli.StringFlag{Name: "sni", Usage: "TLS server `NAME` to send and verify (default: the --host-header, else the target's host)"},
		&cli.StringFlag{Name: "host-header", Usage: "Host header `NAME`, for a Gateway that routes by host (the target URL keeps the address)"},
		&cli.BoolFlag{Name: "http2", Usage: "send with HTTP/2 only: h2 over https, prior knowledge (h2c) over http"},
	}
}

func verifyAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() > 0 {
		return usageError(fmt.Errorf("verify: unexpected argument %q", c.Args().First()))
	}
	if err := checkOutputs(c); err != nil {
		return err
	}
	var found *clusterFound
	if usesCluster(c) {
		var err error
		if found, err = discover(ctx, c); err != nil {
			return err
		}
	}
	o, closeResults, err := verifyOptions(c, found.promTransport(), found.jaegerTransport())
	if err != nil {
		return err
	}
	defer func() { _ = closeResults() }()
	if found != nil && c.Bool("preflight") {
		if err := found.preflight(ctx, c); err != nil {
			return err
		}
	}
	run := verify.Run
	if o.Passive {
		run = verify.RunPassive
		o.RouteChanged = found.routeChanged()
	}
	lctx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	board, err := startLive(lctx, c, "verify")
	if err != nil {
		return err
	}
	liveGate(board, &o)
	if !o.Passive && o.ServerSeries == "" {
		go followMesh(lctx, board, o.Prometheus, verify.ServerQuery{Service: o.Service, Namespace: o.Namespace, Backends: o.Backends})
	}
	res, err := run(ctx, o)
	liveResult(board, res)
	if err != nil {
		if errors.Is(err, decide.ErrInvalid) || errors.Is(err, verify.ErrNoVersion) {
			return usageError(err)
		}
		return err
	}
	if err := writeVerifyReport(c, res); err != nil {
		return err
	}
	return verdictError(res.Verdict)
}

// verdictError carries a verdict to main's exit code without printing.
func verdictError(v decide.Verdict) error {
	switch v {
	case decide.Pass:
		return nil
	case decide.Fail:
		return &codedError{err: errSilent, code: ExitFail}
	}
	return &codedError{err: errSilent, code: ExitInconclusive}
}

// errSilent marks an outcome already reported on stdout.
var errSilent = errors.New("")

func writeVerifyReport(c *cli.Command, res *verify.Result) error {
	format := c.String("format")
	if out := c.String("output"); out != "" {
		if err := writeFile(out, func(w io.Writer) error { return verify.Write(w, format, res) }); err != nil {
			return err
		}
		format = "text"
	}
	return verify.Write(c.Writer, format, res)
}

// verifyOptions reads the flags; promTransport and jaegerTransport, when
// set, carry the kubeconfig's credentials to a Prometheus or Jaeger behind
// the API server's proxy.
func verifyOptions(c *cli.Command, promTransport, jaegerTransport http.RoundTripper) (verify.Options, func() error, error) {
	var o verify.Options
	noop := func() error { return nil }
	if f := c.String("format"); !slices.Contains(verify.Formats, f) {
		return o, noop, usageError(fmt.Errorf("--format %q: want one of %s", f, strings.Join(verify.Formats, ", ")))
	}
	crit, fileBackends, err := criteria(c)
	if err != nil {
		return o, noop, err
	}
	o.Criteria = crit
	if c.Bool("passive") {
		return passiveOptions(c, o, promTransport)
	}
	ao, closeResults, err := attackOptions(c)
	if err != nil {
		return o, noop, err
	}
	o.Attack = ao
	switch {
	case c.String("rules") != "":
		o.Classifier = "the rules in " + c.String("rules")
	case c.String("version-header") != "":
		o.Classifier = "--version-header " + c.String("version-header") + " (is that the header the app sets?)"
	}
	o.Timeout, o.Service, o.Namespace = c.Duration("timeout"), c.String("host"), c.String("namespace")
	o.Backends, o.Reporter = c.StringSlice("backend"), c.String("reporter")
	if len(o.Backends) == 0 {
		o.Backends = fileBackends
	}
	o.ServerWait, o.RequireServer = c.Duration("server-wait"), c.Bool("require-prometheus")
	if err := settleOptions(c, &o); err != nil {
		closeResults()
		return o, noop, err
	}
	if err := serverOptions(c, &o, promTransport); err != nil {
		closeResults()
		return o, noop, err
	}
	if err := traceOptions(c, &o, jaegerTransport); err != nil {
		closeResults()
		return o, noop, err
	}
	if err := o.Validate(); err != nil {
		closeResults()
		return o, noop, usageError(err)
	}
	if o.Attack.Requests == 0 {
		o.Attack.Requests = uint64(o.Criteria.MaxRequests) * 4 // settling and server window on top
	}
	return o, closeResults, nil
}

// criteria reads the gate's expectation and budgets; backends are an
// --expect-from file's HTTPRoute backends, for the server check.
func criteria(c *cli.Command) (crit decide.Criteria, backends []string, err error) {
	var e decide.Expectation
	switch expect, from := c.String("expect"), c.String("expect-from"); {
	case expect != "" && from != "":
		return decide.Criteria{}, nil, usageError(errors.New("--expect and --expect-from: give one"))
	case expect != "":
		e, err = decide.ParseExpect(expect)
		if err != nil {
			return decide.Criteria{}, nil, usageError(fmt.Errorf("--expect %q: %w", expect, err))
		}
	case from != "":
		e, backends, err = expectFromFile(from, c.String("host"))
		if err != nil {
			return decide.Criteria{}, nil, usageError(err)
		}
	default:
		return decide.Criteria{}, nil, usageError(errors.New("verify: want --expect v1=50,v3=50 or --expect-from FILE"))
	}
	crit = decide.DefaultCriteria(e)
	crit.Tolerance, crit.Confidence = c.Float64("tolerance"), c.Float64("confidence")
	crit.MaxRequests, crit.MaxErrorRate = c.Int("max-requests"), c.Float64("max-error-rate")/100
	if crit.Health, err = healthCriteria(c, e); err != nil {
		return crit, nil, usageError(err)
	}
	if err := crit.Validate(); err != nil {
		return crit, nil, usageError(err)
	}
	return crit, backends, nil
}

// healthCriteria reads --health, --baseline and the margins (see
// decide.HealthSettings): nil with --health=false, and when fewer than two
// versions are expected above 0% and no --baseline asks for it.
func healthCriteria(c *cli.Command, e decide.Expectation) (*decide.Health, error) {
	q := c.String("latency-quantiles")
	if strings.TrimSpace(q) == "" {
		q = "none" // an empty flag asks for no quantile, as ParseQuantiles reads it
	}
	h, err := decide.HealthSettings{Off: !c.Bool("health"), Baseline: c.String("baseline"),
		ErrorMargin: c.String("error-margin"), LatencyMargin: c.String("latency-margin"), LatencyQuantiles: q}.Health(e)
	if se := (*decide.SettingError)(nil); errors.As(err, &se) {
		return nil, fmt.Errorf("--%s: %w", se.Key, se.Err)
	}
	return h, err
}

func settleOptions(c *cli.Command, o *verify.Options) error {
	switch s := c.String("settle"); s {
	case "auto":
		o.Settle, o.SettleTimeout, o.SettleMin = true, c.Duration("settle-timeout"), c.Duration("settle-min")
	case "0", "off":
	default:
		return usageError(fmt.Errorf("--settle %q: want auto or 0", s))
	}
	if m := c.String("mirror"); m != "" {
		v, pct, found := strings.Cut(m, "=")
		p := 100.0
		if found {
			var err error
			if p, err = strconv.ParseFloat(pct, 64); err != nil {
				return usageError(fmt.Errorf("--mirror %q: want VERSION or VERSION=PERCENT", m))
			}
		}
		o.Mirror = &verify.Mirror{Version: v, Percent: p}
	}
	return nil
}

func serverOptions(c *cli.Command, o *verify.Options, transport http.RoundTripper) error {
	o.Scrape = c.StringSlice("scrape")
	o.ServerSeries, o.VersionLabel = c.String("server-series"), c.String("server-version-label")
	u := c.String("prometheus")
	if u == "" {
		if len(o.Scrape) == 0 && c.IsSet("require-prometheus") && c.Bool("require-prometheus") {
			return usageError(errors.New("--require-prometheus: give --prometheus URL or --scrape URL"))
		}
		return nil
	}
	po := prom.Options{URL: u, BearerTokenFile: c.String("prom-bearer-token-file"), BasicAuthFile: c.String("prom-basic-auth-file"),
		CAFile: c.String("prom-ca-file"), Insecure: c.Bool("prom-insecure"), Headers: map[string]string{}, RoundTripper: transport}
	for _, kv := range c.StringSlice("prom-header") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageError(fmt.Errorf("--prom-header: want K=V, got a value without '='"))
		}
		po.Headers[k] = v
	}
	client, err := prom.New(po)
	if err != nil {
		return usageError(err)
	}
	o.Prometheus = client
	return nil
}

// traceOptions reads --jaeger, --trace-check and --trace-wait.
func traceOptions(c *cli.Command, o *verify.Options, transport http.RoundTripper) error {
	t := &verify.Traces{Check: c.Int("trace-check"), Wait: c.Duration("trace-wait")}
	if u := c.String("jaeger"); u != "" {
		jc, err := jaeger.New(u, transport)
		if err != nil {
			return usageError(err)
		}
		t.Jaeger = jc
	}
	o.Traces = t
	return nil
}

// passiveOptions reads a passive gate's flags: no load, so none of the
// attack's; Prometheus and the window's start.
func passiveOptions(c *cli.Command, o verify.Options, promTransport http.RoundTripper) (verify.Options, func() error, error) {
	noop := func() error { return nil }
	for _, f := range []string{"target", "rate", "login", "results", "scrape", "jaeger", "trace-check"} {
		if c.IsSet(f) {
			return o, noop, usageError(fmt.Errorf("--%s: a passive gate sends no request and reads only Prometheus; drop --%s or --passive", f, f))
		}
	}
	o.Passive = true
	o.Timeout, o.Service, o.Namespace = c.Duration("timeout"), c.String("host"), c.String("namespace")
	o.Backends, o.Reporter, o.Poll = c.StringSlice("backend"), c.String("reporter"), c.Duration("poll")
	if since := c.String("since"); since != "" {
		t, err := parseSince(since, time.Now())
		if err != nil {
			return o, noop, usageError(err)
		}
		o.Since, o.SinceWhy = t, "--since "+since
	}
	if m := c.String("mirror"); m != "" {
		if err := settleOptions(c, &o); err != nil {
			return o, noop, err
		}
		o.Settle = false
	}
	if err := serverOptions(c, &o, promTransport); err != nil {
		return o, noop, err
	}
	if err := o.Validate(); err != nil {
		return o, noop, usageError(err)
	}
	return o, noop, nil
}

// parseSince reads --since: a duration before now, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("--since %q: want a positive duration such as 2m, or a time such as 2026-12-07T10:00:00Z", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want a duration such as 2m, or an RFC 3339 time such as 2026-12-07T10:00:00Z", s)
	}
	if t.After(now) {
		return time.Time{}, fmt.Errorf("--since %q: want a time in the past", s)
	}
	return t, nil
}
