// Package kube makes the local mesh the data plane of a Kubernetes cluster:
// it registers what a cluster running Bookinfo shows (Services, the ingress
// gateway's NodePort, a Node, Deployments and Pods with their istio-proxy
// containers), plays the kubelet for those pods, and keeps the mesh in step
// with the cluster: Istio's VirtualServices, DestinationRules and Gateways
// through informers, Deployment scaling and sidecar injection. Whatever the
// API server accepted but the mesh cannot route by is reported on the
// object as a Warning event, never ignored.
package kube

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/bookinfo/mesh"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	istioscheme "istio.io/client-go/pkg/clientset/versioned/scheme"
	istioinformers "istio.io/client-go/pkg/informers/externalversions"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
)

// Mesh is what the cluster steers: the local mesh's data plane.
type Mesh interface {
	Sync(rs []istio.Resource) ([]istio.Change, []istio.Rejection)
	Scale(workload string, replicas int) error
	SetSidecar(workload string, on bool) error
	Degrade(workload string, d mesh.Degradation) error
	Status() mesh.Status
}

// Names the cluster shows, as on the walkthrough's cluster.
const (
	// NodeName is the one Node every pod runs on.
	NodeName = "k8s-master-node1"
	// IngressNamespace holds the ingress gateway's and Prometheus' Services.
	IngressNamespace = "istio-system"
	// IngressService is the ingress gateway's NodePort Service.
	IngressService = "istio-ingressgateway"
	// PrometheusService is Prometheus' NodePort Service, when one is given.
	PrometheusService = "prometheus"
	// JaegerService is the Jaeger query's NodePort Service, when one is
	// given, named as Istio's Jaeger addon names it.
	JaegerService = "tracing"
	// FieldManager owns what the mesh writes, for server-side apply.
	FieldManager = "canary-bookinfo"
)

// Options say where the cluster is and what the mesh serves.
type Options struct {
	// Config reaches the API server; its credentials are never logged.
	Config *rest.Config
	// Ingress is the mesh's ingress address (127.0.0.1:PORT): PORT becomes
	// the ingress gateway's nodePort.
	Ingress string
	// TLS says the ingress serves https (port "https" instead of "http2").
	TLS bool
	// Prometheus, when set, is a Prometheus address (127.0.0.1:PORT) to
	// register as istio-system/prometheus with that nodePort.
	Prometheus string
	// Jaeger, when set, is a Jaeger query address (127.0.0.1:PORT) to
	// register as istio-system/tracing, port 80 (http-query, to the
	// query's 16686) with that nodePort, as Istio's addon has it.
	Jaeger string
	// Gateway is the mesh's Gateway API gateway address (127.0.0.1:PORT):
	// PORT becomes the nodePort of an accepted Gateway's Service.
	Gateway string
	// Ambient labels the mesh's namespace istio.io/dataplane-mode=ambient
	// and runs ztunnel's pod: the mesh's pods then run without sidecars.
	Ambient bool
	// Logf receives one line per change and per problem.
	Logf func(format string, args ...any)
}

// Source keeps a mesh in step with a cluster until Stop.
type Source struct {
	opts     Options
	mesh     Mesh
	kube     kubernetes.Interface
	istio    istioclient.Interface
	kubeInf  informers.SharedInformerFactory
	istioInf istioinformers.SharedInformerFactory
	nsInf    informers.SharedInformerFactory        // the mesh's namespace alone
	gw       gatewayclient.Interface                // nil without the Gateway API's CRDs
	gwInf    gatewayinformers.SharedInformerFactory // nil without them
	queue    workqueue.TypedRateLimitingInterface[string]
	events   record.EventBroadcaster
	recorder record.EventRecorder
	cancel   context.CancelFunc
	done     chan struct{}

	mu       sync.Mutex
	restart  map[string]bool // workloads whose pod was deleted: start a new one
	reported map[string]string
}

// queue keys: one for the whole Istio configuration, one per workload.
const configKey = "config"

func workloadKey(name string) string { return "workload/" + name }

// Start registers the mesh's objects, waits for the informers' first lists
// and brings the mesh in step with the cluster before it returns, so that
// the first request already routes by what the cluster holds.
func Start(ctx context.Context, m Mesh, opts Options) (*Source, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Source{opts: opts, mesh: m, restart: map[string]bool{}, reported: map[string]string{}, done: make(chan struct{})}
	var err error
	if s.kube, err = kubernetes.NewForConfig(opts.Config); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if s.istio, err = istioclient.NewForConfig(opts.Config); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if err := s.register(ctx); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.startEvents(runCtx)
	s.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "bookinfo"})
	if err := s.startInformers(ctx, runCtx); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.syncAll(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	go s.work(runCtx)
	return s, nil
}

