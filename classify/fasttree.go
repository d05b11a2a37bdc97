package classify

import "bytes"

// This file keeps the fast path's element stack equal to the parser's: each
// rule below either mirrors what golang.org/x/net/html does with a token
// (parse.go, inBodyIM and friends) or refuses a token whose handling is
// more than a push or a pop. Refusing is always safe: Page then asks
// PageGoquery.

// start handles the start tag at b[k] == '<' and returns the position after
// it, or -1.
func (s *scanner) start(k int) int {
	t, p := readName(s.b, k+1)
	if t == tagNone || s.sib >= 0 {
		return -1
	}
	// A star as Bootstrap spells it, closed at once, needs no attribute
	// read: its bytes say what readAttrs and star would find.
	var star *int // the count to add one to
	starEnd := 0
	if t == tagSpan && s.wrapper >= 0 && s.watch < 0 {
		r := &s.reviews[s.nrev-1]
		switch {
		case hasAt(s.b, k, filledStar):
			star, starEnd = &r.filled, k+len(filledStar)
		case hasAt(s.b, k, emptyStar):
			star, starEnd = &r.empty, k+len(emptyStar)
		}
	}
	var end int
	var self bool
	var a *attrs
	if star == nil {
		if end, self, a = s.startAttrs(k, p, t); a == nil {
			return -1
		}
	}
	if s.pending >= 0 { // any element after a <blockquote> review completes it
		s.reviews[s.pending].complete, s.pending = true, -1
	}
	if s.watch >= 0 && s.depth == s.watch { // the pod name's element
		s.watch, s.sib, s.sibText = -1, s.depth, nil
	}
	f, top := tagFlags[t], tagNone
	if s.depth > 0 {
		top = s.stack[s.depth-1].t
	}
	// The common case: an ordinary element inside the body, in an
	// ordinary place. Anything else goes through the full checks.
	if s.phase != phaseBody || f&fCheck != 0 || tagFlags[top]&fContext != 0 || self ||
		s.phrasing > 0 && f&fPhrasing == 0 || s.depth >= maxDepth-1 {
		if done, ok := s.startPhase(t); done || !ok {
			return map01(ok, end)
		}
		if !s.allowed(t, self) {
			return -1
		}
	}
	fresh := true
	if s.depth > 0 {
		fresh = !s.stack[s.depth-1].kids
		s.stack[s.depth-1].kids = true
	}
	switch {
	case f&fRaw != 0:
		return s.raw(t, end)
	case f&fVoid != 0 || self:
		if s.sib == s.depth {
			s.sib = -1 // an empty element holds no pod name
		}
		return map01(s.evidence(t, a, -1), end)
	}
	if star != nil {
		// Pushed and popped, the span would leave nothing behind: a span
		// takes no role, and with no pod name watched the pop has no work.
		// Only the count remains.
		*star++
		return starEnd
	}
	return map01(s.push(t, a, fresh), end)
}

// The stars of Bootstrap-era pages, byte for byte, with their end tags.
const (
	filledStar = `<span class="glyphicon glyphicon-star"></span>`
	emptyStar  = `<span class="glyphicon glyphicon-star-empty"></span>`
)

// hasAt reports whether b holds s at i.
func hasAt(b []byte, i int, s string) bool {
	return i+len(s) <= len(b) && string(b[i:i+len(s)]) == s
}

// startAttrs reads the attributes of the start tag at b[k] whose name ends
// at b[p]; a is nil when the tag is refused.
func (s *scanner) startAttrs(k, p int, t tag) (end int, self bool, a *attrs) {
	if t == tagSvg || tagFlags[t]&fSVG != 0 {
		return s.readSVG(k, p, t, s.want(t))
	}
	a = &s.attrs
	a.seen = 0
	end, self, ok := readAttrs(s.b, p, s.want(t), a)
	if !ok {
		return 0, false, nil
	}
	return end, self, a
}

func map01(ok bool, end int) int {
	if ok {
		return end
	}
	return -1
}

// startPhase follows the parser through html, head and body. done means the
// tag was consumed here.
func (s *scanner) startPhase(t tag) (done, ok bool) {
	switch t {
	case tagHTML:
		ok = s.phase == phaseInitial
		s.phase = phaseHTML
		return true, ok
	case tagHead:
		ok = s.phase <= phaseHTML
		s.phase = phaseHead
		return true, ok
	case tagBody:
		ok = s.phase <= phaseAfterHead
		s.phase = phaseBody
		return true, ok
	}
	switch {
	case s.phase >= phaseAfterBody:
		return true, false
	case s.phase == phaseBody:
	case t == tagMeta || t == tagLink || tagFlags[t]&fRaw != 0:
		s.phase = max(s.phase, phaseHead)
	default:
		s.phase = phaseBody // the parser implies </head> and <body>
	}
	return false, true
}

