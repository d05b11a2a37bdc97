// Package lab runs a real Kubernetes control plane on loopback for the
// lab and its tests: Debian's etcd and a kube-apiserver built from the
// k8s.io/kubernetes Go module, started and stopped by controller-runtime's
// envtest, with Istio's CRDs (istio.io/api) and the Gateway API's standard
// CRDs (sigs.k8s.io/gateway-api) installed from their modules. There
// is no kubelet, scheduler or controller-manager: the local mesh plays the
// kubelet for the workloads it runs.
package lab

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// KubeVersion is the kube-apiserver release the lab builds and runs. It is
// one minor release from the k8s.io client modules in go.mod, inside
// Kubernetes' version skew policy.
const KubeVersion = "v1.34.3"

// APIServerEnv names the environment variable that points at a
// kube-apiserver binary, overriding the build cache's.
const APIServerEnv = "CANARY_KUBE_APISERVER"

// Options configure a lab.
type Options struct {
	// APIServer and Etcd are the binaries; empty means Binaries' answer.
	APIServer, Etcd string
	// CRDFiles are YAML files (or directories of them) of
	// CustomResourceDefinitions to install and wait for; nil means Istio's
	// and the Gateway API's standard ones (IstioCRDs, GatewayAPICRDs).
	CRDFiles []string
	// Verbose attaches the control plane's output to this process's.
	Verbose bool
}

// Lab is a running control plane.
type Lab struct {
	env *envtest.Environment
	// Config is the administrator's client configuration.
	Config *rest.Config
	// Kubeconfig is the administrator's kubeconfig, with a client
	// certificate: write it with mode 0600, never print it.
	Kubeconfig []byte
}

// Start starts etcd and kube-apiserver on free loopback ports and installs
// the CRDs. NodePorts may be any port from 1024 up, so that a Service can
// name the loopback port a local server really listens on.
func Start(opts Options) (*Lab, error) {
	if opts.APIServer == "" || opts.Etcd == "" {
		apiserver, etcd, err := Binaries()
		if err != nil {
			return nil, err
		}
		opts.APIServer = cmp.Or(opts.APIServer, apiserver)
		opts.Etcd = cmp.Or(opts.Etcd, etcd)
	}
	if opts.CRDFiles == nil {
		crds, err := IstioCRDs()
		if err != nil {
			return nil, err
		}
		gw, err := GatewayAPICRDs()
		if err != nil {
			return nil, err
		}
		opts.CRDFiles = []string{crds, gw}
	}
	env := &envtest.Environment{
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
		AttachControlPlaneOutput: opts.Verbose,
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths: opts.CRDFiles, ErrorIfPathMissing: true,
			MaxTime: time.Minute, PollInterval: 100 * time.Millisecond,
		},
	}
	env.ControlPlane.GetAPIServer().Path = opts.APIServer
	env.ControlPlane.GetAPIServer().Configure().
		Set("service-node-port-range", "1024-65535").
		Set("bind-address", "127.0.0.1")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: opts.Etcd}
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		env.ControlPlane.KubectlPath = kubectl
	}
	// envtest logs through controller-runtime's logger, which prints a
	// stack trace when nobody set one.
	ctrllog.SetLogger(logr.Discard())
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("start the lab's control plane: %w", err)
	}
	return &Lab{env: env, Config: cfg, Kubeconfig: env.KubeConfig}, nil
}

// Stop stops kube-apiserver and etcd and removes their data.
func (l *Lab) Stop() error { return l.env.Stop() }

// AddUser provisions a user with a client certificate in the given groups
// and returns a kubeconfig for it; a user outside system:masters is subject
// to RBAC, for tests of a forbidden caller.
func (l *Lab) AddUser(name string, groups ...string) ([]byte, error) {
	u, err := l.env.AddUser(envtest.User{Name: name, Groups: groups}, l.Config)
	if err != nil {
		return nil, fmt.Errorf("add lab user %s: %w", name, err)
	}
	return u.KubeConfig()
}

// WriteKubeconfig writes the administrator's kubeconfig to path, readable
// by its owner only: it holds a private key.
func (l *Lab) WriteKubeconfig(path string) error {
	return os.WriteFile(path, l.Kubeconfig, 0o600)
}

// Binaries finds kube-apiserver ($CANARY_KUBE_APISERVER, else the one
// scripts/kube-apiserver.sh caches under the Go build cache) and etcd (on
// PATH). The error says how to get what is missing.
func Binaries() (apiserver, etcd string, err error) {
	apiserver = os.Getenv(APIServerEnv)
	if apiserver == "" {
		cache, cerr := goEnv("GOCACHE")
		if cerr != nil {
			return "", "", cerr
		}
		apiserver = filepath.Join(cache, "canary-lab", "kube-"+KubeVersion, "kube-apiserver")
	}
	if _, serr := os.Stat(apiserver); serr != nil {
		return "", "", fmt.Errorf("kube-apiserver %s not found at %s: run scripts/kube-apiserver.sh to build it (about 4 minutes, once), or set %s", KubeVersion, apiserver, APIServerEnv)
	}
	etcd, err = exec.LookPath("etcd")
	if err != nil {
		return "", "", errors.New("etcd not found on PATH: apt-get install etcd-server")
	}
	return apiserver, etcd, nil
}

// IstioCRDs is the path of Istio's CRDs in the module cache, from the
// istio.io/api release go.mod requires, so the lab's API server validates
// the same schema the local mesh's parser reads.
func IstioCRDs() (string, error) {
	dir, err := moduleDir("istio.io/api")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kubernetes", "customresourcedefinitions.gen.yaml"), nil
}

// GatewayAPICRDs is the directory of the Kubernetes Gateway API's standard
// CRDs (Gateway, HTTPRoute, …) in the module cache, from the
// sigs.k8s.io/gateway-api release go.mod requires, whose typed objects
// canary reads routes with.
func GatewayAPICRDs() (string, error) {
	dir, err := moduleDir("sigs.k8s.io/gateway-api")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config", "crd", "standard"), nil
}

// moduleDir downloads (if needed) and locates a module of the main
// module's build list.
func moduleDir(path string) (string, error) {
	out, err := goCmd("mod", "download", "-json", path)
	if err != nil {
		return "", err
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal([]byte(out), &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no module directory in its answer (%v%s)", path, err, mod.Error)
	}
	return mod.Dir, nil
}

func goEnv(name string) (string, error) {
	out, err := goCmd("env", name)
	return strings.TrimSpace(out), err
}

func goCmd(args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
