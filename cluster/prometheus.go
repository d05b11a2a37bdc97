package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// DefaultPrometheus is the Service of Istio's bundled Prometheus.
const DefaultPrometheus = "istio-system/prometheus"

// DefaultJaeger are the Services a Jaeger query service is looked for at,
// in order: Istio's addon names it tracing (port 80 to the query's 16686),
// Jaeger's operator and Helm chart jaeger-query.
var DefaultJaeger = []string{"istio-system/tracing", "istio-system/jaeger-query"}

// Prometheus is how to reach the mesh's Prometheus.
type Prometheus = Reached

// Reached is how to reach an HTTP Service of the cluster.
type Reached struct {
	Found
	// Transport carries the kubeconfig's credentials when the URL is the
	// API server's service proxy; nil otherwise.
	Transport http.RoundTripper
}

// ErrNoService means none of the Services looked for exists.
var ErrNoService = errors.New("no such service")

// Prometheus finds the Service ns/name: at its LoadBalancer address or its
// NodePort when it has one that answers, else through the API server's
// service proxy with the kubeconfig's credentials, which needs no
// port-forward and no route to the cluster's network.
func (c *Cluster) Prometheus(ctx context.Context, ns, name string) (Prometheus, error) {
	r, err := c.reach(ctx, ns, name, "/-/ready", func(p corev1.ServicePort) bool {
		return p.Port == 9090 || p.Name == "http" || p.Name == "http-prometheus"
	})
	if err != nil {
		return r, fmt.Errorf("prometheus service %s/%s: %w (give --prometheus URL, or --prometheus-service NS/NAME)", ns, name, err)
	}
	return r, nil
}

// Jaeger finds the first of the Services ("NS/NAME") that exists, the way
// Prometheus does; ErrNoService when none does.
func (c *Cluster) Jaeger(ctx context.Context, services []string) (Reached, error) {
	for _, s := range services {
		ns, name, ok := strings.Cut(s, "/")
		if !ok {
			return Reached{}, fmt.Errorf("jaeger service %q: want NS/NAME", s)
		}
		r, err := c.reach(ctx, ns, name, "/api/services", func(p corev1.ServicePort) bool {
			return p.TargetPort.IntValue() == 16686 || p.Port == 16686 || p.Name == "http-query"
		})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return r, fmt.Errorf("jaeger service %s/%s: %w (give --jaeger URL)", ns, name, err)
		}
		return r, nil
	}
	return Reached{}, fmt.Errorf("jaeger: none of %s: %w", strings.Join(services, ", "), ErrNoService)
}

// reach finds how to call Service ns/name on the port want picks (else
// its first), proving an address with a GET of probe.
func (c *Cluster) reach(ctx context.Context, ns, name, probe string, want func(corev1.ServicePort) bool) (Reached, error) {
	svc, err := c.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Reached{}, err
	}
	if len(svc.Spec.Ports) == 0 {
		return Reached{}, errors.New("the service has no ports")
	}
	port := svc.Spec.Ports[0]
	for _, p := range svc.Spec.Ports {
		if want(p) {
			port = p
			break
		}
	}
	var tried []string
	for _, lb := range svc.Status.LoadBalancer.Ingress {
		if host := lb.IP + lb.Hostname; host != "" {
			u := "http://" + hostPort(host, port.Port)
			if ready(ctx, u+probe) {
				return Reached{Found: Found{URL: u, Why: fmt.Sprintf("LoadBalancer %s of %s/%s, port %d", host, ns, name, port.Port)}}, nil
			}
			tried = append(tried, u)
		}
	}
	if port.NodePort != 0 {
		node, addr, err := c.nodeAddress(ctx, ns, svc.Spec.Selector)
		if err == nil {
			u := "http://" + hostPort(addr.Address, port.NodePort)
			if ready(ctx, u+probe) {
				return Reached{Found: Found{URL: u, Why: fmt.Sprintf("NodePort %d of %s/%s on node %s's %s", port.NodePort, ns, name, node, addr.Type)}}, nil
			}
			tried = append(tried, u)
		}
	}
	rt, err := rest.TransportFor(c.Config)
	if err != nil {
		return Reached{}, fmt.Errorf("kubeconfig: %w", err)
	}
	proxy := strings.TrimSuffix(c.Config.Host, "/") + fmt.Sprintf("/api/v1/namespaces/%s/services/%s:%d/proxy", ns, name, port.Port)
	why := fmt.Sprintf("the API server's service proxy to %s/%s port %d, with the kubeconfig's credentials", ns, name, port.Port)
	if len(tried) > 0 {
		why += " (" + strings.Join(tried, ", ") + " did not answer)"
	}
	return Reached{Found: Found{URL: proxy, Why: why}, Transport: rt}, nil
}

// ready says whether u answers 200 within a second.
func ready(ctx context.Context, u string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
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
