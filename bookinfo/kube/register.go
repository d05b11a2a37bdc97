package kube

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/canary-gate/canary/bookinfo/mesh"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

// bookinfoImage is the image a Bookinfo container would run, for kubectl's
// columns; nothing pulls it.
func bookinfoImage(w mesh.Workload) string {
	return "docker.io/istio/examples-bookinfo-" + w.App + "-" + w.Version + ":1.20.3"
}

// proxyImage is the sidecar's image in an injected pod.
const proxyImage = "docker.io/istio/proxyv2:1.31.4"

var apply = metav1.ApplyOptions{FieldManager: FieldManager, Force: true}

// register writes what deploying Bookinfo on an Istio cluster shows. The
// Services are applied (server-side) on every start, since the ingress port
// changes; Deployments are created only when absent, so that a
// `kubectl scale` done before a restart still holds.
func (s *Source) register(ctx context.Context) error {
	if err := s.refuseRealNodes(ctx); err != nil {
		return err
	}
	if err := s.ensureNamespace(ctx, IngressNamespace); err != nil {
		return err
	}
	if err := s.labelNamespace(ctx); err != nil {
		return err
	}
	if err := s.registerNode(ctx); err != nil {
		return err
	}
	if err := s.registerServices(ctx); err != nil {
		return err
	}
	if err := s.removeOldPods(ctx); err != nil {
		return err
	}
	if err := s.registerIngressPod(ctx); err != nil {
		return err
	}
	if err := s.registerZtunnelPod(ctx); err != nil {
		return err
	}
	if err := s.registerAddonPods(ctx); err != nil {
		return err
	}
	for _, w := range mesh.Workloads() {
		_, err := s.kube.AppsV1().Deployments(mesh.Namespace).Apply(ctx, deployment(w), metav1.ApplyOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) {
			err = nil // someone else (kubectl scale) owns a field now: theirs holds
		}
		if err != nil {
			return fmt.Errorf("register deployment %s: %w", w.Name, err)
		}
	}
	return nil
}

// refuseRealNodes keeps the mesh out of a real cluster (a KUBECONFIG left
// pointing at one, say): it would write a Node and Pods nobody runs there.
func (s *Source) refuseRealNodes(ctx context.Context) error {
	nodes, err := s.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		if n.Name != NodeName {
			return fmt.Errorf("the cluster has node %s: the local mesh joins only a lab API server with no nodes of its own (make lab), never a real cluster", n.Name)
		}
	}
	return nil
}

func (s *Source) ensureNamespace(ctx context.Context, name string) error {
	_, err := s.kube.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(name), apply)
	if err != nil {
		return fmt.Errorf("register namespace %s: %w", name, err)
	}
	return nil
}

// registerNode writes the one Node, Ready, with 127.0.0.1 as its
// InternalIP: NodePorts are reached there.
func (s *Source) registerNode(ctx context.Context) error {
	node := corev1ac.Node(NodeName).WithLabels(map[string]string{
		"kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "node-role.kubernetes.io/control-plane": "",
	})
	if _, err := s.kube.CoreV1().Nodes().Apply(ctx, node, apply); err != nil {
		return fmt.Errorf("register node %s: %w", NodeName, err)
	}
	now := metav1.Now()
	status := corev1ac.Node(NodeName).WithStatus(corev1ac.NodeStatus().
		WithAddresses(
			corev1ac.NodeAddress().WithType(corev1.NodeInternalIP).WithAddress("127.0.0.1"),
			corev1ac.NodeAddress().WithType(corev1.NodeHostName).WithAddress(NodeName)).
		WithConditions(corev1ac.NodeCondition().WithType(corev1.NodeReady).WithStatus(corev1.ConditionTrue).
			WithReason("KubeletReady").WithMessage("the local mesh runs this node's pods").
			WithLastHeartbeatTime(now).WithLastTransitionTime(now)).
		WithNodeInfo(corev1ac.NodeSystemInfo().WithKubeletVersion("canary-bookinfo").WithOperatingSystem("linux").WithArchitecture("amd64")))
	if _, err := s.kube.CoreV1().Nodes().ApplyStatus(ctx, status, apply); err != nil {
		return fmt.Errorf("register node %s status: %w", NodeName, err)
	}
	return nil
}

