package kube

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/canary-gate/canary/bookinfo/mesh"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// injectLabel turns injection off for a workload when "false", on its pod
// template (label or annotation), as Istio's injector reads it.
const injectLabel = "sidecar.istio.io/inject"

// meshLabel marks the pods the mesh runs, so that it removes only its own.
const meshLabel = "canary.local/mesh"

func (s *Source) enqueueWorkload(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	if d, ok := o.(*appsv1.Deployment); ok {
		s.queue.Add(workloadKey(d.Name))
	}
}

// podDeleted starts a new pod when one the mesh runs is deleted, as its
// ReplicaSet would: a new name and fresh counters. A pod on a node is only
// marked for deletion (kubectl waits) until its kubelet confirms: playing
// the kubelet, syncPods then removes it for good.
func (s *Source) podDeleted(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	p, ok := o.(*corev1.Pod)
	if !ok || p.Labels[meshLabel] == "" {
		return
	}
	name := p.Labels[meshLabel]
	for _, ws := range s.mesh.Status().Workloads {
		if ws.Name == name && ws.Pod == p.Name {
			s.mu.Lock()
			s.restart[name] = true
			s.mu.Unlock()
			s.queue.Add(workloadKey(name))
		}
	}
}

// podUpdated sees a pod marked for deletion as deleted.
func (s *Source) podUpdated(o any) {
	if p, ok := o.(*corev1.Pod); ok && p.DeletionTimestamp != nil {
		s.podDeleted(p)
	}
}

// syncWorkload makes the mesh run what the workload's Deployment asks for
// (0 or 1 pod, with or without a sidecar), then writes its pod and the
// Deployment's status as a kubelet and the Deployment controller would.
func (s *Source) syncWorkload(ctx context.Context, w mesh.Workload) error {
	d, err := s.kubeInf.Apps().V1().Deployments().Lister().Deployments(mesh.Namespace).Get(w.Name)
	replicas, sidecar := 0, true
	last := s.degraded(w.Name)
	var deg mesh.Degradation
	switch {
	case apierrors.IsNotFound(err):
		d = nil // deleted: its pods go
	case err != nil:
		return err
	default:
		replicas, sidecar = desired(d)
		sidecar = sidecar && !s.ambientNamespace() // ztunnel captures ambient pods: nothing is injected
		if deg, err = degradation(d, w.App); err != nil {
			// A kubelet would start the container and the app would
			// refuse its environment; the mesh keeps the last build.
			s.recorder.Eventf(d, corev1.EventTypeWarning, "InvalidDegradation", "%v", err)
			deg = last
		}
		if d.Spec.Replicas != nil && *d.Spec.Replicas > 1 {
			s.recorder.Eventf(d, corev1.EventTypeWarning, "NotImplemented", "the local mesh runs one pod per workload: running 1 of %d", *d.Spec.Replicas)
		}
	}
	s.mu.Lock()
	restart := s.restart[w.Name]
	delete(s.restart, w.Name)
	s.mu.Unlock()
	// A new environment is a new pod template: Kubernetes rolls out a new
	// pod, and so does the mesh.
	if deg != last {
		restart = true
	}
	if restart {
		if err := s.mesh.Scale(w.Name, 0); err != nil {
			return err
		}
	}
	if err := s.mesh.Degrade(w.Name, deg); err != nil {
		return err
	}
	if err := s.mesh.SetSidecar(w.Name, sidecar); err != nil {
		return err
	}
	if err := s.mesh.Scale(w.Name, replicas); err != nil {
		return err
	}
	pod, err := s.syncPods(ctx, w)
	if err != nil || d == nil {
		return err
	}
	return s.syncDeploymentStatus(ctx, d, pod != "")
}

// desired reads replicas (0 or 1) and injection from a Deployment.
func desired(d *appsv1.Deployment) (replicas int, sidecar bool) {
	replicas = 1
	if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
		replicas = 0
	}
	t := d.Spec.Template
	sidecar = t.Labels[injectLabel] != "false" && t.Annotations[injectLabel] != "false"
	return replicas, sidecar
}

