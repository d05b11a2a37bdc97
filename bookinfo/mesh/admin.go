package mesh

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/canary-gate/canary/bookinfo/app"
	"github.com/canary-gate/canary/bookinfo/istio"
)

// maxManifestBytes bounds an applied file; Istio's API server takes 1.5 MB.
const maxManifestBytes = 4 << 20

func (m *Mesh) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, "ok\n") })
	mux.HandleFunc("GET /status", m.serveStatus)
	mux.HandleFunc("POST /apply", m.unlessCluster(func(rw http.ResponseWriter, r *http.Request) { m.serveConfig(rw, r, m.Apply) }))
	mux.HandleFunc("POST /delete", m.unlessCluster(func(rw http.ResponseWriter, r *http.Request) { m.serveConfig(rw, r, m.Delete) }))
	mux.HandleFunc("POST /scale", m.unlessCluster(serveChange(m, "scale", func(q ScaleRequest) error {
		return m.Scale(q.Workload, q.Replicas)
	})))
	mux.HandleFunc("POST /sidecar", m.unlessCluster(serveChange(m, "sidecar", func(q SidecarRequest) error {
		return m.SetSidecar(q.Workload, q.Enabled)
	})))
	mux.HandleFunc("POST /degrade", m.unlessCluster(serveChange(m, "degrade", func(q DegradeRequest) error {
		return m.Degrade(q.Workload, q.Degradation)
	})))
	mux.HandleFunc("GET /sidecars/{workload}/stats/prometheus", m.serveStats)
	mux.HandleFunc("GET /sidecars/{workload}/pods/{pod}/stats/prometheus", m.serveStats)
	mux.HandleFunc("GET /prometheus/targets", m.serveTargets)
	return mux
}

// APIError is the admin API's error answer.
type APIError struct {
	Error string `json:"error"`
}

// ConfigAnswer is the admin API's answer to /apply and /delete: one
// kubectl-style line per resource.
type ConfigAnswer struct {
	Changes []string `json:"changes"`
}

func (m *Mesh) serveConfig(rw http.ResponseWriter, r *http.Request, op func([]istio.Resource) ([]istio.Change, error)) {
	data, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxManifestBytes))
	if err != nil {
		writeJSON(rw, http.StatusRequestEntityTooLarge, APIError{"manifest: " + err.Error()})
		return
	}
	name := r.URL.Query().Get("source")
	if name == "" {
		name = "-"
	}
	rs, err := istio.ParseManifests(name, data)
	if err == nil {
		var changes []istio.Change
		if changes, err = op(rs); err == nil {
			ans := ConfigAnswer{Changes: make([]string, len(changes))}
			for i, c := range changes {
				ans.Changes[i] = c.String()
			}
			writeJSON(rw, http.StatusOK, ans)
			return
		}
	}
	writeJSON(rw, http.StatusBadRequest, APIError{err.Error()})
}

// ScaleRequest asks for a workload's replicas.
type ScaleRequest struct {
	Workload string `json:"workload"`
	Replicas int    `json:"replicas"`
}

// serveChange answers a workload change: decode a T, apply it, answer
// with the new status, or with the refusal.
func serveChange[T any](m *Mesh, what string, apply func(T) error) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		var req T
		if err := decodeStrict(r, &req); err != nil {
			writeJSON(rw, http.StatusBadRequest, APIError{what + " request: " + err.Error()})
			return
		}
		if err := apply(req); err != nil {
			writeJSON(rw, http.StatusBadRequest, APIError{err.Error()})
			return
		}
		m.serveStatus(rw, r)
	}
}

// SidecarRequest injects or removes a workload's sidecar.
type SidecarRequest struct {
	Workload string `json:"workload"`
	Enabled  bool   `json:"enabled"`
}

// Status describes the running mesh.
type Status struct {
	Ingress          string     `json:"ingress"`
	Markup           app.Markup `json:"markup"`
	PropagationDelay string     `json:"propagationDelay"`
	Propagated       bool       `json:"propagated"`
	// Ambient: the namespace is in ambient mode; Waypoints maps each
	// Service a waypoint serves to that waypoint.
	Ambient   bool              `json:"ambient,omitempty"`
	Waypoints map[string]string `json:"waypoints,omitempty"`
	Workloads []WorkloadStatus  `json:"workloads"`
	Resources []string          `json:"resources"`
}

// WorkloadStatus is one workload's state.
type WorkloadStatus struct {
	Name    string `json:"name"`
	Pod     string `json:"pod,omitempty"` // empty when scaled to 0
	Addr    string `json:"addr,omitempty"`
	Sidecar bool   `json:"sidecar"`
	// Degraded is the workload's bad build, if any (see Degrade).
	Degraded *Degradation `json:"degraded,omitempty"`
}

