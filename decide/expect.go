package decide

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/canary-gate/canary/internal/textfmt"
)

// ErrInvalid is wrapped by every error about bad input (expectation or
// criteria), so the CLI can map it to the usage exit code with errors.Is.
var ErrInvalid = errors.New("invalid")

// sumSlack is how far the percentages may sum from 100, so that decimals
// such as 33.3,33.3,33.4 are accepted despite float rounding.
const sumSlack = 1e-9

// Expectation is the split a rollout stage expects: versions and their
// percentages of traffic. Versions not listed expect 0%. The zero value
// has no versions and is rejected by Criteria.Validate.
type Expectation struct {
	versions []string
	percents []float64
}

// ParseExpect parses "v1=50,v3=50" (spaces around names and numbers are
// allowed). Versions keep the order they are written in. Every error is one
// line naming the problem and wraps ErrInvalid.
func ParseExpect(s string) (Expectation, error) {
	bad := func(format string, args ...any) (Expectation, error) {
		return Expectation{}, fmt.Errorf("%w expectation %q: %s", ErrInvalid, s, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(s) == "" {
		return bad("no versions")
	}
	var e Expectation
	sum := 0.0
	for i, pair := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(pair, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		switch {
		case strings.TrimSpace(pair) == "":
			return bad("pair %d is empty", i+1)
		case !ok:
			return bad("%q is not version=percent", strings.TrimSpace(pair))
		case name == "":
			return bad("%q has an empty version", strings.TrimSpace(pair))
		case e.index(name) >= 0:
			return bad("%s is listed twice", name)
		}
		p, err := strconv.ParseFloat(val, 64)
		switch {
		case err != nil || math.IsNaN(p) || math.IsInf(p, 0):
			return bad("%s: %q is not a number", name, val)
		case p < 0:
			return bad("%s: %s is negative", name, val)
		case p > 100:
			return bad("%s: %s is over 100", name, val)
		}
		e.versions = append(e.versions, name)
		e.percents = append(e.percents, p)
		sum += p
	}
	if math.Abs(sum-100) > sumSlack {
		return bad("percentages sum to %s, not 100", textfmt.Num(math.Round(sum*1e6)/1e6))
	}
	return e, nil
}

// String formats the expectation as ParseExpect reads it: "v1=50,v3=50".
func (e Expectation) String() string {
	var b strings.Builder
	for i, v := range e.versions {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(v)
		b.WriteByte('=')
		b.WriteString(textfmt.Num(e.percents[i]))
	}
	return b.String()
}

// Versions returns the listed versions in their stable (written) order.
func (e Expectation) Versions() []string {
	return append([]string(nil), e.versions...)
}

// Percent returns the expected percentage of version (0 if not listed).
func (e Expectation) Percent(version string) float64 {
	if i := e.index(version); i >= 0 {
		return e.percents[i]
	}
	return 0
}

func (e Expectation) index(version string) int {
	for i, v := range e.versions {
		if v == version {
			return i
		}
	}
	return -1
}

// Serving lists the versions expected above 0%, in the order written.
func (e Expectation) Serving() []string {
	var out []string
	for i, v := range e.versions {
		if e.percents[i] > 0 {
			out = append(out, v)
		}
	}
	return out
}
