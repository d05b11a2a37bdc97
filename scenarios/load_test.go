package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

const twoMin = Duration(DefaultStepTimeout)

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		yaml string
		want *Scenario
	}{
		{
			name: "minimal, name from the file",
			file: "dir/rollout.yaml",
			yaml: "stages:\n- name: all-v1\n  expect: v1=100\n",
			want: &Scenario{Name: "rollout", Stages: []Stage{{Name: "all-v1", Expect: "v1=100", Line: 2}}},
		},
		{
			name: "every gate key in defaults",
			file: "gate.yaml",
			yaml: `name: gate
target: http://127.0.0.1:8080/productpage
defaults:
  rate: 20/s
  tolerance: 2.5
  confidence: 0.99
  max-requests: 3000
  max-error-rate: 0      # no error allowed: zero is a setting
  timeout: 5m
  settle-timeout: 30s
  settle-min: 1500ms
  settle: auto
  prometheus:
    url: https://prom.example:9090
    bearer-token-file: /var/run/token
    basic-auth-file: auth
    headers: {X-Scope-OrgID: team-a}
    ca-file: ca.pem
    insecure: true
    require: false
  headers:
    X-Canary: "1"
  login: jason
  host: reviews
  namespace: bookinfo
stages:
- name: all-v1
  expect: v1=100
`,
			want: &Scenario{Name: "gate", Target: "http://127.0.0.1:8080/productpage",
				Defaults: Gate{Rate: "20/s", Tolerance: ptr(2.5), Confidence: ptr(0.99), MaxRequests: ptr(3000),
					MaxErrorRate: ptr(0.0), Timeout: Duration(5 * time.Minute), SettleTimeout: Duration(30 * time.Second),
					SettleMin: Duration(1500 * time.Millisecond), Settle: "auto",
					Prometheus: &Prometheus{URL: "https://prom.example:9090", BearerTokenFile: "/var/run/token",
						BasicAuthFile: "auth", Headers: map[string]string{"X-Scope-OrgID": "team-a"}, CAFile: "ca.pem",
						Insecure: true, Require: ptr(false)},
					Headers: map[string]string{"X-Canary": "1"}, Login: "jason", Host: "reviews", Namespace: "bookinfo"},
				Stages: []Stage{{Name: "all-v1", Expect: "v1=100", Line: 27}}},
		},
		{
			name: "stage keys and the four kinds of step",
			file: "steps.yaml",
			yaml: `name: steps
stages:
- name: canary
  description: ten percent
  apply:
    command: kubectl apply -f vs.yaml
    timeout: 30s
  expect-from: vs.yaml
  mirror: v2=50
  settle: "0"
  pause: 1m
  on-fail:
    manifests: all-v1.yaml    # one file needs no list
- name: inline
  apply:
    inline: |
      kind: VirtualService
  expect: v1=50, v3=50
  scrape: [http://127.0.0.1:15000/stats]
- name: kube
  apply: {kube: manifests/vs-50-50.yaml, timeout: 20s}
  expect: v1=50,v3=50
  on-fail:
    kube: all-v1.yaml
`,
			want: &Scenario{Name: "steps", Stages: []Stage{
				{Name: "canary", Description: "ten percent", Line: 3,
					Apply:      &Step{Command: "kubectl apply -f vs.yaml", Timeout: Duration(30 * time.Second), Line: 6},
					ExpectFrom: "vs.yaml", Mirror: "v2=50", Gate: Gate{Settle: "0"}, Pause: Duration(time.Minute),
					OnFail: &Step{Manifests: []string{"all-v1.yaml"}, Timeout: twoMin, Line: 13}},
				{Name: "inline", Line: 14, Apply: &Step{Inline: "kind: VirtualService\n", Timeout: twoMin, Line: 16},
					Expect: "v1=50, v3=50", Gate: Gate{Scrape: []string{"http://127.0.0.1:15000/stats"}}},
				{Name: "kube", Line: 20, Apply: &Step{Kube: "manifests/vs-50-50.yaml", Timeout: Duration(20 * time.Second), Line: 21},
					Expect: "v1=50,v3=50", OnFail: &Step{Kube: "all-v1.yaml", Timeout: twoMin, Line: 24}},
			}},
		},
		{
			name: "anchors and aliases",
			file: "alias.yaml",
			yaml: `name: alias
stages:
- name: a
  expect: v1=90,v3=10
  on-fail: &rollback
    command: ./rollback.sh
- name: b
  expect: v1=50,v3=50
  on-fail: *rollback
`,
			want: &Scenario{Name: "alias", Stages: []Stage{
				{Name: "a", Expect: "v1=90,v3=10", Line: 3, OnFail: &Step{Command: "./rollback.sh", Timeout: twoMin, Line: 5}},
				{Name: "b", Expect: "v1=50,v3=50", Line: 7, OnFail: &Step{Command: "./rollback.sh", Timeout: twoMin, Line: 5}},
			}},
		},
		{
			name: "quoted numbers and decimals summing to 100",
			file: "quoted.yaml",
			yaml: "name: q\nstages:\n- {name: thirds, expect: 'v1=33.3,v2=33.3,v3=33.4', tolerance: '10', rate: 0}\n",
			want: &Scenario{Name: "q", Stages: []Stage{{Name: "thirds", Expect: "v1=33.3,v2=33.3,v3=33.4", Line: 3,
				Gate: Gate{Tolerance: ptr(10.0), Rate: "0"}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tc.file, []byte(tc.yaml))
			if err != nil {
				t.Fatalf("Load(%s) error: %v", tc.file, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Load(%s) mismatch (-want +got):\n%s", tc.file, diff)
			}
		})
	}
}

// TestLoadAliasesShared checks that a scenario's steps do not alias each
// other even when the file does.
func TestLoadAliasesShared(t *testing.T) {
	t.Parallel()
	s, err := Load("a.yaml", []byte("name: a\nstages:\n- {name: a, expect: v1=100, on-fail: &r {command: x}}\n- {name: b, expect: v1=100, on-fail: *r}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.Stages[0].OnFail.Command = "changed"
	if got := s.Stages[1].OnFail.Command; got != "x" {
		t.Errorf("stages[1].on-fail.command = %q after changing stages[0]; want %q", got, "x")
	}
}

// TestLoadAliasBomb checks that aliases cannot make loading slow.
func TestLoadAliasBomb(t *testing.T) {
	t.Parallel()
	doc := "name: bomb\nstages: [&s {name: s, expect: v1=100}, " + strings.Repeat("*s, ", 200_000) + "]\n"
	start := time.Now()
	_, err := Load("bomb.yaml", []byte(doc))
	if err == nil {
		t.Fatal("Load(bomb) = nil error; want one")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Load(bomb) took %v", d)
	}
}