// The environment variables that make a workload's app a bad build, as
// kubectl set env deployment/reviews-v3 BOOKINFO_DELAY=5ms
// BOOKINFO_ERROR_RATE=2 sets them: a Go duration, and a percent of
// requests answered 503 (see mesh.Degradation).
const (
	envDelay     = "BOOKINFO_DELAY"
	envErrorRate = "BOOKINFO_ERROR_RATE"
)

// degradation reads a Deployment's degradation from the environment of its
// app container (the one named after the app, else the first).
func degradation(d *appsv1.Deployment, app string) (mesh.Degradation, error) {
	cs := d.Spec.Template.Spec.Containers
	var c *corev1.Container
	for i := range cs {
		if cs[i].Name == app || c == nil {
			c = &cs[i]
		}
	}
	var deg mesh.Degradation
	if c == nil {
		return deg, nil
	}
	for _, e := range c.Env {
		var err error
		switch e.Name {
		case envDelay:
			deg.Delay, err = time.ParseDuration(e.Value)
		case envErrorRate:
			deg.ErrorRate, err = strconv.ParseFloat(e.Value, 64)
			deg.ErrorRate /= 100
		}
		if err != nil {
			return mesh.Degradation{}, fmt.Errorf("container %s: env %s=%q: want a duration such as 5ms for %s and a percent such as 2 for %s",
				c.Name, e.Name, e.Value, envDelay, envErrorRate)
		}
	}
	if err := deg.Validate(); err != nil {
		return mesh.Degradation{}, fmt.Errorf("container %s: %s/%s: %w", c.Name, envDelay, envErrorRate, err)
	}
	return deg, nil
}

// degraded is the mesh's current degradation of a workload.
func (s *Source) degraded(name string) mesh.Degradation {
	for _, ws := range s.mesh.Status().Workloads {
		if ws.Name == name && ws.Degraded != nil {
			return *ws.Degraded
		}
	}
	return mesh.Degradation{}
}

// syncPods leaves exactly the mesh's running pod of w in the cluster, and
// returns its name ("" when scaled to 0).
func (s *Source) syncPods(ctx context.Context, w mesh.Workload) (string, error) {
	var cur mesh.WorkloadStatus
	for _, ws := range s.mesh.Status().Workloads {
		if ws.Name == w.Name {
			cur = ws
		}
	}
	listed, err := s.kubeInf.Core().V1().Pods().Lister().Pods(mesh.Namespace).List(labels.SelectorFromSet(labels.Set{meshLabel: w.Name}))
	if err != nil {
		return "", err
	}
	var errs []error
	have := false
	for _, p := range listed {
		if p.Name == cur.Pod && hasSidecar(p) == cur.Sidecar && p.DeletionTimestamp == nil {
			have = true
			continue
		}
		err := s.kube.CoreV1().Pods(mesh.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete pod %s: %w", p.Name, err))
		}
	}
	if cur.Pod != "" && !have {
		errs = append(errs, s.createPod(ctx, w, cur))
	}
	return cur.Pod, errors.Join(errs...)
}

// degradationEnv is the app container's environment for a degraded build.
func degradationEnv(d *mesh.Degradation) []corev1.EnvVar {
	if d == nil {
		return nil
	}
	var env []corev1.EnvVar
	if d.Delay > 0 {
		env = append(env, corev1.EnvVar{Name: envDelay, Value: d.Delay.String()})
	}
	if d.ErrorRate > 0 {
		env = append(env, corev1.EnvVar{Name: envErrorRate, Value: strconv.FormatFloat(100*d.ErrorRate, 'f', -1, 64)})
	}
	return env
}

func hasSidecar(p *corev1.Pod) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == "istio-proxy" {
			return true
		}
	}
	return false
}

