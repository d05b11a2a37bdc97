package classify

import (
	"strings"

	"github.com/tidwall/gjson"
)

// jsonString returns the value at the gjson path in the body, as a string:
// a JSON string unquoted, a number or a boolean as written, an object or an
// array as its JSON text. ok is false when the body is not valid JSON or
// the path is absent or null; a null version field names no version.
//
// gjson reads an invalid document without complaint and may find a value
// in it, so the body is validated first, once per response.
func (b *lazyBody) jsonString(path string) (s string, ok bool) {
	if b.json == jsonUnchecked {
		b.json = jsonInvalid
		if gjson.ValidBytes(b.raw) {
			b.json = jsonValid
		}
	}
	if b.json != jsonValid {
		return "", false
	}
	v := gjson.GetBytes(b.raw, path)
	if !v.Exists() || v.Type == gjson.Null {
		return "", false
	}
	return v.String(), true
}

// checkJSONPath returns what is wrong with a gjson path, or "". gjson
// accepts any string as a path, so this catches only the slips that would
// make a rule silently never match, or match something else than meant.
func checkJSONPath(path string) string {
	switch {
	case strings.TrimSpace(path) == "":
		return "want a gjson path such as meta.version"
	case strings.HasPrefix(path, ".."):
		// gjson's ".." reads JSON Lines, but a body that is not one JSON
		// document never matches.
		return "want a path into one JSON document, not a JSON Lines path (..)"
	case strings.IndexFunc(path, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0:
		return "want a path without control characters"
	}
	// A trailing separator leaves the last key empty: "meta." reads only
	// {"meta":{"":…}}, "meta|" nothing. That is a typo far more often than
	// meant. An escaped one (meta\.) is part of the key.
	last := path[len(path)-1]
	rest := path[:len(path)-1]
	if (last == '.' || last == '|') && (len(rest)-len(strings.TrimRight(rest, `\`)))%2 == 0 {
		return `want a key after the trailing "` + string(last) + `", or escape it as "\` + string(last) + `"`
	}
	return ""
}
