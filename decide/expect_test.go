package decide

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseExpect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string // String() of the result
		wantErr string
	}{
		{name: "two versions", in: "v1=50,v3=50", want: "v1=50,v3=50"},
		{name: "order kept", in: "v3=10,v1=90", want: "v3=10,v1=90"},
		{name: "spaces", in: " v1 = 50 , v3= 50 ", want: "v1=50,v3=50"},
		{name: "decimals", in: "a=33.3,b=33.3,c=33.4", want: "a=33.3,b=33.3,c=33.4"},
		{name: "explicit zero", in: "v1=100,v2=0", want: "v1=100,v2=0"},
		{name: "single", in: "v1=100", want: "v1=100"},
		{name: "empty", in: "", wantErr: `invalid expectation "": no versions`},
		{name: "blank", in: "  ", wantErr: `invalid expectation "  ": no versions`},
		{name: "no equals", in: "v1:50,v3=50", wantErr: `invalid expectation "v1:50,v3=50": "v1:50" is not version=percent`},
		{name: "empty pair", in: "v1=50,,v3=50", wantErr: `invalid expectation "v1=50,,v3=50": pair 2 is empty`},
		{name: "trailing comma", in: "v1=100,", wantErr: `invalid expectation "v1=100,": pair 2 is empty`},
		{name: "empty version", in: "=50,v3=50", wantErr: `invalid expectation "=50,v3=50": "=50" has an empty version`},
		{name: "not a number", in: "v1=half,v3=50", wantErr: `invalid expectation "v1=half,v3=50": v1: "half" is not a number`},
		{name: "empty number", in: "v1=,v3=100", wantErr: `invalid expectation "v1=,v3=100": v1: "" is not a number`},
		{name: "nan", in: "v1=NaN,v3=50", wantErr: `invalid expectation "v1=NaN,v3=50": v1: "NaN" is not a number`},
		{name: "inf", in: "v1=Inf", wantErr: `invalid expectation "v1=Inf": v1: "Inf" is not a number`},
		{name: "negative", in: "v1=-10,v3=110", wantErr: `invalid expectation "v1=-10,v3=110": v1: -10 is negative`},
		{name: "over 100", in: "v1=150", wantErr: `invalid expectation "v1=150": v1: 150 is over 100`},
		{name: "duplicate", in: "v1=50,v1=50", wantErr: `invalid expectation "v1=50,v1=50": v1 is listed twice`},
		{name: "sum low", in: "v1=50,v3=40", wantErr: `invalid expectation "v1=50,v3=40": percentages sum to 90, not 100`},
		{name: "sum high", in: "v1=60,v3=50", wantErr: `invalid expectation "v1=60,v3=50": percentages sum to 110, not 100`},
		{name: "sum decimals", in: "a=33.3,b=33.3,c=33.3", wantErr: `invalid expectation "a=33.3,b=33.3,c=33.3": percentages sum to 99.9, not 100`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExpect(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ParseExpect(%q) error = %v; want %s", tc.in, err, tc.wantErr)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("ParseExpect(%q) error does not wrap ErrInvalid", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExpect(%q) error = %v; want nil", tc.in, err)
			}
			if got.String() != tc.want {
				t.Errorf("ParseExpect(%q).String() = %q; want %q", tc.in, got.String(), tc.want)
			}
		})
	}
}

func TestExpectationAccessors(t *testing.T) {
	t.Parallel()
	e := mustExpect(t, "v3=25,v1=75")
	if diff := cmp.Diff([]string{"v3", "v1"}, e.Versions()); diff != "" {
		t.Errorf("Versions() mismatch (-want +got):\n%s", diff)
	}
	for v, want := range map[string]float64{"v1": 75, "v3": 25, "v2": 0} {
		if got := e.Percent(v); got != want {
			t.Errorf("Percent(%q) = %v; want %v", v, got, want)
		}
	}
}

func TestCriteriaValidate(t *testing.T) {
	t.Parallel()
	e := mustExpect(t, "v1=50,v3=50")
	tests := []struct {
		name    string
		edit    func(*Criteria)
		wantErr string
	}{
		{name: "defaults", edit: func(*Criteria) {}},
		{name: "zero errors allowed", edit: func(c *Criteria) { c.MaxErrorRate = 0 }},
		{name: "no expectation", edit: func(c *Criteria) { c.Expect = Expectation{} }, wantErr: "invalid criteria: no expected split"},
		{name: "zero tolerance", edit: func(c *Criteria) { c.Tolerance = 0 }, wantErr: "invalid criteria: tolerance 0 is not in (0, 50] points"},
		{name: "huge tolerance", edit: func(c *Criteria) { c.Tolerance = 60 }, wantErr: "invalid criteria: tolerance 60 is not in (0, 50] points"},
		{name: "confidence 1", edit: func(c *Criteria) { c.Confidence = 1 }, wantErr: "invalid criteria: confidence 1 is not in [0.5, 0.9999]"},
		{name: "confidence percent", edit: func(c *Criteria) { c.Confidence = 95 }, wantErr: "invalid criteria: confidence 95 is not in [0.5, 0.9999]"},
		{name: "no requests", edit: func(c *Criteria) { c.MaxRequests = 0 }, wantErr: "invalid criteria: max requests 0 is not in [1, 200000]"},
		{name: "error rate 1", edit: func(c *Criteria) { c.MaxErrorRate = 1 }, wantErr: "invalid criteria: max error rate 1 is not in [0, 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(e)
			tc.edit(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v; want %s (wrapping ErrInvalid)", err, tc.wantErr)
			}
		})
	}
}

func mustExpect(t testing.TB, s string) Expectation {
	t.Helper()
	e, err := ParseExpect(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// FuzzParseExpect checks that parsing never panics and that an accepted
// expectation prints as text that parses back to itself.
func FuzzParseExpect(f *testing.F) {
	for _, s := range []string{"v1=50,v3=50", "a=33.3,b=33.3,c=33.4", "v1=100,v2=0", "", "=", ",", "v1=1e2", "v1=0x64", "v1=50,v1=50"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpect(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseExpect(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		again, err := ParseExpect(e.String())
		if err != nil || again.String() != e.String() {
			t.Fatalf("ParseExpect(%q).String() = %q, which parses to %q, %v", s, e.String(), again.String(), err)
		}
	})
}
