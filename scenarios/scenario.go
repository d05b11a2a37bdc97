package scenarios

import "time"

// DefaultStepTimeout is how long a Step may run when its Timeout is zero.
// Load fills it in, so only scenarios built in code see a zero Timeout.
const DefaultStepTimeout = 2 * time.Minute

// Scenario is a whole canary rollout: stages run in order, each gated.
type Scenario struct {
	// Name identifies the scenario in reports and in CANARY_SCENARIO. Load
	// takes it from the file name when the file has none.
	Name string
	// Description is free text for people.
	Description string
	// Target is the page URL the gates load. It may be empty in a file
	// meant for `canary demo`, which supplies the local mesh's URL.
	Target string
	// Defaults is the gate of every stage; a stage's Gate overrides it
	// field by field (see StageGate).
	Defaults Gate
	// Stages run in order; the first failing stage stops the rollout.
	Stages []Stage
}

// Gate holds the verify settings of a stage. Every field is optional and
// its zero value means "not set": the default of the scenario, and then of
// `canary verify`, applies. Fields where zero is a meaningful setting are
// pointers.
type Gate struct {
	Rate       string   // requests per second: "N", "N/s" or "N/1m"; "0" means as fast as possible
	Tolerance  *float64 // percentage points around each expected share, in (0, 50]
	Confidence *float64 // confidence of the verdict, in [0.5, 0.9999]
	// MaxRequests is the page count after which an undecided gate is
	// inconclusive.
	MaxRequests   *int
	MaxErrorRate  *float64 // percent of pages per version that may be not ok, in [0, 100)
	Timeout       Duration // overall limit of the gate
	SettleTimeout Duration // longest settling time
	// SettleMin leaves out the pages of its first span whatever they show:
	// changes between two nonzero weights (90/10 to 75/25) and adding a
	// mirror show no stray page, so automatic settling cannot see them.
	SettleMin Duration
	Settle    string // "auto" or "0" (settling off)
	// Prometheus is the server-side check; it excludes Scrape.
	Prometheus *Prometheus
	// Scrape lists sidecar metrics URLs read before and after, for the
	// server-side check without Prometheus; it excludes Prometheus.
	Scrape  []string
	Headers map[string]string // request headers of the load
	Login   string            // log in as this user first (end-user routing)
	Host    string            // service whose split is checked, e.g. "reviews"
	// Backends are the Services an HTTPRoute sends Host's requests to
	// (reviews-v1): Istio reports them under those names, and the server
	// check counts them with Host.
	Backends  []string
	Namespace string // the service's namespace
	// Health turns the health checks (each canary against its baseline)
	// on or off; nil leaves them on wherever two versions serve.
	// Baseline, ErrorMargin, LatencyMargin and LatencyQuantiles are
	// `canary verify`'s --baseline, --error-margin, --latency-margin and
	// --latency-quantiles, checked when the run starts.
	Health           *bool
	Baseline         string
	ErrorMargin      string
	LatencyMargin    string
	LatencyQuantiles string
}

// Prometheus says how to reach the Prometheus of the mesh.
type Prometheus struct {
	URL             string
	BearerTokenFile string
	BasicAuthFile   string            // a file holding user:password
	Headers         map[string]string // extra request headers; values are secrets
	CAFile          string
	Insecure        bool  // skip TLS verification
	Require         *bool // a server check that cannot run makes the gate inconclusive (default true)
}

// Stage is one step of a rollout: apply, verify, pause; on failure roll
// back and stop.
type Stage struct {
	Name        string // unique within the scenario; CANARY_STAGE
	Description string // free text for people
	Apply       *Step  // routing change; nil verifies the routing as it is
	// Expect is the split the gate checks, "v1=50,v3=50". Load checks only
	// its syntax: VERSION=PERCENT pairs summing to 100.
	Expect string
	// ExpectFrom takes the split from a VirtualService file instead,
	// relative to the scenario file. A stage has Expect or ExpectFrom.
	ExpectFrom string
	Mirror     string   // mirroring to check: "v2" (100%) or "v2=50"
	Gate       Gate     // overrides of the scenario's Defaults
	Pause      Duration // wait after a passing gate
	OnFail     *Step    // rollback run when the stage fails; the rollout then stops
	Line       int      // line of the stage in its file, for messages; 0 if unknown
}

