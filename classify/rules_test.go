package classify

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func exampleRules(t testing.TB) *Rules {
	t.Helper()
	return rulesFile(t, "testdata/rules/example.yaml")
}

// rulesFile parses the rules file at path, which must be valid.
func rulesFile(t testing.TB, path string) *Rules {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRules(filepath.Base(path), data)
	if err != nil {
		t.Fatalf("ParseRules(%s) = %v", path, err)
	}
	return r
}

// hdr builds a header from name, value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestRulesClassify(t *testing.T) {
	t.Parallel()
	ex := exampleRules(t)
	for _, tc := range []struct {
		name    string
		rules   *Rules
		status  int
		header  http.Header
		body    string
		version string
		outcome Outcome
		reason  string
	}{
		{"error status keeps the header version", ex, 503, hdr("X-App-Version", "v2"), "", "v2", HTTPError, "HTTP 503"},
		{"error status with a version in the body", ex, 503, hdr("X-App-Version", "v2"), `{"build": {"version": "v3.1.4"}}`,
			"v3", HTTPError, `HTTP 503; rules[5] "api build": json build.version`},
		{"error page with a meta version", ex, 500, nil, `<meta name="app-version" content="v2.0"><h1>Oops</h1>`,
			"v2", HTTPError, `HTTP 500; rules[3] "build in meta tag": selector meta[name="app-version"]`},
		{"api build", ex, 200, nil, `{"build": {"version": "v3.1.4"}}`, "v3", OK, `rules[5] "api build": json build.version`},
		{"maintenance page", ex, 200, hdr("X-App-Version", "v2"), `<div class="maintenance"><p>We are down for maintenance.</p></div>`,
			"v2", Unrecognized, `rules[0] "maintenance page": selector div.maintenance`},
		{"maintenance class without the text", ex, 200, nil, `<div class="maintenance">all good</div><footer>stable build</footer>`,
			"v1", OK, `rules[4] "stable footer": selector footer`},
		{"error page served with 200", ex, 200, nil, `<h1> Service Unavailable </h1>`, "", HTTPError, `rules[1] "error page served with 200": selector h1`},
		{"canary header", ex, 200, hdr("X-Canary", "true"), `<footer>stable build</footer>`, "v2", OK, `rules[2] "canary header": header X-Canary`},
		{"canary header false", ex, 200, hdr("X-Canary", "false"), `<footer>stable build</footer>`, "v1", OK, ""},
		{"version from meta", ex, 200, nil, `<meta name="app-version" content="v3.1.4"><p>shop</p>`, "v3", OK, ""},
		{"version header alone", ex, 200, hdr("X-App-Version", " v7 "), `<p>shop</p>`, "v7", OK, "version from header X-App-Version"},
		{"nothing matches", ex, 200, nil, `<p>shop</p>`, "", Unrecognized, "no rule matched and no version header X-App-Version"},
		{"VersionHeader", VersionHeader("x-version"), 200, hdr("X-Version", "v4"), "", "v4", OK, "version from header X-Version"},
		{"VersionHeader missing", VersionHeader("x-version"), 200, nil, "", "", Unrecognized, ""},
		{"VersionHeader error", VersionHeader("x-version"), 500, hdr("X-Version", "v4"), "", "v4", HTTPError, "HTTP 500"},
		{"zero Rules", &Rules{}, 200, nil, "<p>x</p>", "", Unrecognized, "no rule matched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.rules.Classify(tc.status, tc.header, []byte(tc.body))
			if got.Version != tc.version || got.Outcome != tc.outcome {
				t.Errorf("Classify() = %q %v (%s); want %q %v", got.Version, got.Outcome, got.Reason(), tc.version, tc.outcome)
			}
			if tc.reason != "" && got.Reason() != tc.reason {
				t.Errorf("Classify().Reason() = %q; want %q", got.Reason(), tc.reason)
			}
		})
	}
}

// TestParseRulesErrors checks each bad file against its golden error in
// testdata/rules/bad/*.err (go test -update rewrites them).
func TestParseRulesErrors(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/rules/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad rules files: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseRules(filepath.Base(path), data)
			if err == nil {
				t.Fatalf("ParseRules(%s) = %v, nil; want an error", path, r)
			}
			got := err.Error() + "\n"
			if strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, filepath.Base(path)+":") {
				t.Errorf("ParseRules(%s) error %q is not one line starting with the name", path, got)
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("ParseRules(%s) error = %q; want %q", path, got, want)
			}
		})
	}
}

func TestParseRulesExample(t *testing.T) {
	t.Parallel()
	ex := exampleRules(t)
	if got, want := len(ex.rules), 6; got != want {
		t.Errorf("example rules = %d; want %d", got, want)
	}
	if got, want := ex.versionHeader, "X-App-Version"; got != want {
		t.Errorf("example version header = %q; want %q", got, want)
	}
}

