package results

import "testing"

// TestTraceContext: the trace id and sampled bit of a traceparent; a
// malformed one gives neither.
func TestTraceContext(t *testing.T) {
	t.Parallel()
	id := "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, c := range []struct {
		tp      string
		id      string
		sampled bool
	}{
		{"00-" + id + "-00f067aa0ba902b7-01", id, true},
		{"00-" + id + "-00f067aa0ba902b7-00", id, false},
		{"00-" + id + "-00f067aa0ba902b7-03", id, true}, // sampled plus another flag
		{"", "", false},
		{"00-abc-00f067aa0ba902b7-01", "", false},
		{"00-" + id + "-00f067aa0ba902b7-01-x", "", false}, // five fields
		{"00-" + id + "-00f067aa0ba902b7-1", "", false},    // flags of one digit
	} {
		got, sampled := TraceContext(c.tp)
		if got != c.id || sampled != c.sampled {
			t.Errorf("TraceContext(%q) = %q, %v; want %q, %v", c.tp, got, sampled, c.id, c.sampled)
		}
	}
}
