package classify

import (
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
