package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/sharedtest"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/canary-gate/canary/bookinfo/kube"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/canary-gate/canary/internal/devcert"
	"github.com/canary-gate/canary/internal/jaegertest"
	"github.com/canary-gate/canary/internal/labtest"
	"github.com/canary-gate/canary/internal/promtest"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// TestDocs runs every shell snippet a user can copy from the docs, for real:
// the ```sh blocks of README.md and examples/README.md, and the run/script
// steps of the CI examples. A shell interpreter (mvdan.cc/sh, the one gofmt's
// author keeps) runs each block in one working directory, in order, as a
// reader's terminal would; `canary` is the binary under test, and every
// canary command must exit with the code its line documents (a trailing
// `# exit N`, else 0). The local mesh and a real Prometheus stand in for the
// cluster; docRewrites and docSetups say exactly what is mapped and why, and
// each must still be needed. Blocks that need a real cluster are listed as
// skipped with the reason.
func TestDocs(t *testing.T) {
	seed := sharedtest.Dir(t, "seed-manifests")
	fixtures := sharedtest.Dir(t, "fixtures", "bookinfo")
	promtest.Binary(t)
	e := newDocEnv(t, seed, fixtures)
	root := filepath.Join("..", "..")
	blocks := markdownBlocks(t, filepath.Join(root, "README.md"), "README.md")
	blocks = append(blocks, markdownBlocks(t, filepath.Join(root, "examples", "README.md"), "examples/README.md")...)
	blocks = append(blocks, markdownBlocks(t, filepath.Join(root, "docs", "walkthrough.zh-CN.md"), "docs/walkthrough.zh-CN.md")...)
	for _, f := range []string{"github-actions.yml", "gitlab-ci.yml"} {
		blocks = append(blocks, workflowBlocks(t, filepath.Join(root, "examples", f), "examples/"+f)...)
	}
	ran := 0
	for _, b := range blocks {
		t.Run(b.name(), func(t *testing.T) { ran += e.runBlock(t, b) })
	}
	for _, r := range e.rewrites {
		if r.uses == 0 {
			t.Errorf("doc rewrite %q -> %q (%s) matched no doc block: drop it", r.old, r.new, r.why)
		}
	}
	for _, s := range e.setups {
		if s.uses == 0 {
			t.Errorf("doc setup for %q (%s) matched no doc block: drop it", s.match, s.why)
		}
	}
	if ran < 20 {
		t.Errorf("only %d canary commands ran from the docs; the parser is missing blocks", ran)
	}
}

// docRewrite maps what the docs show for a cluster or a long run onto the
// local stand-ins, or shortens a run.
type docRewrite struct {
	old, new, why string
	uses          int
}

// docSetup prepares what a block assumes exists, before the block runs,
// and returns environment variables that hold for that block only.
type docSetup struct {
	match, why string
	do         func(t *testing.T) []string
	uses       int
}

// docEnv is the shared state of one pass over the docs: the reader's
// working directory, the mesh standing in for the cluster, and the admin
// address that `canary bookinfo` commands reach by default.
type docEnv struct {
	t        *testing.T
	dir      string
	mesh     *meshProc
	prom     *promtest.Server
	istio    istioclient.Interface   // the lab's Istio resources
	gw       gatewayclient.Interface // and its Gateway API ones
	kube     kubernetes.Interface
	rewrites []*docRewrite
	setups   []*docSetup
	env      []string

	// A block's `canary bookinfo serve … &` runs in the interpreter's
	// background goroutine while the block goes on.
	mu      sync.Mutex
	admin   string   // where CANARY_BOOKINFO_ADMIN points now
	cleanup []func() // stops the current block's background commands
	// up counts this block's `canary bookinfo serve`s that have printed
	// their first line (or failed); upCond signals it under mu. A
	// WaitGroup would not do: the interpreter starts `serve &` in a
	// goroutine that may call Add after `sleep` has begun to Wait, which
	// both misses the serve and is a data race.
	up     int
	upCond *sync.Cond
}

