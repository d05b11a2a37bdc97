package kube

import (
	"cmp"
	"slices"
	"strings"

	"github.com/canary-gate/canary/bookinfo/istio"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// object is one Istio resource of the cluster with the mesh's view of it.
type object struct {
	meta *metav1.ObjectMeta
	obj  runtime.Object
	res  istio.Resource
}

// syncConfig gives the mesh every VirtualService, DestinationRule and
// Gateway the cluster holds, oldest first (Istio lets the oldest of two
// claims on a host win), and reports on each object the mesh leaves out.
func (s *Source) syncConfig() error {
	objs, err := s.istioObjects()
	if err != nil {
		return err
	}
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
			if o.res.Kind == rej.Resource.Kind && o.meta.Namespace == rej.Resource.Namespace && o.meta.Name == rej.Resource.Name {
				bad[string(o.meta.UID)] = rej.Err.Error()
				s.report(o, rej.Err.Error())
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for uid := range s.reported {
		if _, ok := bad[uid]; !ok {
			delete(s.reported, uid) // fixed or deleted: report again if it comes back
		}
	}
	return nil
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

// istioObjects lists the informers' Istio objects, oldest first.
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
	slices.SortStableFunc(objs, func(a, b object) int {
		return cmp.Or(a.meta.CreationTimestamp.Compare(b.meta.CreationTimestamp.Time),
			strings.Compare(a.meta.Namespace, b.meta.Namespace), strings.Compare(a.meta.Name, b.meta.Name))
	})
	return objs, nil
}

// resource is the mesh's view of an object. The spec points into the
// informer's cache, which the mesh never writes: it clones what it keeps.
func resource(kind string, meta metav1.ObjectMeta, spec func(*istio.Resource)) istio.Resource {
	r := istio.Resource{Kind: kind, Name: meta.Name, Namespace: meta.Namespace}
	spec(&r)
	return r
}
