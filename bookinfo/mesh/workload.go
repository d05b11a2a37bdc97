package mesh

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
)

// Namespace is the Kubernetes namespace the local mesh pretends to run in.
const Namespace = "default"

// servicePort is the port every Bookinfo service listens on in Kubernetes. It
// appears in Host headers and in the destination_service label.
const servicePort = 9080

// workloadSpec describes one Deployment of the Bookinfo sample.
type workloadSpec struct {
	Name    string // Deployment name, e.g. "reviews-v2"
	App     string // Service and "app" label, e.g. "reviews"
	Version string // "version" label, e.g. "v2"
}

// workloads are the Deployments of Bookinfo after the walkthrough deployed
// reviews v2 and v3, in the order status output lists them.
var workloads = []workloadSpec{
	{"productpage-v1", "productpage", "v1"},
	{"details-v1", "details", "v1"},
	{"ratings-v1", "ratings", "v1"},
	{"reviews-v1", "reviews", "v1"},
	{"reviews-v2", "reviews", "v2"},
	{"reviews-v3", "reviews", "v3"},
}

// WorkloadNames lists the workloads of the local mesh.
func WorkloadNames() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.Name
	}
	return names
}

func lookupWorkload(name string) (workloadSpec, error) {
	for _, w := range workloads {
		if w.Name == name {
			return w, nil
		}
	}
	return workloadSpec{}, fmt.Errorf("unknown workload %q (want one of %s)", name, strings.Join(WorkloadNames(), ", "))
}

// serviceNames lists the Kubernetes Services of the mesh, sorted.
func serviceNames() []string {
	var s []string
	for _, w := range workloads {
		if !slices.Contains(s, w.App) {
			s = append(s, w.App)
		}
	}
	slices.Sort(s)
	return s
}

// fqdn is the cluster-local name Istio puts in destination_service.
func fqdn(service string) string {
	return service + "." + Namespace + ".svc.cluster.local"
}

// podName makes a name of the shape Kubernetes gives Deployment pods
// ("reviews-v2-75d79f5c6b-kx4tp"): a new pod gets a new name, as after a
// scale-up, so its metrics form new series, as they do in Prometheus.
func podName(workload string) string {
	const alnum = "bcdfghjklmnpqrstvwxz2456789"
	var b [15]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return fmt.Sprintf("%s-%s-%s", workload, b[:10], b[10:])
}
