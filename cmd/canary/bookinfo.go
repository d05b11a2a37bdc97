package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canary-gate/canary/bookinfo/app"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/urfave/cli/v3"
)

const (
	defaultIngressAddr = "127.0.0.1:8080"
	defaultAdminAddr   = "127.0.0.1:15000"
)

func adminAddrFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name: "admin-addr", Value: defaultAdminAddr, Sources: cli.EnvVars("CANARY_BOOKINFO_ADMIN"),
		Usage: "admin address of the local mesh (`HOST:PORT`)",
	}
}

func bookinfoCommand() *cli.Command {
	return &cli.Command{
		Name:  "bookinfo",
		Usage: "run and steer the built-in local Bookinfo mesh (a stand-in for Bookinfo on Istio)",
		Commands: []*cli.Command{
			bookinfoServeCommand(),
			{
				Name: "apply", Usage: "apply Istio resources (VirtualService, DestinationRule, Gateway) like kubectl apply",
				ArgsUsage: " ", Flags: []cli.Flag{adminAddrFlag(), filesFlag()},
				Action: func(ctx context.Context, c *cli.Command) error { return configAction(ctx, c, "apply") },
			},
			{
				Name: "delete", Usage: "delete Istio resources like kubectl delete",
				ArgsUsage: " ", Flags: []cli.Flag{adminAddrFlag(), filesFlag()},
				Action: func(ctx context.Context, c *cli.Command) error { return configAction(ctx, c, "delete") },
			},
			{
				Name: "scale", Usage: "scale workloads to 0 or 1 replicas (callers of a version at 0 get 503 no healthy upstream)",
				ArgsUsage: "WORKLOAD=REPLICAS...", Flags: []cli.Flag{adminAddrFlag()},
				Action: scaleAction,
			},
			{
				Name: "sidecar", Usage: "inject (on) or remove (off) a workload's sidecar; without one it reports no telemetry",
				ArgsUsage: "WORKLOAD=on|off...", Flags: []cli.Flag{adminAddrFlag()},
				Action: sidecarAction,
			},
			{
				Name: "degrade", Usage: "make a workload a bad build: slower by --delay and answering 503 to --error-rate percent of requests (0 and 0 restore it)",
				ArgsUsage: "WORKLOAD", Flags: []cli.Flag{adminAddrFlag(),
					&cli.DurationFlag{Name: "delay", Usage: "added to every request's answer (0 to " + mesh.MaxDelay.String() + ")"},
					&cli.Float64Flag{Name: "error-rate", Usage: "`PERCENT` of requests answered 503 by the app (0 to 100)"},
				},
				Action: degradeAction,
			},
			{
				Name: "status", Usage: "show workloads, pods, sidecars, degraded workloads and applied resources, and in ambient mode which Services a waypoint serves",
				Flags: []cli.Flag{adminAddrFlag()}, Action: statusAction,
			},
			{
				Name: "prometheus-config", Usage: "print a Prometheus configuration that scrapes every sidecar of the mesh",
				Flags: []cli.Flag{adminAddrFlag(), &cli.DurationFlag{
					Name: "scrape-interval", Value: 15 * time.Second, Usage: "Prometheus scrape interval",
				}},
				Action: promConfigAction,
			},
		},
	}
}

func bookinfoServeCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the local mesh until Ctrl-C or SIGTERM",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: defaultIngressAddr, Usage: "ingress gateway listen address (`HOST:PORT`)"},
			&cli.StringFlag{Name: "gateway-addr", Value: "127.0.0.1:0", Usage: "listen address (`HOST:PORT`) of the Gateway API Gateway's Deployment (bookinfo-gateway-istio), plain http; it routes once a Gateway of class istio is applied"},
			&cli.StringFlag{Name: "admin-addr", Value: defaultAdminAddr, Usage: "admin API, metrics and service discovery listen address (`HOST:PORT`)"},
			&cli.StringFlag{Name: "markup", Value: string(app.MarkupCurrent), Usage: "productpage markup: current (Istio 1.23+) or 1.22 (Istio 1.15-1.22)"},
			&cli.DurationFlag{Name: "propagation-delay", Value: mesh.DefaultPropagationDelay, Usage: "time until applied routing takes effect, like Istio's config push"},
			&cli.StringSliceFlag{Name: "no-sidecar", Usage: "start `WORKLOAD` without a sidecar (repeatable)"},
			&cli.BoolFlag{Name: "ambient", Usage: "run the namespace in Istio's ambient mode (istio.io/dataplane-mode=ambient): no sidecars, ztunnel reports TCP metrics, HTTP routes apply once a waypoint serves the namespace"},
			&cli.StringFlag{Name: "tls-cert", Usage: "serve the ingress over https with the certificate in `FILE` (PEM; with --tls-key)"},
			&cli.StringFlag{Name: "tls-key", Usage: "private key `FILE` (PEM) of --tls-cert"},
			// Not from KUBECONFIG: a shell that exported it for kubectl would
			// make every serve join that cluster, two meshes fighting over it.
			&cli.StringFlag{
				Name:  "kubeconfig",
				Usage: "be the data plane of the lab's Kubernetes API server in `FILE`: routing follows its Istio resources, workloads its Deployments (make lab)",
			},
			&cli.StringFlag{Name: "prometheus-addr", Usage: "with --kubeconfig, register the Prometheus at `HOST:PORT` as the NodePort Service istio-system/prometheus"},
			&cli.StringFlag{Name: "jaeger-addr", Usage: "with --kubeconfig, register the Jaeger query at `HOST:PORT` as the NodePort Service istio-system/tracing"},
			&cli.StringFlag{Name: "tracing", Usage: "report spans as Istio's Envoy does to the OTLP/HTTP endpoint at `URL` (http(s)://HOST:PORT, e.g. Jaeger's http://127.0.0.1:4318)"},
			&cli.Float64Flag{Name: "trace-sampling", Value: mesh.DefaultTraceSampling, Usage: "with --tracing, trace this `PERCENT` of requests that arrive without a sampling decision, like Istio's random sampling"},
		},
		Action: serveAction,
	}
}

func serveAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() > 0 {
		return usageError(fmt.Errorf("bookinfo serve: unexpected argument %q", c.Args().First()))
	}
	opts := mesh.Options{
		Addr: c.String("addr"), AdminAddr: c.String("admin-addr"), GatewayAddr: c.String("gateway-addr"),
		Markup: app.Markup(c.String("markup")), PropagationDelay: c.Duration("propagation-delay"),
		NoSidecar: c.StringSlice("no-sidecar"), Ambient: c.Bool("ambient"), TLSCertFile: c.String("tls-cert"), TLSKeyFile: c.String("tls-key"),
		Tracing: c.String("tracing"), TraceSampling: c.Float64("trace-sampling"),
		Logf: func(format string, args ...any) {
			fmt.Fprintf(c.ErrWriter, "%s %s\n", time.Now().Format(time.TimeOnly), fmt.Sprintf(format, args...))
		},
	}
	if opts.Markup != app.MarkupCurrent && opts.Markup != app.Markup122 {
		return usageError(fmt.Errorf("--markup %q: want current or 1.22", opts.Markup))
	}
	if opts.PropagationDelay < 0 {
		return usageError(fmt.Errorf("--propagation-delay %v: want zero or more", opts.PropagationDelay))
	}
	if opts.Ambient && len(opts.NoSidecar) > 0 {
		return usageError(errors.New("--no-sidecar: with --ambient no workload has a sidecar"))
	}
	for _, w := range opts.NoSidecar {
		if !isWorkload(w) {
			return usageError(fmt.Errorf("--no-sidecar %q: want one of %s", w, strings.Join(mesh.WorkloadNames(), ", ")))
		}
	}
	m, err := mesh.Start(opts)
	if err != nil {
		if msg := err.Error(); strings.HasPrefix(msg, "tls-") { // bookinfo names the option; say the flag
			return usageError(errors.New("--" + strings.Replace(msg, " and tls-key", " and --tls-key", 1)))
		}
		if msg := err.Error(); strings.HasPrefix(msg, "tracing ") || strings.HasPrefix(msg, "trace-sampling ") {
			return usageError(errors.New("--" + msg))
		}
		return err
	}
	cluster, err := joinCluster(ctx, c, m, opts.Logf)
	if err != nil {
		_ = m.Shutdown(context.Background())
		return err
	}
	tracing := ""
	if opts.Ambient {
		tracing = ", ambient mode"
	}
	if opts.Tracing != "" {
		tracing += fmt.Sprintf(", spans to %s, sampling %g%%", opts.Tracing, opts.TraceSampling)
	}
	fmt.Fprintf(c.Writer, "bookinfo mesh: ingress %s://%s/productpage, admin http://%s (markup %s, propagation delay %v%s, Gateway API gateway http://%s)%s; Ctrl-C stops\n",
		m.Scheme(), m.Addr(), m.AdminAddr(), opts.Markup, opts.PropagationDelay, tracing, m.GatewayAddr(), cluster.describe())
	<-ctx.Done()
	cluster.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(c.Writer, "bookinfo mesh: stopped")
	return nil
}

