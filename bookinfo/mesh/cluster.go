package mesh

import (
	"net/http"
	"slices"

	"github.com/canary-gate/canary/bookinfo/istio"
)

// Sync makes rs the mesh's whole configuration, as istio.Config.Sync takes it,
// after the propagation delay (the first Sync at once). It is how a cluster's control plane steers
// the mesh: the API server has accepted every object, so nothing is refused
// as a whole; what the mesh cannot route by comes back as rejections, for
// the caller to report on the objects. The changes leave out unchanged
// resources.
func (m *Mesh) Sync(rs []istio.Resource) ([]istio.Change, []istio.Rejection) {
	var rejected []istio.Rejection
	changes, _ := m.update(rs, func(c *istio.Config, rs []istio.Resource) (*istio.Config, []istio.Change, error) {
		next, changes, rej := c.Sync(rs)
		rejected = rej
		return next, slices.DeleteFunc(changes, func(ch istio.Change) bool { return ch.Action == "unchanged" }), nil
	}, true)
	return changes, rejected
}

// fromCluster reports whether a cluster configures the mesh.
func (m *Mesh) fromCluster() bool {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	return m.synced
}

// unlessCluster refuses an admin change once a cluster steers the mesh: the
// next sync would undo it, and the cluster would no longer say what runs.
func (m *Mesh) unlessCluster(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if m.fromCluster() {
			writeJSON(rw, http.StatusConflict, APIError{"this mesh follows its Kubernetes cluster (serve --kubeconfig): use kubectl apply, delete or scale there"})
			return
		}
		h(rw, r)
	}
}

// Workload is one Deployment of the mesh, as a cluster lists it.
type Workload struct {
	Name    string // e.g. "reviews-v3"
	App     string // the Service and "app" label, e.g. "reviews"
	Version string // the "version" label, e.g. "v3"
}

// Workloads lists the mesh's Deployments in the order status output uses.
func Workloads() []Workload {
	out := make([]Workload, len(workloads))
	for i, w := range workloads {
		out[i] = Workload{Name: w.Name, App: w.App, Version: w.Version}
	}
	return out
}
