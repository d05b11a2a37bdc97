package results

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/canary-gate/canary/classify"
)

// FieldError says which field of a line is wrong and what was expected
// instead. Field is empty when the line is not a JSON object at all.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Decode parses one line written by Append. Unknown keys are skipped so that
// newer writers stay readable; "t" and "o" are required.
func Decode(line []byte) (Record, error) {
	d := decoder{b: line}
	var r Record
	if err := d.object(&r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// decoder is a hand-written scanner for the flat objects Append produces:
// reflection-based encoding/json costs more than the rest of a report.
type decoder struct {
	b    []byte
	i    int
	seen uint8 // bit set of required keys seen
}

const (
	seenTime = 1 << iota
	seenOutcome
)

func (d *decoder) object(r *Record) error {
	d.space()
	if !d.eat('{') {
		return &FieldError{Msg: "expected a JSON object"}
	}
	d.space()
	if !d.eat('}') {
		if err := d.members(r); err != nil {
			return err
		}
	}
	d.space()
	if d.i != len(d.b) {
		return &FieldError{Msg: "unexpected data after the object"}
	}
	switch {
	case d.seen&seenTime == 0:
		return &FieldError{Field: "t", Msg: "missing; expected an RFC 3339 time"}
	case d.seen&seenOutcome == 0:
		return &FieldError{Field: "o", Msg: "missing; expected an outcome name"}
	}
	return nil
}

func (d *decoder) members(r *Record) error {
	for {
		d.space()
		key, ok := d.str()
		if !ok {
			return &FieldError{Msg: "expected a quoted key"}
		}
		d.space()
		if !d.eat(':') {
			return &FieldError{Field: key, Msg: "expected ':' after the key"}
		}
		d.space()
		if err := d.field(key, r); err != nil {
			return err
		}
		d.space()
		if d.eat('}') {
			return nil
		}
		if !d.eat(',') {
			return &FieldError{Field: key, Msg: "expected ',' or '}' after the value"}
		}
	}
}

func (d *decoder) field(key string, r *Record) error {
	var err error
	switch key {
	case "t":
		d.seen |= seenTime
		r.At, err = d.time()
	case "l":
		var us int64
		us, err = d.int(math.MaxInt64 / int64(time.Microsecond))
		r.Latency = time.Duration(us) * time.Microsecond
	case "s":
		var s int64
		s, err = d.int(999)
		r.Status = int(s)
	case "v":
		r.Version, err = d.strValue()
	case "o":
		d.seen |= seenOutcome
		r.Outcome, err = d.outcome()
	case "id":
		r.ID, err = d.strValue()
	case "tp":
		r.Trace, err = d.strValue()
	default:
		err = d.skip()
	}
	if err != nil {
		return &FieldError{Field: key, Msg: err.Error()}
	}
	return nil
}

func (d *decoder) time() (time.Time, error) {
	s, err := d.strValue()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("expected an RFC 3339 time, got %q", s)
	}
	return t.UTC(), nil
}

func (d *decoder) outcome() (classify.Outcome, error) {
	s, err := d.strValue()
	if err != nil {
		return 0, err
	}
	o, err := classify.ParseOutcome(s)
	if err != nil {
		return 0, fmt.Errorf("expected an outcome name, got %q", s)
	}
	return o, nil
}

func (d *decoder) int(limit int64) (int64, error) {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	n, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 64)
	if err != nil || n > limit || d.i-start > 1 && d.b[start] == '0' {
		return 0, fmt.Errorf("expected an integer from 0 to %d", limit)
	}
	return n, nil
}

func (d *decoder) strValue() (string, error) {
	s, ok := d.str()
	if !ok {
		return "", fmt.Errorf("expected a JSON string")
	}
	return s, nil
}

// skip passes over the value of an unknown key: a string, a number, true,
// false or null. Nested values are not part of the format.
func (d *decoder) skip() error {
	if d.i < len(d.b) && d.b[d.i] == '"' {
		if _, ok := d.str(); !ok {
			return fmt.Errorf("expected a JSON string")
		}
		return nil
	}
	start := d.i
	for d.i < len(d.b) && isScalarByte(d.b[d.i]) {
		d.i++
	}
	if d.i == start {
		return fmt.Errorf("expected a string, number, true, false or null")
	}
	return nil
}

func isScalarByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E'
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}
