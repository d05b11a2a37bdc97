package kube

import (
	"context"
	"fmt"
	"slices"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/bookinfo/mesh"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Ambient mode on the cluster, as Istio's control plane sees it: the
// namespace's labels (istio.io/dataplane-mode, istio.io/use-waypoint) go to
// the mesh with the routes; in an ambient namespace pods get no sidecar
// (ztunnel captures them, so Istio's injector leaves them alone); a Gateway
// of class istio-waypoint gets the Deployment and Service Istio runs for a
// waypoint, and its status.

// startNamespaceInformer watches the mesh's namespace: its labels steer
// routing and injection.
func (s *Source) startNamespaceInformer(runCtx context.Context) error {
	s.nsInf = informers.NewSharedInformerFactoryWithOptions(s.kube, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = "metadata.name=" + mesh.Namespace
	}))
	all := func(any) {
		s.queue.Add(configKey)
		for _, w := range mesh.Workloads() {
			s.queue.Add(workloadKey(w.Name))
		}
	}
	if _, err := s.nsInf.Core().V1().Namespaces().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: all, UpdateFunc: func(_, o any) { all(o) }, DeleteFunc: all,
	}); err != nil {
		return err
	}
	s.nsInf.Start(runCtx.Done())
	return nil
}

// namespace is the mesh's namespace from the informer, nil while it is
// not listed.
func (s *Source) namespace() *corev1.Namespace {
	n, err := s.nsInf.Core().V1().Namespaces().Lister().Get(mesh.Namespace)
	if err != nil {
		return nil
	}
	return n
}

// namespaceObject is the mesh namespace as an object the mesh routes by.
func (s *Source) namespaceObject() []object {
	n := s.namespace()
	if n == nil {
		return nil
	}
	return []object{{&n.ObjectMeta, n, istio.NamespaceResource(n.Labels)}}
}

// ambientNamespace tells whether the mesh's namespace is in ambient mode.
func (s *Source) ambientNamespace() bool {
	n := s.namespace()
	return n != nil && n.Labels[istio.DataplaneModeLabel] == "ambient"
}

// labelNamespace gives the mesh's namespace the ambient label when the
// mesh runs in ambient mode (serve --ambient), and takes back the one an
// earlier run wrote otherwise: server-side apply removes what this manager
// no longer says, never a label kubectl set.
func (s *Source) labelNamespace(ctx context.Context) error {
	ns := corev1ac.Namespace(mesh.Namespace)
	if s.opts.Ambient {
		ns = ns.WithLabels(map[string]string{istio.DataplaneModeLabel: "ambient"})
	}
	if _, err := s.kube.CoreV1().Namespaces().Apply(ctx, ns, apply); err != nil {
		return fmt.Errorf("label namespace %s: %w", mesh.Namespace, err)
	}
	return nil
}

// registerZtunnelPod runs the node's ztunnel (a DaemonSet pod of
// istio-system) when the mesh runs in ambient mode.
func (s *Source) registerZtunnelPod(ctx context.Context) error {
	if !s.opts.Ambient {
		return nil
	}
	_, err := s.runPod(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "ztunnel-", Namespace: IngressNamespace,
			Labels: map[string]string{"app": "ztunnel", "sidecar.istio.io/inject": "false", meshLabel: "ztunnel"}},
		Spec: corev1.PodSpec{NodeName: NodeName, Containers: []corev1.Container{
			{Name: "istio-proxy", Image: "docker.io/istio/ztunnel:1.28.0", Args: []string{"proxy", "ztunnel"}},
		}},
	})
	return err
}

// waypointLabel marks what the mesh runs for a waypoint.
const waypointLabel = "canary.local/waypoint"

