package scenarios

import (
	"fmt"
	"strings"
)

// Validate checks the whole scenario and returns its first problem as one
// line wrapping ErrInvalid, naming the field ("stages[2].expect") and, when
// known, the line (from Stage.Line and Step.Line). Load runs it, with exact
// lines, so callers need it only for scenarios built or edited in code.
func (s *Scenario) Validate() error { return validate(s, locator{}) }

func validate(s *Scenario, l locator) error {
	switch {
	case s.Name == "":
		return l.errf("name", l.top, "missing, expected the scenario's name")
	case checkText(s.Name) != "":
		return l.errf("name", l.top, "%s", checkText(s.Name))
	case s.Target != "" && checkURL(s.Target) != "":
		return l.errf("target", l.top, "%s", checkURL(s.Target))
	}
	if err := l.gate(&s.Defaults, "defaults", 0); err != nil {
		return err
	}
	if len(s.Stages) == 0 {
		return l.errf("stages", l.top, "no stages, expected a list of stages each with a name and expect")
	}
	seen := map[string]int{}
	for i := range s.Stages {
		if err := l.stage(&s.Stages[i], i, seen); err != nil {
			return err
		}
	}
	return nil
}

// keyValue is a field's key and text, checked in a fixed order.
type keyValue struct{ key, v string }

// stage checks stage i; seen maps the names so far to their index.
func (l locator) stage(st *Stage, i int, seen map[string]int) error {
	p := fmt.Sprintf("stages[%d]", i)
	switch first, dup := seen[st.Name]; {
	case st.Name == "":
		return l.errf(p+".name", st.Line, "missing, expected a name for the stage")
	case checkText(st.Name) != "":
		return l.errf(p+".name", st.Line, "%s", checkText(st.Name))
	case dup:
		return l.errf(p+".name", st.Line, "%q is also the name of stages[%d], expected unique names", st.Name, first)
	}
	seen[st.Name] = i
	if err := l.expect(st, p); err != nil {
		return err
	}
	if err := l.gate(&st.Gate, p, st.Line); err != nil {
		return err
	}
	if st.Pause < 0 {
		return l.errf(p+".pause", st.Line, "got %s, expected a duration of 0 or more", st.Pause)
	}
	if err := l.step(st.Apply, p+".apply", st.Line); err != nil {
		return err
	}
	return l.step(st.OnFail, p+".on-fail", st.Line)
}

// expect checks what the stage's gate expects.
func (l locator) expect(st *Stage, p string) error {
	switch {
	case st.Expect != "" && st.ExpectFrom != "":
		return l.errf(p+".expect-from", st.Line, "set together with expect, expected one of them")
	case st.Expect == "" && st.ExpectFrom == "":
		return l.errf(p, st.Line, "no expect or expect-from, expected the split the gate checks, e.g. expect: v1=90,v3=10")
	case st.Expect != "" && checkExpect(st.Expect) != "":
		return l.errf(p+".expect", st.Line, "%s", checkExpect(st.Expect))
	case st.ExpectFrom != "" && checkText(st.ExpectFrom) != "":
		return l.errf(p+".expect-from", st.Line, "%s", checkText(st.ExpectFrom))
	case st.Mirror != "" && checkMirror(st.Mirror) != "":
		return l.errf(p+".mirror", st.Line, "%s", checkMirror(st.Mirror))
	}
	return nil
}

// gate checks the fields a gate sets; p is the path of the mapping that
// holds them ("defaults" or "stages[2]").
func (l locator) gate(g *Gate, p string, line int) error {
	at := func(key string) string { return joinPath(p, key) }
	switch {
	case g.Rate != "" && checkRate(g.Rate) != "":
		return l.errf(at("rate"), line, "%s", checkRate(g.Rate))
	case g.Tolerance != nil && !(*g.Tolerance > 0 && *g.Tolerance <= 50):
		return l.errf(at("tolerance"), line, "got %g, expected percentage points in (0, 50]", *g.Tolerance)
	case g.Confidence != nil && !(*g.Confidence >= 0.5 && *g.Confidence <= 0.9999):
		return l.errf(at("confidence"), line, "got %g, expected a fraction in [0.5, 0.9999] such as 0.95", *g.Confidence)
	case g.MaxRequests != nil && (*g.MaxRequests < 1 || *g.MaxRequests > 200_000):
		return l.errf(at("max-requests"), line, "got %d, expected a number of pages in [1, 200000]", *g.MaxRequests)
	case g.MaxErrorRate != nil && !(*g.MaxErrorRate >= 0 && *g.MaxErrorRate < 100):
		return l.errf(at("max-error-rate"), line, "got %g, expected a percentage in [0, 100)", *g.MaxErrorRate)
	case g.Settle != "" && g.Settle != "auto" && g.Settle != "0":
		return l.errf(at("settle"), line, "got %q, expected auto or 0 (settling off)", g.Settle)
	}
	for _, f := range []struct {
		key string
		d   Duration
	}{{"timeout", g.Timeout}, {"settle-timeout", g.SettleTimeout}, {"settle-min", g.SettleMin}} {
		if f.d < 0 {
			return l.errf(at(f.key), line, "got %s, expected a duration of 0 or more", f.d)
		}
	}
	if err := l.load(g, p, line); err != nil {
		return err
	}
	return l.server(g, p, line)
}

