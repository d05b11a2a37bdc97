package classify

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func exampleRules(t *testing.T) *Rules {
	t.Helper()
	data, err := os.ReadFile("testdata/rules/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRules("example.yaml", data)
	if err != nil {
		t.Fatalf("ParseRules(example.yaml) = %v", err)
	}
	return r
}

func TestRulesClassify(t *testing.T) {
	t.Parallel()
	ex := exampleRules(t)
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
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
	if got, want := len(ex.rules), 5; got != want {
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
			r.Classify(200, http.Header{"X-Canary": {"true"}}, []byte("<div class=maintenance>down for maintenance</div><footer>x</footer>"))
			r.Classify(500, nil, nil)
		}
	})
}
