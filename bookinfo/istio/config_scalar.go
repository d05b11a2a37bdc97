package istio

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// scalar encodes a string, number, bool or enum value.
func (e *specEncoder) scalar(n *yaml.Node, fd protoreflect.FieldDescriptor, path string, depth int) error {
	n, err := e.enter(n, path, depth)
	if err != nil {
		return err
	}
	want := scalarWant(fd)
	if n.Kind != yaml.ScalarNode {
		return e.doc.errorf(path, "got %s, expected %s", describe(n), want)
	}
	tag := n.ShortTag()
	bad := func() error { return e.doc.errorf(path, "got %s, expected %s", describe(n), want) }
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind:
		if !isStringTag(tag) {
			return e.doc.errorf(path, "got %s, expected %s (quote it)", describe(n), want)
		}
		e.buf = appendJSONString(e.buf, n.Value)
	case protoreflect.BoolKind:
		var b bool
		if tag != "!!bool" || n.Decode(&b) != nil {
			return bad()
		}
		e.buf = strconv.AppendBool(e.buf, b)
	case protoreflect.EnumKind:
		return e.enum(n, fd.Enum(), path, want)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		var f float64
		if (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad()
		}
		e.buf = strconv.AppendFloat(e.buf, f, 'g', -1, 64)
	default:
		return e.integer(n, fd.Kind(), bad)
	}
	return nil
}

func (e *specEncoder) integer(n *yaml.Node, kind protoreflect.Kind, bad func() error) error {
	tag := n.ShortTag()
	if tag != "!!int" && tag != "!!float" {
		return bad()
	}
	switch kind {
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		var u uint64
		if n.Decode(&u) != nil || (kind == protoreflect.Uint32Kind || kind == protoreflect.Fixed32Kind) && u > math.MaxUint32 {
			return bad()
		}
		e.buf = strconv.AppendUint(e.buf, u, 10)
	default:
		var i int64
		if n.Decode(&i) != nil || kind != protoreflect.Int64Kind && kind != protoreflect.Sint64Kind &&
			kind != protoreflect.Sfixed64Kind && (i < math.MinInt32 || i > math.MaxInt32) {
			return bad()
		}
		e.buf = strconv.AppendInt(e.buf, i, 10)
	}
	return nil
}

func (e *specEncoder) enum(n *yaml.Node, ed protoreflect.EnumDescriptor, path, want string) error {
	if n.ShortTag() == "!!int" {
		var i int32
		if n.Decode(&i) == nil && ed.Values().ByNumber(protoreflect.EnumNumber(i)) != nil {
			e.buf = strconv.AppendInt(e.buf, int64(i), 10)
			return nil
		}
	} else if isStringTag(n.ShortTag()) && ed.Values().ByName(protoreflect.Name(n.Value)) != nil {
		e.buf = appendJSONString(e.buf, n.Value)
		return nil
	}
	return e.doc.errorf(path, "got %s, expected %s", describe(n), want)
}

// duration accepts Go/Istio durations ("10s", "1.5s", "100ms", "1h") and
// writes them in protojson's seconds form.
func (e *specEncoder) duration(n *yaml.Node, path string, depth int) error {
	n, err := e.enter(n, path, depth)
	if err != nil {
		return err
	}
	var d time.Duration
	if n.Kind == yaml.ScalarNode && isStringTag(n.ShortTag()) {
		d, err = time.ParseDuration(n.Value)
	}
	if n.Kind != yaml.ScalarNode || !isStringTag(n.ShortTag()) || err != nil {
		return e.doc.errorf(path, "got %s, expected a duration such as \"10s\", \"1.5s\" or \"100ms\"", describe(n))
	}
	sign, u := "", uint64(d)
	if d < 0 {
		sign, u = "-", uint64(-(d+1))+1
	}
	e.buf = fmt.Appendf(e.buf, `"%s%d.%09ds"`, sign, u/uint64(time.Second), u%uint64(time.Second))
	return nil
}

// scalarWant describes the values a scalar field accepts.
func scalarWant(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return "a string"
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a finite number"
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return "a non-negative 32-bit integer"
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return "a non-negative integer"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return "a 32-bit integer"
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		names := make([]string, vals.Len())
		for i := range names {
			names[i] = string(vals.Get(i).Name())
		}
		return "one of " + strings.Join(names, ", ")
	}
	return "an integer"
}

// appendJSONString appends s as a JSON string in pure ASCII (\u escapes), so
// that byte offsets equal protojson's column numbers.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			buf = append(buf, '\\', byte(r))
		case r >= 0x20 && r < 0x7f:
			buf = append(buf, byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			for _, u := range [2]rune{r1, r2} {
				buf = append(buf, '\\', 'u', hex[u>>12&15], hex[u>>8&15], hex[u>>4&15], hex[u&15])
			}
		default:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			buf = append(buf, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		}
	}
	return append(buf, '"')
}
