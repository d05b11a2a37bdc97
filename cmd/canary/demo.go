package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/bookinfo/app"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/prom"
	"github.com/canary-gate/canary/verify"
	"github.com/urfave/cli/v3"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run the canary walkthrough on the built-in local Bookinfo mesh, with a verdict per stage",
		Description: "Starts the local mesh on free loopback ports, runs the built-in walkthrough scenario against it\n" +
			"(client side and the sidecars' telemetry; a real Prometheus too when a prometheus binary is on PATH),\n" +
			"prints the table, writes the report and stops everything. Needs nothing but this binary.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scenario", Value: "walkthrough", Usage: "built-in scenario or `FILE` to run"},
			&cli.StringFlag{Name: "rate", Value: "200/s", Usage: "request rate of every gate"},
			&cli.StringFlag{Name: "markup", Value: string(app.MarkupCurrent), Usage: "productpage markup: current or 1.22"},
			&cli.BoolFlag{Name: "prometheus", Value: true, Usage: "also check against a real Prometheus when one is on PATH"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "canary-demo.md", Usage: "write the Markdown report to `FILE`"},
			listenFlag(),
		},
		Action: demoAction,
	}
}

func demoAction(ctx context.Context, c *cli.Command) error {
	if err := checkOutputs(c, c.String("scenario")); err != nil {
		return err
	}
	rate, err := attack.ParseRate(c.String("rate"))
	if err != nil {
		return usageError(fmt.Errorf("--rate: %w", err))
	}
	sc, dir, err := loadScenario(c.String("scenario"))
	if err != nil {
		return err
	}
	m, err := mesh.Start(mesh.Options{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Markup: app.Markup(c.String("markup")), PropagationDelay: mesh.DefaultPropagationDelay})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.Shutdown(ctx)
	}()
	fmt.Fprintf(c.ErrWriter, "local Bookinfo mesh: http://%s/productpage (admin http://%s)\n", m.Addr(), m.AdminAddr())
	server, stop := demoServer(ctx, c, m)
	defer stop()
	env := verify.ScenarioEnv{Dir: dir, Target: "http://" + m.Addr() + "/productpage", Apply: meshApplier(m),
		ExpectFrom: expectFromFile, Prepare: func(o *verify.Options) {
			o.Attack.Rate = rate
			server(o)
		}}
	err = runScenario(ctx, c, sc, env, "markdown", c.String("output"))
	if out := c.String("output"); out != "" {
		fmt.Fprintf(c.ErrWriter, "report: %s\n", out)
	}
	return err
}

// demoServer picks the server-side source: a real Prometheus scraping the
// mesh every second when the binary is there, else the sidecars directly.
func demoServer(ctx context.Context, c *cli.Command, m *mesh.Mesh) (func(*verify.Options), func()) {
	var scrape []string
	for _, v := range []string{"v1", "v2", "v3"} {
		scrape = append(scrape, "http://"+m.AdminAddr()+"/sidecars/reviews-"+v+"/stats/prometheus")
	}
	direct := func(o *verify.Options) { o.Prometheus, o.Scrape, o.RequireServer = nil, scrape, true }
	bin, err := exec.LookPath("prometheus")
	if !c.Bool("prometheus") || err != nil {
		fmt.Fprintln(c.ErrWriter, "server side: reading the sidecars directly (no prometheus binary on PATH)")
		return direct, func() {}
	}
	client, stop, err := startPrometheus(ctx, bin, m)
	if err != nil {
		fmt.Fprintf(c.ErrWriter, "server side: reading the sidecars directly (prometheus did not start: %v)\n", err)
		return direct, func() {}
	}
	fmt.Fprintf(c.ErrWriter, "server side: Prometheus at %s, scraping every second\n", client.URL())
	return func(o *verify.Options) { o.Prometheus, o.Scrape, o.RequireServer = client, nil, true }, stop
}

// startPrometheus runs Prometheus on a free loopback port with a temporary
// data directory and waits until it has scraped every sidecar once.
func startPrometheus(ctx context.Context, bin string, m *mesh.Mesh) (*prom.Client, func(), error) {
	dir, err := os.MkdirTemp("", "canary-demo-prometheus-")
	if err != nil {
		return nil, nil, err
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(mesh.PrometheusConfig(m.AdminAddr(), time.Second)), 0o644); err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=error")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	client, err := prom.New(prom.Options{URL: "http://" + addr})
	if err == nil {
		err = waitFirstScrape(ctx, addr, client)
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return client, stop, nil
}

func waitFirstScrape(ctx context.Context, addr string, client *prom.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within 30s")
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Discovery applies targets on a 5 s tick: wait for the first scrapes.
	return client.WaitScraped(ctx, "istio_requests_total", time.Now())
}
