package cluster

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Found is what discovery chose, as a URL, and why, in one line.
type Found struct {
	URL string
	Why string
}

// DefaultIngress is Istio's ingress gateway Service.
const DefaultIngress = "istio-system/istio-ingressgateway"

// Ingress finds the page to load through the ingress gateway Service
// ns/name: its LoadBalancer address when one is assigned, else its http2
// (or http) NodePort on the node of a gateway pod (ExternalIP, else
// InternalIP), as the walkthrough reaches it; the path is the first exact
// URI match (/productpage for Bookinfo) of a VirtualService bound to a
// Gateway that selects the gateway's pods.
func (c *Cluster) Ingress(ctx context.Context, ns, name string) (Found, error) {
	svc, err := c.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		// A mesh installed for the Gateway API may have no ingress gateway
		// of Istio's own.
		if p, ok, gerr := c.gatewayAPIPage(ctx); gerr == nil && ok {
			return c.gatewayAPITarget(ctx, p)
		}
	}
	if err != nil {
		return Found{}, fmt.Errorf("ingress gateway %s/%s: %w (give --target URL, or --ingress NS/NAME)", ns, name, err)
	}
	port, ok := httpPort(svc)
	if !ok {
		return Found{}, fmt.Errorf("ingress gateway %s/%s has no port named http2 or http (give --target URL)", ns, name)
	}
	path, pathWhy, err := c.pagePath(ctx, svc.Spec.Selector)
	if err != nil {
		return Found{}, err
	}
	if path == "" {
		// No VirtualService on this gateway routes a page: the Gateway
		// API's walkthrough routes it by an HTTPRoute on a Gateway of its
		// own, which Istio deploys with a Service of its own.
		p, ok, err := c.gatewayAPIPage(ctx)
		if err != nil {
			return Found{}, err
		}
		if ok {
			return c.gatewayAPITarget(ctx, p)
		}
		path, pathWhy = "/", "path / (no VirtualService on a Gateway of that gateway, and no HTTPRoute on a Gateway of class istio, routes an exact path)"
	}
	for _, lb := range svc.Status.LoadBalancer.Ingress {
		host := lb.IP
		if host == "" {
			host = lb.Hostname
		}
		if host != "" {
			return Found{
				URL: "http://" + hostPort(host, port.Port) + path,
				Why: fmt.Sprintf("LoadBalancer %s of %s/%s, port %s %d; %s", host, ns, name, port.Name, port.Port, pathWhy),
			}, nil
		}
	}
	if port.NodePort == 0 {
		return Found{}, fmt.Errorf("ingress gateway %s/%s is %s with neither a LoadBalancer address nor a NodePort (give --target URL)", ns, name, svc.Spec.Type)
	}
	node, addr, err := c.nodeAddress(ctx, ns, svc.Spec.Selector)
	if err != nil {
		return Found{}, err
	}
	return Found{
		URL: "http://" + hostPort(addr.Address, port.NodePort) + path,
		Why: fmt.Sprintf("NodePort %d (%s) of %s/%s on node %s's %s; %s", port.NodePort, port.Name, ns, name, node, addr.Type, pathWhy),
	}, nil
}

func httpPort(svc *corev1.Service) (corev1.ServicePort, bool) {
	for _, want := range []string{"http2", "http"} {
		for _, p := range svc.Spec.Ports {
			if p.Name == want {
				return p, true
			}
		}
	}
	return corev1.ServicePort{}, false
}

func hostPort(host string, port int32) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// nodeAddress is the address of the node a pod of the selector runs on, as
// the walkthrough reads it (the gateway pod's hostIP), else of the first
// node: ExternalIP when it has one, else InternalIP.
func (c *Cluster) nodeAddress(ctx context.Context, ns string, selector map[string]string) (string, corev1.NodeAddress, error) {
	nodeName := ""
	if len(selector) > 0 {
		pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(selector).String()})
		if err != nil {
			return "", corev1.NodeAddress{}, fmt.Errorf("ingress gateway pods: %w", err)
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning {
				nodeName = p.Spec.NodeName
				break
			}
		}
	}
	nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", corev1.NodeAddress{}, fmt.Errorf("nodes, for the NodePort's address: %w (give --target URL)", err)
	}
	for _, n := range nodes.Items {
		if nodeName != "" && n.Name != nodeName {
			continue
		}
		for _, typ := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
			for _, a := range n.Status.Addresses {
				if a.Type == typ && a.Address != "" {
					return n.Name, a, nil
				}
			}
		}
	}
	return "", corev1.NodeAddress{}, fmt.Errorf("no node with an ExternalIP or InternalIP for the NodePort (give --target URL)")
}

// pagePath is the path the Gateway's VirtualService exposes: /productpage
// when it routes that, else its first exact URI match, else "".
func (c *Cluster) pagePath(ctx context.Context, gatewayPods map[string]string) (string, string, error) {
	gws, err := c.Istio.NetworkingV1().Gateways("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", "", fmt.Errorf("gateways: %w", err)
	}
	vss, err := c.Istio.NetworkingV1().VirtualServices("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", "", fmt.Errorf("virtualservices: %w", err)
	}
	var paths []string
	var from string
	for _, gw := range gws.Items {
		if !labels.SelectorFromSet(gw.Spec.GetSelector()).Matches(labels.Set(gatewayPods)) {
			continue
		}
		for _, vs := range vss.Items {
			if !bindsGateway(vs, gw) {
				continue
			}
			for _, hr := range vs.Spec.GetHttp() {
				for _, m := range hr.GetMatch() {
					if p := m.GetUri().GetExact(); p != "" {
						paths = append(paths, p)
						if from == "" {
							from = fmt.Sprintf("VirtualService %s/%s on Gateway %s", vs.Namespace, vs.Name, gw.Name)
						}
					}
				}
			}
		}
	}
	switch {
	case len(paths) == 0:
		return "", "", nil
	case slices.Contains(paths, "/productpage"):
		return "/productpage", "path /productpage from " + from, nil
	}
	return paths[0], "path " + paths[0] + " from " + from, nil
}

// bindsGateway says whether vs names gw ("name" in vs's namespace, or "ns/name").
func bindsGateway(vs *networkingv1.VirtualService, gw *networkingv1.Gateway) bool {
	for _, ref := range vs.Spec.GetGateways() {
		ns, name, ok := strings.Cut(ref, "/")
		if !ok {
			ns, name = vs.Namespace, ref
		}
		if ns == gw.Namespace && name == gw.Name {
			return true
		}
	}
	return false
}
