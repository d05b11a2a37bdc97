// Package redact keeps secrets out of everything canary prints or writes.
// A gate's output goes to CI logs many people read, and reports are
// attached to tickets: a token given to canary must never come back out,
// not even inside text a server sent back (a proxy that echoes the request
// in its error). One rule for every writer: URL user-info is always
// masked, and every value registered with Add is replaced wherever it
// appears, in its plain, JSON, HTML and URL-escaped forms.
//
// It is a leaf: it imports only the standard library.
package redact

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Mask replaces a secret.
const Mask = "***"

// MinLen is the shortest value Add registers: a shorter one would match
// ordinary text everywhere and garble the output without protecting much.
const MinLen = 4

var (
	mu      sync.RWMutex
	secrets []string // every registered form, longest first
	// userinfo is a URL's user-info: scheme://USER[:PASSWORD]@
	userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#@\s"'<>]+@`)
)

// Add registers secret values (tokens, passwords, cookie and header
// values). Values shorter than MinLen are ignored (see MinLen).
func Add(values ...string) {
	mu.Lock()
	defer mu.Unlock()
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < MinLen {
			continue
		}
		for _, form := range forms(v) {
			if !contains(secrets, form) {
				secrets = append(secrets, form)
			}
		}
	}
	// Longest first, so a secret containing another is masked whole.
	for i := 1; i < len(secrets); i++ {
		for j := i; j > 0 && len(secrets[j]) > len(secrets[j-1]); j-- {
			secrets[j], secrets[j-1] = secrets[j-1], secrets[j]
		}
	}
}

// forms are the ways a value can appear in canary's output: as it is, in
// a JSON string (Go's encoder escapes <, > and &), in HTML, in a URL.
func forms(v string) []string {
	out := []string{v}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	out = append(out, html.EscapeString(v), url.QueryEscape(v), url.PathEscape(v))
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String returns s with URL user-info and every registered secret masked.
func String(s string) string {
	if strings.Contains(s, "@") && strings.Contains(s, "://") {
		s = userinfo.ReplaceAllString(s, "${1}"+Mask+"@")
	}
	mu.RLock()
	defer mu.RUnlock()
	for _, v := range secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}

// URL is a URL as canary prints it: its user-info masked.
func URL(u string) string { return String(u) }

// Writer masks what it passes on to w. It holds back an unfinished line
// (up to a newline or a carriage return, which redraws a terminal's
// status line) so that a secret split across two writes is still masked;
// Flush passes on what is held. Safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer onto w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// maxHeld bounds the unfinished line held back: a writer of one huge line
// with no line end is passed on in pieces rather than held in memory.
const maxHeld = 1 << 20

// Write masks every finished line of p (with what was held) and passes it
// on; it reports len(p) written unless w fails.
func (rw *Writer) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.buf = append(rw.buf, p...)
	end := bytes.LastIndexAny(rw.buf, "\n\r")
	if end < 0 && len(rw.buf) < maxHeld {
		return len(p), nil
	}
	if end < 0 {
		end = len(rw.buf) - 1
	}
	out := String(string(rw.buf[:end+1]))
	rest := copy(rw.buf, rw.buf[end+1:])
	rw.buf = rw.buf[:rest]
	if _, err := io.WriteString(rw.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Underlying is the writer w masks for, or w itself when it is not a
// Writer: a terminal check must look at the file, not the mask.
func Underlying(w io.Writer) io.Writer {
	if rw, ok := w.(*Writer); ok {
		return rw.w
	}
	return w
}

// Flush passes on the unfinished line, masked.
func (rw *Writer) Flush() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.buf) == 0 {
		return nil
	}
	out := String(string(rw.buf))
	rw.buf = rw.buf[:0]
	_, err := io.WriteString(rw.w, out)
	return err
}

// reset forgets every registered secret, for tests.
func reset() {
	mu.Lock()
	secrets = nil
	mu.Unlock()
}
