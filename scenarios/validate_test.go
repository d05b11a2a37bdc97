package scenarios

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestValidate covers scenarios built in code: messages name the field and
// take their lines from Stage.Line and Step.Line.
func TestValidate(t *testing.T) {
	t.Parallel()
	ok := func(mod func(*Scenario)) *Scenario {
		s := &Scenario{Name: "s", Stages: []Stage{{Name: "a", Expect: "v1=100", Line: 7}}}
		mod(s)
		return s
	}
	tests := []struct {
		name string
		s    *Scenario
		want string // "" means valid
	}{
		{"valid", ok(func(*Scenario) {}), ""},
		{"no name", ok(func(s *Scenario) { s.Name = "" }), "name: missing, expected the scenario's name"},
		{"no stages", ok(func(s *Scenario) { s.Stages = nil }), "stages: no stages"},
		{"stage line", ok(func(s *Scenario) { s.Stages[0].Expect = "" }), "line 7: stages[0]: no expect or expect-from"},
		{"step line wins", ok(func(s *Scenario) { s.Stages[0].Apply = &Step{Line: 9} }), "line 9: stages[0].apply: nothing to run"},
		{"step without line", ok(func(s *Scenario) { s.Stages[0].OnFail = &Step{} }), "line 7: stages[0].on-fail: nothing to run"},
		{"negative pause", ok(func(s *Scenario) { s.Stages[0].Pause = -1 }), "stages[0].pause: got -1ns"},
		{"negative step timeout", ok(func(s *Scenario) { s.Stages[0].Apply = &Step{Command: "x", Timeout: Duration(-time.Second)} }), "stages[0].apply.timeout: got -1s"},
		{"negative settle-min", ok(func(s *Scenario) { s.Defaults.SettleMin = Duration(-time.Second) }), "defaults.settle-min: got -1s"},
		{"all four step kinds", ok(func(s *Scenario) {
			s.Stages[0].Apply = &Step{Command: "x", Manifests: []string{"a"}, Inline: "kind: A", Kube: "k"}
		}),
			"stages[0].apply: command and manifests and inline and kube set together"},
		{"kube", ok(func(s *Scenario) { s.Stages[0].Apply = &Step{Kube: "vs.yaml"} }), ""},
		{"kube rollback", ok(func(s *Scenario) { s.Stages[0].OnFail = &Step{Kube: "all-v1.yaml", Line: 9} }), ""},
		{"kube and command", ok(func(s *Scenario) { s.Stages[0].Apply = &Step{Command: "x", Kube: "vs.yaml", Line: 9} }),
			"line 9: stages[0].apply: command and kube set together, expected one of command, manifests, inline or kube"},
		{"kube and manifests", ok(func(s *Scenario) { s.Stages[0].OnFail = &Step{Manifests: []string{"a"}, Kube: "vs.yaml"} }),
			"stages[0].on-fail: manifests and kube set together"},
		{"kube and inline", ok(func(s *Scenario) { s.Stages[0].Apply = &Step{Inline: "kind: A", Kube: "vs.yaml"} }),
			"stages[0].apply: inline and kube set together"},
		{"kube file name", ok(func(s *Scenario) { s.Stages[0].Apply = &Step{Kube: "vs\n.yaml"} }),
			`stages[0].apply.kube: got "vs\n.yaml", expected a manifest file name`},
		{"inline without a line", ok(func(s *Scenario) { s.Stages[0].Apply = &Step{Inline: "kind: A\n---\n- b"} }),
			`stages[0].apply.inline: line 3 of the manifests: got a list`},
		{"inline without resources", ok(func(s *Scenario) { s.Stages[0].Apply = &Step{Inline: "# none\n---\n"} }),
			"stages[0].apply.inline: line 1 of the manifests: no resources"},
		{"stage prometheus and scrape", ok(func(s *Scenario) {
			s.Stages[0].Gate = Gate{Prometheus: &Prometheus{URL: "http://p"}, Scrape: []string{"http://s"}}
		}), "stages[0].scrape: set together with prometheus"},
		{"prometheus headers", ok(func(s *Scenario) {
			s.Defaults.Prometheus = &Prometheus{URL: "http://p", Headers: map[string]string{"A": "b\nc"}}
		}), "defaults.prometheus.headers: header A has a line break"},
		{"prometheus file", ok(func(s *Scenario) { s.Defaults.Prometheus = &Prometheus{URL: "http://p", CAFile: "a\tb"} }),
			`defaults.prometheus.ca-file: got "a\tb"`},
		{"namespace", ok(func(s *Scenario) { s.Defaults.Namespace = "two words" }), `defaults.namespace: got "two words"`},
		{"confidence NaN", ok(func(s *Scenario) { nan := 0.0; nan /= nan; s.Defaults.Confidence = &nan }), "defaults.confidence: got NaN"},
		{"max-requests over", ok(func(s *Scenario) { s.Defaults.MaxRequests = ptr(200_001) }), "defaults.max-requests: got 200001"},
		{"max-error-rate zero", ok(func(s *Scenario) { s.Defaults.MaxErrorRate = ptr(0.0) }), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.s.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v; want nil", err)
			case tc.want == "":
				return
			case err == nil:
				t.Fatalf("Validate() = nil; want %q", tc.want)
			case !errors.Is(err, ErrInvalid):
				t.Errorf("Validate() = %v; does not wrap ErrInvalid", err)
			case !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n"):
				t.Errorf("Validate() = %q; want one line containing %q", err, tc.want)
			}
		})
	}
}
