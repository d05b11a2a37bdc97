package classify

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
)

// Rules classify the responses of an application other than Bookinfo, as
// read from a YAML file by ParseRules or made by VersionHeader. The zero
// value has no rules and calls every 200 response Unrecognized.
//
// The rules are tried in order on every response, whatever its status, and
// the first that matches decides. Its version is the first group of its
// regex, or else its version, or else the version header. Its outcome is
// the rule's own (OK unless it says otherwise) for a 200 response and
// HTTPError for any other status: the status says the response failed,
// and the rule only says which version failed, so that a 503 whose body
// names v2 counts against v2.
//
// When no rule matches, a 200 response with the version header is an OK
// of that version and one without is Unrecognized; any other status is an
// HTTPError of the header's version, if any.
type Rules struct {
	versionHeader string // canonical header name, or ""
	rules         []rule
}

// rule is one entry of a rules file. Exactly one of selector, header and
// jsonPath says what it looks at.
type rule struct {
	desc     string            // for Reason: `rules[2] "name": header X-Canary`
	selector cascadia.Selector // for a selector rule
	header   string            // canonical name, for a header rule
	jsonPath string            // gjson path, for a JSON rule
	text     string            // element text must contain it
	attr     string            // the attribute the value or regex applies to
	value    *string           // exact value of the subject
	regex    *regexp.Regexp    // pattern for the subject
	version  string
	outcome  Outcome
}

// VersionHeader returns rules that take the version from the response
// header name and call every 200 response OK; a 200 response without the
// header is Unrecognized. It backs the --version-header flag.
func VersionHeader(name string) *Rules {
	return &Rules{versionHeader: http.CanonicalHeaderKey(name)}
}

// Classify classifies one response. The body is read only when a rule
// needs it, and then once per kind: parsed as HTML by the first selector
// rule, checked as JSON by the first JSON rule. Header-only rules cost no
// work on the body.
func (r *Rules) Classify(status int, header http.Header, body []byte) Result {
	hv := ""
	if r.versionHeader != "" {
		hv = strings.TrimSpace(header.Get(r.versionHeader))
	}
	b := lazyBody{raw: body}
	for i := range r.rules {
		ru := &r.rules[i]
		matched, v := ru.match(header, &b)
		if !matched {
			continue
		}
		if v == "" {
			v = ru.version
		}
		if v == "" {
			v = hv
		}
		if status != http.StatusOK {
			res := statusResult(status)
			res.Version, res.f.why, res.note = v, whyStatusRule, ru.desc
			return res
		}
		return Result{Version: v, Outcome: ru.outcome, f: facts{why: whyRule}, note: ru.desc}
	}
	switch {
	case status != http.StatusOK:
		res := statusResult(status)
		res.Version = hv
		return res
	case r.versionHeader == "":
		return Result{Outcome: Unrecognized, f: facts{why: whyNoRule}}
	case hv == "":
		return Result{Outcome: Unrecognized, f: facts{why: whyNoHeader}, note: r.versionHeader}
	}
	return Result{Version: hv, f: facts{why: whyHeaderVersion}, note: r.versionHeader}
}

// lazyBody is the body of one response and what the rules have learnt
// about it so far. Both the parse and its failure are remembered, so that
// a body that is not HTML (or not JSON) is not parsed again by every later
// rule of that kind.
type lazyBody struct {
	raw      []byte
	doc      *goquery.Document
	htmlDone bool // doc is parsed, or the parse failed (doc nil)
	json     jsonState
}

type jsonState uint8

const (
	jsonUnchecked jsonState = iota
	jsonValid
	jsonInvalid
)

// html returns the parsed body, or nil when it does not parse.
func (b *lazyBody) html() *goquery.Document {
	if !b.htmlDone {
		b.htmlDone = true
		if d, err := goquery.NewDocumentFromReader(bytes.NewReader(b.raw)); err == nil && len(d.Nodes) > 0 {
			b.doc = d
		}
	}
	return b.doc
}

// match reports whether the rule matches, and the version its regex
// captured, if any.
func (ru *rule) match(header http.Header, b *lazyBody) (bool, string) {
	switch {
	case ru.jsonPath != "":
		s, ok := b.jsonString(ru.jsonPath)
		if !ok {
			return false, ""
		}
		return ru.subject(s)
	case ru.selector == nil:
		vals, ok := header[ru.header]
		if !ok || len(vals) == 0 {
			return false, ""
		}
		return ru.subject(vals[0])
	}
	doc := b.html()
	if doc == nil {
		return false, ""
	}
	for _, n := range ru.selector.MatchAll(doc.Nodes[0]) {
		s := goquery.NewDocumentFromNode(n).Selection
		if ru.text != "" && !strings.Contains(s.Text(), ru.text) {
			continue
		}
		subject := trimSpace(s.Text())
		if ru.attr != "" {
			v, ok := s.Attr(ru.attr)
			if !ok {
				continue
			}
			subject = v
		}
		if ok, v := ru.subject(subject); ok {
			return true, v
		}
	}
	return false, ""
}

// subject applies the value or the regex; the regex's first group, when
// it has one and it matched, is the version.
func (ru *rule) subject(s string) (bool, string) {
	switch {
	case ru.value != nil:
		return s == *ru.value, ""
	case ru.regex != nil:
		m := ru.regex.FindStringSubmatch(s)
		if m == nil {
			return false, ""
		}
		if len(m) > 1 {
			return true, m[1]
		}
	}
	return true, ""
}