func isWorkload(name string) bool {
	for _, w := range mesh.WorkloadNames() {
		if w == name {
			return true
		}
	}
	return false
}

func filesFlag() *cli.StringSliceFlag {
	return &cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"},
		Usage: "manifest `FILE` (multi-document YAML; - for standard input; repeatable)"}
}

// configAction sends each file to the mesh, in order, like kubectl: a file
// is applied whole or not at all, and the first bad file stops the command.
func configAction(ctx context.Context, c *cli.Command, op string) error {
	if c.NArg() > 0 {
		return usageError(fmt.Errorf("bookinfo %s: unexpected argument %q (files go after -f)", op, c.Args().First()))
	}
	files := c.StringSlice("filename")
	if len(files) == 0 {
		return usageError(fmt.Errorf("bookinfo %s: want at least one -f FILE", op))
	}
	for _, name := range files {
		data, err := readInput(name)
		if err != nil {
			return usageError(fmt.Errorf("-f %s: %w", name, err))
		}
		var ans mesh.ConfigAnswer
		path := "/" + op + "?source=" + url.QueryEscape(name)
		if err := adminCall(ctx, c, path, "application/yaml", data, &ans); err != nil {
			return err
		}
		for _, line := range ans.Changes {
			fmt.Fprintln(c.Writer, line)
		}
	}
	return nil
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return files.ReadAll(os.Stdin, "standard input", files.MaxConfig)
	}
	data, err := files.Read(name, files.MaxConfig)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("no such file")
	}
	return data, err
}

func scaleAction(ctx context.Context, c *cli.Command) error {
	return pairsAction(ctx, c, "scale", "WORKLOAD=REPLICAS", func(w, v string) (string, any, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1 {
			return "", nil, fmt.Errorf("%s=%s: replicas must be 0 or 1", w, v)
		}
		return "/scale", mesh.ScaleRequest{Workload: w, Replicas: n}, nil
	})
}

func sidecarAction(ctx context.Context, c *cli.Command) error {
	return pairsAction(ctx, c, "sidecar", "WORKLOAD=on|off", func(w, v string) (string, any, error) {
		if v != "on" && v != "off" {
			return "", nil, fmt.Errorf("%s=%s: want on or off", w, v)
		}
		return "/sidecar", mesh.SidecarRequest{Workload: w, Enabled: v == "on"}, nil
	})
}

func degradeAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() != 1 || !isWorkload(c.Args().First()) {
		return usageError(fmt.Errorf("bookinfo degrade: want one WORKLOAD argument, one of %s", strings.Join(mesh.WorkloadNames(), ", ")))
	}
	req := mesh.DegradeRequest{Workload: c.Args().First(),
		Degradation: mesh.Degradation{Delay: c.Duration("delay"), ErrorRate: c.Float64("error-rate") / 100}}
	if err := req.Validate(); err != nil {
		return usageError(fmt.Errorf("bookinfo degrade %s: %w", req.Workload, err))
	}
	data, _ := json.Marshal(req)
	if err := adminCall(ctx, c, "/degrade", "application/json", data, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Writer, "degrade: %s %s\n", req.Workload, req.Degradation)
	return nil
}

