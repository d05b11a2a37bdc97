package verify

import (
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
)

// Result is a gate's verdict with everything behind it.
type Result struct {
	Verdict decide.Verdict `json:"verdict"`
	Reason  string         `json:"reason"`
	Target  string         `json:"target"`
	// Client is the decision on the pages; in a passive gate, on Istio's
	// counts (Passive says whose and which).
	Client  decide.Decision `json:"client"`
	Passive *Passive        `json:"passive,omitempty"`
	Server  *Server         `json:"server,omitempty"`
	Mirror  *MirrorResult   `json:"mirror,omitempty"`
	Settle  SettleInfo      `json:"settle"`
	Load    *attack.Summary `json:"load,omitempty"`
	// Pages are the newest failed, stray and unrecognized pages of the
	// evidence with their trace ids, PagesOfNote how many there were.
	Pages       []PageOfNote `json:"pages_of_note,omitempty"`
	PagesOfNote int          `json:"pages_of_note_total,omitempty"`
	// Traces is the trace check, when Jaeger was given and asked to check.
	Traces *TraceCheck `json:"traces,omitempty"`
	Start  time.Time   `json:"start"`
	End    time.Time   `json:"end"`
	// Extended counts the pages sent after the pages passed, while the
	// server's health witness had a check past its margin and undecided.
	Extended int `json:"extended,omitempty"`
	// Interrupted is set when Ctrl-C or the timeout ended the gate.
	Interrupted bool `json:"interrupted,omitempty"`
	// Unreachable says since when the target answered nothing, when that
	// ended the gate: INCONCLUSIVE, never a FAIL of a version.
	Unreachable string `json:"unreachable,omitempty"`
}

// SettleInfo says how the settle rule shaped the evidence.
type SettleInfo struct {
	Enabled   bool          `json:"enabled"`
	Window    int           `json:"window"`    // clean pages in a row that end settling
	Discarded int           `json:"discarded"` // pages left out while settling
	TimedOut  bool          `json:"timed_out"` // settling ended by the timeout
	Effective time.Time     `json:"effective"` // first page of evidence: the new weights in force
	After     time.Duration `json:"after"`     // from the gate's start to Effective
}

// Server is the server-side check: Istio's own counts for the window.
type Server struct {
	Source string    `json:"source"` // "prometheus http://…" or "sidecar scrape"
	Query  string    `json:"query"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Ran is false when the check could not run; Error says why.
	Ran   bool   `json:"ran"`
	Error string `json:"error,omitempty"`
	// Counts are the destination-reported requests per version in the
	// window (mirror target excluded), ClientPages the pages the client
	// saw in the same window.
	Counts      map[string]float64 `json:"counts"`
	ClientPages map[string]int     `json:"client_pages"`
	Decision    *decide.Decision   `json:"decision,omitempty"`
	// Health is the canaries' health judged from the same window's counts
	// and latency histogram, one look at its end.
	Health      *decide.HealthResult `json:"health,omitempty"`
	Agreement   []Agreement          `json:"agreement,omitempty"`
	Responses   []Responses          `json:"responses,omitempty"` // by code and Envoy flags
	Extra       float64              `json:"extra"`               // requests beyond the client's pages: retries, other clients
	NoTelemetry []string             `json:"no_telemetry,omitempty"`
	Restarted   []string             `json:"restarted,omitempty"`
	Verdict     decide.Verdict       `json:"verdict"`
	Reason      string               `json:"reason"`
}

// Agreement compares one version's client and server shares (percent).
type Agreement struct {
	Version string  `json:"version"`
	Client  float64 `json:"client_pct"`
	Server  float64 `json:"server_pct"`
	OK      bool    `json:"ok"`
}

// Responses counts server-side requests with one response code and flags.
type Responses struct {
	Version string  `json:"version"`
	Code    string  `json:"response_code"`
	Flags   string  `json:"response_flags"`
	Count   float64 `json:"count"`
}

// MirrorResult is the shadow-traffic check.
type MirrorResult struct {
	Version  string  `json:"version"`
	Expected float64 `json:"expected_pct"` // of the primary's requests
	Mirrored float64 `json:"mirrored"`     // destination-reported at the mirror target
	Primary  float64 `json:"primary"`      // requests to every other version
	Observed float64 `json:"observed_pct"`
	Pages    int     `json:"pages"` // client pages from the mirror target: must be 0
	OK       bool    `json:"ok"`
	Reason   string  `json:"reason"`
}
