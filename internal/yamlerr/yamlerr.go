// Package yamlerr locates yaml.v3's syntax errors, so that every YAML input
// of the tool (Istio manifests, scenarios, classification rules) reports
// them the same way: "FILE:LINE: ...", on one line, and turns the parser's
// panics into errors.
package yamlerr

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Decode decodes one document into n, turning a panic of the parser into
// an error: YAML files are user input, and a parser bug must not crash
// the tool.
func Decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failure: %v", r)
		}
	}()
	return dec.Decode(n)
}

var (
	reLine   = regexp.MustCompile(`^yaml: line (\d+): `)
	reAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// parserProblems are yaml.v3's parser (not scanner) errors: it reports them
// with the 0-based line of the construct they are in, so one is added.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>": true, "did not find expected <document start>": true,
	"found undefined tag handle": true, "did not find expected node content": true,
	"did not find expected '-' indicator": true, "did not find expected key": true,
	"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
	"found duplicate %YAML directive": true, "found incompatible YAML document": true,
	"found duplicate %TAG directive": true,
}

// Locate returns the 1-based line of a yaml.v3 syntax error in data and its
// message without the "yaml: line N: " prefix, on one line. Where yaml.v3
// gives no line it is found: the alias of an unknown anchor, or the first
// byte YAML rejects outright; else line 1.
func Locate(data []byte, err error) (line int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if m := reLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = err.Error()[len(m[0]):]
		if parserProblems[msg] {
			line++
		}
	} else if m := reAnchor.FindStringSubmatch(msg); m != nil {
		line = lineOf(data, "*"+m[1])
	} else {
		line = badByteLine(data)
	}
	return max(line, 1), strings.ReplaceAll(msg, "\n", " ")
}

// lineOf is the 1-based line of the first occurrence of s in data, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return 1 + bytes.Count(data[:i], []byte("\n"))
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
