package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// docBlock is a shell snippet a user copies from the docs: a fenced sh block
// of a Markdown file, or a run/script entry of a CI example.
type docBlock struct {
	file string
	line int // first line of the snippet in file
	src  string
}

func (b docBlock) name() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// markdownBlocks returns the ```sh blocks of a Markdown file, in order.
func markdownBlocks(t testing.TB, path, name string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docBlock
	var cur *docBlock
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```sh":
			cur = &docBlock{file: name, line: n + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.src += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated ```sh block", name, cur.line-1)
	}
	return out
}

// workflowBlocks returns the shell a CI example runs: the run: entries of a
// GitHub Actions workflow's steps and the script: lines of GitLab CI jobs,
// each with the job's and workflow's env/variables exported first.
func workflowBlocks(t testing.TB, path, name string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	doc := root.Content[0]
	globalEnv := exports(mapValue(doc, "env"), mapValue(doc, "variables"))
	var out []docBlock
	add := func(line int, env, src string) {
		out = append(out, docBlock{file: name, line: line, src: globalEnv + env + src + "\n"})
	}
	if jobs := mapValue(doc, "jobs"); jobs != nil { // GitHub Actions
		for i := 1; i < len(jobs.Content); i += 2 {
			job := jobs.Content[i]
			env := exports(mapValue(job, "env"))
			for _, step := range seqItems(mapValue(job, "steps")) {
				if run := mapValue(step, "run"); run != nil {
					add(run.Line, env, run.Value)
				}
			}
		}
		return out
	}
	for i := 1; i < len(doc.Content); i += 2 { // GitLab CI: every job with a script
		job := doc.Content[i]
		var lines []string
		line := 0
		for _, s := range seqItems(mapValue(job, "script")) {
			if line == 0 {
				line = s.Line
			}
			lines = append(lines, s.Value)
		}
		if len(lines) > 0 {
			add(line, exports(mapValue(job, "variables")), strings.Join(lines, "\n"))
		}
	}
	return out
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func seqItems(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// ciExpr is GitHub's ${{ vars.NAME }}: the shell sees it as $NAME.
var ciExpr = regexp.MustCompile(`\$\{\{\s*vars\.(\w+)\s*\}\}`)

func exports(maps ...*yaml.Node) string {
	var b strings.Builder
	for _, m := range maps {
		if m == nil {
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			v := ciExpr.ReplaceAllString(m.Content[i+1].Value, "$$$1")
			fmt.Fprintf(&b, "export %s=\"%s\"\n", m.Content[i].Value, v)
		}
	}
	return b.String()
}

// exitNote is the exit code a doc line documents for its command, as a
// trailing comment: `canary verify … # exit 1: the split is not 80/20`.
var exitNote = regexp.MustCompile(`#.*\bexits? (\d)\b`)

// documentedExit returns the exit code documented on line (1-based) of
// src, or 0: every other command is documented to succeed.
func documentedExit(src string, line int) int {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) {
		return 0
	}
	if m := exitNote.FindStringSubmatch(lines[line-1]); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}