// Step changes routing in exactly one way: a shell command, manifest files
// or inline manifests for the local mesh, or a manifest file for the
// cluster. Commands run with /bin/sh -c and get CANARY_STAGE,
// CANARY_SCENARIO and, for rollbacks, CANARY_VERDICT in the environment.
// Manifests and Inline are applied to the built-in local mesh; Kube is
// applied to the Kubernetes cluster with server-side apply.
type Step struct {
	Command   string   // shell command, e.g. "kubectl apply -f vs.yaml"
	Timeout   Duration // limit of the step; zero means DefaultStepTimeout
	Manifests []string // manifest files, relative to the scenario file
	Inline    string   // manifests written in the scenario, YAML
	Kube      string   // manifest file (multi-document YAML) for the cluster, relative to the scenario file
	Line      int      // line of the step in its file, for messages; 0 if unknown
}

// Duration is a time.Duration written in YAML as "30s" or "2m".
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// StageGate returns the gate of stage i: Defaults with every field the
// stage sets replacing the default. Headers merge key by key. Prometheus
// and Scrape are alternatives, so a stage setting either drops both of the
// defaults'. The result shares no memory with s. i must be a stage index.
func (s *Scenario) StageGate(i int) Gate {
	d, o := s.Defaults, s.Stages[i].Gate
	g := Gate{
		Rate: pick(o.Rate, d.Rate), Settle: pick(o.Settle, d.Settle),
		Login: pick(o.Login, d.Login), Host: pick(o.Host, d.Host), Namespace: pick(o.Namespace, d.Namespace),
		Timeout: pick(o.Timeout, d.Timeout), SettleTimeout: pick(o.SettleTimeout, d.SettleTimeout),
		SettleMin:   pick(o.SettleMin, d.SettleMin),
		Tolerance:   clone(pick(o.Tolerance, d.Tolerance)),
		Confidence:  clone(pick(o.Confidence, d.Confidence)),
		MaxRequests: clone(pick(o.MaxRequests, d.MaxRequests)), MaxErrorRate: clone(pick(o.MaxErrorRate, d.MaxErrorRate)),
		Headers: mergeMaps(d.Headers, o.Headers),
		Health:  clone(pick(o.Health, d.Health)), Baseline: pick(o.Baseline, d.Baseline),
		ErrorMargin: pick(o.ErrorMargin, d.ErrorMargin), LatencyMargin: pick(o.LatencyMargin, d.LatencyMargin),
		LatencyQuantiles: pick(o.LatencyQuantiles, d.LatencyQuantiles),
	}
	backends := d.Backends
	if len(o.Backends) > 0 {
		backends = o.Backends
	}
	if len(backends) > 0 {
		g.Backends = append([]string(nil), backends...)
	}
	server := d
	if o.Prometheus != nil || len(o.Scrape) > 0 {
		server = o
	}
	g.Prometheus = server.Prometheus.clone()
	g.Scrape = append([]string(nil), server.Scrape...)
	if len(g.Scrape) == 0 {
		g.Scrape = nil
	}
	return g
}

// pick returns override unless it is the zero value, then def.
func pick[T comparable](override, def T) T {
	var zero T
	if override != zero {
		return override
	}
	return def
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// mergeMaps returns a new map of base overlaid by over; nil when both are empty.
func mergeMaps(base, over map[string]string) map[string]string {
	if len(base)+len(over) == 0 {
		return nil
	}
	m := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

func (p *Prometheus) clone() *Prometheus {
	if p == nil {
		return nil
	}
	c := *p
	c.Headers = mergeMaps(p.Headers, nil)
	c.Require = clone(p.Require)
	return &c
}
