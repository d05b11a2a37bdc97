package kube

import (
	"context"
	"fmt"
	"slices"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/bookinfo/mesh"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
)

// The Gateway API side of the cluster, as Istio's controller handles it:
// Gateways of class istio and HTTPRoutes steer the mesh like the Istio kinds;
// for an accepted Gateway the mesh's Gateway API gateway becomes its
// Deployment, with the Service Istio creates (NAME-istio, a NodePort here,
// as with the annotation networking.istio.io/service-type: NodePort) and
// the status Istio writes (Accepted, Programmed, the address).

// ControllerName is the controller of GatewayClass istio, as Istio names
// itself in Gateway and HTTPRoute status; MeshControllerName the one of
// mesh (Service-parent) routes and waypoints.
const (
	ControllerName     = "istio.io/gateway-controller"
	MeshControllerName = "istio.io/mesh-controller"
)

// gatewayClassName is the class the mesh programs.
const gatewayClassName = "istio"

// hasGatewayAPI reports whether the API server serves the Gateway API's v1
// kinds: without its CRDs the mesh routes by the Istio kinds alone.
func (s *Source) hasGatewayAPI() (bool, error) {
	_, err := s.kube.Discovery().ServerResourcesForGroupVersion(gatewayv1.GroupVersion.String())
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("discover %s: %w", gatewayv1.GroupVersion, err)
	}
	return true, nil
}

// startGatewayInformers watches Gateways and HTTPRoutes, when served.
func (s *Source) startGatewayInformers(runCtx context.Context, toConfig cache.ResourceEventHandler) error {
	ok, err := s.hasGatewayAPI()
	if err != nil || !ok {
		if err == nil {
			s.opts.Logf("cluster: no Gateway API CRDs (%s): Gateways and HTTPRoutes are not watched", gatewayv1.GroupVersion)
		}
		return err
	}
	if s.gw, err = gatewayclient.NewForConfig(s.opts.Config); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	s.gwInf = gatewayinformers.NewSharedInformerFactory(s.gw, 0)
	for _, inf := range []cache.SharedIndexInformer{s.gwInf.Gateway().V1().Gateways().Informer(), s.gwInf.Gateway().V1().HTTPRoutes().Informer()} {
		if _, err := inf.AddEventHandler(toConfig); err != nil {
			return err
		}
	}
	s.gwInf.Start(runCtx.Done())
	return nil
}

