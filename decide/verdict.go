package decide

// Verdict is the outcome of a sequential check.
type Verdict int

// Verdicts. Pending means the evidence has not decided yet.
const (
	Pending Verdict = iota
	Pass
	Fail
	Inconclusive
)

var verdictNames = [...]string{"PENDING", "PASS", "FAIL", "INCONCLUSIVE"}

// String returns PENDING, PASS, FAIL or INCONCLUSIVE.
func (v Verdict) String() string {
	if v < 0 || int(v) >= len(verdictNames) {
		return "UNKNOWN"
	}
	return verdictNames[v]
}

// MarshalText makes the verdict a string in JSON.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// Status is where one version's share (or one error rate) stands against
// its tolerance band (or budget) at the stated confidence.
type Status int

// Statuses. Stray is a page from a version expected at 0%.
const (
	Undecided Status = iota
	Within
	Outside
	Stray
)

var statusNames = [...]string{"undecided", "within", "outside", "stray"}

// String returns undecided, within, outside or stray.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "unknown"
	}
	return statusNames[s]
}

// MarshalText makes the status a string in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Decision explains a verdict: what was expected, what was seen, the
// anytime-valid intervals behind the verdict and a sentence saying why.
// Shares, rates and intervals are in percent.
type Decision struct {
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	Expect  string  `json:"expect"`
	// N is the number of pages in the split (those with a known version).
	N int `json:"n"`
	// Pages counts every page added, with or without a version.
	Pages int `json:"pages"`
	// Unit is what N and Pages count: "page" (a client's) or "request"
	// (a server's counts, fed by AddCounts).
	Unit       string          `json:"unit"`
	Versions   []VersionResult `json:"versions"`
	Errors     ErrorBudget     `json:"errors"`
	Tolerance  float64         `json:"tolerance_pct"`
	Confidence float64         `json:"confidence"`
	Method     string          `json:"method"`
	// Health is the canaries' checks against their baseline; nil when off.
	Health *HealthResult `json:"health,omitempty"`
	// MorePages estimates, for INCONCLUSIVE, how many more pages would
	// likely decide if the observed shares held; 0 if there is no estimate.
	MorePages int `json:"more_pages,omitempty"`
}

// VersionResult is one version's part of a Decision. Low and High bound
// its share at the stated confidence, for all versions at once: the
// interval the FAIL parts give, so Status is Outside exactly when it lies
// outside expected ± tolerance. Status is Within when both PASS parts
// (Tests) have been shown; the interval need not lie inside the band
// then, as PASS tests each side at the full α (see the package doc).
type VersionResult struct {
	Version  string  `json:"version"`
	Expected float64 `json:"expected_pct"`
	Count    int     `json:"count"`
	Share    float64 `json:"share_pct"`
	Low      float64 `json:"low_pct"`
	High     float64 `json:"high_pct"`
	Status   Status  `json:"status"`
	// Tests are the PASS parts of a version expected strictly between 0%
	// and 100%: its share above expected − tolerance, then below expected
	// + tolerance (a side whose edge is beyond 0% or 100% holds at once
	// and is left out).
	Tests []EdgeTest `json:"pass_tests,omitempty"`
}

// EdgeTest is one PASS part: a one-sided test that a share is above (or
// below) the edge of its band, at the stated confidence on its own. It is
// shown once Ratio, its likelihood ratio against the edge, reaches
// Threshold (1/α), and stays shown.
type EdgeTest struct {
	Side string `json:"side"` // "above" or "below"
	// Edge is expected ∓ tolerance, rounded to 1e-6 points so that it
	// prints as written (45, not 45.00000000000001).
	Edge float64 `json:"edge_pct"`
	// Ratio is the likelihood ratio at the page it was shown, or now while
	// it is not.
	Ratio     float64 `json:"ratio"`
	Threshold float64 `json:"threshold"`
	// ShownAt is the page (in the split) at which the part was shown; 0
	// while it is not.
	ShownAt int `json:"shown_at,omitempty"`
}

// ErrorBudget is the error-rate part of a Decision. Status is Outside as
// soon as any bucket is over budget at Confidence, Within when all are
// shown below it, else Undecided. A PASS does not wait for Within: the
// budget is a failure detector.
type ErrorBudget struct {
	Status Status  `json:"status"`
	Budget float64 `json:"budget_pct"`
	// Confidence is the simultaneous level of the bucket intervals; it is
	// above the stated confidence because the budget gets a share of it.
	Confidence float64       `json:"confidence"`
	Buckets    []ErrorBucket `json:"buckets"`
}

// ErrorBucket counts pages that were not ok, per version or, with an empty
// Version, among pages whose version is unknown (out of all pages).
type ErrorBucket struct {
	Version string  `json:"version"`
	Pages   int     `json:"pages"`
	Errors  int     `json:"errors"`
	Rate    float64 `json:"rate_pct"`
	Low     float64 `json:"low_pct"`
	High    float64 `json:"high_pct"`
	Status  Status  `json:"status"`
}
