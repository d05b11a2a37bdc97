package classify

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"go.yaml.in/yaml/v3"

	"github.com/canary-gate/canary/internal/yamlerr"
)

// ParseRules reads rules from the YAML document data; name (usually the
// file name) prefixes error messages. Every error is one line of the form
// "name:LINE: field: what was expected". The schema:
//
//	version_header: X-App-Version   # optional: where versions come from
//	rules:                          # tried in order; the first match decides
//	  - name: maintenance page      # optional, shown in reasons
//	    selector: div.maintenance   # a goquery (CSS) selector, or
//	    header: X-Canary            #   a response header, or
//	    json: meta.version          #   a gjson path into a JSON body; exactly one
//	    text: down for maintenance  # selector only: the element's text contains it
//	    attr: content               # selector only: compare this attribute
//	    value: "true"               # the attribute, text, header or JSON value equals it, or
//	    regex: '^(v[0-9]+)$'        #   matches it (group 1, if any, is the version)
//	    version: v2                 # the version this rule means
//	    outcome: unrecognized       # default ok; any outcome but transport-error
//
// A json rule matches when the body is valid JSON and the path names a
// value other than null; the value, as a string, is what value and regex
// compare. Unknown fields are errors, so that a misspelt field never
// silently matches everything; the hyphenated version-header, an easy
// slip beside the --version-header flag, gets a hint.
func ParseRules(name string, data []byte) (*Rules, error) {
	p := rulesParser{name: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, p.yamlError(data, err)
	}
	if len(doc.Content) == 0 {
		return nil, p.errorf(nil, "rules", "want at least one rule, or a version_header; the file is empty")
	}
	return p.file(doc.Content[0])
}

type rulesParser struct{ name string }

func (p rulesParser) errorf(n *yaml.Node, field, format string, args ...any) error {
	line := 1
	if n != nil && n.Line > 0 {
		line = n.Line
	}
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")
	return fmt.Errorf("%s:%d: %s: %s", p.name, line, field, msg)
}

// yamlError rewrites a syntax error of the YAML decoder into our form.
func (p rulesParser) yamlError(data []byte, err error) error {
	line, msg := yamlerr.Locate(data, err)
	return p.errorf(&yaml.Node{Line: line}, "syntax", "%s", msg)
}

// fields checks that n is a mapping of known, unique, scalar keys with
// non-alias values and returns the values by key.
func (p rulesParser) fields(n *yaml.Node, field string, known ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		where := field
		if where == "" {
			where = "document"
		}
		return nil, p.errorf(n, where, "want a mapping with the fields %s", strings.Join(known, ", "))
	}
	m := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if field != "" {
			name = field + "." + k.Value
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			return nil, p.errorf(k, name, "want a field name, such as %s", known[0])
		case !slices.Contains(known, k.Value):
			return nil, p.errorf(k, name, "unknown field; want one of %s%s", strings.Join(known, ", "), hint(k.Value, known))
		case m[k.Value] != nil:
			return nil, p.errorf(k, name, "duplicate field")
		case v.Kind == yaml.AliasNode:
			return nil, p.errorf(v, name, "want a value, not an alias")
		}
		m[k.Value] = v
	}
	return m, nil
}

// str returns the string of a scalar field; empty is an error unless
// allowEmpty.
func (p rulesParser) str(n *yaml.Node, field string, allowEmpty bool) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" && !allowEmpty {
		return "", p.errorf(n, field, "want a string")
	}
	if n.Value == "" && !allowEmpty {
		return "", p.errorf(n, field, "want a non-empty string")
	}
	return n.Value, nil
}

func (p rulesParser) file(root *yaml.Node) (*Rules, error) {
	f, err := p.fields(root, "", "version_header", "rules")
	if err != nil {
		return nil, err
	}
	r := &Rules{}
	if n := f["version_header"]; n != nil {
		if r.versionHeader, err = p.headerName(n, "version_header"); err != nil {
			return nil, err
		}
	}
	if n := f["rules"]; n != nil {
		if n.Kind != yaml.SequenceNode {
			return nil, p.errorf(n, "rules", "want a list of rules")
		}
		for i, item := range n.Content {
			ru, err := p.rule(item, i)
			if err != nil {
				return nil, err
			}
			r.rules = append(r.rules, ru)
		}
	}
	if len(r.rules) == 0 && r.versionHeader == "" {
		return nil, p.errorf(root, "rules", "want at least one rule, or a version_header")
	}
	return r, nil
}

func (p rulesParser) headerName(n *yaml.Node, field string) (string, error) {
	s, err := p.str(n, field, false)
	if err != nil {
		return "", err
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return "", p.errorf(n, field, "want a header name such as X-Version; got %q", s)
		}
	}
	return http.CanonicalHeaderKey(s), nil
}