// pairsAction checks every WORKLOAD=VALUE argument before sending any, so a
// typo in the third argument does not leave the first two half-done.
func pairsAction(ctx context.Context, c *cli.Command, name, form string, parse func(w, v string) (string, any, error)) error {
	if c.NArg() == 0 {
		return usageError(fmt.Errorf("bookinfo %s: want at least one %s argument", name, form))
	}
	type call struct {
		path string
		body any
	}
	var calls []call
	for _, arg := range c.Args().Slice() {
		w, v, ok := strings.Cut(arg, "=")
		if !ok || !isWorkload(w) {
			return usageError(fmt.Errorf("bookinfo %s: argument %q: want %s with WORKLOAD one of %s",
				name, arg, form, strings.Join(mesh.WorkloadNames(), ", ")))
		}
		path, body, err := parse(w, v)
		if err != nil {
			return usageError(fmt.Errorf("bookinfo %s: %w", name, err))
		}
		calls = append(calls, call{path, body})
	}
	for i, cl := range calls {
		data, _ := json.Marshal(cl.body)
		if err := adminCall(ctx, c, cl.path, "application/json", data, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.Writer, "%s: %s done\n", name, c.Args().Get(i))
	}
	return nil
}

func statusAction(ctx context.Context, c *cli.Command) error {
	var st mesh.Status
	if err := adminGet(ctx, c, "/status", &st); err != nil {
		return err
	}
	w := c.Writer
	fmt.Fprintf(w, "ingress http://%s/productpage  markup %s  propagation delay %s  propagated %v\n",
		st.Ingress, st.Markup, st.PropagationDelay, st.Propagated)
	fmt.Fprintf(w, "%-16s %-32s %-8s\n", "WORKLOAD", "POD", "SIDECAR")
	for _, ws := range st.Workloads {
		pod := ws.Pod
		if pod == "" {
			pod = "(scaled to 0)"
		}
		fmt.Fprintf(w, "%-16s %-32s %-8v\n", ws.Name, pod, ws.Sidecar)
	}
	for _, ws := range st.Workloads {
		if ws.Degraded != nil {
			fmt.Fprintf(w, "degraded: %s %s\n", ws.Name, ws.Degraded)
		}
	}
	fmt.Fprintf(w, "resources: %s\n", strings.Join(st.Resources, ", "))
	if st.Ambient {
		fmt.Fprintf(w, "ambient mode: ztunnel carries the pods' traffic; %s\n", describeWaypoints(st.Waypoints))
	}
	return nil
}

// describeWaypoints says which Services a waypoint serves, and that the
// others' HTTP routes are not applied.
func describeWaypoints(wps map[string]string) string {
	if len(wps) == 0 {
		return "no waypoint serves a Service: HTTP routes are not applied"
	}
	byWaypoint := map[string][]string{}
	for svc, wp := range wps {
		byWaypoint[wp] = append(byWaypoint[wp], svc)
	}
	var parts []string
	for _, wp := range slices.Sorted(maps.Keys(byWaypoint)) {
		svcs := byWaypoint[wp]
		slices.Sort(svcs)
		parts = append(parts, "waypoint "+wp+" serves "+strings.Join(svcs, ", "))
	}
	return strings.Join(parts, "; ")
}

func promConfigAction(ctx context.Context, c *cli.Command) error {
	iv := c.Duration("scrape-interval")
	if iv < time.Second {
		return usageError(fmt.Errorf("--scrape-interval %v: want at least 1s", iv))
	}
	_, err := io.WriteString(c.Writer, mesh.PrometheusConfig(c.String("admin-addr"), iv))
	return err
}

var adminClient = &http.Client{Timeout: 30 * time.Second}

func adminGet(ctx context.Context, c *cli.Command, path string, out any) error {
	return adminDo(ctx, c, http.MethodGet, path, "", nil, out)
}

func adminCall(ctx context.Context, c *cli.Command, path, ctype string, body []byte, out any) error {
	return adminDo(ctx, c, http.MethodPost, path, ctype, body, out)
}

// adminDo talks to a running mesh. Its refusals (bad manifests, unknown
// workloads) are the user's input errors; not reaching it is not.
func adminDo(ctx context.Context, c *cli.Command, method, path, ctype string, body []byte, out any) error {
	addr := c.String("admin-addr")
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return usageError(fmt.Errorf("--admin-addr %q: %w", addr, err))
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		return fmt.Errorf("local mesh admin API at %s unreachable (is `canary bookinfo serve` running?): %w", addr, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("local mesh admin API at %s: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		var ae mesh.APIError
		if json.Unmarshal(data, &ae) == nil && ae.Error != "" {
			return usageError(errors.New(ae.Error))
		}
		return fmt.Errorf("local mesh admin API at %s: %s", addr, resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("local mesh admin API at %s: bad answer: %w", addr, err)
	}
	return nil
}

func decodeJSON(r io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, 8<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
