// Command canary-lab runs the lab behind `make lab`: a real Kubernetes API
// server (kube-apiserver and etcd, through envtest) with Istio's CRDs, the
// local mesh as its data plane (`canary bookinfo serve --kubeconfig`, a
// separate process) and, when one is on PATH, a real Prometheus scraping
// the sidecars, registered as istio-system/prometheus. It prints the
// KUBECONFIG to export and the walkthrough's next commands, and runs until
// Ctrl-C.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/canary-gate/canary/internal/lab"
)

func main() {
	canary := flag.String("canary", "bin/canary", "the canary binary to run the mesh with")
	dir := flag.String("dir", ".cache/lab", "where the kubeconfig, logs and Prometheus' data go")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *canary, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "canary-lab:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, canary, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fmt.Println("canary-lab: starting etcd and kube-apiserver", lab.KubeVersion, "with Istio's CRDs …")
	l, err := lab.Start(lab.Options{})
	if err != nil {
		return err
	}
	defer l.Stop()
	kubeconfig, _ := filepath.Abs(filepath.Join(dir, "kubeconfig"))
	if err := l.WriteKubeconfig(kubeconfig); err != nil {
		return err
	}
	admin, err := freeAddr()
	if err != nil {
		return err
	}
	serve := []string{"bookinfo", "serve", "--addr", "127.0.0.1:0", "--admin-addr", admin, "--kubeconfig", kubeconfig}
	promURL := "(no prometheus on PATH: apt-get install prometheus)"
	if prom, err := startPrometheus(ctx, canary, dir, admin); err != nil {
		return err
	} else if prom != "" {
		serve = append(serve, "--prometheus-addr", prom)
		promURL = "http://" + prom
	}
	mesh := exec.CommandContext(ctx, canary, serve...)
	mesh.Cancel = func() error { return mesh.Process.Signal(syscall.SIGTERM) }
	mesh.WaitDelay = 10 * time.Second
	logf, err := os.Create(filepath.Join(dir, "mesh.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	mesh.Stderr = logf
	out, err := mesh.StdoutPipe()
	if err != nil {
		return err
	}
	if err := mesh.Start(); err != nil {
		return fmt.Errorf("start %s (make build first): %w", canary, err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		_ = mesh.Wait()
		return fmt.Errorf("the mesh stopped before it was ready; see %s", logf.Name())
	}
	first := lines.Text()
	go func() {
		for lines.Scan() {
			fmt.Fprintln(logf, lines.Text())
		}
	}()
	ingress := strings.TrimSuffix(strings.Fields(strings.TrimPrefix(first, "bookinfo mesh: ingress "))[0], ",")
	printNext(kubeconfig, l.Config.Host, ingress, promURL, logf.Name())
	err = mesh.Wait()
	if ctx.Err() != nil {
		fmt.Println("\ncanary-lab: stopped")
		return nil
	}
	return fmt.Errorf("the mesh exited: %v; see %s", err, logf.Name())
}

func printNext(kubeconfig, server, ingress, prom, log string) {
	fmt.Printf(`
The lab is up: a real Kubernetes API at %s, the local mesh as its data plane.
  ingress     %s   (istio-system/istio-ingressgateway, NodePort)
  prometheus  %s   (istio-system/prometheus, NodePort)
  mesh log    %s

In another shell, the walkthrough, with canary instead of curl.sh and the eyeballing:

  export KUBECONFIG=%s
  kubectl get pods                       # six workloads, 2/2: app and istio-proxy
  kubectl apply -f bookinfo-gateway.yaml -f destination-rule-all.yaml
  kubectl apply -f virtual-service-reviews-50-50.yaml
  canary verify --target %s --expect v1=50,v3=50 --prometheus %s
  kubectl scale deploy reviews-v3 --replicas=0   # the gate then FAILs with errors

Ctrl-C stops the lab.
`, server, ingress, prom, log, kubeconfig, ingress, prom)
}

// startPrometheus runs Prometheus on a free port scraping the mesh's
// sidecars every second, when it is on PATH; it returns its address.
func startPrometheus(ctx context.Context, canary, dir, admin string) (string, error) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		return "", nil
	}
	cfg, err := exec.CommandContext(ctx, canary, "bookinfo", "prometheus-config", "--admin-addr", admin, "--scrape-interval", "1s").Output()
	if err != nil {
		return "", fmt.Errorf("%s bookinfo prometheus-config: %w", canary, err)
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		return "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	data := filepath.Join(dir, "prometheus-data")
	_ = os.RemoveAll(data)
	cmd := exec.CommandContext(ctx, bin, "--config.file="+path, "--storage.tsdb.path="+data,
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		return "", err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start prometheus: %w", err)
	}
	go func() { _ = cmd.Wait(); log.Close() }()
	return addr, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", errors.New("no free loopback port")
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
