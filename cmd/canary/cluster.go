package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/canary-gate/canary/cluster"
	"github.com/urfave/cli/v3"
)

// clusterFlags read the cluster verify and check run against.
func clusterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "kubeconfig", Usage: "kubeconfig `FILE` (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)"},
		&cli.StringFlag{Name: "context", Usage: "kubeconfig context `NAME` (default: its current context)"},
		&cli.StringFlag{Name: "ingress", Value: cluster.DefaultIngress, Usage: "ingress gateway Service `NS/NAME` that --target is discovered from"},
		&cli.StringFlag{Name: "prometheus-service", Value: cluster.DefaultPrometheus, Usage: "Prometheus Service `NS/NAME` that --prometheus is discovered from"},
	}
}

// clusterFound is what verify took from the cluster.
type clusterFound struct {
	cl        *cluster.Cluster
	transport http.RoundTripper    // for a Prometheus behind the API server's proxy
	jaeger    http.RoundTripper    // for a Jaeger behind it
	live      *cluster.Expectation // the live route, when it was read
}

// route reads, for a passive gate, the live route of --host even when
// --expect names the split: a route that matches on the request makes the
// traffic's split depend on who sends it, so the counts of all of it are
// no sample of the weights, and the route's last change is when evidence
// may begin.
func (f *clusterFound) route(ctx context.Context, c *cli.Command) error {
	e := f.live
	if e == nil {
		got, err := f.cl.Expect(ctx, c.String("host"), c.String("namespace"), "")
		if err != nil {
			return usageError(fmt.Errorf("--passive: the live route of --host %s: %w", c.String("host"), err))
		}
		e = &got
	}
	f.live = e
	if !e.Changed.IsZero() {
		fmt.Fprintf(c.ErrWriter, "cluster %s: %s last changed at %s: no request before it is evidence\n", f.cl.Where, e.Route, e.Changed.UTC().Format(time.RFC3339))
	}
	return nil
}

// routeChanged is when the live route was last written; zero when it was
// not read.
func (f *clusterFound) routeChanged() time.Time {
	if f == nil || f.live == nil {
		return time.Time{}
	}
	return f.live.Changed
}

// preflightFlag turns verify's preflight off.
func preflightFlag() cli.Flag {
	return &cli.BoolFlag{Name: "preflight", Value: true, Usage: "when verify reads the cluster, check before any load that the rollout can work (see canary check)"}
}

func (f *clusterFound) promTransport() http.RoundTripper {
	if f == nil {
		return nil
	}
	return f.transport
}

func (f *clusterFound) jaegerTransport() http.RoundTripper {
	if f == nil {
		return nil
	}
	return f.jaeger
}

// usesCluster says whether verify reads the cluster: when --kubeconfig is
// given, --target is absent, or the expectation is to come from it. With
// --target and --expect and no --kubeconfig it never does, so a gate that
// names everything behaves the same on any machine.
func usesCluster(c *cli.Command) bool {
	from := c.String("expect-from")
	if c.Bool("passive") {
		// No target to find; Prometheus and the expectation may be.
		return c.IsSet("kubeconfig") || c.String("prometheus") == "" || from == "cluster" || strings.HasPrefix(from, "vs/") ||
			(from == "" && c.String("expect") == "")
	}
	return c.IsSet("kubeconfig") || c.String("target") == "" || from == "cluster" || strings.HasPrefix(from, "vs/")
}

