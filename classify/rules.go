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
// A response whose status is not 200 is an HTTPError. Otherwise the rules
// are tried in order and the first that matches decides: its version (or
// the first group of its regex, or else the version header) and its
// outcome (OK unless it says otherwise). When no rule matches, the version
// header alone gives an OK with its version; without one the response is
// Unrecognized. The version header also names the version of HTTP errors,
// so that errors count against the version that produced them.
type Rules struct {
	versionHeader string // canonical header name, or ""
	rules         []rule
}

// rule is one entry of a rules file.
type rule struct {
	desc     string            // for Reason: `rule 2 "name": header X-Canary`
	selector cascadia.Selector // nil for a header rule
	header   string            // canonical name, for a header rule
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

// Classify classifies one response. It parses the body only when a rule
// has a selector, so header-only rules cost no allocation on the body.
func (r *Rules) Classify(status int, header http.Header, body []byte) Result {
	hv := ""
	if r.versionHeader != "" {
		hv = strings.TrimSpace(header.Get(r.versionHeader))
	}
	if status != http.StatusOK {
		res := statusResult(status)
		res.Version = hv
		return res
	}
	var doc *goquery.Document
	for i := range r.rules {
		ru := &r.rules[i]
		matched, v := ru.match(header, body, &doc)
		if !matched {
			continue
		}
		if v == "" {
			v = ru.version
		}
		if v == "" {
			v = hv
		}
		return Result{Version: v, Outcome: ru.outcome, f: facts{why: whyRule}, note: ru.desc}
	}
	switch {
	case r.versionHeader == "":
		return Result{Outcome: Unrecognized, f: facts{why: whyNoRule}}
	case hv == "":
		return Result{Outcome: Unrecognized, f: facts{why: whyNoHeader}, note: r.versionHeader}
	}
	return Result{Version: hv, f: facts{why: whyHeaderVersion}, note: r.versionHeader}
}

// match reports whether the rule matches, and the version its regex
// captured, if any. doc is parsed on first use.
func (ru *rule) match(header http.Header, body []byte, doc **goquery.Document) (bool, string) {
	if ru.selector == nil {
		vals, ok := header[ru.header]
		if !ok || len(vals) == 0 {
			return false, ""
		}
		return ru.subject(vals[0])
	}
	if *doc == nil {
		d, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
		if err != nil {
			return false, ""
		}
		*doc = d
	}
	for _, n := range ru.selector.MatchAll((*doc).Nodes[0]) {
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
