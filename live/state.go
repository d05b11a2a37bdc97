// Package live serves a running gate's state to a browser and to scripts:
// a page that draws the rollout as it runs (the call graph with each
// edge's rate and share from both witnesses, the share per version over
// time against its band, latency, errors, the verdict so far, the stages
// of a run and the newest failures) and the same state as JSON.
//
// The gate never waits on a watcher. It hands the Board a new State about
// once a second, built from aggregates it keeps anyway; the Board encodes
// it once and every page and script reads those bytes. The page is one
// embedded HTML file with its script and styles inline: nothing is fetched
// from elsewhere, so it opens on a lab network with no way out.
package live

import "time"

// State is what /api/state returns and the page draws. Percentages are
// 0–100; rates are per second over the last RateWindow.
type State struct {
	// Command is the canary command running: verify, soak or run.
	Command string `json:"command"`
	// Target is the URL the load goes to (no user-info); empty for a
	// passive gate, which sends none.
	Target string `json:"target"`
	// Service is the routed service whose versions are shown (reviews).
	Service string `json:"service"`
	// Bookinfo is true when pages are classified as Bookinfo's: the
	// graph then shows productpage and ratings, as Kiali does.
	Bookinfo bool `json:"bookinfo"`
	// Unit is what one count is: page, response or request.
	Unit    string    `json:"unit"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Done is true once the command has ended; the state is then final.
	Done bool `json:"done"`
	// Verdict is PENDING until the gate decides, then PASS, FAIL or
	// INCONCLUSIVE; Reason says why, with its numbers.
	Verdict    string  `json:"verdict"`
	Reason     string  `json:"reason"`
	Expect     string  `json:"expect"`
	Tolerance  float64 `json:"tolerance_pct"`
	Confidence float64 `json:"confidence"`
	// Versions are the routed service's versions, expected ones first.
	Versions []Version `json:"versions"`
	// Outcomes counts the client's responses by outcome (ok,
	// http-error, transport-error, …), all versions together.
	Outcomes map[string]int `json:"outcomes"`
	// History is the share per version over time, oldest first: at most
	// MaxHistory points, thinned evenly as a long run goes on.
	History []Point `json:"history"`
	// Stages are a canary run's stages, in order, with the one in
	// progress marked.
	Stages []Stage `json:"stages,omitempty"`
	// Alarms are a soak's alarms so far, oldest first.
	Alarms []Alarm `json:"alarms,omitempty"`
	// Failed are the newest failed requests, oldest first.
	Failed []Failure `json:"failed"`
	// Mesh says where the mesh's counts come from, if anywhere.
	Mesh *Mesh `json:"mesh,omitempty"`

	// sent counts every answered request by version, settling included:
	// the edges' rates, which must follow a route change at once.
	sent map[string]int
}

// Version is one version of the routed service as both witnesses see it.
type Version struct {
	Name string `json:"name"`
	// Expected is the configured share; null for a version not expected.
	Expected *float64 `json:"expected_pct"`
	// BandLow and BandHigh are expected ± tolerance, clipped to 0–100.
	BandLow  float64 `json:"band_low_pct"`
	BandHigh float64 `json:"band_high_pct"`
	// Status is the gate's word for the version: undecided, within,
	// outside or stray; empty in a soak, which judges windows instead.
	Status string `json:"status"`
	// Client is what canary's own requests saw; Mesh what the mesh
	// counted (absent without a Prometheus to read).
	Client Side  `json:"client"`
	Mesh   *Side `json:"mesh,omitempty"`
	// Latency is the client's p50, p90 and p99 in milliseconds.
	Latency Latency `json:"latency_ms"`
}

// Side is one witness's count of one version.
type Side struct {
	Count int `json:"count"`
	// Share is of all counted with a version, since the start.
	Share float64 `json:"share_pct"`
	// Low and High are the gate's interval for Share (client side,
	// verify only; 0 and 100 when none).
	Low  float64 `json:"low_pct"`
	High float64 `json:"high_pct"`
	// Rate is this version's requests per second over the last
	// RateWindow, and RecentShare its share of them: what the edge of
	// the graph shows, and what follows a route change within seconds.
	Rate        float64 `json:"rate_per_s"`
	RecentShare float64 `json:"recent_share_pct"`
	Errors      int     `json:"errors"`
}

// Latency is a version's client latency quantiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// Point is the state of the split at one moment.
type Point struct {
	At time.Time `json:"at"`
	// Share, Low and High are the client's cumulative share per version
	// and its interval; Recent the share over the last RateWindow; Mesh
	// the mesh's recent share.
	Share  map[string]float64 `json:"share_pct"`
	Low    map[string]float64 `json:"low_pct,omitempty"`
	High   map[string]float64 `json:"high_pct,omitempty"`
	Recent map[string]float64 `json:"recent_pct"`
	Mesh   map[string]float64 `json:"mesh_recent_pct,omitempty"`
	// Stage is the run's stage in progress (a run only): each stage's
	// gate counts from zero, so the page starts its lines again there.
	Stage string `json:"stage,omitempty"`
}

// Stage is one stage of a canary run.
type Stage struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"` // empty until it ends
	Reason  string `json:"reason"`
	Current bool   `json:"current"`
}

// Alarm is one of a soak's alarms.
type Alarm struct {
	Window  time.Time `json:"window"`
	Kind    string    `json:"kind"`
	Version string    `json:"version"`
	Message string    `json:"message"`
}

// Failure is one failed request, with what finds it in Jaeger.
type Failure struct {
	At        time.Time `json:"at"`
	Version   string    `json:"version"`
	Outcome   string    `json:"outcome"`
	Status    int       `json:"status"`
	RequestID string    `json:"request_id"`
	TraceID   string    `json:"trace_id"`
	// Link is the trace in Jaeger's UI when --jaeger is given.
	Link string `json:"link,omitempty"`
}

// Mesh says what the mesh side reads.
type Mesh struct {
	// Source is the Prometheus the counts come from, Query the selector.
	Source string `json:"source"`
	Query  string `json:"query"`
	// Polled is the last successful read; Error the last failure, if the
	// newest read failed.
	Polled time.Time `json:"polled"`
	Error  string    `json:"error,omitempty"`
	// Window is the span in seconds the mesh's rates are read over: new
	// counts arrive once a scrape, so a span of four scrapes (10 s at
	// least) keeps a rate within about a quarter of a scrape's worth.
	Window float64 `json:"rate_window_s"`
}
