package verify

import (
	"slices"
	"testing"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/scenarios"
)

// TestStageBackends: a stage whose expectation comes from an HTTPRoute file
// counts that route's backend Services on the server side, unless the gate
// names its own backends.
func TestStageBackends(t *testing.T) {
	t.Parallel()
	expectFrom := func(path, host string) (decide.Expectation, []string, error) {
		e, err := decide.ParseExpect("v1=50,v3=50")
		return e, []string{"reviews-v1", "reviews-v3"}, err
	}
	tests := []struct {
		name, gate string
		want       []string
	}{
		{"from the route", "", []string{"reviews-v1", "reviews-v3"}},
		{"the gate's own", "\n  backends: [reviews-canary]", []string{"reviews-canary"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc, err := scenarios.Load("s.yaml", []byte(`name: s
stages:
- name: half
  expect-from: route.yaml
  host: reviews`+tc.gate+`
`))
			if err != nil {
				t.Fatal(err)
			}
			o, err := stageOptions(sc, 0, "http://127.0.0.1:1/productpage", ScenarioEnv{Dir: t.TempDir(), ExpectFrom: expectFrom})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.Backends, tc.want) {
				t.Errorf("backends %v; want %v", o.Backends, tc.want)
			}
		})
	}
}
