package redact

import (
	"bytes"
	"encoding/json"
	"html"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	Add("PROMTOKEN-1234", "p<w&d>\"x", "abc") // the last is too short to register
	for _, tc := range []struct{ in, want string }{
		{"query at http://u:URLPASS@127.0.0.1:1 after 4 tries", "query at http://***@127.0.0.1:1 after 4 tries"},
		{"https://TOKEN@github.com/x and http://a@b", "https://***@github.com/x and http://***@b"},
		{"mail me at someone@example.com", "mail me at someone@example.com"},
		{"bad_data: POST /api/v1/query Authorization: Bearer PROMTOKEN-1234\r\n", "bad_data: POST /api/v1/query Authorization: Bearer ***\r\n"},
		{`{"reason":"p\u003cw\u0026d\u003e\"x"}`, `{"reason":"***"}`},
		{"<dd>" + html.EscapeString("p<w&d>\"x") + "</dd>", "<dd>***</dd>"},
		{"abc stays: a 3-byte value would match everywhere", "abc stays: a 3-byte value would match everywhere"},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestWriterSplits: a secret split across writes at any point is masked,
// and nothing is lost or reordered.
func TestWriterSplits(t *testing.T) {
	Add("split-secret-value")
	line := "token=split-secret-value at http://user:pw@host/x\nstatus \rnext\n"
	want := "token=*** at http://***@host/x\nstatus \rnext\n"
	for cut := range len(line) {
		for cut2 := cut; cut2 < len(line); cut2 += 7 {
			var out bytes.Buffer
			w := NewWriter(&out)
			for _, part := range []string{line[:cut], line[cut:cut2], line[cut2:]} {
				if _, err := w.Write([]byte(part)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("cuts %d, %d: %q; want %q", cut, cut2, out.String(), want)
			}
		}
	}
}

// FuzzWriter: whatever surrounds a registered secret and however the
// writes are cut, the secret never comes out, in any of its forms.
func FuzzWriter(f *testing.F) {
	const secret = "Fuzz-Secret-<&>-42"
	Add(secret)
	f.Add("before ", " after\n", 3)
	f.Add("", "", 0)
	f.Add("\r\r", "x\ny", 17)
	f.Fuzz(func(t *testing.T, before, after string, cut int) {
		enc, _ := json.Marshal(secret)
		text := before + secret + after + string(enc) + html.EscapeString(secret)
		if cut < 0 {
			cut = -cut
		}
		cut %= len(text) + 1
		var out bytes.Buffer
		w := NewWriter(&out)
		_, _ = w.Write([]byte(text[:cut]))
		_, _ = w.Write([]byte(text[cut:]))
		_ = w.Flush()
		for _, form := range forms(secret) {
			if strings.Contains(out.String(), form) && !strings.Contains(before+after, form) {
				t.Fatalf("%q came out in %q", form, out.String())
			}
		}
	})
}
