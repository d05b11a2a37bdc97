package classify

// This file answers the selectors of html.go while the fast path scans:
// each rule names the selector it reproduces.

// want names the attributes the evidence needs from a t start tag here.
func (s *scanner) want(t tag) uint8 {
	var w uint8
	if s.rev >= 0 { // "div.flex.gap-x-1, font[color]"
		switch t {
		case tagDiv:
			w = wantClass
		case tagFont:
			w = wantColor
		}
	}
	if s.wrapper >= 0 { // the star selectors
		switch t {
		case tagSvg:
			w |= wantID | wantFill | wantStroke
		case tagSpan:
			w |= wantClass
		}
	}
	return w
}

// readSVG reads the attributes of an SVG start tag, or takes them from an
// equal earlier tag of this page: the tokenizer reads a tag's own bytes
// only, so equal bytes tokenize alike. The star SVGs of a Tailwind page,
// and their long <path>s, repeat ten times.
func (s *scanner) readSVG(k, p int, t tag, want uint8) (end int, self bool, a *attrs) {
	b := s.b
	for i := range s.tags {
		m := &s.tags[i]
		if n := m.end - m.start; m.t == t && m.want == want && n > 0 && k+n <= len(b) &&
			string(b[k:k+n]) == string(b[m.start:m.end]) {
			return m.end - m.start + k, m.self, &m.a
		}
	}
	a = &s.attrs
	a.seen = 0
	end, self, ok := readAttrs(b, p, want, a)
	if !ok {
		return 0, false, nil
	}
	if end-k >= 48 { // shorter tags are cheaper to read than to compare
		m := &s.tags[s.ntag%len(s.tags)]
		s.ntag++
		*m = tagMemo{start: k, end: end, t: t, want: want, self: self, a: *a}
	}
	return end, self, a
}

// evidence handles the reviews (container.Find("section") or else
// "blockquote"), the star wrappers and the stars of a start tag; i is the
// element's stack index, or -1 when it was not pushed.
func (s *scanner) evidence(t tag, a *attrs, i int) bool {
	if s.container >= 0 && i >= 0 && (t == tagSection || t == tagBlockquote) {
		return s.review(t, i)
	}
	if s.wrapper >= 0 && (t == tagSvg || t == tagSpan) {
		s.star(t, a)
	}
	if s.rev >= 0 && (t == tagDiv || t == tagFont) {
		return s.wrapperOpen(t, a, i)
	}
	return true
}

// review opens a review. The first review element decides the markup; the
// other kind, or a review inside a review, is refused. A <blockquote>
// inside a <section> review completes it: it follows the stars.
func (s *scanner) review(t tag, i int) bool {
	switch {
	case t == tagBlockquote && s.rev >= 0 && s.sections == 1:
		s.reviews[s.nrev-1].complete = true
		return true
	case s.rev >= 0 || s.nrev == maxReviews:
		return false
	case t == tagSection && s.sections != 2:
		s.sections = 1
	case t == tagBlockquote && s.sections != 1:
		s.sections = 2
	default:
		return false
	}
	s.reviews[s.nrev] = review{}
	s.nrev++
	s.rev = i
	s.stack[i].role |= roleReview
	return true
}

// wrapperOpen handles a div or font inside a review, which may be the star
// wrapper. Only the two known colours, spelled exactly, are accepted.
func (s *scanner) wrapperOpen(t tag, a *attrs, i int) bool {
	var colour []byte
	if t == tagDiv {
		if a.seen&wantClass == 0 {
			return true
		}
		c := classInfo(a.value(s.b, 0))
		if !c.flex || !c.gap {
			return true
		}
		if c.colours != 1 {
			return false
		}
		colour = c.colour
	} else {
		if a.seen&wantColor == 0 {
			return true
		}
		colour = a.value(s.b, 4)
	}
	if string(colour) != "black" && string(colour) != "red" || i < 0 || s.wrapper >= 0 {
		return false
	}
	r := &s.reviews[s.nrev-1]
	if r.wrappers++; r.wrappers > 1 {
		return false
	}
	r.colour, s.wrapper = colour, i
	s.stack[i].role |= roleWrapper
	return true
}

// star counts `svg[id="glyphicon glyphicon-star"], span.glyphicon-star` and
// `svg[fill="none"][stroke], span.glyphicon-star-empty` in the wrapper.
func (s *scanner) star(t tag, a *attrs) {
	r := &s.reviews[s.nrev-1]
	if t == tagSvg {
		if a.seen&wantID != 0 && string(a.value(s.b, 1)) == "glyphicon glyphicon-star" {
			r.filled++
		}
		if a.seen&(wantFill|wantStroke) == wantFill|wantStroke && string(a.value(s.b, 2)) == "none" {
			r.empty++
		}
		return
	}
	if a.seen&wantClass == 0 {
		return
	}
	switch v := a.value(s.b, 0); string(v) { // Bootstrap's own spelling first
	case "glyphicon glyphicon-star":
		r.filled++
	case "glyphicon glyphicon-star-empty":
		r.empty++
	default:
		c := classInfo(v)
		if c.star {
			r.filled++
		}
		if c.starEmpty {
			r.empty++
		}
	}
}

type classes struct {
	flex, gap, star, starEmpty bool
	colours                    int    // text-X-500 tokens
	colour                     []byte // X of the last one
}

// classInfo splits a class attribute the way cascadia does, on ASCII white
// space, and notes the tokens that matter.
func classInfo(v []byte) (c classes) {
	for i := 0; i < len(v); {
		for i < len(v) && isSpaceByte(v[i]) {
			i++
		}
		j := i
		for j < len(v) && !isSpaceByte(v[j]) {
			j++
		}
		tok := v[i:j]
		i = j
		switch string(tok) {
		case "flex":
			c.flex = true
		case "gap-x-1":
			c.gap = true
		case "glyphicon-star":
			c.star = true
		case "glyphicon-star-empty":
			c.starEmpty = true
		default:
			if len(tok) > len("text--500") && string(tok[:5]) == "text-" && string(tok[len(tok)-4:]) == "-500" {
				c.colours++
				c.colour = tok[5 : len(tok)-4]
			}
		}
	}
	return c
}