// registerServices writes Bookinfo's Services and the NodePort Services of
// the ingress gateway and, when given, Prometheus.
func (s *Source) registerServices(ctx context.Context) error {
	var svcs []*corev1ac.ServiceApplyConfiguration
	seen := map[string]bool{}
	for _, w := range mesh.Workloads() {
		if seen[w.App] {
			continue
		}
		seen[w.App] = true
		svcs = append(svcs, corev1ac.Service(w.App, mesh.Namespace).
			WithLabels(map[string]string{"app": w.App, "service": w.App}).
			WithSpec(corev1ac.ServiceSpec().WithSelector(map[string]string{"app": w.App}).
				WithPorts(corev1ac.ServicePort().WithName("http").WithPort(9080).WithTargetPort(intstr.FromInt32(9080)))))
	}
	port, err := nodePort("ingress", s.opts.Ingress)
	if err != nil {
		return err
	}
	name, svcPort, target := "http2", int32(80), int32(8080)
	if s.opts.TLS {
		name, svcPort, target = "https", 443, 8443
	}
	gw := map[string]string{"app": IngressService, "istio": "ingressgateway"}
	svcs = append(svcs, corev1ac.Service(IngressService, IngressNamespace).WithLabels(gw).
		WithSpec(corev1ac.ServiceSpec().WithType(corev1.ServiceTypeNodePort).WithSelector(gw).
			WithPorts(corev1ac.ServicePort().WithName(name).WithPort(svcPort).WithTargetPort(intstr.FromInt32(target)).WithNodePort(port))))
	addons, err := s.addons()
	if err != nil {
		return err
	}
	for _, a := range addons {
		l := map[string]string{"app": a.app}
		svcs = append(svcs, corev1ac.Service(a.service, IngressNamespace).WithLabels(l).
			WithSpec(corev1ac.ServiceSpec().WithType(corev1.ServiceTypeNodePort).WithSelector(l).
				WithPorts(corev1ac.ServicePort().WithName(a.portName).WithPort(a.port).WithTargetPort(intstr.FromInt32(a.target)).WithNodePort(a.nodePort))))
	}
	for _, svc := range svcs {
		if _, err := s.kube.CoreV1().Services(*svc.Namespace).Apply(ctx, svc, apply); err != nil {
			return fmt.Errorf("register service %s/%s: %w", *svc.Namespace, *svc.Name, err)
		}
	}
	return nil
}

// removeOldPods removes the istio-system pods an earlier run left.
func (s *Source) removeOldPods(ctx context.Context) error {
	err := s.kube.CoreV1().Pods(IngressNamespace).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)},
		metav1.ListOptions{LabelSelector: meshLabel})
	if err != nil {
		return fmt.Errorf("remove old pods in %s: %w", IngressNamespace, err)
	}
	return nil
}

// registerIngressPod runs the ingress gateway's pod, which the walkthrough
// reads the node's address from (kubectl get pod -l istio=ingressgateway
// -o jsonpath='{.items[0].status.hostIP}').
func (s *Source) registerIngressPod(ctx context.Context) error {
	_, err := s.runPod(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: IngressService + "-", Namespace: IngressNamespace,
			Labels: map[string]string{"app": IngressService, "istio": "ingressgateway", meshLabel: IngressService}},
		Spec: corev1.PodSpec{NodeName: NodeName, Containers: []corev1.Container{
			{Name: "istio-proxy", Image: proxyImage, Args: []string{"proxy", "router"}},
		}},
	})
	return err
}

// addon is a Service of istio-system the lab's node serves at a loopback
// address: Prometheus, Jaeger's query.
type addon struct {
	service, app     string
	portName         string
	port, target     int32 // the Service's port and targetPort
	nodePort         int32 // the address's port
	container, image string
}

// addons are the add-ons given in the options, as Istio's samples/addons
// define their Services.
func (s *Source) addons() ([]addon, error) {
	var out []addon
	if a := s.opts.Prometheus; a != "" {
		p, err := nodePort("prometheus", a)
		if err != nil {
			return nil, err
		}
		out = append(out, addon{service: PrometheusService, app: PrometheusService,
			portName: "http", port: 9090, target: p, nodePort: p, container: "prometheus-server", image: "prom/prometheus"})
	}
	if a := s.opts.Jaeger; a != "" {
		p, err := nodePort("jaeger", a)
		if err != nil {
			return nil, err
		}
		out = append(out, addon{service: JaegerService, app: "jaeger",
			portName: "http-query", port: 80, target: 16686, nodePort: p, container: "jaeger", image: "jaegertracing/all-in-one"})
	}
	return out, nil
}

// registerAddonPods runs the add-ons' pods, as kubectl get pods -n
// istio-system shows them. No Endpoints: the API server refuses loopback
// addresses in them, so its service proxy cannot reach an add-on on
// 127.0.0.1; the NodePort does.
func (s *Source) registerAddonPods(ctx context.Context) error {
	addons, err := s.addons()
	if err != nil {
		return err
	}
	for _, a := range addons {
		_, err := s.runPod(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: a.app + "-", Namespace: IngressNamespace,
				Labels: map[string]string{"app": a.app, meshLabel: a.app}},
			Spec: corev1.PodSpec{NodeName: NodeName, Containers: []corev1.Container{
				{Name: a.container, Image: a.image, Ports: []corev1.ContainerPort{{ContainerPort: a.nodePort}}},
			}},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// nodePort is the port of a loopback address, which a NodePort names.
func nodePort(what, addr string) (int32, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%s address %q: %w", what, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0, fmt.Errorf("%s address %q: a NodePort of the lab's node (127.0.0.1) needs a loopback address", what, addr)
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil || n < 1024 {
		return 0, fmt.Errorf("%s address %q: want a port from 1024 up for a NodePort", what, addr)
	}
	return int32(n), nil
}

// deployment is a workload's Deployment as Bookinfo's manifest has it: one
// replica, the app and version labels, the app's container. The sidecar is
// not in the template: Istio injects it into each pod.
func deployment(w mesh.Workload) *appsv1ac.DeploymentApplyConfiguration {
	l := map[string]string{"app": w.App, "version": w.Version}
	return appsv1ac.Deployment(w.Name, mesh.Namespace).WithLabels(l).
		WithSpec(appsv1ac.DeploymentSpec().WithReplicas(1).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(l)).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(l).
				WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName(w.App).WithImage(bookinfoImage(w)).
					WithPorts(corev1ac.ContainerPort().WithContainerPort(9080))))))
}