// Stop stops watching and marks the mesh's pods gone from the cluster, as
// when a node goes away, so that nothing shows Ready pods nobody serves.
func (s *Source) Stop() {
	s.cancel()
	s.queue.ShutDown()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.deletePods(ctx)
	s.events.Shutdown()
}

// startEvents records Warning events on the objects the mesh cannot route
// by, through client-go's recorder (it aggregates repeats and rate-limits).
func (s *Source) startEvents(ctx context.Context) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = istioscheme.AddToScheme(scheme)
	s.events = record.NewBroadcaster(record.WithContext(ctx))
	s.events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.kube.CoreV1().Events("")})
	s.recorder = s.events.NewRecorder(scheme, corev1.EventSource{Component: FieldManager, Host: NodeName})
}

func (s *Source) startInformers(ctx, runCtx context.Context) error {
	s.kubeInf = informers.NewSharedInformerFactoryWithOptions(s.kube, 0, informers.WithNamespace(mesh.Namespace))
	s.istioInf = istioinformers.NewSharedInformerFactory(s.istio, 0)
	net := s.istioInf.Networking().V1()
	toConfig := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.queue.Add(configKey) },
		UpdateFunc: func(any, any) { s.queue.Add(configKey) },
		DeleteFunc: func(any) { s.queue.Add(configKey) },
	}
	for _, inf := range []cache.SharedIndexInformer{net.VirtualServices().Informer(), net.DestinationRules().Informer(), net.Gateways().Informer()} {
		if _, err := inf.AddEventHandler(toConfig); err != nil {
			return err
		}
	}
	// Version Services (reviews-v1) are what HTTPRoutes send to.
	if _, err := s.kubeInf.Core().V1().Services().Informer().AddEventHandler(toConfig); err != nil {
		return err
	}
	if err := s.startGatewayInformers(runCtx, toConfig); err != nil {
		return err
	}
	if err := s.startNamespaceInformer(runCtx); err != nil {
		return err
	}
	if _, err := s.kubeInf.Apps().V1().Deployments().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { s.enqueueWorkload(o) },
		UpdateFunc: func(_, o any) { s.enqueueWorkload(o) },
		DeleteFunc: func(o any) { s.enqueueWorkload(o) },
	}); err != nil {
		return err
	}
	if _, err := s.kubeInf.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, o any) { s.podUpdated(o) },
		DeleteFunc: s.podDeleted,
	}); err != nil {
		return err
	}
	s.kubeInf.Start(runCtx.Done())
	s.istioInf.Start(runCtx.Done())
	const noAnswer = "no answer before the deadline"
	if err := cachesSynced(s.kubeInf.WaitForCacheSync(ctx.Done()), noAnswer); err != nil {
		return err
	}
	if err := cachesSynced(s.nsInf.WaitForCacheSync(ctx.Done()), noAnswer); err != nil {
		return err
	}
	if s.gwInf != nil {
		if err := cachesSynced(s.gwInf.WaitForCacheSync(ctx.Done()), noAnswer); err != nil {
			return err
		}
	}
	if err := cachesSynced(s.istioInf.WaitForCacheSync(ctx.Done()), noAnswer+" (are Istio's CRDs installed?)"); err != nil {
		return err
	}
	return nil
}

// cachesSynced turns an informer factory's WaitForCacheSync answer into
// an error naming the first kind not listed, with why.
func cachesSynced(synced map[reflect.Type]bool, why string) error {
	for typ, ok := range synced {
		if !ok {
			return fmt.Errorf("list %v from the API server: %s", typ, why)
		}
	}
	return nil
}

// syncAll brings the mesh in step with everything at once.
func (s *Source) syncAll(ctx context.Context) error {
	errs := []error{s.syncConfig(ctx)}
	for _, w := range mesh.Workloads() {
		errs = append(errs, s.syncWorkload(ctx, w))
	}
	return errors.Join(errs...)
}

// work handles queued keys one at a time, so the mesh sees one change at
// a time; a failed key is retried with client-go's backoff.
func (s *Source) work(ctx context.Context) {
	defer close(s.done)
	for {
		key, shutdown := s.queue.Get()
		if shutdown {
			return
		}
		err := s.sync(ctx, key)
		if err != nil && ctx.Err() == nil {
			s.opts.Logf("cluster: %s: %v (retrying)", key, err)
			s.queue.AddRateLimited(key)
		} else {
			s.queue.Forget(key)
		}
		s.queue.Done(key)
	}
}

func (s *Source) sync(ctx context.Context, key string) error {
	if key == configKey {
		return s.syncConfig(ctx)
	}
	for _, w := range mesh.Workloads() {
		if workloadKey(w.Name) == key {
			return s.syncWorkload(ctx, w)
		}
	}
	return nil
}