// discover fills what the user left out from the cluster, as if typed, and
// says on stderr what it chose and why, one line each.
func discover(ctx context.Context, c *cli.Command) (*clusterFound, error) {
	cl, err := cluster.Load(c.String("kubeconfig"), c.String("context"))
	if errors.Is(err, cluster.ErrNoCluster) {
		return nil, usageError(errors.New("verify: want --target URL, or a cluster to discover it from: " + err.Error()))
	}
	if err != nil {
		return nil, usageError(fmt.Errorf("--kubeconfig: %w", err))
	}
	note := func(what string, f cluster.Found) {
		fmt.Fprintf(c.ErrWriter, "cluster %s: %s %s: %s\n", cl.Where, what, f.URL, f.Why)
	}
	found := &clusterFound{cl: cl}
	passive := c.Bool("passive")
	if c.String("target") == "" && !passive {
		ns, name, err := nsName(c, "ingress")
		if err != nil {
			return nil, err
		}
		t, err := cl.Ingress(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		note("target", t)
		_ = c.Set("target", t.URL)
	}
	if c.String("prometheus") == "" && len(c.StringSlice("scrape")) == 0 {
		ns, name, err := nsName(c, "prometheus-service")
		if err != nil {
			return nil, err
		}
		p, err := cl.Prometheus(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		note("prometheus", p.Found)
		_ = c.Set("prometheus", p.URL)
		found.transport = p.Transport
	}
	if c.String("jaeger") == "" && !passive {
		// Tracing is optional in a mesh: without a Jaeger the gate runs
		// without links to traces and says so.
		j, err := cl.Jaeger(ctx, cluster.DefaultJaeger)
		switch {
		case errors.Is(err, cluster.ErrNoService):
			fmt.Fprintf(c.ErrWriter, "cluster %s: jaeger: none (no Service %s): pages are not linked to traces\n", cl.Where, strings.Join(cluster.DefaultJaeger, " or "))
		case err != nil:
			return nil, err
		default:
			note("jaeger", j.Found)
			_ = c.Set("jaeger", j.URL)
			found.jaeger = j.Transport
		}
	}
	if err := found.expectation(ctx, c); err != nil {
		return nil, err
	}
	if passive {
		if err := found.route(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := found.reporter(ctx, c); err != nil {
		return nil, err
	}
	return found, found.backends(ctx, c)
}

// reporter picks whose reports the server check counts, unless --reporter
// says: in ambient mode no sidecar sees HTTP, only a waypoint does.
func (f *clusterFound) reporter(ctx context.Context, c *cli.Command) error {
	if c.IsSet("reporter") {
		return nil
	}
	ambient, why, err := f.cl.Ambient(ctx, c.String("host"), c.String("namespace"))
	if err != nil || !ambient {
		return err
	}
	fmt.Fprintf(c.ErrWriter, "cluster %s: server check counts reporter=\"waypoint\": %s\n", f.cl.Where, why)
	return c.Set("reporter", "waypoint")
}

// backends reads which Services the live routes of --host send to, unless
// --backend says: Istio reports each request under the Service it was
// routed to, and the server check counts them all.
func (f *clusterFound) backends(ctx context.Context, c *cli.Command) error {
	if c.IsSet("backend") || c.String("expect-from") != "" {
		return nil
	}
	names, why, err := f.cl.Backends(ctx, c.String("host"), c.String("namespace"))
	if err != nil {
		return fmt.Errorf("routes of --host %s: %w", c.String("host"), err)
	}
	if len(names) == 0 {
		return nil
	}
	fmt.Fprintf(c.ErrWriter, "cluster %s: server check counts %s and its backends %s (%s)\n", f.cl.Where, c.String("host"), strings.Join(names, ", "), why)
	return c.Set("backend", strings.Join(names, ","))
}

// expectation takes the split from the live VirtualService when asked to,
// or when neither --expect nor --expect-from is given.
func (f *clusterFound) expectation(ctx context.Context, c *cli.Command) error {
	from := c.String("expect-from")
	vs, isVS := strings.CutPrefix(from, "vs/")
	if !isVS {
		vs = "" // the VirtualService that routes --host
	}
	if from != "cluster" && !isVS && (from != "" || c.String("expect") != "") {
		return nil
	}
	if c.String("expect") != "" {
		return usageError(errors.New("--expect and --expect-from: give one"))
	}
	e, err := f.cl.Expect(ctx, c.String("host"), c.String("namespace"), vs)
	if err != nil {
		return usageError(fmt.Errorf("--expect-from %s: %w", cmp.Or(from, "cluster"), err))
	}
	f.live = &e
	fmt.Fprintf(c.ErrWriter, "cluster %s: expect %s: %s\n", f.cl.Where, e.Expect, e.Why)
	_ = c.Set("expect-from", "")
	_ = c.Set("expect", e.Expect)
	return nil
}

// preflight checks the rollout can work before any load; a finding is a
// FAIL (exit 1) with its reason.
func (f *clusterFound) preflight(ctx context.Context, c *cli.Command) error {
	ns, name, err := nsName(c, "ingress")
	if err != nil {
		return err
	}
	checks, err := f.cl.Preflight(ctx, c.String("host"), c.String("namespace"), ns, name)
	if err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	if failed := printChecks(c.Writer, checks, false); failed > 0 {
		fmt.Fprintf(c.Writer, "FAIL  preflight: %d of %d checks failed before any request was sent: this rollout cannot work as configured\n", failed, len(checks))
		return &codedError{err: errSilent, code: ExitFail}
	}
	return nil
}

// printChecks prints the checks (all, or only the failed ones) and counts
// the failed.
func printChecks(w io.Writer, checks []cluster.Check, all bool) int {
	failed := 0
	for _, ch := range checks {
		mark := "ok  "
		if !ch.OK {
			mark = "FAIL"
			failed++
		}
		if all || !ch.OK {
			fmt.Fprintf(w, "%s %-9s %s\n", mark, ch.Name, ch.Detail)
		}
	}
	return failed
}

func nsName(c *cli.Command, flag string) (string, string, error) {
	ns, name, ok := strings.Cut(c.String(flag), "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", "", usageError(fmt.Errorf("--%s %q: want NAMESPACE/NAME", flag, c.String(flag)))
	}
	return ns, name, nil
}

// checkCommand is the preflight on its own.
func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "check before a rollout that it can work: Gateway, subsets, ready pods and sidecars (exit 0 ok, 1 a finding, 4 cannot read)",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "host", Value: "reviews", Usage: "service whose rollout is checked"},
			&cli.StringFlag{Name: "namespace", Value: "default", Usage: "the service's namespace"},
		}, clusterFlags()[:3]...),
		Action: checkAction,
	}
}

func checkAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() > 0 {
		return usageError(fmt.Errorf("check: unexpected argument %q", c.Args().First()))
	}
	cl, err := cluster.Load(c.String("kubeconfig"), c.String("context"))
	if err != nil {
		return usageError(fmt.Errorf("check: %w", err))
	}
	ns, name, err := nsName(c, "ingress")
	if err != nil {
		return err
	}
	checks, err := cl.Preflight(ctx, c.String("host"), c.String("namespace"), ns, name)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	fmt.Fprintf(c.Writer, "cluster %s, %s/%s:\n", cl.Where, c.String("namespace"), c.String("host"))
	if printChecks(c.Writer, checks, true) > 0 {
		return &codedError{err: errSilent, code: ExitFail}
	}
	return nil
}
