package istio

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// supportedFields lists, per kind, the spec fields the local mesh implements.
// "[]" stands for a list item and ".*" for a map value. Every other Istio
// field is rejected, so that a manifest never silently means less here than
// in a real mesh.
var supportedFields = map[string][]string{
	kindVirtualService: {
		"hosts", "gateways", "http[].name", "http[].match[].name",
		"http[].match[].uri.exact", "http[].match[].uri.prefix", "http[].match[].uri.regex",
		"http[].match[].headers.*.exact", "http[].match[].headers.*.prefix", "http[].match[].headers.*.regex",
		"http[].match[].ignoreUriCase",
		"http[].route[].destination.host", "http[].route[].destination.subset",
		"http[].route[].destination.port.number", "http[].route[].weight",
		"http[].mirror.host", "http[].mirror.subset", "http[].mirror.port.number",
		"http[].mirrorPercentage.value",
		"http[].fault.delay.fixedDelay", "http[].fault.delay.percentage.value",
		"http[].fault.abort.httpStatus", "http[].fault.abort.percentage.value",
		"http[].retries.attempts", "http[].retries.perTryTimeout", "http[].retries.retryOn",
		"http[].timeout",
	},
	kindDestinationRule: {"host", "subsets[].name", "subsets[].labels", "trafficPolicy.tls.mode"},
	kindGateway: {
		"selector", "servers[].port.number", "servers[].port.name", "servers[].port.protocol",
		"servers[].hosts",
	},
}

// fieldRules is supportedFields compiled: allowed holds every supported path
// and its ancestors, inner the ancestors (paths to descend into).
type fieldRules struct{ allowed, inner map[string]bool }

var supportedRules = compileFieldRules(supportedFields)

func compileFieldRules(lists map[string][]string) map[string]fieldRules {
	out := map[string]fieldRules{}
	for kind, paths := range lists {
		fr := fieldRules{allowed: map[string]bool{}, inner: map[string]bool{}}
		for _, p := range paths {
			fr.allowed[p] = true
			for i := strings.IndexByte(p, '.'); i >= 0; i = nextDot(p, i) {
				prefix := strings.TrimSuffix(strings.TrimSuffix(p[:i], "[]"), ".*")
				fr.allowed[prefix], fr.inner[prefix] = true, true
			}
		}
		out[kind] = fr
	}
	return out
}

func nextDot(p string, i int) int {
	j := strings.IndexByte(p[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// checkSupported walks every populated field of m (in declaration order, so
// the first error is deterministic) and rejects fields outside the allowlist.
func checkSupported(d *docInfo, m protoreflect.Message, fr fieldRules, path, pattern string) error {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		fpath, fpattern := joinPath(path, fd.JSONName()), joinPath(pattern, fd.JSONName())
		if !fr.allowed[fpattern] {
			return d.errorf(fpath, "field not supported by the local mesh")
		}
		if !fr.inner[fpattern] {
			continue
		}
		if err := checkValue(d, fd, m.Get(fd), fr, fpath, fpattern); err != nil {
			return err
		}
	}
	return nil
}

// checkValue descends into the messages of a supported inner field.
func checkValue(d *docInfo, fd protoreflect.FieldDescriptor, v protoreflect.Value, fr fieldRules, path, pattern string) error {
	switch {
	case fd.IsList():
		list := v.List()
		for i := 0; i < list.Len(); i++ {
			ipath := fmt.Sprintf("%s[%d]", path, i)
			if err := checkSupported(d, list.Get(i).Message(), fr, ipath, pattern+"[]"); err != nil {
				return err
			}
		}
	case fd.IsMap():
		keys := []string{}
		v.Map().Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k.String())
			return true
		})
		sort.Strings(keys)
		for _, k := range keys {
			val := v.Map().Get(protoreflect.ValueOfString(k).MapKey())
			if err := checkSupported(d, val.Message(), fr, path+"["+k+"]", pattern+".*"); err != nil {
				return err
			}
		}
	default:
		return checkSupported(d, v.Message(), fr, path, pattern)
	}
	return nil
}
