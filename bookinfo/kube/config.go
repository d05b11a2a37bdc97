package kube

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/canary-gate/canary/bookinfo/istio"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// object is one Istio resource of the cluster with the mesh's view of it.
type object struct {
	meta *metav1.ObjectMeta
	obj  runtime.Object
	res  istio.Resource
}

// syncConfig gives the mesh every VirtualService, DestinationRule and
// Gateway the cluster holds, and the Gateway API's Gateways, HTTPRoutes and
// version Services, oldest first (Istio lets the oldest of two claims on a
// host win), reports on each object the mesh leaves out, and deploys the
// accepted Gateway API Gateway and the waypoints. The mesh namespace's
// labels go with them (ambient mode, the waypoint it uses).
func (s *Source) syncConfig(ctx context.Context) error {
	objs, err := s.istioObjects()
	if err != nil {
		return err
	}
	kubeObjs, err := s.gatewayObjects()
	if err != nil {
		return err
	}
	objs = append(objs, kubeObjs...)
	objs = append(objs, s.namespaceObject()...)
	sortOldestFirst(objs)
	rs := make([]istio.Resource, len(objs))
	for i, o := range objs {
		rs[i] = o.res
	}
	changes, rejected := s.mesh.Sync(rs)
	for _, ch := range changes {
		s.opts.Logf("cluster: %s", ch)
	}
	bad := map[string]string{}
	for _, rej := range rejected {
		for _, o := range objs {
			if sameObject(o.res, rej.Resource) {
				bad[string(o.meta.UID)] = rej.Err.Error()
				s.report(o, rej.Err.Error())
			}
		}
	}
	s.mu.Lock()
	for uid := range s.reported {
		if _, ok := bad[uid]; !ok {
			delete(s.reported, uid) // fixed or deleted: report again if it comes back
		}
	}
	s.mu.Unlock()
	var accepted *gatewayv1.Gateway
	var waypoints []*gatewayv1.Gateway
	for _, o := range objs {
		g, ok := o.obj.(*gatewayv1.Gateway)
		switch {
		case !ok:
		case bad[string(o.meta.UID)] != "":
			if err := s.writeGatewayRejected(ctx, g, bad[string(o.meta.UID)]); err != nil {
				return err
			}
		case g.Spec.GatewayClassName == istio.WaypointClass:
			waypoints = append(waypoints, g)
		case accepted == nil:
			accepted = g
		}
	}
	if err := s.writeRouteStatus(ctx, objs, bad); err != nil {
		return err
	}
	if err := s.syncWaypoints(ctx, waypoints); err != nil {
		return err
	}
	return s.syncGatewayDeployment(ctx, accepted)
}

// sameObject reports whether two resources name the same object.
func sameObject(a, b istio.Resource) bool {
	return a.Kind == b.Kind && a.Group == b.Group && a.Namespace == b.Namespace && a.Name == b.Name
}

// sortOldestFirst orders objects by creation, then namespace and name.
func sortOldestFirst(objs []object) {
	slices.SortStableFunc(objs, func(a, b object) int {
		return cmp.Or(a.meta.CreationTimestamp.Compare(b.meta.CreationTimestamp.Time),
			strings.Compare(a.meta.Namespace, b.meta.Namespace), strings.Compare(a.meta.Name, b.meta.Name))
	})
}

// report tells once per message, on the object (a Warning event, as
// `kubectl describe` shows) and in the log, that the mesh does not route by it.
func (s *Source) report(o object, msg string) {
	s.mu.Lock()
	seen := s.reported[string(o.meta.UID)] == msg
	s.reported[string(o.meta.UID)] = msg
	s.mu.Unlock()
	if seen {
		return
	}
	s.opts.Logf("cluster: %s %s/%s is not routed by the local mesh: %s", o.res.Kind, o.meta.Namespace, o.meta.Name, msg)
	s.recorder.Event(o.obj, corev1.EventTypeWarning, "NotImplemented", "not routed by the local mesh: "+msg)
}

// istioObjects lists the informers' Istio objects.
func (s *Source) istioObjects() ([]object, error) {
	net := s.istioInf.Networking().V1()
	var objs []object
	gws, err := net.Gateways().Lister().List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, g := range gws {
		objs = append(objs, object{&g.ObjectMeta, g, resource("Gateway", g.ObjectMeta, func(r *istio.Resource) { r.Gateway = &g.Spec })})
	}
	drs, err := net.DestinationRules().Lister().List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, d := range drs {
		objs = append(objs, object{&d.ObjectMeta, d, resource("DestinationRule", d.ObjectMeta, func(r *istio.Resource) { r.DestinationRule = &d.Spec })})
	}
	vss, err := net.VirtualServices().Lister().List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, v := range vss {
		objs = append(objs, object{&v.ObjectMeta, v, resource("VirtualService", v.ObjectMeta, func(r *istio.Resource) { r.VirtualService = &v.Spec })})
	}
	return objs, nil
}

// resource is the mesh's view of an object. The spec points into the
// informer's cache, which the mesh never writes: it clones what it keeps.
func resource(kind string, meta metav1.ObjectMeta, spec func(*istio.Resource)) istio.Resource {
	r := istio.Resource{Kind: kind, Name: meta.Name, Namespace: meta.Namespace, Created: meta.CreationTimestamp.Time}
	spec(&r)
	return r
}
