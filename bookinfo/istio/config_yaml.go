package istio

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits that keep hostile input (alias bombs, self-referencing anchors)
// cheap to reject.
const (
	maxYAMLNodes = 100000
	maxYAMLDepth = 64
)

// specEncoder converts a spec's YAML node to JSON for protojson, guided by the
// message descriptor. On the way it records the line of every field path and
// reports unknown fields and wrong types with their path and line; the JSON is
// ASCII on one line, so protojson's "(line 1:COL)" is a byte offset into it.
type specEncoder struct {
	doc    *docInfo
	buf    []byte
	marks  []jsonMark
	lines  map[string]int
	budget int
}

// jsonMark says that the JSON from offset off on belongs to path.
type jsonMark struct {
	off  int
	path string
}

func (e *specEncoder) mark(path string, line int) {
	e.marks = append(e.marks, jsonMark{off: len(e.buf), path: path})
	if _, ok := e.lines[path]; !ok {
		e.lines[path] = line
	}
}

// enter resolves aliases and enforces the size and depth limits.
func (e *specEncoder) enter(n *yaml.Node, path string, depth int) (*yaml.Node, error) {
	n, err := resolveAlias(e.doc, n, path)
	if err != nil {
		return nil, err
	}
	if e.budget--; e.budget < 0 {
		return nil, e.doc.errorf(path, "document too large (over %d YAML nodes after alias expansion), expected a smaller manifest", maxYAMLNodes)
	}
	if depth > maxYAMLDepth {
		return nil, e.doc.errorf(path, "nesting deeper than %d levels, expected a manifest without recursive aliases", maxYAMLDepth)
	}
	return n, nil
}