// waitServes waits until the first n `canary bookinfo serve`s of the
// block are up, for at most 30s (a serve that never started is reported
// by its own command).
func (e *docEnv) waitServes(n int) {
	timer := time.AfterFunc(30*time.Second, func() {
		e.mu.Lock()
		e.up = max(e.up, n) // give up waiting
		e.upCond.Broadcast()
		e.mu.Unlock()
	})
	defer timer.Stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.up < n {
		e.upCond.Wait()
	}
}

// servesBefore counts the `canary bookinfo serve` commands in src before line.
func servesBefore(src string, line int) int {
	lines := strings.Split(src, "\n")
	return strings.Count(strings.Join(lines[:min(max(line-1, 0), len(lines))], "\n"), "canary bookinfo serve")
}

func newDocEnv(t *testing.T, seed, fixtures string) *docEnv {
	dir := t.TempDir()
	// The files the docs name, read in place.
	links, _ := filepath.Glob(filepath.Join(seed, "*.yaml"))
	for _, l := range links {
		mustSymlink(t, l, filepath.Join(dir, filepath.Base(l)))
	}
	mustSymlink(t, filepath.Join(fixtures, "reviews-v3.html"), filepath.Join(dir, "page.html"))
	mustSymlink(t, fixtures, filepath.Join(dir, "saved"))
	mustSymlink(t, filepath.Join(seed, "virtual-service-reviews-50-50.yaml"), filepath.Join(dir, "vs.yaml"))
	// Istio's Gateway API samples, as the docs name them.
	mustSymlink(t, sharedtest.Dir(t, "gateway-api-manifests"), filepath.Join(dir, "gateway-api"))
	// The cluster: the lab's real API server with the local mesh as its
	// data plane, a real Prometheus registered as istio-system/prometheus,
	// and the walkthrough's gateway and destination rules applied with the
	// real kubectl, as they are before the docs' first command.
	lab, kubeconfig := labtest.Start(t)
	admin := promtest.FreeAddr(t)
	cfg, errOut, code := run(t, "", "bookinfo", "prometheus-config", "--admin-addr", admin, "--scrape-interval", "1s")
	if code != 0 {
		t.Fatalf("prometheus-config: exit %d: %s", code, errOut)
	}
	// An app that is not Bookinfo, for the rules' examples: v1 and v2 at
	// 90/10, its own counter scraped as job "myapp".
	app := startTestApp(t, 0.1)
	cfg += fmt.Sprintf("  - job_name: myapp\n    static_configs: [{targets: [%q]}]\n", app.addr)
	prom := promtest.Start(t, cfg)
	jaeger := jaegertest.Start(t)
	mp := startMesh(t, "--admin-addr", admin, "--propagation-delay", "0",
		"--kubeconfig", kubeconfig, "--prometheus-addr", strings.TrimPrefix(prom.URL, "http://"),
		"--tracing", jaeger.OTLPHTTP, "--jaeger-addr", strings.TrimPrefix(jaeger.QueryURL, "http://"))
	// canary run's local-mesh form steers a mesh through its admin API,
	// which a mesh that follows a cluster refuses: it gets a mesh of its own.
	plain := startMesh(t, "--propagation-delay", "0")
	token := filepath.Join(dir, "prom-token")
	if err := os.WriteFile(token, []byte("not-a-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := strings.TrimPrefix(prom.URL, "http://")
	e := &docEnv{dir: dir, mesh: mp, prom: prom, admin: mp.admin, istio: istioclient.NewForConfigOrDie(lab.Config), kube: kubernetes.NewForConfigOrDie(lab.Config),
		gw: gatewayclient.NewForConfigOrDie(lab.Config)}
	e.upCond = sync.NewCond(&e.mu)
	e.env = append(os.Environ(), "INGRESS="+mp.ingress, "PROMETHEUS="+promAddr, "PROMETHEUS_URL="+prom.URL,
		"GITHUB_STEP_SUMMARY="+filepath.Join(dir, "step-summary.md"), "HOME="+dir, "KUBECONFIG="+kubeconfig)
	for _, f := range []string{"bookinfo-gateway.yaml", "destination-rule-all.yaml"} {
		e.kubectl(t, "apply", "-f", filepath.Join(seed, f))
	}
	e.rewrites = []*docRewrite{
		{old: "http://prometheus.istio-system:9090", new: prom.URL, why: "the cluster's Prometheus: a real one scraping the local mesh"},
		{old: "/var/run/secrets/prom-token", new: token, why: "a mounted secret: a token file of the test's"},
		{old: "http://tracing.istio-system:80", new: jaeger.QueryURL, why: "the cluster's Jaeger: a real one the local mesh reports its spans to"},
		{old: "http://app.example", new: "http://" + app.addr, why: "an app that is not Bookinfo: the test app of TestAnyApp at 90/10"},
		{old: "--target …", new: "--target http://$INGRESS/productpage", why: "… stands for the target of the line before"},
		{old: "--duration 8h", new: "--duration 8s", why: "an 8-hour soak, shortened"},
		{old: "--window 1m", new: "--window 2s", why: "windows that fit the shortened soak"},
		{old: "--duration 1m", new: "--duration 3s", why: "a one-minute attack, shortened"},
		{old: "--duration 2m", new: "--duration 45s", why: "the users of the passive gates and soak, for as long as they take here"},
		{old: "--target http://$INGRESS/productpage --mesh-admin 127.0.0.1:15000", new: "--target " + plain.url("/productpage") + " --mesh-admin " + plain.admin,
			why: "a local mesh of its own: the lab's mesh follows the cluster and refuses admin applies"},
		{old: "http://$(kubectl -n istio-system get svc prometheus -o jsonpath='{.spec.clusterIP}'):9090",
			new: "http://$(kubectl -n istio-system get pod -l istio=ingressgateway -o jsonpath='{.items[0].status.hostIP}'):$(kubectl -n istio-system get svc prometheus -o jsonpath='{.spec.ports[0].nodePort}')",
			why: "the lab's ClusterIPs are not routable from the host, as from outside a real cluster: Prometheus' NodePort on the node stands in"},
		{old: "127.0.0.1:8080", new: promtest.FreeAddr(t), why: "the docs' fixed ports may be taken on a test machine"},
		{old: "127.0.0.1:15000", new: promtest.FreeAddr(t), why: "the docs' fixed ports may be taken on a test machine"},
		{old: "127.0.0.1:9090", new: promtest.FreeAddr(t), why: "the docs' fixed ports may be taken on a test machine"},
		{old: "127.0.0.1:8089", new: promtest.FreeAddr(t), why: "the docs' fixed ports may be taken on a test machine"},
		{old: "$PWD/.cache/lab/kubeconfig", new: kubeconfig, why: "make lab writes its kubeconfig there; the test's lab, elsewhere"},
		{old: "/tmp/prom", new: filepath.Join(dir, "prom-data"), why: "a data directory of the test's"},
	}
	e.setups = []*docSetup{
		{match: "pod-a.jsonl pod-b.jsonl", why: "the results files of two load pods: the halves of the soak's", do: func(t *testing.T) []string {
			splitFile(t, filepath.Join(dir, "soak.jsonl"), filepath.Join(dir, "pod-a.jsonl"), filepath.Join(dir, "pod-b.jsonl"))
			return nil
		}},
		{match: "--rules rules.yaml", why: "the README's rules file, saved as the text says", do: func(t *testing.T) []string {
			if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(readmeRules(t)), 0o644); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{match: "--ca-file ca.pem", why: "an https ingress: the local mesh with a certificate for 127.0.0.1 and bookinfo.example, its CA in ca.pem, another in other-ca.pem, at 50/50",
			do: func(t *testing.T) []string { return httpsMesh(t, dir, seed) }},
	}
	return e
}

// readmeRules is the README's example rules file: the first yaml block
// under "### Rules files".
func readmeRules(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "\n### Rules files")
	if ok {
		_, after, ok = strings.Cut(after, "\n```yaml\n")
	}
	block, _, closed := strings.Cut(after, "\n```")
	if !ok || !closed {
		t.Fatal("README.md: no yaml block under \"### Rules files\"")
	}
	return block + "\n"
}

func mustSymlink(t *testing.T, old, new string) {
	t.Helper()
	if err := os.Symlink(old, new); err != nil {
		t.Fatal(err)
	}
}

// splitFile writes the first half of src's lines to a and the rest to b.
func splitFile(t *testing.T, src, a, b string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("%s (written by an earlier block): %v", src, err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	half := len(lines) / 2
	if err := os.WriteFile(a, bytes.Join(lines[:half], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, bytes.Join(lines[half:], nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// needsCluster says why a block cannot run here, or "". kubectl is not
// among them: it runs for real against the lab's API server.
func needsCluster(f *syntax.File) string {
	why := ""
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 || why != "" {
			return why == ""
		}
		words := make([]string, 0, 2)
		for _, w := range call.Args[:min(2, len(call.Args))] {
			words = append(words, w.Lit())
		}
		switch words[0] {
		case "make":
			why = "make targets: `make test` runs this test, and TestDemo runs `canary demo`, which is all `make demo` runs after building"
		case "go":
			why = "installs the published module from the network; the tests build canary from this tree"
		}
		return why == ""
	})
	return why
}

// runBlock runs one block and returns how many canary commands it ran.
func (e *docEnv) runBlock(t *testing.T, b docBlock) int {
	src := b.src
	for _, r := range e.rewrites {
		if strings.Contains(src, r.old) {
			src = strings.ReplaceAll(src, r.old, r.new)
			r.uses++
		}
	}
	f, err := syntax.NewParser().Parse(strings.NewReader(src), b.name())
	if err != nil {
		t.Fatalf("%s: not valid shell: %v", b.name(), err)
	}
	if why := needsCluster(f); why != "" {
		t.Skip(why)
	}
	env := e.env
	for _, s := range e.setups {
		if strings.Contains(src, s.match) {
			env = append(slices.Clone(env), s.do(t)...)
			s.uses++
		}
	}
	e.t = t
	var ran atomic.Int64 // $(…) and & run in goroutines of their own
	defer func() {
		e.waitServes(servesBefore(src, strings.Count(src, "\n")+2))
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, stop := range e.cleanup {
			stop()
		}
		e.cleanup, e.admin, e.up = nil, e.mesh.admin, 0
	}()
	var out lockedBuffer // background commands write to it too
	r, err := interp.New(interp.Dir(e.dir), interp.Env(expand.ListEnviron(env...)),
		interp.StdIO(nil, &out, &out), interp.ExecHandlers(func(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
			return func(ctx context.Context, args []string) error {
				if args[0] == "canary" {
					ran.Add(1)
				}
				return e.exec(ctx, next, src, args)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := r.Run(ctx, f); err != nil {
		if _, ok := interp.IsExitStatus(err); !ok {
			t.Errorf("%s: %v", b.name(), err)
		}
	}
	t.Logf("%s output:\n%s", b.name(), out.String())
	return int(ran.Load())
}

// exec runs one command of a block. Only canary commands are checked; the
// others (curl, grep, cat, prometheus, kubectl on the lab) are real programs.
func (e *docEnv) exec(ctx context.Context, next interp.ExecHandlerFunc, src string, args []string) error {
	hc := interp.HandlerCtx(ctx)
	switch args[0] {
	case "canary":
		want := documentedExit(src, int(hc.Pos.Line()))
		return e.canary(ctx, hc, args[1:], want)
	case "kubectl":
		// The real kubectl, on the lab; waiting until the mesh routes by
		// what it changed keeps each block's start exact.
		err := next(ctx, args)
		if len(args) > 1 && (args[1] == "apply" || args[1] == "delete") {
			e.waitSynced(e.t)
		}
		if len(args) > 1 && args[1] == "scale" {
			e.waitScaled(e.t)
		}
		return err
	case "prometheus":
		return e.prometheus(ctx, hc, args)
	case "sleep":
		// The docs sleep to let a background `serve` start; on a loaded
		// test machine it may need longer, so wait for its first line too.
		e.waitServes(servesBefore(src, int(hc.Pos.Line())))
	}
	return next(ctx, args)
}

// untilStopped reports whether the command runs until Ctrl-C, as the docs
// show `canary attack` without --duration.
func untilStopped(args []string) bool {
	if len(args) == 0 || (args[0] != "attack" && args[0] != "soak") {
		return false
	}
	return !slices.ContainsFunc(args, func(a string) bool {
		return a == "--duration" || a == "--requests" || strings.HasPrefix(a, "--duration=") || strings.HasPrefix(a, "--requests=")
	})
}

func (e *docEnv) canary(ctx context.Context, hc interp.HandlerContext, args []string, want int) error {
	t := e.t
	line := fmt.Sprintf("line %d: canary %s", hc.Pos.Line(), strings.Join(args, " "))
	if len(args) >= 2 && args[0] == "bookinfo" && args[1] == "serve" {
		defer func() {
			e.mu.Lock()
			e.up++
			e.upCond.Broadcast()
			e.mu.Unlock()
		}()
		return e.serve(t, hc, args)
	}
	if len(args) > 0 && args[0] == "verify" && !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--rate") || a == "--passive" }) {
		// The default 20/s takes about a minute per gate; the verdict is the same.
		args = append(args, "--rate", "200/s")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, canaryBin, args...)
	var stderr bytes.Buffer
	cmd.Dir, cmd.Env = hc.Dir, e.childEnv(hc)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = hc.Stdin, hc.Stdout, io.MultiWriter(hc.Stderr, &stderr)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if untilStopped(args) {
		time.AfterFunc(3*time.Second, func() { _ = cmd.Process.Signal(os.Interrupt) }) // the reader's Ctrl-C
	}
	err := cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if code != want {
		t.Errorf("%s: exit %d, want %d (documented); stderr:\n%s", line, code, want, stderr.String())
	}
	if code == 0 {
		return nil
	}
	return interp.NewExitStatus(uint8(code))
}

// childEnv is the shell's exported environment, with `canary bookinfo`
// pointed at the mesh a block's own `serve` started, if any.
func (e *docEnv) childEnv(hc interp.HandlerContext) []string {
	var env []string
	hc.Env.Each(func(name string, v expand.Variable) bool {
		if v.Exported && name != "CANARY_BOOKINFO_ADMIN" {
			env = append(env, name+"="+v.String())
		}
		return true
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	return append(env, "CANARY_BOOKINFO_ADMIN="+e.admin)
}

// serve starts a block's `canary bookinfo serve … &` and leaves it running
// until the block ends, then stops it as Ctrl-C would.
func (e *docEnv) serve(t *testing.T, hc interp.HandlerContext, args []string) error {
	cmd := exec.Command(canaryBin, args...)
	cmd.Dir, cmd.Env = hc.Dir, e.childEnv(hc)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 512)
	n, _ := stdout.Read(first)
	m := serveLine.FindStringSubmatch(string(first[:n]))
	if m == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// Runs in the interpreter's background goroutine: no Fatal. The
		// block's later commands must not reach the shared mesh instead.
		t.Errorf("canary %s: first line %q; stderr %s", strings.Join(args, " "), first[:n], stderr.String())
		e.mu.Lock()
		e.admin = "127.0.0.1:1"
		e.mu.Unlock()
		return interp.NewExitStatus(ExitError)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.admin = m[3]
	e.cleanup = append(e.cleanup, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("canary %s: %v after SIGTERM; stderr:\n%s", strings.Join(args, " "), err, stderr.String())
		}
	})
	return nil
}

// prometheus runs the docs' `prometheus --config.file …` until it is ready
// and has scraped the mesh, then stops it: the command works as shown.
func (e *docEnv) prometheus(ctx context.Context, hc interp.HandlerContext, args []string) error {
	t := e.t
	addr := ""
	for i, a := range args {
		if a == "--web.listen-address" && i+1 < len(args) {
			addr = args[i+1]
		}
	}
	if addr == "" {
		t.Fatalf("prometheus %v: the docs' command gives no --web.listen-address", args[1:])
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = hc.Dir, io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/api/v1/query?query=count(istio_requests_total)")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"result":[{`)) {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("prometheus %v: no istio_requests_total scraped from the mesh within 30s", args[1:])
	return interp.NewExitStatus(1)
}

// waitSynced waits until the lab's mesh routes by exactly the Istio
// resources the cluster holds.
func (e *docEnv) waitSynced(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var want []string
	for ctx.Err() == nil {
		want = e.clusterResources(ctx, t)
		var st mesh.Status
		if resp, err := http.Get("http://" + e.mesh.admin + "/status"); err == nil {
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			slices.Sort(st.Resources)
			if err == nil && st.Propagated && slices.Equal(st.Resources, want) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("mesh at %s: not routing by the cluster's %v within 10s", e.mesh.admin, want)
}

// waitScaled waits, as an operator would after kubectl scale, until every
// Deployment has the pods it asks for and Prometheus has scraped each
// running sidecar since: a gate right after a scale-up otherwise finds no
// series for the new pod.
func (e *docEnv) waitScaled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	since := time.Now()
	for {
		deps, err := e.kube.AppsV1().Deployments("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("wait for kubectl scale: %v", err)
		}
		running, settled := 0, true
		for _, d := range deps.Items {
			want := int32(1)
			if d.Spec.Replicas != nil {
				want = min(*d.Spec.Replicas, 1)
			}
			settled = settled && d.Status.ReadyReplicas == want
			running += int(want)
		}
		if settled {
			if err := e.prom.WaitScraped(ctx, since, running+1); err != nil { // and the ingress
				t.Errorf("after kubectl scale: %v", err)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Errorf("after kubectl scale: Deployments not settled within 30s")
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// clusterResources lists the lab's Istio resources as status shows them.
func (e *docEnv) clusterResources(ctx context.Context, t *testing.T) []string {
	net := e.istio.NetworkingV1()
	var names []string
	gws, err1 := net.Gateways("").List(ctx, metav1.ListOptions{})
	drs, err2 := net.DestinationRules("").List(ctx, metav1.ListOptions{})
	vss, err3 := net.VirtualServices("").List(ctx, metav1.ListOptions{})
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	names = appendNamed(names, "Gateway/", gws.Items)
	names = appendNamed(names, "DestinationRule/", drs.Items)
	names = appendNamed(names, "VirtualService/", vss.Items)
	// The Gateway API's kinds, the Services its routes send to (those
	// selecting a Bookinfo app under another name) and those naming a
	// waypoint, as the mesh lists them.
	kgws, err1 := e.gw.GatewayV1().Gateways("").List(ctx, metav1.ListOptions{})
	routes, err2 := e.gw.GatewayV1().HTTPRoutes("").List(ctx, metav1.ListOptions{})
	svcs, err3 := e.kube.CoreV1().Services("default").List(ctx, metav1.ListOptions{})
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	for i := range kgws.Items {
		names = appendNamed(names, "Gateway.gateway.networking.k8s.io/", []metav1.Object{&kgws.Items[i]})
	}
	for i := range routes.Items {
		names = appendNamed(names, "HTTPRoute.gateway.networking.k8s.io/", []metav1.Object{&routes.Items[i]})
	}
	for i := range svcs.Items {
		if kube.IsVersionService(&svcs.Items[i]) || kube.NamesWaypoint(&svcs.Items[i]) {
			names = append(names, "Service/"+svcs.Items[i].Name)
		}
	}
	// The namespace, whose labels say ambient mode or not.
	names = append(names, "Namespace/default")
	slices.Sort(names)
	return names
}

// appendNamed appends prefix+name of each object.
func appendNamed[T metav1.Object](names []string, prefix string, objs []T) []string {
	for _, o := range objs {
		names = append(names, prefix+o.GetName())
	}
	return names
}

// kubectl runs the real kubectl on the lab for the test's own setup.
func (e *docEnv) kubectl(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("kubectl", args...)
	cmd.Env = e.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	e.waitSynced(t)
}

// httpsMesh starts a mesh whose ingress serves https, writes ca.pem (its
// CA) and other-ca.pem (one that did not sign it) into dir, applies the
// 50/50 split, and points INGRESS at it.
func httpsMesh(t *testing.T, dir, seed string) []string {
	ca, err := devcert.NewCA("docs CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := devcert.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Issue("127.0.0.1", "bookinfo.example")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := pair.WriteFiles(t.TempDir(), "ingress")
	if err != nil {
		t.Fatal(err)
	}
	for name, pem := range map[string][]byte{"ca.pem": ca.PEM, "other-ca.pem": other.PEM} {
		if err := os.WriteFile(filepath.Join(dir, name), pem, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mp := startMesh(t, "--propagation-delay", "0", "--tls-cert", cert, "--tls-key", key)
	mp.ctl(t, "apply", "-f", filepath.Join(seed, "virtual-service-reviews-50-50.yaml"))
	return []string{"INGRESS=" + mp.ingress}
}
