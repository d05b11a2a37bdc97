package cluster

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// DefaultPrometheus is the Service of Istio's bundled Prometheus.
const DefaultPrometheus = "istio-system/prometheus"

// Prometheus is how to reach the mesh's Prometheus.
type Prometheus struct {
	Found
	// Transport carries the kubeconfig's credentials when the URL is the
	// API server's service proxy; nil otherwise.
	Transport http.RoundTripper
}

// Prometheus finds the Service ns/name: at its LoadBalancer address or its
// NodePort when it has one that answers, else through the API server's
// service proxy with the kubeconfig's credentials, which needs no
// port-forward and no route to the cluster's network.
func (c *Cluster) Prometheus(ctx context.Context, ns, name string) (Prometheus, error) {
	svc, err := c.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Prometheus{}, fmt.Errorf("prometheus service %s/%s: %w (give --prometheus URL, or --prometheus-service NS/NAME)", ns, name, err)
	}
	if len(svc.Spec.Ports) == 0 {
		return Prometheus{}, fmt.Errorf("prometheus service %s/%s has no ports (give --prometheus URL)", ns, name)
	}
	port := svc.Spec.Ports[0]
	for _, p := range svc.Spec.Ports {
		if p.Port == 9090 || p.Name == "http" || p.Name == "http-prometheus" {
			port = p
			break
		}
	}
	var tried []string
	for _, lb := range svc.Status.LoadBalancer.Ingress {
		if host := lb.IP + lb.Hostname; host != "" {
			u := "http://" + hostPort(host, port.Port)
			if ready(ctx, u) {
				return Prometheus{Found: Found{URL: u, Why: fmt.Sprintf("LoadBalancer %s of %s/%s, port %d", host, ns, name, port.Port)}}, nil
			}
			tried = append(tried, u)
		}
	}
	if port.NodePort != 0 {
		node, addr, err := c.nodeAddress(ctx, ns, svc.Spec.Selector)
		if err == nil {
			u := "http://" + hostPort(addr.Address, port.NodePort)
			if ready(ctx, u) {
				return Prometheus{Found: Found{URL: u, Why: fmt.Sprintf("NodePort %d of %s/%s on node %s's %s", port.NodePort, ns, name, node, addr.Type)}}, nil
			}
			tried = append(tried, u)
		}
	}
	rt, err := rest.TransportFor(c.Config)
	if err != nil {
		return Prometheus{}, fmt.Errorf("kubeconfig: %w", err)
	}
	proxy := strings.TrimSuffix(c.Config.Host, "/") + fmt.Sprintf("/api/v1/namespaces/%s/services/%s:%d/proxy", ns, name, port.Port)
	why := fmt.Sprintf("the API server's service proxy to %s/%s port %d, with the kubeconfig's credentials", ns, name, port.Port)
	if len(tried) > 0 {
		why += " (" + strings.Join(tried, ", ") + " did not answer)"
	}
	return Prometheus{Found: Found{URL: proxy, Why: why}, Transport: rt}, nil
}

// ready says whether a Prometheus answers at u within a second.
func ready(ctx context.Context, u string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/-/ready", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
