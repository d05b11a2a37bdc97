package classify

import (
	"encoding/json"
	"testing"
)

func TestOutcomeText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		o    Outcome
		name string
	}{
		{OK, "ok"}, {RatingsUnavailable, "ratings-unavailable"}, {DetailsUnavailable, "details-unavailable"},
		{ReviewsUnavailable, "reviews-unavailable"}, {NotProductPage, "not-productpage"},
		{Unrecognized, "unrecognized"}, {HTTPError, "http-error"}, {TransportError, "transport-error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.o.String(); got != tc.name {
				t.Errorf("String() = %q; want %q", got, tc.name)
			}
			if got, err := ParseOutcome(tc.name); got != tc.o || err != nil {
				t.Errorf("ParseOutcome(%q) = %v, %v; want %v, nil", tc.name, got, err, tc.o)
			}
			b, err := json.Marshal(map[string]Outcome{"o": tc.o})
			if err != nil || string(b) != `{"o":"`+tc.name+`"}` {
				t.Errorf("json.Marshal = %s, %v; want {\"o\":%q}", b, err, tc.name)
			}
			var back map[string]Outcome
			if err := json.Unmarshal(b, &back); err != nil || back["o"] != tc.o {
				t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, back["o"], err, tc.o)
			}
		})
	}
}

func TestOutcomeInvalid(t *testing.T) {
	t.Parallel()
	if _, err := ParseOutcome("OK"); err == nil {
		t.Error(`ParseOutcome("OK") = nil error; want an error (names are lower-case)`)
	}
	if _, err := Outcome(200).MarshalText(); err == nil {
		t.Error("Outcome(200).MarshalText() = nil error; want an error")
	}
	if got, want := Outcome(200).String(), "Outcome(200)"; got != want {
		t.Errorf("Outcome(200).String() = %q; want %q", got, want)
	}
	var o Outcome
	if err := o.UnmarshalText([]byte("fine")); err == nil {
		t.Error(`UnmarshalText("fine") = nil error; want an error`)
	}
}

func TestOutcomeSeverity(t *testing.T) {
	t.Parallel()
	order := []Outcome{OK, DetailsUnavailable, RatingsUnavailable, ReviewsUnavailable, Unrecognized, NotProductPage, HTTPError, TransportError, Outcome(99)}
	for i := 1; i < len(order); i++ {
		if a, b := order[i-1], order[i]; a.Severity() >= b.Severity() {
			t.Errorf("%v.Severity() = %d >= %v.Severity() = %d; want less", a, a.Severity(), b, b.Severity())
		}
	}
}
