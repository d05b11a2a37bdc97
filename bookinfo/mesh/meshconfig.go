package mesh

import (
	"embed"
	"fmt"
	"time"

	"github.com/canary-gate/canary/bookinfo/istio"
)

// builtin are the resources a new mesh starts with: the ingress gateway and
// the destination rules, as the walkthrough has them before its first
// VirtualService for reviews.
//
//go:embed manifests/*.yaml
var builtin embed.FS

func (m *Mesh) applyBuiltin() error {
	for _, name := range []string{"manifests/gateway.yaml", "manifests/destination-rules.yaml"} {
		data, err := builtin.ReadFile(name)
		if err != nil {
			return err
		}
		rs, err := istio.ParseManifests(name, data)
		if err != nil {
			return fmt.Errorf("built-in config: %w", err)
		}
		cfg, _, err := m.desired.Apply(rs)
		if err != nil {
			return fmt.Errorf("built-in config: %w", err)
		}
		m.desired = cfg
	}
	if m.opts.Ambient {
		cfg, _, err := m.desired.Apply([]istio.Resource{istio.NamespaceResource(map[string]string{istio.DataplaneModeLabel: "ambient"})})
		if err != nil {
			return fmt.Errorf("built-in config: %w", err)
		}
		m.desired = cfg
	}
	m.active.Store(m.desired)
	return nil
}

// Apply validates rs against the current configuration and, if the whole set
// is valid, makes it the configuration the sidecars will use after the
// propagation delay. Nothing is applied when any resource is invalid.
func (m *Mesh) Apply(rs []istio.Resource) ([]istio.Change, error) {
	return m.update(rs, (*istio.Config).Apply, false)
}

// Delete removes rs, all or nothing, with the same propagation delay.
func (m *Mesh) Delete(rs []istio.Resource) ([]istio.Change, error) {
	return m.update(rs, (*istio.Config).Delete, false)
}

// update applies op to the desired configuration and activates the result
// after the propagation delay. The first update from a cluster takes effect
// at once: it replaces the built-in configuration before the mesh says it
// is ready, so no request is routed by what the cluster does not hold.
func (m *Mesh) update(rs []istio.Resource, op func(*istio.Config, []istio.Resource) (*istio.Config, []istio.Change, error), fromCluster bool) ([]istio.Change, error) {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	cfg, changes, err := op(m.desired, rs)
	if err != nil {
		return nil, err
	}
	m.desired = cfg
	m.gen++
	gen := m.gen
	delay := m.opts.PropagationDelay
	if fromCluster && !m.synced {
		delay = 0
	}
	m.synced = m.synced || fromCluster
	for _, ch := range changes {
		m.logf("config: %s (takes effect in %v)", ch, delay)
	}
	if delay <= 0 {
		m.activate(cfg, gen)
		return changes, nil
	}
	m.timers = append(m.timers, time.AfterFunc(delay, func() {
		m.cfgMu.Lock()
		defer m.cfgMu.Unlock()
		m.activate(cfg, gen)
	}))
	return changes, nil
}

// activate installs cfg unless a later generation is already active: timers
// may fire out of order, routing must not go back in time.
func (m *Mesh) activate(cfg *istio.Config, gen uint64) {
	if gen <= m.activeGen {
		return
	}
	m.activeGen = gen
	m.active.Store(cfg)
	m.logf("config: generation %d now routes every sidecar", gen)
}

// Resources lists what was last applied (not necessarily propagated yet).
func (m *Mesh) Resources() []istio.Resource {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	return m.desired.Resources()
}

// Propagated reports whether the sidecars route by the last applied config.
func (m *Mesh) Propagated() bool {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	return m.activeGen == m.gen
}

func (m *Mesh) logf(format string, args ...any) {
	if m.opts.Logf != nil {
		m.opts.Logf(format, args...)
	}
}
