package classify

import (
	"fmt"
	"strconv"
)

// Outcome says whether one response was a healthy page and, if not, what
// went wrong. The zero value is OK. Order the values with Severity, not by
// their numbers: the numbers only keep encoded streams stable.
type Outcome uint8

// The outcomes, each with the string that String, MarshalText and
// ParseOutcome use.
const (
	// OK is a complete, healthy product page ("ok").
	OK Outcome = iota
	// RatingsUnavailable is a product page whose reviews say the ratings
	// service is currently unavailable ("ratings-unavailable").
	RatingsUnavailable
	// DetailsUnavailable is a product page whose details section failed
	// ("details-unavailable").
	DetailsUnavailable
	// ReviewsUnavailable is a product page whose reviews section failed
	// ("reviews-unavailable"); it never names a reviews version.
	ReviewsUnavailable
	// NotProductPage is a 200 response that carries no product page
	// landmark at all, such as the Bookinfo index page ("not-productpage").
	NotProductPage
	// Unrecognized is a page that looks like a product page but whose
	// evidence is missing, cut short or contradictory ("unrecognized").
	Unrecognized
	// HTTPError is a response whose status is not 200 ("http-error").
	HTTPError
	// TransportError is a request that got no response at all
	// ("transport-error"); see Transport.
	TransportError
)

// outcomeNames is indexed by Outcome.
var outcomeNames = [...]string{
	OK:                 "ok",
	RatingsUnavailable: "ratings-unavailable",
	DetailsUnavailable: "details-unavailable",
	ReviewsUnavailable: "reviews-unavailable",
	NotProductPage:     "not-productpage",
	Unrecognized:       "unrecognized",
	HTTPError:          "http-error",
	TransportError:     "transport-error",
}

// severities is indexed by Outcome. A page that shows several problems
// gets the most severe one: a failed reviews section hides the ratings,
// and failed ratings matter more to a reviews canary than failed details.
// The outcomes that are not a readable product page come after those.
var severities = [...]int{
	OK:                 0,
	DetailsUnavailable: 1,
	RatingsUnavailable: 2,
	ReviewsUnavailable: 3,
	Unrecognized:       4,
	NotProductPage:     5,
	HTTPError:          6,
	TransportError:     7,
}

// String returns the outcome's kebab-case name, such as "ratings-unavailable".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Severity orders outcomes from OK (0) to TransportError (7):
// OK < DetailsUnavailable < RatingsUnavailable < ReviewsUnavailable <
// Unrecognized < NotProductPage < HTTPError < TransportError.
// An unknown value is more severe than any known one.
func (o Outcome) Severity() int {
	if int(o) < len(severities) {
		return severities[o]
	}
	return len(severities)
}

// MarshalText encodes the outcome as its name. Unknown values are an error,
// so that a corrupt value never reaches a report as a plausible name.
func (o Outcome) MarshalText() ([]byte, error) {
	if int(o) >= len(outcomeNames) {
		return nil, fmt.Errorf("classify: unknown outcome %d", uint8(o))
	}
	return []byte(outcomeNames[o]), nil
}

// UnmarshalText decodes a name written by MarshalText.
func (o *Outcome) UnmarshalText(text []byte) error {
	v, err := ParseOutcome(string(text))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// ParseOutcome returns the outcome named s, which must be one of the names
// String returns.
func ParseOutcome(s string) (Outcome, error) {
	for i, name := range outcomeNames {
		if s == name {
			return Outcome(i), nil
		}
	}
	return 0, fmt.Errorf("classify: unknown outcome %q", s)
}
