package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBuiltinNames(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff([]string{"gateway-api", "progressive", "walkthrough"}, Builtin()); diff != "" {
		t.Errorf("Builtin() mismatch (-want +got):\n%s", diff)
	}
	for _, name := range []string{"", "nope", "../builtin/walkthrough", "walkthrough.yaml"} {
		if _, ok := BuiltinSource(name); ok {
			t.Errorf("BuiltinSource(%q) found; want not found", name)
		}
	}
}

// TestBuiltinLoad loads and validates every built-in scenario.
func TestBuiltinLoad(t *testing.T) {
	t.Parallel()
	for _, name := range Builtin() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, ok := BuiltinSource(name)
			if !ok {
				t.Fatalf("BuiltinSource(%q) not found", name)
			}
			s, err := Load(name+".yaml", src)
			if err != nil {
				t.Fatalf("Load(%s) error: %v", name, err)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("Validate() = %v after Load", err)
			}
			if s.Name != name || s.Description == "" || s.Target != "" {
				t.Errorf("name %q, description %q, target %q; want %q, some text, empty (canary demo fills it)", s.Name, s.Description, s.Target, name)
			}
			for i, st := range s.Stages {
				if st.Description == "" || st.Apply != nil && st.Apply.Inline == "" {
					t.Errorf("stages[%d] %s: want a description and inline manifests for the local mesh", i, st.Name)
				}
			}
		})
	}
}

// stageSummary is what a built-in stage does, for the tables below.
type stageSummary struct {
	Name, Expect, Mirror, Login string
	Applies, RollsBack          bool
	SettleMin                   time.Duration
}

func summarize(t *testing.T, name string) []stageSummary {
	t.Helper()
	src, _ := BuiltinSource(name)
	s, err := Load(name+".yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	var out []stageSummary
	for i, st := range s.Stages {
		g := s.StageGate(i)
		out = append(out, stageSummary{Name: st.Name, Expect: st.Expect, Mirror: st.Mirror, Login: g.Login,
			Applies: st.Apply != nil, RollsBack: st.OnFail != nil, SettleMin: time.Duration(g.SettleMin)})
	}
	return out
}

func TestBuiltinWalkthroughStages(t *testing.T) {
	t.Parallel()
	want := []stageSummary{
		{Name: "round-robin", Expect: "v1=33.3,v2=33.3,v3=33.4"},
		{Name: "destination-rules", Expect: "v1=33.3,v2=33.3,v3=33.4", Applies: true},
		{Name: "all-v1", Expect: "v1=100", Applies: true},
		{Name: "canary-50-50", Expect: "v1=50,v3=50", Applies: true},
		{Name: "promote-v3", Expect: "v3=100", Applies: true},
		{Name: "back-to-v1", Expect: "v1=100", Applies: true},
		{Name: "mirror-v2", Expect: "v1=100", Mirror: "v2", Applies: true, SettleMin: 2 * time.Second},
		{Name: "jason-to-v2", Expect: "v2=100", Login: "jason", Applies: true},
		{Name: "others-on-v1", Expect: "v1=100"},
	}
	if diff := cmp.Diff(want, summarize(t, "walkthrough")); diff != "" {
		t.Errorf("walkthrough stages mismatch (-want +got):\n%s", diff)
	}
}

func TestBuiltinProgressiveStages(t *testing.T) {
	t.Parallel()
	want := []stageSummary{
		{Name: "baseline", Expect: "v1=100", Applies: true},
		{Name: "canary-10", Expect: "v1=90,v3=10", Applies: true, RollsBack: true},
		{Name: "canary-25", Expect: "v1=75,v3=25", Applies: true, RollsBack: true, SettleMin: 2 * time.Second},
		{Name: "canary-50", Expect: "v1=50,v3=50", Applies: true, RollsBack: true, SettleMin: 2 * time.Second},
		{Name: "promote", Expect: "v3=100", Applies: true, RollsBack: true},
	}
	if diff := cmp.Diff(want, summarize(t, "progressive")); diff != "" {
		t.Errorf("progressive stages mismatch (-want +got):\n%s", diff)
	}
	src, _ := BuiltinSource("progressive")
	if !strings.Contains(string(src), "#     command: kubectl apply") {
		t.Error("progressive has no commented kubectl example")
	}
}

// TestBuiltinSourceCopy checks that callers cannot change the embedded text.
func TestBuiltinSourceCopy(t *testing.T) {
	t.Parallel()
	a, _ := BuiltinSource("walkthrough")
	a[0] = 'X'
	if b, _ := BuiltinSource("walkthrough"); b[0] == 'X' {
		t.Error("BuiltinSource returned shared memory")
	}
}

func TestBuiltinGatewayAPIStages(t *testing.T) {
	t.Parallel()
	want := []stageSummary{
		{Name: "version-services", Expect: "v1=33.3,v2=33.3,v3=33.4", Applies: true},
		{Name: "all-v1", Expect: "v1=100", Applies: true},
		{Name: "canary-90-10", Expect: "v1=90,v2=10", Applies: true, RollsBack: true},
		{Name: "canary-50-50", Expect: "v1=50,v3=50", Applies: true, RollsBack: true, SettleMin: 3 * time.Second},
		{Name: "promote-v3", Expect: "v3=100", Applies: true, RollsBack: true},
	}
	if diff := cmp.Diff(want, summarize(t, "gateway-api")); diff != "" {
		t.Errorf("gateway-api stages mismatch (-want +got):\n%s", diff)
	}
	src, _ := BuiltinSource("gateway-api")
	s, err := Load("gateway-api.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.StageGate(2).Backends; !cmp.Equal(got, []string{"reviews-v1", "reviews-v2", "reviews-v3"}) {
		t.Errorf("gate backends %v; want the three version Services, for the server check", got)
	}
}
