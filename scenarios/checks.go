package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/canary-gate/canary/internal/yamlerr"
	"go.yaml.in/yaml/v3"
)

// The checks below return "" for a good value, else the message: what is
// wrong, and what was expected. Values are quoted, so messages stay on one
// line whatever the file holds.

// sumSlack lets decimals such as 33.3,33.3,33.4 sum to 100 despite rounding.
const sumSlack = 1e-9

// checkExpect checks the syntax of "v1=50,v3=50": VERSION=PERCENT pairs,
// each version once, percentages summing to 100. The decide package does
// the full check when the gate runs.
func checkExpect(s string) string {
	const want = "VERSION=PERCENT pairs summing to 100 such as v1=90,v3=10"
	seen := map[string]bool{}
	sum := 0.0
	for _, pair := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		p, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		switch {
		case !ok || name == "":
			return fmt.Sprintf("got %q, in which %q is not VERSION=PERCENT, expected %s", s, strings.TrimSpace(pair), want)
		case seen[name]:
			return fmt.Sprintf("got %q, in which %q is listed twice, expected %s", s, name, want)
		case err != nil || !(p >= 0 && p <= 100):
			return fmt.Sprintf("got %q, in which %q is not a percentage from 0 to 100, expected %s", s, strings.TrimSpace(val), want)
		}
		seen[name] = true
		sum += p
	}
	if math.Abs(sum-100) > sumSlack {
		return fmt.Sprintf("got %q, whose percentages sum to %g, expected %s", s, math.Round(sum*1e6)/1e6, want)
	}
	return ""
}

// checkMirror checks "v2" or "v2=50", without spaces.
func checkMirror(s string) string {
	name, val, hasPct := strings.Cut(s, "=")
	p, err := strconv.ParseFloat(val, 64)
	if name == "" || strings.ContainsFunc(s, unicode.IsSpace) || hasPct && (err != nil || !(p > 0 && p <= 100)) {
		return fmt.Sprintf("got %q, expected VERSION or VERSION=PERCENT with a percentage in (0, 100], such as v2 or v2=50", s)
	}
	return ""
}

// checkRate checks a rate as `canary verify --rate` reads it: N, N/s, N/1m.
func checkRate(s string) string {
	bad := fmt.Sprintf("got %q, expected requests per second: N, N/s or N/1m, such as 20/s", s)
	num, per, hasPer := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || !(n >= 0) || math.IsInf(n, 0) {
		return bad
	}
	if !hasPer {
		return ""
	}
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "/s" means "/1s"
	}
	if d, err := time.ParseDuration(per); err != nil || d <= 0 {
		return bad
	}
	return ""
}

// checkURL checks an absolute http or https URL.
func checkURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || checkText(s) != "" {
		return fmt.Sprintf("got %q, expected an http or https URL such as http://127.0.0.1:8080/productpage", s)
	}
	return ""
}

// checkText checks a one-line text without control characters.
func checkText(s string) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Sprintf("got %q, expected one line of printable text", s)
	}
	return ""
}

// checkName checks a user, service or namespace name: no spaces.
func checkName(s string) string {
	if checkText(s) != "" || strings.ContainsFunc(s, unicode.IsSpace) {
		return fmt.Sprintf("got %q, expected a name without spaces", s)
	}
	return ""
}

// checkHeaders checks header names (HTTP tokens) and one-line values.
func checkHeaders(h map[string]string) string {
	for k, v := range h {
		if k == "" || strings.ContainsFunc(k, func(r rune) bool { return !isTokenRune(r) }) {
			return fmt.Sprintf("got header name %q, expected letters, digits and -", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Sprintf("header %s has a line break in its value, expected one line", k)
		}
	}
	return ""
}

func isTokenRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

// checkManifests checks that inline manifests are YAML mappings with a
// kind, at least one; line is the line of the problem in text, 0 if none.
func checkManifests(text string) (line int, msg string) {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	resources := 0
	for {
		var doc yaml.Node
		err := yamlerr.Decode(dec, &doc)
		switch {
		case errors.Is(err, io.EOF) && resources == 0:
			return 1, "no resources, expected Istio manifests"
		case errors.Is(err, io.EOF):
			return 0, ""
		case err != nil:
			e := syntaxError("", []byte(text), err).(*fieldError)
			return e.line, e.msg + ", expected Istio manifests"
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document, as after a trailing ---
		}
		if root.Kind != yaml.MappingNode || !hasKey(root, "kind") {
			return root.Line, fmt.Sprintf("got %s, expected an Istio resource with apiVersion, kind, metadata and spec", describe(root))
		}
		resources++
	}
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}