// createPod writes the mesh's pod of a workload, with istio-proxy when
// injected and the labels Istio's injector adds.
func (s *Source) createPod(ctx context.Context, w mesh.Workload, ws mesh.WorkloadStatus) error {
	containers := []corev1.Container{{Name: w.App, Image: bookinfoImage(w), Ports: []corev1.ContainerPort{{ContainerPort: 9080}}, Env: degradationEnv(ws.Degraded)}}
	labels := map[string]string{"app": w.App, "version": w.Version, meshLabel: w.Name,
		"service.istio.io/canonical-name": w.App, "service.istio.io/canonical-revision": w.Version}
	var annotations map[string]string
	switch {
	case ws.Sidecar:
		containers = append(containers, corev1.Container{Name: "istio-proxy", Image: proxyImage, Args: []string{"proxy", "sidecar"}})
		labels["security.istio.io/tlsMode"] = "istio"
	case s.ambientNamespace():
		annotations = map[string]string{"ambient.istio.io/redirection": "enabled"} // as Istio's CNI marks a captured pod
	}
	_, err := s.runPod(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: ws.Pod, Namespace: mesh.Namespace, Labels: labels, Annotations: annotations},
		Spec:       corev1.PodSpec{NodeName: NodeName, Containers: containers},
	})
	return err
}

// runPod creates pod on the node and then writes its status as the kubelet
// would: Running and Ready with every container started, at 127.0.0.1. It
// returns the pod's name (nil when an earlier sync created it already).
func (s *Source) runPod(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	pods := s.kube.CoreV1().Pods(pod.Namespace)
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{FieldManager: FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return nil, nil // created by an earlier sync that the informer has not shown yet
	}
	if err != nil {
		return nil, fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name+pod.GenerateName, err)
	}
	now := metav1.Now()
	st := corev1.PodStatus{Phase: corev1.PodRunning, HostIP: "127.0.0.1", PodIP: "127.0.0.1", StartTime: &now,
		HostIPs: []corev1.HostIP{{IP: "127.0.0.1"}}, PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}}}
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, c := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: new(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	created.Status = st
	running, err := pods.UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: FieldManager})
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s status: %w", created.Namespace, created.Name, err)
	}
	return running, nil
}

// syncDeploymentStatus writes the replica counts the Deployment controller
// would, so that `kubectl get deploy` and rollout checks read them.
func (s *Source) syncDeploymentStatus(ctx context.Context, d *appsv1.Deployment, running bool) error {
	n := int32(0)
	if running {
		n = 1
	}
	st := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
	cond := appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
		Message: "Deployment has minimum availability."}
	st.Conditions = []appsv1.DeploymentCondition{cond}
	if same(d.Status, st) {
		return nil
	}
	d = d.DeepCopy()
	now := metav1.Now()
	st.Conditions[0].LastUpdateTime, st.Conditions[0].LastTransitionTime = now, now
	d.Status = st
	_, err := s.kube.AppsV1().Deployments(mesh.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{FieldManager: FieldManager})
	if err != nil {
		return fmt.Errorf("deployment %s status: %w", d.Name, err)
	}
	return nil
}

func same(a, b appsv1.DeploymentStatus) bool {
	return a.ObservedGeneration == b.ObservedGeneration && a.Replicas == b.Replicas && a.ReadyReplicas == b.ReadyReplicas &&
		a.AvailableReplicas == b.AvailableReplicas && a.UpdatedReplicas == b.UpdatedReplicas && len(a.Conditions) == 1
}

// deletePods removes the mesh's pods (the ingress gateway's too), when it
// stops or before it registers new ones.
func (s *Source) deletePods(ctx context.Context) {
	for _, ns := range []string{mesh.Namespace, IngressNamespace} {
		err := s.kube.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)},
			metav1.ListOptions{LabelSelector: meshLabel})
		if err != nil {
			s.opts.Logf("cluster: remove the mesh's pods in %s: %v", ns, strings.TrimSpace(err.Error()))
		}
	}
}