// gatewayObjects lists the Gateway API objects the mesh routes by: Gateways
// of class istio and istio-waypoint (Istio leaves other classes to their
// controllers), every
// HTTPRoute, the Services of the mesh's namespace that select one of
// Bookinfo's apps under another name (reviews-v1: bookinfo-versions.yaml),
// and Bookinfo's own Services when their labels name a waypoint.
func (s *Source) gatewayObjects() ([]object, error) {
	var objs []object
	svcs, err := s.kubeInf.Core().V1().Services().Lister().Services(mesh.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, svc := range svcs {
		if !IsVersionService(svc) && !NamesWaypoint(svc) {
			continue
		}
		objs = append(objs, object{&svc.ObjectMeta, svc, resource("Service", svc.ObjectMeta, func(r *istio.Resource) {
			r.Service, r.Labels = &svc.Spec, svc.Labels
		})})
	}
	if s.gwInf == nil {
		return objs, nil
	}
	gws, err := s.gwInf.Gateway().V1().Gateways().Lister().List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, g := range gws {
		if g.Spec.GatewayClassName != gatewayClassName && g.Spec.GatewayClassName != istio.WaypointClass {
			continue
		}
		objs = append(objs, object{&g.ObjectMeta, g, resource("Gateway", g.ObjectMeta, func(r *istio.Resource) {
			r.Group, r.K8sGateway = istio.GroupGatewayAPI, &g.Spec
		})})
	}
	routes, err := s.gwInf.Gateway().V1().HTTPRoutes().Lister().List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, h := range routes {
		objs = append(objs, object{&h.ObjectMeta, h, resource("HTTPRoute", h.ObjectMeta, func(r *istio.Resource) {
			r.Group, r.HTTPRoute = istio.GroupGatewayAPI, &h.Spec
		})})
	}
	return objs, nil
}

// IsVersionService reports whether svc selects pods of one of Bookinfo's
// apps under a name of its own: those are the backends HTTPRoutes name.
func IsVersionService(svc *corev1.Service) bool {
	app := svc.Spec.Selector["app"]
	return app != "" && svc.Name != app && slices.ContainsFunc(mesh.Workloads(), func(w mesh.Workload) bool { return w.App == app })
}

// syncGatewayDeployment gives the accepted Gateway (none, or the one of
// gws the mesh did not reject) its Service, pod and status, and removes
// what an earlier Gateway had.
func (s *Source) syncGatewayDeployment(ctx context.Context, accepted *gatewayv1.Gateway) error {
	if s.gwInf == nil {
		return nil
	}
	svcs := s.kube.CoreV1().Services(mesh.Namespace)
	old, err := svcs.List(ctx, metav1.ListOptions{LabelSelector: gatewayLabel + ",!" + waypointLabel})
	if err != nil {
		return fmt.Errorf("list gateway services: %w", err)
	}
	for _, o := range old.Items {
		if accepted == nil || o.Name != gatewayService(accepted.Name) {
			if err := svcs.Delete(ctx, o.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete service %s: %w", o.Name, err)
			}
			s.deleteGatewayPods(ctx, o.Labels[gatewayLabel])
		}
	}
	if accepted == nil {
		return nil
	}
	port, err := nodePort("gateway", s.opts.Gateway)
	if err != nil {
		return err
	}
	l := map[string]string{gatewayLabel: accepted.Name, "gateway.istio.io/managed": "istio.io-gateway-controller"}
	svc := corev1ac.Service(gatewayService(accepted.Name), mesh.Namespace).WithLabels(l).
		WithSpec(corev1ac.ServiceSpec().WithType(corev1.ServiceTypeNodePort).WithSelector(map[string]string{gatewayLabel: accepted.Name}).
			WithPorts(corev1ac.ServicePort().WithName("http").WithPort(80).WithTargetPort(intstr.FromInt32(80)).WithNodePort(port)))
	if _, err := svcs.Apply(ctx, svc, apply); err != nil {
		return fmt.Errorf("register service %s: %w", *svc.Name, err)
	}
	if err := s.runGatewayPod(ctx, accepted.Name, "router", map[string]string{gatewayLabel: accepted.Name, meshLabel: gatewayService(accepted.Name)}); err != nil {
		return err
	}
	return s.writeGatewayStatus(ctx, accepted)
}

// runGatewayPod runs the pod Istio deploys for a Gateway or a waypoint
// (role is its Envoy's: router or waypoint), unless one runs already. Its
// labels name the Gateway (gatewayLabel) and the pod's name (meshLabel).
func (s *Source) runGatewayPod(ctx context.Context, gateway, role string, labels map[string]string) error {
	pods, err := s.kube.CoreV1().Pods(mesh.Namespace).List(ctx, metav1.ListOptions{LabelSelector: gatewayLabel + "=" + gateway})
	if err != nil {
		return fmt.Errorf("list gateway pods: %w", err)
	}
	if len(pods.Items) > 0 {
		return nil
	}
	_, err = s.runPod(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: labels[meshLabel] + "-", Namespace: mesh.Namespace, Labels: labels},
		Spec: corev1.PodSpec{NodeName: NodeName, Containers: []corev1.Container{
			{Name: "istio-proxy", Image: proxyImage, Args: []string{"proxy", role}},
		}},
	})
	return err
}

// gatewayLabel is the label Istio puts on a Gateway's Deployment, pods and
// Service: the Gateway's name.
const gatewayLabel = "gateway.networking.k8s.io/gateway-name"

// gatewayService is the Service Istio creates for a Gateway.
func gatewayService(gateway string) string { return gateway + "-istio" }

func (s *Source) deleteGatewayPods(ctx context.Context, gateway string) {
	if gateway == "" {
		return
	}
	err := s.kube.CoreV1().Pods(mesh.Namespace).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)},
		metav1.ListOptions{LabelSelector: gatewayLabel + "=" + gateway})
	if err != nil {
		s.opts.Logf("cluster: remove the pods of gateway %s: %v", gateway, err)
	}
}

