package scenarios

import (
	"embed"
	"sort"
	"strings"
)

// The built-in scenarios run on the local mesh of `canary bookinfo`; their
// comments show how to adapt them to a real cluster.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin returns the names of the built-in scenarios, sorted.
func Builtin() []string {
	entries, _ := builtinFS.ReadDir("builtin") // the embedded directory exists
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// BuiltinSource returns the YAML text of the built-in scenario name, as
// `canary scenarios show` prints it for users to copy and edit; Load
// parses it. It returns false for an unknown name.
func BuiltinSource(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, false
	}
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	return data, err == nil
}