// FuzzParseRules checks that any input gives rules or a one-line error,
// never a panic, and that parsed rules classify without panicking.
func FuzzParseRules(f *testing.F) {
	files, _ := filepath.Glob("testdata/rules/*/*.yaml")
	files = append(files, "testdata/rules/example.yaml")
	for _, path := range files {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRules("fuzz.yaml", data)
		switch {
		case err != nil && r != nil:
			t.Fatalf("ParseRules = %v, %v; want rules or an error", r, err)
		case err != nil:
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "fuzz.yaml:") {
				t.Fatalf("ParseRules error %q is not one line starting with the name", msg)
			}
		case r == nil:
			t.Fatal("ParseRules = nil, nil")
		default:
			h := http.Header{"X-Canary": {"true"}, "X-Version": {"v1"}, "X-App-Version": {"v2"}}
			for _, body := range fuzzRuleBodies {
				checkStatusBlind(t, r, h, []byte(body), 503)
			}
			r.Classify(500, nil, nil)
		}
	})
}

// fuzzRuleBodies are the bodies FuzzParseRules classifies with the rules
// it parses: HTML, JSON, and JSON that is cut short.
var fuzzRuleBodies = []string{
	"<div class=maintenance>down for maintenance</div><footer>x</footer>",
	`<meta name="app-version" content="v3.1.4"><h1>Service Unavailable</h1>`,
	`{"meta": {"version": "v2"}, "build": {"version": "v3.1.4", "canary": true, "tags": ["stable"]}, "status": "degraded"}`,
	`{"meta": {"version": "v2"`,
	"",
}

// checkStatusBlind checks that the version of a response does not depend
// on its status: classified as a 200 and as status, the same rule decides
// and names the same version, and status always gives HTTPError.
func checkStatusBlind(t *testing.T, r *Rules, h http.Header, body []byte, status int) {
	t.Helper()
	ok, bad := r.Classify(200, h, body), r.Classify(status, h, body)
	if again := r.Classify(status, h, body); again != bad {
		t.Fatalf("Classify(%d) is not deterministic: %+v, then %+v", status, bad, again)
	}
	if _, err := ok.Outcome.MarshalText(); err != nil {
		t.Fatalf("Classify(200) returned an unknown outcome: %v", err)
	}
	if bad.Outcome != HTTPError || bad.Version != ok.Version {
		t.Fatalf("Classify(%d) = %q %v (%s); want %q %v, the version of Classify(200) = %q %v (%s)",
			status, bad.Version, bad.Outcome, bad.Reason(), ok.Version, HTTPError, ok.Version, ok.Outcome, ok.Reason())
	}
	want := fmt.Sprintf("HTTP %d", status)
	if ok.f.why == whyRule {
		want += "; " + ok.Reason()
	}
	if got := bad.Reason(); got != want {
		t.Fatalf("Classify(%d).Reason() = %q; want %q", status, got, want)
	}
}