// syncWaypoints gives each waypoint Gateway the Service and pod Istio runs
// for it and its status, and removes what a deleted one had.
func (s *Source) syncWaypoints(ctx context.Context, waypoints []*gatewayv1.Gateway) error {
	if s.gwInf == nil {
		return nil
	}
	svcs := s.kube.CoreV1().Services(mesh.Namespace)
	old, err := svcs.List(ctx, metav1.ListOptions{LabelSelector: waypointLabel})
	if err != nil {
		return fmt.Errorf("list waypoint services: %w", err)
	}
	want := map[string]bool{}
	for _, g := range waypoints {
		want[g.Name] = true
	}
	for _, o := range old.Items {
		if !want[o.Name] {
			if err := svcs.Delete(ctx, o.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete service %s: %w", o.Name, err)
			}
			s.deleteGatewayPods(ctx, o.Name)
		}
	}
	for _, g := range waypoints {
		l := map[string]string{gatewayLabel: g.Name, waypointLabel: g.Name, "gateway.istio.io/managed": "istio.io-mesh-controller"}
		svc := corev1ac.Service(g.Name, mesh.Namespace).WithLabels(l).
			WithSpec(corev1ac.ServiceSpec().WithType(corev1.ServiceTypeClusterIP).WithSelector(map[string]string{gatewayLabel: g.Name}).
				WithPorts(corev1ac.ServicePort().WithName("mesh").WithPort(15008).WithTargetPort(intstr.FromInt32(15008)),
					corev1ac.ServicePort().WithName("status-port").WithPort(15021).WithTargetPort(intstr.FromInt32(15021))))
		if _, err := svcs.Apply(ctx, svc, apply); err != nil {
			return fmt.Errorf("register service %s: %w", g.Name, err)
		}
		if err := s.runGatewayPod(ctx, g.Name, "waypoint", map[string]string{gatewayLabel: g.Name, meshLabel: g.Name, "gateway.istio.io/managed": "istio.io-mesh-controller"}); err != nil {
			return err
		}
		if err := s.writeWaypointStatus(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// writeWaypointStatus writes what Istio reports on a waypoint it runs:
// its Service's address, Accepted and Programmed. It writes only a change.
func (s *Source) writeWaypointStatus(ctx context.Context, g *gatewayv1.Gateway) error {
	want := g.DeepCopy()
	host := g.Name + "." + mesh.Namespace + ".svc.cluster.local"
	want.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: new(gatewayv1.HostnameAddressType), Value: host}}
	want.Status.Conditions = slices.Clone(g.Status.Conditions) // the cache's: never written
	for _, c := range []struct{ typ, reason, msg string }{
		{string(gatewayv1.GatewayConditionAccepted), string(gatewayv1.GatewayReasonAccepted), "Resource accepted"},
		{string(gatewayv1.GatewayConditionProgrammed), string(gatewayv1.GatewayReasonProgrammed),
			"Resource programmed, assigned to service(s) " + host + ":15008 (the local mesh's waypoint)"},
	} {
		meta.SetStatusCondition(&want.Status.Conditions, metav1.Condition{Type: c.typ, Status: metav1.ConditionTrue,
			Reason: c.reason, Message: c.msg, ObservedGeneration: g.Generation})
	}
	return s.putGatewayStatus(ctx, g, want)
}

// NamesWaypoint reports whether a Service's labels choose its waypoint:
// the mesh then takes them in, for Bookinfo's own Services too.
func NamesWaypoint(svc *corev1.Service) bool {
	_, ok := svc.Labels[istio.UseWaypointLabel]
	_, ns := svc.Labels[istio.UseWaypointNamespaceLabel]
	return ok || ns
}

// writeGatewayRejected writes what Istio's controller reports on a Gateway
// (or waypoint) it cannot run: Accepted and Programmed False, with the
// mesh's reason, so that `kubectl wait --for=condition=programmed` and
// canary check say why instead of waiting for a status that never comes.
func (s *Source) writeGatewayRejected(ctx context.Context, g *gatewayv1.Gateway, msg string) error {
	want := g.DeepCopy()
	want.Status.Conditions = slices.Clone(g.Status.Conditions) // the cache's: never written
	for _, typ := range []gatewayv1.GatewayConditionType{gatewayv1.GatewayConditionAccepted, gatewayv1.GatewayConditionProgrammed} {
		meta.SetStatusCondition(&want.Status.Conditions, metav1.Condition{Type: string(typ), Status: metav1.ConditionFalse,
			Reason: string(gatewayv1.GatewayReasonInvalid), Message: "not run by the local mesh: " + msg, ObservedGeneration: g.Generation})
	}
	if err := s.putGatewayStatus(ctx, g, want); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}
