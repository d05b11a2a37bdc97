package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes is the longest line a Scanner accepts. Records are about
// 200 bytes; anything far longer is not a results file.
const MaxLineBytes = 64 << 10

// LineError locates a bad line: "FILE:LINE: field: what was expected".
type LineError struct {
	File string
	Line int
	Err  error // a *FieldError for a malformed record
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Scanner streams records from a results file without loading it.
//
// A process killed mid-write leaves a torn last line. The Scanner does not
// fail on it: it stops and reports it through Warning. A bad line anywhere
// else is an error.
type Scanner struct {
	br      *bufio.Reader
	name    string
	line    int
	rec     Record
	err     error
	warning error
	done    bool
}

// NewScanner returns a Scanner reading from r. name is used in error
// messages, usually the file path.
func NewScanner(r io.Reader, name string) *Scanner {
	return &Scanner{br: bufio.NewReaderSize(r, MaxLineBytes), name: name}
}

// Scan advances to the next record, which Record then returns. It returns
// false at the end of the input or on the first error.
func (s *Scanner) Scan() bool {
	for !s.done {
		raw, terminated, err := s.readLine()
		if err != nil {
			s.err, s.done = err, true
			return false
		}
		if raw == nil {
			s.done = true
			return false
		}
		s.line++
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		rec, err := Decode(raw)
		switch {
		case err == nil:
			s.rec = rec
			return true
		case !terminated:
			s.warning = &LineError{File: s.name, Line: s.line, Err: fmt.Errorf("torn last line ignored: %w", err)}
		default:
			s.err = &LineError{File: s.name, Line: s.line, Err: err}
		}
		s.done = true
	}
	return false
}

// readLine returns the next line without its newline and whether it had one.
// It returns a nil line at the end of the input.
func (s *Scanner) readLine() (line []byte, terminated bool, err error) {
	raw, err := s.br.ReadSlice('\n')
	switch {
	case err == nil:
		return raw[:len(raw)-1], true, nil
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, false, &LineError{File: s.name, Line: s.line + 1,
			Err: fmt.Errorf("line longer than %d bytes; expected one record per line", MaxLineBytes)}
	case errors.Is(err, io.EOF):
		if len(raw) == 0 {
			return nil, false, nil
		}
		return raw, false, nil
	}
	return nil, false, fmt.Errorf("read %s: %w", s.name, err)
}

// Record returns the record read by the last successful Scan.
func (s *Scanner) Record() Record { return s.rec }

// Line returns the number of the line last read, counting from 1.
func (s *Scanner) Line() int { return s.line }

// Err returns the first error met, if any; a torn last line is not one.
func (s *Scanner) Err() error { return s.err }

// Warning returns a *LineError for a torn last line, or nil.
func (s *Scanner) Warning() error { return s.warning }
