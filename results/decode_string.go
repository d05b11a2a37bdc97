package results

import (
	"unicode/utf16"
	"unicode/utf8"
)

// str reads a JSON string. The common case (no escapes) is one allocation.
func (d *decoder) str() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			s := string(d.b[start:d.i])
			d.i++
			return s, utf8.ValidString(s)
		case c == '\\' || c < 0x20:
			return d.strSlow(start)
		}
		d.i++
	}
	return "", false
}

func (d *decoder) strSlow(start int) (string, bool) {
	buf := append([]byte(nil), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(buf), utf8.Valid(buf)
		case c < 0x20:
			return "", false
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		var ok bool
		if buf, ok = d.escape(buf); !ok {
			return "", false
		}
	}
	return "", false
}

// escape decodes the escape sequence at d.i (which is a backslash).
func (d *decoder) escape(buf []byte) ([]byte, bool) {
	if d.i+1 >= len(d.b) {
		return buf, false
	}
	c := d.b[d.i+1]
	d.i += 2
	switch c {
	case '"', '\\', '/':
		return append(buf, c), true
	case 'b':
		return append(buf, '\b'), true
	case 'f':
		return append(buf, '\f'), true
	case 'n':
		return append(buf, '\n'), true
	case 'r':
		return append(buf, '\r'), true
	case 't':
		return append(buf, '\t'), true
	case 'u':
		return d.unicode(buf)
	}
	return buf, false
}

func (d *decoder) unicode(buf []byte) ([]byte, bool) {
	r, ok := d.hex4()
	if !ok {
		return buf, false
	}
	if utf16.IsSurrogate(r) {
		r2 := utf8.RuneError
		if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
			save := d.i
			d.i += 2
			if r2, ok = d.hex4(); !ok {
				return buf, false
			}
			if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
				d.i = save // lone surrogate: keep the next escape
			}
		} else {
			r = utf8.RuneError
		}
	}
	return utf8.AppendRune(buf, r), true
}

func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}
