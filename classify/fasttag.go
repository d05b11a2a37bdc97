package classify

import "bytes"

// Attributes the evidence needs; readAttrs fills in only those asked for.
const (
	wantClass = 1 << iota
	wantID
	wantFill
	wantStroke
	wantColor
)

var attrNames = [...]string{"class", "id", "fill", "stroke", "color"}

// attrs holds the wanted attributes of one start tag as offsets into the
// body (slices would make the scanner, which Page zeroes on every call,
// three times bigger).
type attrs struct {
	seen uint8        // want* bits of the attributes present
	val  [5][2]uint32 // [start, end) of each value, by bit number
}

// value returns the attribute with bit number i (0 class … 4 color).
func (a *attrs) value(b []byte, i int) []byte { return b[a.val[i][0]:a.val[i][1]] }

// Byte classes for the tokenizer loops.
const (
	cSpace   = 1 << iota // HTML white space
	cNameEnd             // ends a tag name: space, '/', '>'
	cKeyEnd              // ends an attribute name: space, '/', '>', '='
	cValEnd              // ends an unquoted value: space, '>'
)

var byteClass = func() (c [256]uint8) {
	for _, b := range []byte(" \t\n\f\r") {
		c[b] = cSpace | cNameEnd | cKeyEnd | cValEnd
	}
	c['/'], c['>'], c['='] = cNameEnd|cKeyEnd, cNameEnd|cKeyEnd|cValEnd, cKeyEnd
	return c
}()

// Token kinds by the byte after '<', as the tokenizer sees them.
const (
	tokText   = iota // the '<' is text
	tokStart         // a lower-case letter: a start tag
	tokEnd           // '/': an end tag
	tokMarkup        // '!': a comment or doctype
	tokRefuse        // an upper-case letter or '?': not followed here
)

var tokenKind = func() (k [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		k[c], k[c-'a'+'A'] = tokStart, tokRefuse
	}
	k['/'], k['!'], k['?'] = tokEnd, tokMarkup, tokRefuse
	return k
}()

func isSpaceByte(c byte) bool { return byteClass[c]&cSpace != 0 }

func skipSpace(b []byte, p int) int {
	for p < len(b) && byteClass[b[p]]&cSpace != 0 {
		p++
	}
	return p
}

// scanTo returns the first position at or after p whose byte is in class.
func scanTo(b []byte, p int, class uint8) int {
	for p < len(b) && byteClass[b[p]]&class == 0 {
		p++
	}
	return p
}

// readAttrs tokenizes the attributes of the tag whose name ends at b[p],
// the way the golang.org/x/net/html tokenizer does (readTag,
// readTagAttrKey, readTagAttrVal), and returns the position after the
// tag's '>'. ok is false for a tag cut by the end of the body, an asked-for
// attribute whose value holds a character reference, and the one
// self-closing form whose meaning depends on attribute deduplication.
func readAttrs(b []byte, p int, want uint8, a *attrs) (end int, self, ok bool) {
	unquotedEnd := -1 // end of the last unquoted value
	for p = skipSpace(b, p); ; p = skipSpace(b, p) {
		if p >= len(b) {
			return 0, false, false
		}
		if b[p] == '>' {
			break
		}
		ks := p
		if b[p] == '=' {
			p++ // a leading '=' belongs to the name
		}
		p = scanTo(b, p, cKeyEnd)
		key := b[ks:p]
		vs, ve := p, p // the value: b[vs:ve]
		if p = skipSpace(b, p); p >= len(b) {
			return 0, false, false
		}
		switch b[p] {
		case '/':
			p++
		case '=':
			if p = skipSpace(b, p+1); p >= len(b) {
				return 0, false, false
			}
			if vs, ve, p, unquotedEnd = readValue(b, p, unquotedEnd); p < 0 {
				return 0, false, false
			}
		}
		if want != 0 && len(key) > 0 && !keep(a, want, key, b[vs:ve], uint32(vs)) {
			return 0, false, false
		}
	}
	// "<p a=/>" is not self-closing: the '/' belongs to the value.
	self = b[p-1] == '/'
	if self && unquotedEnd == p {
		return 0, false, false
	}
	return p + 1, self, true
}

// readValue reads an attribute value at b[p] (after '=' and white space):
// the value is b[vs:ve], and the tag goes on at next.
func readValue(b []byte, p, unquotedEnd int) (vs, ve, next, unqEnd int) {
	switch q := b[p]; q {
	case '>':
		return p, p, p, unquotedEnd
	case '"', '\'':
		j := bytes.IndexByte(b[p+1:], q)
		if j < 0 {
			return 0, 0, -1, 0
		}
		return p + 1, p + 1 + j, p + j + 2, unquotedEnd
	}
	s := p
	if p = scanTo(b, p, cValEnd); p >= len(b) {
		return 0, 0, -1, 0
	}
	return s, p, p, p
}

// asciiFoldEq compares an attribute name with a lower-case name the way the
// tokenizer does: ASCII letters only (bytes.EqualFold would also fold the
// Kelvin sign to "k").
func asciiFoldEq(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// keep records a wanted attribute. The parser keeps the first of two
// attributes with the same (case-folded) name, and so does keep. It
// refuses values with character references, which the parser decodes.
func keep(a *attrs, want uint8, key, val []byte, at uint32) bool {
	i := -1
	switch len(key) {
	case 2:
		i = 1 // id
	case 4:
		i = 2 // fill
	case 5:
		i = 0 // class
		if key[1]|0x20 == 'o' {
			i = 4 // color
		}
	case 6:
		i = 3 // stroke
	}
	if i < 0 {
		return true
	}
	bit := uint8(1) << i
	if want&bit == 0 || a.seen&bit != 0 || !asciiFoldEq(key, attrNames[i]) {
		return true
	}
	if bytes.IndexByte(val, '&') >= 0 {
		return false
	}
	a.seen |= bit
	a.val[i] = [2]uint32{at, at + uint32(len(val))}
	return true
}
