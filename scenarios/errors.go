package scenarios

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
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

var (
	yamlLine   = regexp.MustCompile(`^yaml: line (\d+): `)
	yamlAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlParserProblems are yaml.v3's parser (not scanner) errors: it reports
// them with the 0-based line of the construct they are in, so add one.
var yamlParserProblems = map[string]bool{
	"did not find expected <stream-start>": true, "did not find expected <document start>": true,
	"found undefined tag handle": true, "did not find expected node content": true,
	"did not find expected '-' indicator": true, "did not find expected key": true,
	"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
	"found duplicate %YAML directive": true, "found incompatible YAML document": true,
	"found duplicate %TAG directive": true,
}

// syntaxError rewrites a yaml.v3 syntax error as "FILE:LINE: invalid YAML:
// ...", finding the line where yaml.v3 does not give one.
func syntaxError(file string, data []byte, err error) error {
	msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = err.Error()[len(m[0]):]
		if yamlParserProblems[msg] {
			line++
		}
	} else if m := yamlAnchor.FindStringSubmatch(err.Error()); m != nil {
		line = lineOf(data, "*"+m[1])
	} else {
		line = badByteLine(data)
	}
	if line == 0 {
		line = 1 // yaml.v3 leaves out "line 1"
	}
	msg = strings.ReplaceAll(msg, "\n", " ")
	return &fieldError{file: file, line: line, msg: "invalid YAML: " + msg}
}

// lineOf is the 1-based line of the first occurrence of s in data, or 0.
func lineOf(data []byte, s string) int {
	i := strings.Index(string(data), s)
	if i < 0 {
		return 0
	}
	return 1 + strings.Count(string(data[:i]), "\n")
}

// badByteLine finds the line of the first byte YAML rejects outright
// (invalid UTF-8 or a control character); 0 when there is none.
func badByteLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 0
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