// writeGatewayStatus writes what Istio's controller reports on a Gateway it
// programmed: its address (the Service's name, as for a NodePort Service)
// and Accepted and Programmed, for the Gateway and each listener. It writes
// only a change, so that its own update does not start another sync.
func (s *Source) writeGatewayStatus(ctx context.Context, g *gatewayv1.Gateway) error {
	want := g.DeepCopy()
	host := gatewayService(g.Name) + "." + mesh.Namespace + ".svc.cluster.local"
	want.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: new(gatewayv1.HostnameAddressType), Value: host}}
	cond := func(conds *[]metav1.Condition, typ, reason, msg string) {
		meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason,
			Message: msg, ObservedGeneration: g.Generation})
	}
	cond(&want.Status.Conditions, string(gatewayv1.GatewayConditionAccepted), string(gatewayv1.GatewayReasonAccepted), "Resource accepted")
	cond(&want.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed), string(gatewayv1.GatewayReasonProgrammed),
		"Resource programmed, assigned to service(s) "+host+":80 (the local mesh's Gateway API gateway)")
	want.Status.Listeners = nil
	for _, l := range g.Spec.Listeners {
		ls := gatewayv1.ListenerStatus{Name: l.Name, SupportedKinds: []gatewayv1.RouteGroupKind{{Group: new(gatewayv1.Group(gatewayv1.GroupName)), Kind: "HTTPRoute"}}}
		for _, old := range g.Status.Listeners {
			if old.Name == l.Name {
				// A copy: the old status is the informer cache's, never written.
				ls.Conditions, ls.AttachedRoutes = slices.Clone(old.Conditions), old.AttachedRoutes
			}
		}
		cond(&ls.Conditions, string(gatewayv1.ListenerConditionAccepted), string(gatewayv1.ListenerReasonAccepted), "No errors found")
		cond(&ls.Conditions, string(gatewayv1.ListenerConditionProgrammed), string(gatewayv1.ListenerReasonProgrammed), "No errors found")
		want.Status.Listeners = append(want.Status.Listeners, ls)
	}
	return s.putGatewayStatus(ctx, g, want)
}

// putGatewayStatus writes want's status on g when it differs, compared as
// SetStatusCondition leaves conditions (a condition keeps its time unless
// its status changed), so that the mesh's own update does not start
// another sync.
func (s *Source) putGatewayStatus(ctx context.Context, g, want *gatewayv1.Gateway) error {
	if equality.Semantic.DeepEqual(g.Status, want.Status) {
		return nil
	}
	if _, err := s.gw.GatewayV1().Gateways(g.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("gateway %s/%s status: %w", g.Namespace, g.Name, err)
	}
	return nil
}

// writeRouteStatus writes, for each parent of each HTTPRoute, what Istio's
// controller reports: Accepted (False with the mesh's reason when it left
// the route out) and ResolvedRefs (False when a backend Service is not
// there: such requests fail). It writes only a change.
func (s *Source) writeRouteStatus(ctx context.Context, objs []object, bad map[string]string) error {
	if s.gw == nil {
		return nil
	}
	services := map[string]bool{}
	for _, w := range mesh.Workloads() {
		services[w.App] = true
	}
	for _, o := range objs {
		if svc, ok := o.obj.(*corev1.Service); ok {
			services[svc.Name] = true
		}
	}
	for _, o := range objs {
		r, ok := o.obj.(*gatewayv1.HTTPRoute)
		if !ok {
			continue
		}
		want := r.DeepCopy()
		want.Status.Parents = nil
		accepted := metav1.Condition{Type: string(gatewayv1.RouteConditionAccepted), Status: metav1.ConditionTrue,
			Reason: string(gatewayv1.RouteReasonAccepted), Message: "Route was valid", ObservedGeneration: r.Generation}
		if msg := bad[string(r.UID)]; msg != "" {
			accepted.Status, accepted.Reason, accepted.Message = metav1.ConditionFalse, string(gatewayv1.RouteReasonUnsupportedValue), "not routed by the local mesh: "+msg
		}
		resolved := metav1.Condition{Type: string(gatewayv1.RouteConditionResolvedRefs), Status: metav1.ConditionTrue,
			Reason: string(gatewayv1.RouteReasonResolvedRefs), Message: "All references resolved", ObservedGeneration: r.Generation}
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				if !services[string(b.Name)] && resolved.Status == metav1.ConditionTrue {
					resolved.Status, resolved.Reason = metav1.ConditionFalse, string(gatewayv1.RouteReasonBackendNotFound)
					resolved.Message = fmt.Sprintf("backend(%s.%s.svc.cluster.local) not found", b.Name, r.Namespace)
				}
			}
		}
		for _, p := range r.Spec.ParentRefs {
			controller := gatewayv1.GatewayController(ControllerName)
			if p.Kind != nil && *p.Kind == "Service" {
				controller = MeshControllerName
			}
			ps := gatewayv1.RouteParentStatus{ParentRef: p, ControllerName: controller}
			for _, old := range r.Status.Parents {
				if equality.Semantic.DeepEqual(old.ParentRef, p) && old.ControllerName == controller {
					ps.Conditions = slices.Clone(old.Conditions) // the cache's: never written
				}
			}
			meta.SetStatusCondition(&ps.Conditions, accepted)
			meta.SetStatusCondition(&ps.Conditions, resolved)
			want.Status.Parents = append(want.Status.Parents, ps)
		}
		if equality.Semantic.DeepEqual(r.Status, want.Status) {
			continue
		}
		if _, err := s.gw.GatewayV1().HTTPRoutes(r.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("httproute %s/%s status: %w", r.Namespace, r.Name, err)
		}
	}
	return nil
}