// TestRulesKinds runs each kind of rule (testdata/rules/good/kinds.yaml) on
// each response twice: as a 200, where the rule's outcome counts, and as a
// 503, where the outcome is HTTPError but the rule still names the version
// and is named in the reason.
func TestRulesKinds(t *testing.T) {
	t.Parallel()
	rules := rulesFile(t, "testdata/rules/good/kinds.yaml")
	const (
		noHeader = "no rule matched and no version header X-App-Version"
		fromHdr  = "version from header X-App-Version"
	)
	for _, tc := range []struct {
		name    string
		header  http.Header
		body    string
		version string
		outcome Outcome // for a 200
		reason  string  // for a 200
		byRule  bool    // reason is a rule's: the 503 says it too
	}{
		{"header value", hdr("X-Canary", "true"), "", "v2", OK, `rules[0] "canary header": header X-Canary`, true},
		{"header regex group", hdr("X-Build", "v4.2.0"), "", "v4", OK, `rules[1] "build header": header X-Build`, true},
		{"header value differs", hdr("X-Canary", "false", "X-App-Version", "v1"), "<p>shop</p>", "v1", OK, fromHdr, false},
		{"selector text, version from header", hdr("X-App-Version", "v3"), `<div class="maintenance"><p>Down for maintenance? No: down for maintenance.</p></div>`,
			"v3", Unrecognized, `rules[2] "maintenance": selector div.maintenance`, true},
		{"selector without the text", nil, `<div class="maintenance">all good</div>`, "", Unrecognized, noHeader, false},
		{"selector attr regex group", nil, `<meta name="app-version" content="v5.0.1"><p>shop</p>`,
			"v5", OK, `rules[3] "meta version": selector meta[name="app-version"]`, true},
		{"selector regex outcome", nil, `<h1> Service Unavailable </h1>`, "", HTTPError, `rules[4] "error title": selector h1`, true},
		{"json regex group", nil, `{"meta": {"version": "v3.1.4"}}`, "v3", OK, `rules[5] "api version": json meta.version`, true},
		{"json value of a boolean", nil, `{"build": {"canary": true}}`, "v2", OK, `rules[6] "api canary": json build.canary`, true},
		{"json value differs", hdr("X-App-Version", "v1"), `{"build": {"canary": false}}`, "v1", OK, fromHdr, false},
		{"json array index", nil, `{"build": {"tags": ["stable", "v9"]}}`, "v1", OK, `rules[7] "api first tag": json build.tags.0`, true},
		{"json outcome, version from header", hdr("X-App-Version", "v2"), `{"status": "degraded"}`,
			"v2", Unrecognized, `rules[8] "api degraded": json status`, true},
		{"json regex does not match", nil, `{"meta": {"version": "canary"}}`, "", Unrecognized, noHeader, false},
		{"invalid json", nil, `{"meta": {"version": "v3"}`, "", Unrecognized, noHeader, false},
		{"json then html", nil, `{"meta": {"version": "v3"}} <footer>stable build</footer>`,
			"v1", OK, `rules[9] "stable footer": selector footer`, true},
		{"missing path", nil, `{"meta": {}, "build": {"tags": []}}`, "", Unrecognized, noHeader, false},
		{"null at the path", hdr("X-App-Version", "v1"), `{"meta": {"version": null}}`, "v1", OK, fromHdr, false},
		{"json path into an array body", nil, `[{"meta": {"version": "v3"}}]`, "", Unrecognized, noHeader, false},
		{"order: header before body", hdr("X-Canary", "true"), `{"meta": {"version": "v3"}}`, "v2", OK, `rules[0] "canary header": header X-Canary`, true},
		{"order: first json rule", nil, `{"meta": {"version": "v3"}, "build": {"canary": true}}`, "v3", OK, `rules[5] "api version": json meta.version`, true},
		{"order: json rule that fails gives way", nil, `{"meta": {"version": "canary"}, "build": {"canary": true}}`,
			"v2", OK, `rules[6] "api canary": json build.canary`, true},
		{"order: outcome rule first, though a later one names a version", nil,
			`<div class="maintenance">down for maintenance</div><footer>stable build</footer>`, "", Unrecognized, `rules[2] "maintenance": selector div.maintenance`, true},
		{"empty response", nil, "", "", Unrecognized, noHeader, false},
	} {
		for _, status := range []int{200, 503} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, status), func(t *testing.T) {
				t.Parallel()
				outcome, reason := tc.outcome, tc.reason
				if status != 200 {
					outcome, reason = HTTPError, "HTTP 503"
					if tc.byRule {
						reason += "; " + tc.reason
					}
				}
				got := rules.Classify(status, tc.header, []byte(tc.body))
				if got.Version != tc.version || got.Outcome != outcome || got.Reason() != reason {
					t.Errorf("Classify(%d) = %q %v (%s); want %q %v (%s)", status, got.Version, got.Outcome, got.Reason(), tc.version, outcome, reason)
				}
			})
		}
	}
}

// TestRulesBodyReadOnce checks that a response's body is checked as JSON
// once and parsed as HTML once, however many rules look at it, even when
// the JSON check fails.
func TestRulesBodyReadOnce(t *testing.T) {
	t.Parallel()
	b := lazyBody{raw: []byte(`{"meta": `)}
	for range 3 {
		if _, ok := b.jsonString("meta"); ok {
			t.Fatal("jsonString on invalid JSON = ok")
		}
		if b.json != jsonInvalid {
			t.Fatalf("after jsonString, json = %v; want jsonInvalid", b.json)
		}
		doc := b.html()
		if doc == nil || !b.htmlDone {
			t.Fatalf("html() = %v, htmlDone %v; want a document, once", doc, b.htmlDone)
		}
		if again := b.html(); again != doc {
			t.Fatal("html() parsed the body again")
		}
	}
}

// BenchmarkRulesClassify measures rules on the hot path: a header rule that
// never reads the body, JSON rules, and every kind of rule in turn.
func BenchmarkRulesClassify(b *testing.B) {
	kinds := rulesFile(b, "testdata/rules/good/kinds.yaml")
	api, err := ParseRules("api.yaml", []byte("version_header: X-Version\nrules:\n"+
		"  - json: status\n    value: maintenance\n    outcome: unrecognized\n"+
		"  - json: meta.version\n    regex: '^(v[0-9]+)'\n"))
	if err != nil {
		b.Fatal(err)
	}
	jsonBody := []byte(`{"status": "ok", "items": [1, 2, 3], "meta": {"build": "2024-06-01", "version": "v3.1.4"}}`)
	for _, bc := range []struct {
		name   string
		rules  *Rules
		status int
		header http.Header
		body   []byte
	}{
		{"header", kinds, 200, hdr("X-Canary", "true"), jsonBody},
		{"json", api, 200, nil, jsonBody},
		{"json-503", api, 503, nil, jsonBody},
		{"json-invalid", api, 200, nil, jsonBody[:40]},
		{"kinds-html", kinds, 200, nil, []byte(`<html><body><p>shop</p><footer>stable build</footer></body></html>`)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				bc.rules.Classify(bc.status, bc.header, bc.body)
			}
		})
	}
}
