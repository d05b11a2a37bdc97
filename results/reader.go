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
// A line it cannot read (torn by a process killed mid-write, interleaved by
// two writers without O_APPEND, or not a record at all) is skipped and
// counted, never fatal: a report of what could be read, saying what was
// not, is worth more than none. Skipped and Warning say how many and where;
// a caller fails only when nothing was readable.
type Scanner struct {
	br      *bufio.Reader
	name    string
	line    int
	rec     Record
	err     error
	skipped int
	first   *LineError // the first skipped line
	done    bool
}

// NewScanner returns a Scanner reading from r. name is used in error
// messages, usually the file path.
func NewScanner(r io.Reader, name string) *Scanner {
	return &Scanner{br: bufio.NewReaderSize(r, MaxLineBytes), name: name}
}

// Scan advances to the next record, which Record then returns. It returns
// false at the end of the input or on a read error.
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
		if len(raw) > MaxLineBytes {
			s.skip(fmt.Errorf("line longer than %d bytes; expected one record per line", MaxLineBytes))
			continue
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		rec, err := Decode(raw)
		switch {
		case err == nil:
			s.rec = rec
			return true
		case !terminated:
			s.skip(fmt.Errorf("torn last line: %w", err))
		default:
			s.skip(err)
		}
	}
	return false
}

// skip counts the current line as unreadable.
func (s *Scanner) skip(err error) {
	s.skipped++
	if s.first == nil {
		s.first = &LineError{File: s.name, Line: s.line, Err: err}
	}
}

// readLine returns the next line without its newline and whether it had one.
// It returns a nil line at the end of the input. A line longer than
// MaxLineBytes is read to its end and returned as a marker longer than
// MaxLineBytes, its bytes dropped.
func (s *Scanner) readLine() (line []byte, terminated bool, err error) {
	raw, err := s.br.ReadSlice('\n')
	switch {
	case err == nil:
		return raw[:len(raw)-1], true, nil
	case errors.Is(err, bufio.ErrBufferFull):
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = s.br.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, fmt.Errorf("read %s: %w", s.name, err)
		}
		return tooLong, err == nil, nil
	case errors.Is(err, io.EOF):
		if len(raw) == 0 {
			return nil, false, nil
		}
		return raw, false, nil
	}
	return nil, false, fmt.Errorf("read %s: %w", s.name, err)
}

// tooLong marks a line over MaxLineBytes.
var tooLong = make([]byte, MaxLineBytes+1)

// Record returns the record read by the last successful Scan.
func (s *Scanner) Record() Record { return s.rec }

// Line returns the number of the line last read, counting from 1.
func (s *Scanner) Line() int { return s.line }

// Err returns the read error that stopped the Scanner, if any; unreadable
// lines are not errors (see Skipped).
func (s *Scanner) Err() error { return s.err }

// Skipped is how many unreadable lines were skipped so far.
func (s *Scanner) Skipped() int { return s.skipped }

// Warning says how many lines were skipped and where the first was, as
// "FILE: 2 unreadable lines skipped, the first FILE:7: …"; nil if none.
func (s *Scanner) Warning() error {
	if s.skipped == 0 {
		return nil
	}
	noun := "line"
	if s.skipped > 1 {
		noun = "lines"
	}
	return &SkipError{Skipped: s.skipped, First: s.first, noun: noun}
}

// SkipError reports skipped lines: how many, and the first.
type SkipError struct {
	Skipped int
	First   *LineError
	noun    string
}

func (e *SkipError) Error() string {
	return fmt.Sprintf("%s: %d unreadable %s skipped, the first %v", e.First.File, e.Skipped, e.noun, e.First)
}

func (e *SkipError) Unwrap() error { return e.First }
