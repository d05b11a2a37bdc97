package classify

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// sharedDir holds the shared Bookinfo fixtures. Tests read them in place.
const sharedDir = "../../shared/fixtures"

// markups maps each fixture folder to the markup name used in golden files.
var markups = []struct{ name, dir string }{
	{"current", "bookinfo"},
	{"1.22", "bookinfo-1.22"},
}

type fixture struct {
	markup, file string
	body         []byte
}

// needShared skips the test when the shared fixtures are missing, except in
// CI, where their absence is a broken checkout.
func needShared(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(sharedDir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("shared fixtures missing in CI: %v", err)
		}
		tb.Skipf("shared fixtures not found at %s (run inside the workspace to test against them): %v", sharedDir, err)
	}
}

// fixtures loads every page of both markups, in a fixed order.
func fixtures(tb testing.TB) []fixture {
	tb.Helper()
	needShared(tb)
	var fs []fixture
	for _, m := range markups {
		paths, err := filepath.Glob(filepath.Join(sharedDir, m.dir, "*.html"))
		if err != nil || len(paths) == 0 {
			tb.Fatalf("no fixtures in %s: %v", m.dir, err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			fs = append(fs, fixture{m.name, strings.TrimSuffix(filepath.Base(p), ".html"), b})
		}
	}
	return fs
}

func (f fixture) name() string { return f.markup + "-" + f.file }

// The fixture READMEs give the expected class of every page; both markups
// expect the same classes.
var wantFixture = map[string]struct {
	version string
	outcome Outcome
}{
	"index":                  {"", NotProductPage},
	"reviews-v1":             {"v1", OK},
	"reviews-v2":             {"v2", OK},
	"reviews-v3":             {"v3", OK},
	"ratings-unavailable-v2": {"v2", RatingsUnavailable},
	"ratings-unavailable-v3": {"v3", RatingsUnavailable},
	"reviews-unavailable":    {"", ReviewsUnavailable},
	"details-unavailable":    {"v1", DetailsUnavailable},
	"v3-logged-in-jason":     {"v3", OK},
}

func TestPageFixtures(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		t.Run(f.name(), func(t *testing.T) {
			t.Parallel()
			want, ok := wantFixture[f.file]
			if !ok {
				t.Fatalf("no expectation for fixture %s", f.file)
			}
			for _, c := range []struct {
				name string
				fn   func(int, map[string][]string, []byte) Result
			}{{"Page", pageH}, {"PageGoquery", pageGoqueryH}} {
				got := c.fn(200, nil, f.body)
				if got.Version != want.version || got.Outcome != want.outcome {
					t.Errorf("%s(%s) = %q %v (%s); want %q %v", c.name, f.name(), got.Version, got.Outcome, got.Reason(), want.version, want.outcome)
				}
			}
		})
	}
}

// TestPageFixturesFast checks that every product page fixture is read by the
// fast path alone; only the index pages (not product pages) fall back.
func TestPageFixturesFast(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		t.Run(f.name(), func(t *testing.T) {
			t.Parallel()
			var s scanner
			_, got := s.scan(f.body)
			if want := f.file != "index"; got != want {
				t.Errorf("fast path certain on %s = %v; want %v", f.name(), got, want)
			}
		})
	}
}

type golden struct {
	Version string  `json:"version"`
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason"`
}

func TestPageGolden(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		t.Run(f.name(), func(t *testing.T) {
			t.Parallel()
			r := Page(200, nil, f.body)
			got, err := json.MarshalIndent(golden{r.Version, r.Outcome, r.Reason()}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", f.name()+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("Page(%s) =\n%s\nwant (%s)\n%s", f.name(), got, path, want)
			}
		})
	}
}

func TestPageStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		want   Result
	}{
		{"service unavailable", 503, Result{Outcome: HTTPError, f: facts{why: whyStatus, n: 503}}},
		{"redirect", 302, Result{Outcome: HTTPError, f: facts{why: whyStatus, n: 302}}},
		{"no content", 204, Result{Outcome: HTTPError, f: facts{why: whyStatus, n: 204}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Even a perfect v3 page is no evidence when the status says error.
			body := []byte(synth{reviews: []rv{red5, red4}, pod: pod3}.bootstrap())
			if got := Page(tc.status, nil, body); got != tc.want {
				t.Errorf("Page(%d) = %+v; want %+v", tc.status, got, tc.want)
			}
			if got, want := Page(tc.status, nil, body).Reason(), "HTTP "+strconv.Itoa(tc.status); got != want {
				t.Errorf("Page(%d).Reason() = %q; want %q", tc.status, got, want)
			}
		})
	}
}

func TestTransport(t *testing.T) {
	t.Parallel()
	r := Transport(os.ErrDeadlineExceeded)
	if r.Outcome != TransportError || r.Version != "" {
		t.Errorf("Transport() = %q %v; want \"\" transport-error", r.Version, r.Outcome)
	}
	if got, want := r.Reason(), "no response: i/o timeout"; got != want {
		t.Errorf("Transport().Reason() = %q; want %q", got, want)
	}
}

// pageH and pageGoqueryH adapt the classifiers to one signature for tables.
func pageH(st int, h map[string][]string, b []byte) Result        { return Page(st, h, b) }
func pageGoqueryH(st int, h map[string][]string, b []byte) Result { return PageGoquery(st, h, b) }

// TestPageAllocs holds the fast path to zero allocations, for pages seen
// before (resumed from the prefix memo) and pages seen for the first time.
func TestPageAllocs(t *testing.T) {
	for _, f := range fixtures(t) {
		if f.file == "index" {
			continue // not a product page: the reference answers it
		}
		t.Run(f.name(), func(t *testing.T) {
			Page(200, nil, f.body) // remember its prefix
			if n := testing.AllocsPerRun(20, func() { Page(200, nil, f.body) }); n != 0 {
				t.Errorf("Page(%s) allocates %v times; want 0", f.name(), n)
			}
			if n := testing.AllocsPerRun(20, func() {
				s := scanner{cold: true}
				s.scan(f.body)
			}); n != 0 {
				t.Errorf("cold scan of %s allocates %v times; want 0", f.name(), n)
			}
		})
	}
}
