// Package cluster reads from a Kubernetes cluster running Istio what a
// rollout gate needs, so that `canary verify --expect v1=50,v3=50` needs no
// other flag: the ingress gateway's address and the page's path, the mesh's
// Prometheus, the live VirtualService's or HTTPRoute's split, and whether the rollout can
// work at all (subsets, ready pods, sidecars, the Gateway) before any load.
// Every discovery says what it chose and why, in one line. It also applies
// a rollout stage's manifests with server-side apply (Apply). Credentials
// from the kubeconfig are used, never printed.
package cluster

import (
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/redact"

	istioclient "istio.io/client-go/pkg/clientset/versioned"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// ErrNoCluster means no kubeconfig was found and canary is not in a pod.
var ErrNoCluster = errors.New("no Kubernetes cluster: no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a pod")

// Cluster is a connection to one cluster.
type Cluster struct {
	Config *rest.Config
	Kube   kubernetes.Interface
	Istio  istioclient.Interface
	// Gateway reads the Kubernetes Gateway API's routes (HTTPRoute).
	Gateway gatewayclient.Interface
	// Where says which cluster, for messages: the API server's URL and the
	// context; never a credential.
	Where string
	// Namespace is the kubeconfig context's namespace (the pod's own in a
	// pod), where Apply puts objects that name none; empty means "default".
	Namespace string
}

// Load connects with client-go's standard rules: kubeconfig if given, else
// $KUBECONFIG, else ~/.kube/config, else the pod's service account.
func Load(kubeconfig, context string) (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, ErrNoCluster
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	c, err := New(cfg, describe(cc, cfg))
	if err != nil {
		return nil, err
	}
	c.Namespace = ns
	return c, nil
}

// New connects with a client configuration.
func New(cfg *rest.Config, where string) (*Cluster, error) {
	redact.Add(cfg.BearerToken, cfg.Password) // the kubeconfig's credentials are never printed
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ic, err := istioclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	gw, err := gatewayclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if where == "" {
		where = cfg.Host
	}
	return &Cluster{Config: cfg, Kube: kube, Istio: ic, Gateway: gw, Where: where}, nil
}

func describe(cc clientcmd.ClientConfig, cfg *rest.Config) string {
	raw, err := cc.RawConfig()
	if err != nil || raw.CurrentContext == "" {
		return cfg.Host
	}
	return fmt.Sprintf("%s (context %s)", cfg.Host, raw.CurrentContext)
}