// message encodes a mapping as the message md; pattern is the allowlist path.
func (e *specEncoder) message(n *yaml.Node, md protoreflect.MessageDescriptor, path, pattern string, depth int) error {
	n, err := e.enter(n, path, depth)
	if err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return e.doc.errorf(path, "got %s, expected a mapping", describe(n))
	}
	fields, err := mappingFields(e.doc, n, path)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, '{')
	oneofs := map[protoreflect.FullName]string{}
	for _, key := range fields.keys {
		f := fields.m[key]
		fpath, fpattern := joinPath(path, key), joinPath(pattern, key)
		e.lines[fpath] = f.key.Line
		fd, err := e.field(md, key, fpath, pattern)
		if err != nil {
			return err
		}
		if isNull(f.val) {
			continue // null means absent, as in Kubernetes
		}
		if err := e.oneof(oneofs, fd, key, fpath); err != nil {
			return err
		}
		if e.buf[len(e.buf)-1] != '{' {
			e.buf = append(e.buf, ',')
		}
		e.mark(fpath, f.key.Line)
		e.buf = appendJSONString(e.buf, fd.JSONName())
		e.buf = append(e.buf, ':')
		if err := e.value(f.val, fd, fpath, fpattern, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// field looks key up by its JSON (camelCase) name, like the Istio CRD schema.
func (e *specEncoder) field(md protoreflect.MessageDescriptor, key, path, pattern string) (protoreflect.FieldDescriptor, error) {
	if fd := md.Fields().ByJSONName(key); fd != nil {
		return fd, nil
	}
	if fd := md.Fields().ByName(protoreflect.Name(key)); fd != nil {
		return nil, e.doc.errorf(path, "unknown field %q, expected %q (field names are camelCase)", key, fd.JSONName())
	}
	return nil, e.doc.errorf(path, "unknown field %q, expected one of %s", key, strings.Join(fieldNames(md, supportedRules[e.doc.kind].allowed, pattern), ", "))
}

// fieldNames lists the fields the local mesh supports under pattern, or all
// of md's fields when it supports none.
func fieldNames(md protoreflect.MessageDescriptor, allowed map[string]bool, pattern string) []string {
	var all, supported []string
	for i := 0; i < md.Fields().Len(); i++ {
		name := md.Fields().Get(i).JSONName()
		all = append(all, name)
		if allowed[joinPath(pattern, name)] {
			supported = append(supported, name)
		}
	}
	if len(supported) > 0 {
		return supported
	}
	return all
}

// oneof records that key sets its oneof, rejecting a second member of it.
func (e *specEncoder) oneof(set map[protoreflect.FullName]string, fd protoreflect.FieldDescriptor, key, path string) error {
	oo := fd.ContainingOneof()
	if oo == nil || oo.IsSynthetic() {
		return nil
	}
	if other, ok := set[oo.FullName()]; ok {
		return e.doc.errorf(path, "%s and %s are mutually exclusive, expected exactly one of %s", other, key, oneofNames(oo))
	}
	set[oo.FullName()] = key
	return nil
}

func oneofNames(oo protoreflect.OneofDescriptor) string {
	names := make([]string, oo.Fields().Len())
	for i := range names {
		names[i] = oo.Fields().Get(i).JSONName()
	}
	return strings.Join(names, ", ")
}

// value encodes the value of field fd: a list, a map or a single value.
func (e *specEncoder) value(n *yaml.Node, fd protoreflect.FieldDescriptor, path, pattern string, depth int) error {
	if !fd.IsList() && !fd.IsMap() {
		return e.single(n, fd, path, pattern, depth)
	}
	n, err := e.enter(n, path, depth)
	if err != nil {
		return err
	}
	if fd.IsList() {
		return e.list(n, fd, path, pattern, depth)
	}
	return e.mapping(n, fd.MapValue(), path, pattern+".*", depth)
}

func (e *specEncoder) list(n *yaml.Node, fd protoreflect.FieldDescriptor, path, pattern string, depth int) error {
	if n.Kind != yaml.SequenceNode {
		return e.doc.errorf(path, "got %s, expected a list", describe(n))
	}
	e.buf = append(e.buf, '[')
	for i, item := range n.Content {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.mark(ipath, item.Line)
		if isNull(item) {
			return e.doc.errorf(ipath, "got null, expected a list item")
		}
		if err := e.single(item, fd, ipath, pattern+"[]", depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// mapping encodes a protobuf map; keys are strings in every Istio map.
func (e *specEncoder) mapping(n *yaml.Node, vd protoreflect.FieldDescriptor, path, pattern string, depth int) error {
	if n.Kind != yaml.MappingNode {
		return e.doc.errorf(path, "got %s, expected a mapping", describe(n))
	}
	fields, err := mappingFields(e.doc, n, path)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, '{')
	for i, key := range fields.keys {
		f := fields.m[key]
		kpath := path + "[" + key + "]"
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.mark(kpath, f.key.Line)
		if isNull(f.val) {
			return e.doc.errorf(kpath, "got null, expected a value")
		}
		e.buf = appendJSONString(e.buf, key)
		e.buf = append(e.buf, ':')
		if err := e.single(f.val, vd, kpath, pattern, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// wrappers are the google.protobuf wrapper messages, written as bare scalars.
var wrappers = map[protoreflect.FullName]bool{
	"google.protobuf.DoubleValue": true, "google.protobuf.FloatValue": true,
	"google.protobuf.Int64Value": true, "google.protobuf.UInt64Value": true,
	"google.protobuf.Int32Value": true, "google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue": true, "google.protobuf.StringValue": true,
	"google.protobuf.BytesValue": true,
}

// single encodes one value (not a list or map) of field fd.
func (e *specEncoder) single(n *yaml.Node, fd protoreflect.FieldDescriptor, path, pattern string, depth int) error {
	md := fd.Message()
	switch {
	case md == nil:
		return e.scalar(n, fd, path, depth)
	case md.FullName() == "google.protobuf.Duration":
		return e.duration(n, path, depth)
	case wrappers[md.FullName()]:
		return e.scalar(n, md.Fields().ByName("value"), path, depth)
	case strings.HasPrefix(string(md.FullName()), "google.protobuf."):
		return e.doc.errorf(path, "values of type %s are not supported by the local mesh", md.FullName())
	}
	return e.message(n, md, path, pattern, depth)
}

var protoPos = regexp.MustCompile(`\(line (\d+):(\d+)\):?\s*`)

// protoError maps a protojson error, which should be rare after the encoder's
// checks, to the field path at its JSON offset.
func (e *specEncoder) protoError(err error) error {
	msg, path := err.Error(), "spec"
	if m := protoPos.FindStringSubmatchIndex(msg); m != nil {
		col, _ := strconv.Atoi(msg[m[4]:m[5]])
		i := sort.Search(len(e.marks), func(i int) bool { return e.marks[i].off > col-1 })
		if i > 0 {
			path = e.marks[i-1].path
		}
		msg = msg[m[1]:]
	}
	msg = strings.TrimLeft(strings.TrimPrefix(msg, "proto:"), " \u00a0")
	return e.doc.errorf(path, "%s, expected a valid Istio %s", msg, e.doc.kind)
}