// load checks the gate's settings of the requests it sends.
func (l locator) load(g *Gate, p string, line int) error {
	if msg := checkHeaders(g.Headers); msg != "" {
		return l.errf(joinPath(p, "headers"), line, "%s", msg)
	}
	for _, f := range []keyValue{{"login", g.Login}, {"host", g.Host}, {"namespace", g.Namespace}} {
		if f.v != "" && checkName(f.v) != "" {
			return l.errf(joinPath(p, f.key), line, "%s", checkName(f.v))
		}
	}
	for i, b := range g.Backends {
		if checkName(b) != "" {
			return l.errf(fmt.Sprintf("%s[%d]", joinPath(p, "backends"), i), line, "%s", checkName(b))
		}
	}
	return nil
}

// server checks the gate's server-side evidence: Prometheus or scrapes.
func (l locator) server(g *Gate, p string, line int) error {
	for i, u := range g.Scrape {
		if msg := checkURL(u); msg != "" {
			return l.errf(fmt.Sprintf("%s[%d]", joinPath(p, "scrape"), i), line, "%s", msg)
		}
	}
	pr := g.Prometheus
	if pr == nil {
		return nil
	}
	pp := joinPath(p, "prometheus")
	switch {
	case len(g.Scrape) > 0:
		return l.errf(joinPath(p, "scrape"), line, "set together with prometheus, expected one of them")
	case pr.URL == "":
		return l.errf(pp, line, "no url, expected the Prometheus URL such as http://127.0.0.1:9090")
	case checkURL(pr.URL) != "":
		return l.errf(pp+".url", line, "%s", checkURL(pr.URL))
	case checkHeaders(pr.Headers) != "":
		return l.errf(pp+".headers", line, "%s", checkHeaders(pr.Headers))
	}
	for _, f := range []keyValue{{"bearer-token-file", pr.BearerTokenFile}, {"basic-auth-file", pr.BasicAuthFile}, {"ca-file", pr.CAFile}} {
		if f.v != "" && checkText(f.v) != "" {
			return l.errf(pp+"."+f.key, line, "%s", checkText(f.v))
		}
	}
	return nil
}

// stepKinds are the ways a step changes routing, for messages.
const stepKinds = "command, manifests, inline or kube"

// step checks that a step changes routing in exactly one way.
func (l locator) step(st *Step, p string, line int) error {
	if st == nil {
		return nil
	}
	if st.Line > 0 {
		line = st.Line
	}
	var set []string
	for _, f := range []keyValue{{"command", strings.TrimSpace(st.Command)}, {"manifests", strings.Repeat("+", len(st.Manifests))},
		{"inline", strings.TrimSpace(st.Inline)}, {"kube", strings.TrimSpace(st.Kube)}} {
		if f.v != "" {
			set = append(set, f.key)
		}
	}
	switch {
	case len(set) == 0:
		return l.errf(p, line, "nothing to run, expected one of %s", stepKinds)
	case len(set) > 1:
		return l.errf(p, line, "%s set together, expected one of %s", strings.Join(set, " and "), stepKinds)
	case st.Timeout < 0:
		return l.errf(p+".timeout", line, "got %s, expected a duration of 0 or more", st.Timeout)
	case st.Kube != "" && checkText(st.Kube) != "":
		return l.errf(p+".kube", line, "got %q, expected a manifest file name", st.Kube)
	}
	for i, m := range st.Manifests {
		if msg := checkText(m); m == "" || msg != "" {
			return l.errf(fmt.Sprintf("%s.manifests[%d]", p, i), line, "got %q, expected a manifest file name", m)
		}
	}
	return l.inlineYAML(st.Inline, p+".inline", line)
}

// inlineYAML checks that inline manifests parse, so a broken one stops the
// rollout before its first stage rather than halfway.
func (l locator) inlineYAML(text, p string, line int) error {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	rel, msg := checkManifests(text)
	if msg == "" {
		return nil
	}
	if off, ok := l.inline[p]; ok && rel > 0 {
		return &fieldError{file: l.file, line: off + rel, path: p, msg: msg}
	}
	if rel > 0 {
		msg = fmt.Sprintf("line %d of the manifests: %s", rel, msg)
	}
	return l.errf(p, line, "%s", msg)
}
