package yamlerr

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestLocate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		line      int
		msg       string
	}{
		{"scanner error, line as given", "a: 1\nb: \"open\n", 2, "found unexpected end of stream"},
		{"parser error, 0-based line made 1-based", "rules:\n  - selector: [div\n    version: v2\n", 2, "did not find expected ',' or ']'"},
		{"unknown anchor, line of the alias", "a: 1\nb: 2\nc: *nope\n", 3, "unknown anchor 'nope' referenced"},
		{"control character", "a: 1\nb: \x01\n", 2, "control characters are not allowed"},
		{"tab indentation", "a:\n\tb: 1\n", 2, "found character that cannot start any token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tc.doc), &n)
			if err == nil {
				t.Fatal("yaml.Unmarshal accepted the document")
			}
			line, msg := Locate([]byte(tc.doc), err)
			if line != tc.line || msg != tc.msg {
				t.Errorf("Locate() = %d, %q; want %d, %q (yaml.v3 said %q)", line, msg, tc.line, tc.msg, err)
			}
		})
	}
}
