package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/canary-gate/canary/internal/yamlerr"
)

// ErrInvalid is wrapped by every error about a bad scenario, so the CLI
// can map it to the usage exit code with errors.Is.
var ErrInvalid = errors.New("invalid scenario")

// fieldError is one problem: "FILE:LINE: PATH: MSG", with the parts that
// are known. Every user-supplied text in it is quoted, so it is one line.
type fieldError struct {
	file string
	line int
	path string
	msg  string
}

func (e *fieldError) Error() string {
	var b strings.Builder
	switch {
	case e.file != "" && e.line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.file, e.line)
	case e.file != "":
		b.WriteString(e.file + ": ")
	case e.line > 0:
		fmt.Fprintf(&b, "line %d: ", e.line)
	}
	if e.path != "" {
		b.WriteString(e.path + ": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

func (e *fieldError) Unwrap() error { return ErrInvalid }

// syntaxError rewrites a yaml.v3 syntax error as "FILE:LINE: invalid YAML:
// ...".
func syntaxError(file string, data []byte, err error) error {
	line, msg := yamlerr.Locate(data, err)
	return &fieldError{file: file, line: line, msg: "invalid YAML: " + msg}
}

// describe names a node's kind or value for messages, quoted and short.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "..."
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!int", "!!float", "!!bool":
		return v
	}
	return strconv.Quote(v)
}
