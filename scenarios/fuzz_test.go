package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeed uses every key once, in little space.
const fuzzSeed = `name: s
target: http://h/p
defaults:
  rate: 20/s
  tolerance: 5
  confidence: 0.95
  max-requests: 100
  max-error-rate: 1
  timeout: 1m
  settle-timeout: 9s
  settle: auto
  prometheus: {url: http://p, bearer-token-file: t, basic-auth-file: a, headers: {A: b}, ca-file: c, insecure: true, require: false}
  headers: {X: y}
  login: j
  host: reviews
  namespace: default
stages:
- name: a
  description: d
  apply: &r {command: c, timeout: 1s}
  expect: v1=90,v3=10
  mirror: v2=50
  settle-min: 2s
  pause: 1s
  on-fail: *r
- name: b
  apply: {inline: "kind: A"}
  expect-from: f
  scrape: [http://s]
  on-fail: {manifests: [m]}
- name: c
  apply: {kube: k}
  expect: v3=100
`

// FuzzLoad checks that Load never panics and either returns a scenario
// that validates, with a gate for every stage, or a one-line ErrInvalid;
// and that it says the same thing twice.
func FuzzLoad(f *testing.F) {
	// Small seeds: the fuzzer minimizes every input that finds new
	// coverage, which takes long for a large one such as a built-in
	// scenario (TestBuiltinLoad covers those).
	f.Add([]byte(fuzzSeed))
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "\x00", "{", "stages: [&a {name: a, expect: v1=100}, *a]", "name: \xff",
		"stages:\n- {name: a, expect: v1=100, headers: {\"\": x}}", "stages: [{name: a, expect: 'v1=1e2'}]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load("fuzz.yaml", data)
		if err != nil {
			checkLoadError(t, "fuzz.yaml", s, err)
			if _, err2 := Load("fuzz.yaml", data); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Load is not deterministic: %q, then %v", err, err2)
			}
			return
		}
		if s == nil || len(s.Stages) == 0 {
			t.Fatalf("Load = %+v, nil; want a scenario with stages", s)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("Validate() = %v after a successful Load", err)
		}
		for i := range s.Stages {
			_ = s.StageGate(i)
		}
		if strings.ContainsAny(s.Name, "\n\r") {
			t.Errorf("name %q is not one line", s.Name)
		}
	})
}
