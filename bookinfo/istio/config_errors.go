package istio

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/canary-gate/canary/internal/yamlerr"
)

var (
	// ErrInvalid is wrapped by every error that ParseManifests, Config.Apply
	// and Config.Delete return because of the manifests' content.
	ErrInvalid = errors.New("invalid manifest")
	// ErrNotFound is wrapped by the error of Config.Delete when a resource to
	// delete is not in the snapshot (kubectl's NotFound).
	ErrNotFound = errors.New("resource not found")
)

// manifestError is a one-line message that wraps ErrInvalid or ErrNotFound
// without repeating its text.
type manifestError struct {
	msg   string
	cause error
}

func (e *manifestError) Error() string { return e.msg }
func (e *manifestError) Unwrap() error { return e.cause }

// oneLine escapes line breaks so that every message stays on one line.
var oneLine = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`)

// invalidf formats a one-line error that wraps ErrInvalid.
func invalidf(format string, args ...any) error {
	return &manifestError{msg: oneLine.Replace(fmt.Sprintf(format, args...)), cause: ErrInvalid}
}

// docInfo locates a resource for messages: "FILE:LINE: KIND NAME: PATH: ...".
type docInfo struct {
	file  string
	line  int // first line of the document; 0 when unknown
	kind  string
	name  string
	lines map[string]int // field path ("spec.http[0].route") → line; nil when not parsed from YAML
}

// docFor describes a Resource that may not come from ParseManifests.
func docFor(r Resource) *docInfo {
	d := &docInfo{file: r.Source, kind: r.Kind, name: r.Name}
	if i := strings.LastIndexByte(r.Source, ':'); i >= 0 {
		if n, err := strconv.Atoi(r.Source[i+1:]); err == nil {
			d.file, d.line = r.Source[:i], n
		}
	}
	return d
}

// errorf formats an error about the field at path (empty: the whole resource).
func (d *docInfo) errorf(path, format string, args ...any) error {
	return d.wrap(ErrInvalid, path, format, args...)
}

// wrap is errorf with another sentinel.
func (d *docInfo) wrap(cause error, path, format string, args ...any) error {
	var b strings.Builder
	if d.file != "" {
		b.WriteString(d.file)
		if line := d.lineOf(path); line > 0 {
			fmt.Fprintf(&b, ":%d", line)
		}
		b.WriteString(": ")
	}
	b.WriteString(d.who())
	b.WriteString(": ")
	if path != "" {
		b.WriteString(path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, format, args...)
	return &manifestError{msg: oneLine.Replace(b.String()), cause: cause}
}

// who names the resource: "VirtualService reviews".
func (d *docInfo) who() string {
	kind := d.kind
	if kind == "" {
		kind = "resource"
	}
	if d.name == "" {
		return kind
	}
	return kind + " " + d.name
}

// lineOf returns the line of path, or of its nearest recorded ancestor, or of
// the document.
func (d *docInfo) lineOf(path string) int {
	for path != "" {
		if line, ok := d.lines[path]; ok {
			return line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return d.line
}

// yamlField is one key and its value in a YAML mapping.
type yamlField struct{ key, val *yaml.Node }

// yamlFields are the fields of a mapping, in document order.
type yamlFields struct {
	keys []string
	m    map[string]yamlField
}

// mappingFields indexes a mapping by key, rejecting duplicate and non-scalar
// keys like the Kubernetes API server does.
func mappingFields(d *docInfo, n *yaml.Node, path string) (yamlFields, error) {
	fs := yamlFields{m: make(map[string]yamlField, len(n.Content)/2)}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := resolveAlias(d, n.Content[i], path)
		if err != nil {
			return fs, err
		}
		if k.Kind != yaml.ScalarNode {
			return fs, d.errorf(path, "got %s as a key, expected a field name", describe(k))
		}
		if _, dup := fs.m[k.Value]; dup {
			if d.lines != nil {
				d.lines[joinPath(path, k.Value)] = k.Line
			}
			return fs, d.errorf(joinPath(path, k.Value), "duplicate field, expected each field once")
		}
		fs.keys = append(fs.keys, k.Value)
		fs.m[k.Value] = yamlField{key: k, val: n.Content[i+1]}
	}
	return fs, nil
}

// scalarString returns the string value of fields[key] ("" when absent or
// null); prefix is the path of the mapping ("metadata.").
func scalarString(d *docInfo, fields yamlFields, key, prefix string) (string, error) {
	f, ok := fields.m[key]
	if !ok {
		return "", nil
	}
	v, err := resolveAlias(d, f.val, prefix+key)
	if err != nil {
		return "", err
	}
	switch {
	case isNull(v):
		return "", nil
	case v.Kind != yaml.ScalarNode || !isStringTag(v.ShortTag()):
		return "", d.errorf(prefix+key, "got %s, expected a string", describe(v))
	}
	return v.Value, nil
}

// resolveAlias follows YAML aliases (*name) to the anchored node.
func resolveAlias(d *docInfo, n *yaml.Node, path string) (*yaml.Node, error) {
	for i := 0; n.Kind == yaml.AliasNode; i++ {
		if n.Alias == nil || i > 100 {
			return nil, d.errorf(path, "unresolvable alias *%s, expected an anchored value", n.Value)
		}
		n = n.Alias
	}
	return n, nil
}

// isNull reports whether n is an explicit or implicit YAML null.
func isNull(n *yaml.Node) bool {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isStringTag reports whether a scalar with this tag is a string for
// Kubernetes (timestamps and binary stay text in JSON).
func isStringTag(tag string) bool {
	switch tag {
	case "!!int", "!!float", "!!bool", "!!null":
		return false
	}
	return true
}

// describe renders a node for "got ..." messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!int", "!!float", "!!bool":
		return v
	}
	return strconv.Quote(v)
}

// joinPath appends a field name to a path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// yamlError rewrites a yaml.v3 syntax error as "FILE:LINE: invalid YAML: ...".
func yamlError(name string, data []byte, err error) error {
	line, msg := yamlerr.Locate(data, err)
	return invalidf("%s:%d: invalid YAML: %s, expected a YAML stream of Kubernetes resources", name, line, msg)
}