// Status reports workloads and applied resources.
func (m *Mesh) Status() Status {
	st := Status{
		Ingress: m.Addr(), Markup: m.opts.Markup,
		PropagationDelay: m.opts.PropagationDelay.String(), Propagated: m.Propagated(),
	}
	if rt := m.active.Load().Routes(); rt.Ambient() {
		st.Ambient = true
		for _, svc := range serviceNames() {
			if wp := rt.Waypoint(svc); wp != "" {
				if st.Waypoints == nil {
					st.Waypoints = map[string]string{}
				}
				st.Waypoints[svc] = wp
			}
		}
	}
	for _, spec := range workloads {
		w := m.workloads[spec.Name]
		ws := WorkloadStatus{Name: spec.Name, Sidecar: w.sidecar.Load(), Degraded: w.degrade.Load()}
		if p := w.pod.Load(); p != nil {
			ws.Pod, ws.Addr = p.name, p.addr
		}
		st.Workloads = append(st.Workloads, ws)
	}
	for _, r := range m.Resources() {
		kind := r.Kind
		if r.Group != "" {
			kind += "." + r.Group // the Gateway API's Gateway beside Istio's
		}
		st.Resources = append(st.Resources, kind+"/"+r.Name)
	}
	return st
}

func (m *Mesh) serveStatus(rw http.ResponseWriter, _ *http.Request) {
	writeJSON(rw, http.StatusOK, m.Status())
}

// serveStats is a sidecar's /stats/prometheus. A workload without a sidecar,
// or scaled to 0, has no such endpoint, so Prometheus sees no target.
//
// The form with {pod} answers only while that pod runs, as a real pod's IP
// stops answering when it is gone: it is what service discovery hands to
// Prometheus. With the workload's path alone, a target still labelled with
// the old pod (discovery refreshes on its own clock) would scrape the new
// pod's counters, and the new pod's series would later start with counts
// already reported under the old one: counted twice in a window.
func (m *Mesh) serveStats(rw http.ResponseWriter, r *http.Request) {
	for _, gw := range []*gatewayProxy{m.ingressGW, m.k8sGW} {
		if r.PathValue("workload") == gw.peer.workload {
			gw.tel.handler.ServeHTTP(rw, r)
			return
		}
	}
	if r.PathValue("workload") == ztunnelPeer.workload {
		m.zt.handler.ServeHTTP(rw, r)
		return
	}
	m.wpMu.Lock()
	wp := m.waypoints[r.PathValue("workload")]
	m.wpMu.Unlock()
	if wp != nil {
		wp.tel.handler.ServeHTTP(rw, r)
		return
	}
	w, ok := m.workloads[r.PathValue("workload")]
	if !ok {
		http.NotFound(rw, r)
		return
	}
	p := w.pod.Load()
	if p == nil {
		http.Error(rw, "workload scaled to 0", http.StatusNotFound)
		return
	}
	if name := r.PathValue("pod"); name != "" && name != p.name {
		http.Error(rw, "pod "+name+" is gone", http.StatusNotFound)
		return
	}
	tel := p.tel.Load()
	if tel == nil {
		http.Error(rw, "workload has no sidecar", http.StatusNotFound)
		return
	}
	tel.handler.ServeHTTP(rw, r)
}

// httpSDTarget is one entry of Prometheus' HTTP service discovery format.
type httpSDTarget struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// serveTargets lists every running sidecar (and the ingress gateway) for
// Prometheus' http_sd_configs, with the labels the kubernetes-pods job of
// Istio's bundled Prometheus would attach.
func (m *Mesh) serveTargets(rw http.ResponseWriter, _ *http.Request) {
	addr := m.AdminAddr()
	target := func(path, namespace, pod, app string) httpSDTarget {
		return httpSDTarget{Targets: []string{addr}, Labels: map[string]string{
			"__metrics_path__": "/sidecars/" + path + "/stats/prometheus",
			"namespace":        namespace, "pod": pod, "app": app,
		}}
	}
	out := []httpSDTarget{target(ingressPeer.workload, ingressPeer.namespace, ingressPeer.workload, ingressPeer.app)}
	rt := m.active.Load().Routes() // one snapshot for every proxy listed
	if rt.K8sGateway() != "" {
		// Istio runs the Gateway API Gateway's pod once the Gateway exists.
		p := k8sGatewayPeer
		out = append(out, target(p.workload, p.namespace, p.workload, p.app))
	}
	if rt.Ambient() {
		// ztunnel runs on every node of an ambient cluster; a waypoint's pod
		// once its Gateway exists.
		out = append(out, target(ztunnelPeer.workload, ztunnelPeer.namespace, m.zt.pod, ztunnelPeer.app))
	}
	for _, name := range rt.Waypoints() {
		out = append(out, target(name, Namespace, m.waypoint(name).pod, name))
	}
	for _, spec := range workloads {
		p := m.workloads[spec.Name].pod.Load()
		if p == nil || p.tel.Load() == nil {
			continue
		}
		t := target(spec.Name+"/pods/"+p.name, Namespace, p.name, spec.App)
		t.Labels["version"] = spec.Version
		out = append(out, t)
	}
	writeJSON(rw, http.StatusOK, out)
}

func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func writeJSON(rw http.ResponseWriter, code int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	_ = json.NewEncoder(rw).Encode(v)
}