// allowed checks that the parser would simply insert t at the current node.
func (s *scanner) allowed(t tag, self bool) bool {
	top := tagNone
	if s.depth > 0 {
		top = s.stack[s.depth-1].t
	}
	f := tagFlags[t]
	switch {
	case s.depth >= maxDepth-1:
		return false
	case top == tagSvg || tagFlags[top]&fSVG != 0:
		return f&fSVG != 0 // anything else breaks out of the SVG
	case tableContext(top):
		return top == tagTable && (t == tagThead || t == tagTbody) ||
			(top == tagThead || top == tagTbody) && t == tagTr ||
			top == tagTr && (t == tagTd || t == tagTh)
	case f&fSVG != 0, t == tagThead, t == tagTbody, t == tagTr, t == tagTd, t == tagTh:
		return false // out of place: moved or ignored by the parser
	case s.phrasing > 0 && f&fPhrasing == 0:
		return false // would close the open p or heading
	case self && f&fVoid == 0 && t != tagSvg:
		return false // <div/> is an open <div>; too odd to follow
	case f&fRaw != 0 && (s.track >= 0 || s.container >= 0 || s.sib >= 0):
		return false // its text would count as the element's text
	}
	switch t {
	case tagA:
		return s.startA()
	case tagButton, tagForm:
		return s.open[t] == 0 // the parser closes or ignores a nested one
	case tagLi:
		return top == tagUl || top == tagOl
	case tagDt, tagDd:
		return top == tagDl
	}
	// A second open formatting element of one kind could trip the
	// parser's "Noah's Ark" clause; refuse it.
	return f&fFormatting == 0 || s.open[t] == 0
}

// startA handles <a> inside an open <a>, which the Tailwind nav of a
// logged-in user contains. The parser's adoption agency then closes the
// outer <a>: each special element above it moves out of it and gets a
// clone of the <a> holding its old children, and the outer <a> leaves the
// stack. Nothing else moves, provided that at most 6 elements lie above
// the outer <a>, all special without being scope boundaries, and none of
// them holds evidence.
func (s *scanner) startA() bool {
	k := -1
	for i := s.depth - 1; i >= 0; i-- {
		if t := s.stack[i].t; t == tagA {
			k = i
			break
		} else if t == tagTd || t == tagTh {
			break // a table cell sets a marker that hides the outer <a>
		}
	}
	if k < 0 {
		return true
	}
	if s.depth-1-k > 6 || s.container >= 0 || s.track >= 0 || s.watch >= 0 || s.sib >= 0 {
		return false
	}
	for i := k + 1; i < s.depth; i++ {
		if tagFlags[s.stack[i].t]&fAdopt == 0 {
			return false
		}
	}
	copy(s.stack[k:], s.stack[k+1:s.depth])
	s.depth--
	s.open[tagA]--
	for i := k; i < s.depth; i++ {
		s.stack[i].kids = true // each got a clone of the <a>
	}
	return true
}

// raw skips the text of a script, style or title element. Only the plain
// case is accepted: the first "</" is the element's own end tag, and a
// script holds no "<!--", which would switch the tokenizer to escaped text.
func (s *scanner) raw(t tag, end int) int {
	b := s.b
	j := indexPair(b[end:], '<', '/')
	if j < 0 {
		return -1
	}
	content := b[end : end+j]
	closing := b[end+j+2:]
	name := tagNames[t]
	if len(closing) < len(name)+1 || string(closing[:len(name)]) != name || closing[len(name)] != '>' {
		return -1
	}
	if t == tagScript && bytes.Contains(content, []byte("<!--")) {
		return -1
	}
	return end + j + 2 + len(name) + 1
}

// markup handles "<!": comments anywhere, one doctype at the start.
func (s *scanner) markup(k int) int {
	b := s.b
	if bytes.HasPrefix(b[k:], []byte("<!--")) {
		// Mirror readComment: "<!-->" and "<!--->" end at once, and
		// "--!>" ends a comment as well as "-->" does.
		rest := b[k+4:]
		j := indexCommentEnd(rest)
		if j < 0 || s.sib >= 0 || bytes.HasPrefix(rest, []byte(">")) || bytes.HasPrefix(rest, []byte("->")) ||
			bytes.IndexByte(rest[:j], '!') >= 0 && bytes.Contains(rest[:j+2], []byte("--!>")) {
			return -1
		}
		return k + 4 + j + 3
	}
	if len(b)-k < 9 || !asciiFoldEq(b[k+2:k+9], "doctype") || s.phase != phaseInitial || s.doctype {
		return -1
	}
	s.doctype = true
	if j := bytes.IndexByte(b[k+9:], '>'); j >= 0 {
		return k + 9 + j + 1
	}
	return -1
}

// indexPair is bytes.Index(b, []byte{c, d}), faster for the short text of
// the raw elements the fast path sees.
func indexPair(b []byte, c, d byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], c)
		if j < 0 || i+j+1 >= len(b) {
			return -1
		}
		if i += j; b[i+1] == d {
			return i
		}
		i++
	}
}

// indexCommentEnd is bytes.Index(b, []byte("-->")), faster for the short
// comments of Bookinfo's templates: it looks at each '>' and what precedes it.
func indexCommentEnd(b []byte) int {
	for i := 2; i < len(b); {
		j := bytes.IndexByte(b[i:], '>')
		if j < 0 {
			return -1
		}
		if i += j; b[i-1] == '-' && b[i-2] == '-' {
			return i - 2
		}
		i++
	}
	return -1
}