var ruleFields = []string{"name", "selector", "header", "json", "text", "attr", "value", "regex", "version", "outcome"}

// hint suggests the known field that key misspells with a hyphen for an
// underscore, as in version-header for version_header.
func hint(key string, known []string) string {
	if k := strings.ReplaceAll(key, "-", "_"); k != key && slices.Contains(known, k) {
		return " (did you mean " + k + "?)"
	}
	return ""
}

// rule reads rules[i]. Fields are read in a fixed order, so the error a
// file gets does not depend on the order of its keys.
func (p rulesParser) rule(n *yaml.Node, i int) (ru rule, err error) {
	field := "rules[" + strconv.Itoa(i) + "]"
	f, err := p.fields(n, field, ruleFields...)
	if err != nil {
		return ru, err
	}
	s := map[string]string{}
	for _, k := range ruleFields {
		if f[k] != nil {
			if s[k], err = p.str(f[k], field+"."+k, k == "value"); err != nil {
				return ru, err
			}
		}
	}
	switch {
	case countSet(f, "selector", "header", "json") != 1:
		return ru, p.errorf(n, field, "want exactly one of selector, header and json")
	case f["selector"] == nil && f["text"] != nil:
		return ru, p.errorf(f["text"], field+".text", "allowed only with selector")
	case f["selector"] == nil && f["attr"] != nil:
		return ru, p.errorf(f["attr"], field+".attr", "allowed only with selector")
	case f["value"] != nil && f["regex"] != nil:
		return ru, p.errorf(f["regex"], field+".regex", "want value or regex, not both")
	}
	if err := p.match(&ru, f, s, field); err != nil {
		return ru, err
	}
	if err := p.result(&ru, f, s, field); err != nil {
		return ru, err
	}
	ru.desc = describe(field, s)
	return ru, nil
}

// countSet counts the keys that f has.
func countSet(f map[string]*yaml.Node, keys ...string) int {
	n := 0
	for _, k := range keys {
		if f[k] != nil {
			n++
		}
	}
	return n
}

// match fills in what the rule looks at.
func (p rulesParser) match(ru *rule, f map[string]*yaml.Node, s map[string]string, field string) (err error) {
	switch {
	case f["header"] != nil:
		if ru.header, err = p.headerName(f["header"], field+".header"); err != nil {
			return err
		}
	case f["json"] != nil:
		if msg := checkJSONPath(s["json"]); msg != "" {
			return p.errorf(f["json"], field+".json", "%s; got %q", msg, s["json"])
		}
		ru.jsonPath = s["json"]
	default:
		if ru.selector, err = cascadia.Compile(s["selector"]); err != nil {
			return p.errorf(f["selector"], field+".selector", "want a CSS selector: %v", err)
		}
	}
	ru.text, ru.attr = s["text"], strings.ToLower(s["attr"])
	if f["value"] != nil {
		v := s["value"]
		ru.value = &v
	}
	if f["regex"] != nil {
		if ru.regex, err = regexp.Compile(s["regex"]); err != nil {
			return p.errorf(f["regex"], field+".regex", "want a regular expression: %v", err)
		}
	}
	return nil
}

// result fills in what the rule means.
func (p rulesParser) result(ru *rule, f map[string]*yaml.Node, s map[string]string, field string) error {
	if n := f["version"]; n != nil {
		if strings.ContainsAny(s["version"], " \t\r\n") {
			return p.errorf(n, field+".version", "want a version without spaces, such as v2; got %q", s["version"])
		}
		ru.version = s["version"]
	}
	if n := f["outcome"]; n != nil {
		o, err := ParseOutcome(s["outcome"])
		if err != nil || o == TransportError {
			return p.errorf(n, field+".outcome", "want one of ok, ratings-unavailable, details-unavailable, "+
				"reviews-unavailable, not-productpage, unrecognized, http-error; got %q", s["outcome"])
		}
		ru.outcome = o
	}
	captures := ru.regex != nil && ru.regex.NumSubexp() > 0
	if f["version"] == nil && f["outcome"] == nil && !captures {
		return p.errorf(f[firstKey(f)], field, "want a version, an outcome, or a regex whose group captures the version")
	}
	return nil
}

func firstKey(f map[string]*yaml.Node) string {
	for _, k := range ruleFields {
		if f[k] != nil {
			return k
		}
	}
	return ""
}

// describe is the rule's part of a Reason, built once here.
func describe(field string, s map[string]string) string {
	d := field
	if s["name"] != "" {
		d += " " + strconv.Quote(s["name"])
	}
	switch {
	case s["header"] != "":
		return d + ": header " + http.CanonicalHeaderKey(s["header"])
	case s["json"] != "":
		return d + ": json " + s["json"]
	}
	return d + ": selector " + s["selector"]
}
