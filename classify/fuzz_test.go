package classify

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

// FuzzPage checks, on any body, that Page never panics, is deterministic,
// returns a known outcome, and agrees with PageGoquery, the definition.
func FuzzPage(f *testing.F) {
	seeds := bases(nil)
	if sharedPresent() {
		for _, fx := range fixtures(f) {
			seeds[fx.name()] = string(fx.body)
		}
	} else if isCI() {
		f.Fatalf("shared fixtures missing in CI")
	}
	for _, base := range seeds {
		f.Add([]byte(base))
		for _, m := range mutations {
			f.Add([]byte(m.fn(base)))
		}
		f.Add([]byte(base[:len(base)/2]))
	}
	for _, s := range []string{"", "<", "</", "<!--", "<!DOCTYPE", "<svg><p>", "\x00", "\xff\xfe<h4>Book Reviews</h4>",
		strings.Repeat("<div>", 600), "<h4>Book Reviews</h4><section><div class=\"flex gap-x-1 text-red-500\"><svg id=\"glyphicon glyphicon-star\"/>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := Page(200, nil, body)
		if again := Page(200, nil, body); again != got {
			t.Fatalf("Page is not deterministic: %+v, then %+v", got, again)
		}
		if _, err := got.Outcome.MarshalText(); err != nil {
			t.Fatalf("Page returned an unknown outcome: %v", err)
		}
		if ref := PageGoquery(200, nil, body); got != ref {
			t.Fatalf("Page = %q %v (%s); PageGoquery = %q %v (%s)",
				got.Version, got.Outcome, got.Reason(), ref.Version, ref.Outcome, ref.Reason())
		}
		_ = got.Reason()
	})
}

func isCI() bool { return os.Getenv("CI") == "true" }

// FuzzRulesClassify checks, on any response, that rules of every kind never
// panic, are deterministic, and attribute a response to the same version
// whatever its status, an error status always giving HTTPError.
func FuzzRulesClassify(f *testing.F) {
	for _, body := range fuzzRuleBodies {
		f.Add(503, "v2", []byte(body))
		f.Add(404, "", []byte(body))
	}
	for _, s := range []string{"[]", "null", `"v2"`, `{"meta": {"version": "v1"}} trailing`, "{\"meta\": {\"version\": \"\xff\"}}",
		`{"meta": {"version": {"v": 1}}}`, `{"meta": {"version": "v2", "version": "v3"}}`, strings.Repeat(`{"a":`, 500)} {
		f.Add(500, "v1", []byte(s))
	}
	kinds, example := rulesFile(f, "testdata/rules/good/kinds.yaml"), exampleRules(f)
	f.Fuzz(func(t *testing.T, status int, version string, body []byte) {
		if status == 200 {
			status = 599
		}
		h := http.Header{"X-App-Version": {version}, "X-Canary": {"true"}}
		for _, r := range []*Rules{kinds, example} {
			checkStatusBlind(t, r, h, body, status)
			checkStatusBlind(t, r, nil, body, status)
		}
	})
}

// FuzzJSONRule checks that a JSON rule with any path that ParseRules
// accepts never panics on any body, and never matches one that is not
// valid JSON.
func FuzzJSONRule(f *testing.F) {
	doc := `{"meta": {"version": "v2", "a.b": 1}, "tags": ["v1", "v3"], "friends": [{"first": "Dale", "age": 44}, {"first": "Roger", "age": 68}]}`
	for _, path := range []string{"meta.version", "tags.0", "tags.#", "meta.a\\.b", "friends.#(age>45).first", "friends.#.first",
		"friends.#(first%\"D*\")#.age", "tags|@reverse|0", "@this", "!true", "{meta.version,tags}", "[tags.1,meta]", "t?gs.*", "@dig:version",
		"meta.@timestamp", "#(", "friends.#(age>", "[", "{", `\`, "a\\"} {
		f.Add(path, []byte(doc))
	}
	f.Add("meta.version", []byte(`{"meta": {"version": "v2"`))
	f.Add("0", []byte(`["v1"]`))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		if checkJSONPath(path) != "" {
			return
		}
		r := &Rules{rules: []rule{{jsonPath: path, version: "matched", desc: "json " + path}}}
		got := r.Classify(200, nil, body)
		if got.Version == "matched" && !json.Valid(body) {
			t.Fatalf("json %q matched a body that is not valid JSON", path)
		}
		if again := r.Classify(200, nil, body); again != got {
			t.Fatalf("Classify is not deterministic: %+v, then %+v", got, again)
		}
	})
}
