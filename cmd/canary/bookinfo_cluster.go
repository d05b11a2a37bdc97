package main

import (
	"context"
	"fmt"
	"time"

	"github.com/canary-gate/canary/bookinfo/kube"
	"github.com/canary-gate/canary/bookinfo/mesh"
	"github.com/urfave/cli/v3"
	"k8s.io/client-go/tools/clientcmd"
)

// meshCluster is the cluster a served mesh is the data plane of, if any.
type meshCluster struct {
	server string // the API server's URL, never its credentials
	source *kube.Source
}

// joinCluster connects the mesh to the API server of --kubeconfig, when
// given: it registers the mesh's objects and brings the routing in step
// before serve says it is ready.
func joinCluster(ctx context.Context, c *cli.Command, m *mesh.Mesh, logf func(string, ...any)) (*meshCluster, error) {
	path := c.String("kubeconfig")
	if path == "" {
		for _, f := range []string{"prometheus-addr", "jaeger-addr"} {
			if c.String(f) != "" {
				return nil, usageError(fmt.Errorf("--%s: needs --kubeconfig (it registers a Service in the cluster)", f))
			}
		}
		return nil, nil
	}
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, usageError(fmt.Errorf("--kubeconfig %s: %w", path, err))
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	src, err := kube.Start(ctx, m, kube.Options{
		Config: cfg, Ingress: m.Addr(), Gateway: m.GatewayAddr(), TLS: m.Scheme() == "https", Ambient: c.Bool("ambient"),
		Prometheus: c.String("prometheus-addr"), Jaeger: c.String("jaeger-addr"), Logf: logf,
	})
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	return &meshCluster{server: cfg.Host, source: src}, nil
}

func (mc *meshCluster) describe() string {
	if mc == nil {
		return ""
	}
	return ", data plane of " + mc.server
}

func (mc *meshCluster) stop() {
	if mc != nil {
		mc.source.Stop()
	}
}
