package cluster

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayPage is a page a Gateway API Gateway exposes: the Gateway (of
// class istio) and the path of an exact match of an HTTPRoute on it.
type gatewayPage struct {
	gateway *gatewayv1.Gateway
	route   string // ns/name
	path    string
	port    gatewayv1.PortNumber
}

// gatewayAPIPage finds the Gateway API Gateway that routes /productpage (or
// else the first exact path of an HTTPRoute on a Gateway of class istio);
// ok is false when no HTTPRoute on such a Gateway routes an exact path, or
// the cluster has no Gateway API.
func (c *Cluster) gatewayAPIPage(ctx context.Context) (gatewayPage, bool, error) {
	if c.Gateway == nil {
		return gatewayPage{}, false, nil
	}
	routes, err := c.Gateway.GatewayV1().HTTPRoutes("").List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return gatewayPage{}, false, nil
	}
	if err != nil {
		return gatewayPage{}, false, fmt.Errorf("httproutes: %w", err)
	}
	var pages []gatewayPage
	for _, r := range routes.Items {
		for _, p := range r.Spec.ParentRefs {
			if group, kind := parentGroupKind(p); group != gatewayv1.GroupName || kind != "Gateway" {
				continue
			}
			ns := r.Namespace
			if p.Namespace != nil {
				ns = string(*p.Namespace)
			}
			gw, err := c.Gateway.GatewayV1().Gateways(ns).Get(ctx, string(p.Name), metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return gatewayPage{}, false, fmt.Errorf("gateway %s/%s: %w", ns, p.Name, err)
			}
			if gw.Spec.GatewayClassName != "istio" || len(gw.Spec.Listeners) == 0 {
				continue
			}
			port := gw.Spec.Listeners[0].Port
			for _, rule := range r.Spec.Rules {
				for _, m := range rule.Matches {
					if m.Path != nil && m.Path.Type != nil && *m.Path.Type == gatewayv1.PathMatchExact && m.Path.Value != nil {
						pages = append(pages, gatewayPage{gateway: gw, route: r.Namespace + "/" + r.Name, path: *m.Path.Value, port: port})
					}
				}
			}
		}
	}
	if len(pages) == 0 {
		return gatewayPage{}, false, nil
	}
	if i := slices.IndexFunc(pages, func(p gatewayPage) bool { return p.path == "/productpage" }); i >= 0 {
		return pages[i], true, nil
	}
	return pages[0], true, nil
}

// gatewayAPITarget reaches a Gateway API Gateway's page through the Service
// Istio creates for it (NAME-istio in its namespace): its LoadBalancer
// address, else the NodePort of the listener's port on the node of a pod.
func (c *Cluster) gatewayAPITarget(ctx context.Context, p gatewayPage) (Found, error) {
	ns, name := p.gateway.Namespace, p.gateway.Name+"-istio"
	why := fmt.Sprintf("path %s from HTTPRoute %s on Gateway %s/%s (class istio)", p.path, p.route, p.gateway.Namespace, p.gateway.Name)
	svc, err := c.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Found{}, fmt.Errorf("Gateway %s/%s: its Service %s/%s: %w (is it Programmed? give --target URL)", ns, p.gateway.Name, ns, name, err)
	}
	i := slices.IndexFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Port == int32(p.port) })
	if i < 0 {
		return Found{}, fmt.Errorf("Gateway %s/%s: Service %s/%s has no port %d (give --target URL)", ns, p.gateway.Name, ns, name, p.port)
	}
	port := svc.Spec.Ports[i]
	for _, lb := range svc.Status.LoadBalancer.Ingress {
		host := lb.IP
		if host == "" {
			host = lb.Hostname
		}
		if host != "" {
			return Found{URL: "http://" + hostPort(host, port.Port) + p.path,
				Why: fmt.Sprintf("LoadBalancer %s of %s/%s, port %d; %s", host, ns, name, port.Port, why)}, nil
		}
	}
	if port.NodePort == 0 {
		return Found{}, fmt.Errorf("Gateway %s/%s: Service %s/%s is %s with neither a LoadBalancer address nor a NodePort (give --target URL)", ns, p.gateway.Name, ns, name, svc.Spec.Type)
	}
	node, addr, err := c.nodeAddress(ctx, ns, svc.Spec.Selector)
	if err != nil {
		return Found{}, err
	}
	return Found{URL: "http://" + hostPort(addr.Address, port.NodePort) + p.path,
		Why: fmt.Sprintf("NodePort %d of %s/%s on node %s's %s; %s", port.NodePort, ns, name, node, addr.Type, why)}, nil
}
