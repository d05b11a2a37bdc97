package results

import "strings"

// TraceContext reads a W3C traceparent (version-traceid-spanid-flags, as
// Record.Trace holds it): its trace id and whether flag bit 0, sampled,
// is set. Anything else gives "" and false. It does not allocate: the gate
// reads every page's.
func TraceContext(traceparent string) (traceID string, sampled bool) {
	_, rest, ok := strings.Cut(traceparent, "-")
	if !ok {
		return "", false
	}
	id, rest, ok := strings.Cut(rest, "-")
	if !ok || len(id) != 32 {
		return "", false
	}
	_, flags, ok := strings.Cut(rest, "-")
	if !ok || len(flags) != 2 || strings.Contains(flags, "-") {
		return "", false
	}
	return id, strings.IndexByte("13579bdf", flags[1]) >= 0
}
