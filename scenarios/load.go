package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/canary-gate/canary/internal/yamlerr"
	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the nodes one file may make the walk visit, so that
// aliases repeating large parts cannot make loading slow.
const maxNodes = 100_000

// Load parses and validates a scenario file. name is the file's name, used
// in messages and, without its extension, as the scenario name when the
// file gives none. Every error wraps ErrInvalid and is one line:
// "NAME:LINE: stages[2].expect: what is wrong, and what was expected".
// Load sets every step's zero Timeout to DefaultStepTimeout.
func Load(name string, data []byte) (*Scenario, error) {
	root, err := parse(name, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{locator: locator{file: name, top: root.Line, lines: map[string]int{}, inline: map[string]int{}}}
	s := &Scenario{}
	if err := d.mapping(root, "", d.scenarioFields(s)); err != nil {
		return nil, err
	}
	if base := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)); s.Name == "" && base != "-" {
		s.Name = base // "" for no name, and "-" is stdin: then validate asks for one
	}
	if err := validate(s, d.locator); err != nil {
		return nil, err
	}
	for i := range s.Stages {
		setStepTimeout(s.Stages[i].Apply)
		setStepTimeout(s.Stages[i].OnFail)
	}
	return s, nil
}

func setStepTimeout(st *Step) {
	if st != nil && st.Timeout == 0 {
		st.Timeout = Duration(DefaultStepTimeout)
	}
}

// parse returns the root node of the file's single YAML document.
func parse(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := yamlerr.Decode(dec, &doc)
	if errors.Is(err, io.EOF) {
		return nil, &fieldError{file: name, line: 1, msg: "empty file, expected a scenario with name and stages"}
	}
	if err != nil {
		return nil, syntaxError(name, data, err)
	}
	var extra yaml.Node
	switch err := yamlerr.Decode(dec, &extra); {
	case err == nil:
		return nil, &fieldError{file: name, line: extra.Line, msg: "a second YAML document, expected one scenario per file"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(name, data, err)
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, &fieldError{file: name, line: root.Line, msg: "empty document, expected a scenario with name and stages"}
	}
	return root, nil
}

// locator turns a field path into a file and line for messages. Load fills
// lines while decoding; Validate on a hand-built scenario has none and
// falls back to Stage.Line and Step.Line.
type locator struct {
	file   string
	top    int            // line of the scenario's mapping, for keys it lacks
	lines  map[string]int // field path → line of its value
	inline map[string]int // inline path → line before its first text line (literal blocks)
}

func (l locator) errf(path string, fallback int, format string, args ...any) error {
	line := fallback
	if n, ok := l.lines[path]; ok {
		line = n
	}
	return &fieldError{file: l.file, line: line, path: path, msg: fmt.Sprintf(format, args...)}
}

// decoder walks the YAML nodes into a Scenario. It rejects unknown and
// duplicate keys and values of the wrong type; meaning is Validate's job.
type decoder struct {
	locator
	nodes int
}

// field decodes the value of one known key.
type field func(n *yaml.Node, path string) error

func (d *decoder) nodeErr(n *yaml.Node, path, format string, args ...any) error {
	return &fieldError{file: d.file, line: n.Line, path: path, msg: fmt.Sprintf(format, args...)}
}

// resolve follows aliases to the anchored node and counts the visit.
func (d *decoder) resolve(n *yaml.Node, path string) (*yaml.Node, error) {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	if d.nodes++; d.nodes > maxNodes {
		return nil, d.nodeErr(n, path, "aliases expand to over %d values, expected a smaller file", maxNodes)
	}
	return n, nil
}

// mapping decodes a mapping whose keys must all be in fields.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]field) error {
	if n.Kind != yaml.MappingNode {
		return d.nodeErr(n, path, "got %s, expected a mapping of %s", describe(n), knownKeys(fields))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return d.nodeErr(k, path, "got %s as a key, expected one of %s", describe(k), knownKeys(fields))
		}
		kpath := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			return d.nodeErr(k, kpath, "duplicate key (first at line %d), expected each key once", first)
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		if !ok {
			return d.nodeErr(k, path, "%s", unknownKey(k.Value, fields))
		}
		v, err := d.resolve(n.Content[i+1], kpath)
		if err != nil {
			return err
		}
		d.lines[kpath] = v.Line
		if err := f(v, kpath); err != nil {
			return err
		}
	}
	return nil
}

// sequence decodes each item of a list (a single value counts as one item).
func (d *decoder) sequence(n *yaml.Node, path string, item func(i int, n *yaml.Node, path string) error) error {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for i, it := range items {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		it, err := d.resolve(it, ipath)
		if err != nil {
			return err
		}
		d.lines[ipath] = it.Line
		if err := item(i, it, ipath); err != nil {
			return err
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if !isPlainKey(key) {
		key = fmt.Sprintf("%q", key)
		if path != "" {
			return path + "[" + key + "]"
		}
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// isPlainKey reports whether key can appear unquoted in a field path.
func isPlainKey(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
