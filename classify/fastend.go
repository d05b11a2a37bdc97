package classify

// This file closes elements the way the parser does, and refuses the end
// tags it cannot follow exactly.

// push opens an element.
func (s *scanner) push(t tag, a *attrs, fresh bool) bool {
	i := s.depth
	s.stack[i] = entry{t: t}
	s.depth++
	s.open[t]++
	s.phrasing += phrasingOnly[t]
	if s.sib == i {
		s.stack[i].role |= roleSibling
	}
	if t == tagP || t == tagH4 { // "h4, p" and friends: read the text
		s.track, s.trackTag, s.trackRev, s.fresh, s.tk = i, t, s.rev >= 0, fresh, textTrack{}
		s.stack[i].role |= roleTrack
	}
	return s.evidence(t, a, i)
}

// end handles the end tag at b[k] == '<' and returns the position after it,
// or -1. End tags with attributes are refused.
func (s *scanner) end(k int) int {
	b := s.b
	t, p := readName(b, k+2)
	if p = skipSpace(b, p); t == tagNone || p >= len(b) || b[p] != '>' {
		return -1
	}
	end := p + 1
	switch {
	case t == tagHead:
		ok := s.phase == phaseHead
		s.phase = phaseAfterHead
		return map01(ok, end)
	case t == tagBody || t == tagHTML:
		ok := s.phase == phaseBody && s.depth == 0 || t == tagHTML && s.phase == phaseAfterBody
		s.phase = phaseAfterBody
		if t == tagHTML {
			s.phase = phaseAfterHTML
		}
		return map01(ok, end)
	case s.phase != phaseBody:
		return -1
	case s.depth > 0 && s.stack[s.depth-1].t == t:
		return map01(s.pop(), end)
	case s.open[t] > 0 && tagFlags[t]&fBlockEnd != 0:
		return map01(s.closeBlock(t), end)
	}
	return map01(s.stray(t), end)
}

// stray accepts an end tag that matches no open element, when the parser
// ignores it: no element of that name is open, it is neither </p> nor </br>
// (the parser makes elements of those), no heading is open for a heading's
// end tag, and neither SVG nor table rules apply. Inside the reviews an
// ignored tag would join two text nodes, so it is refused there.
func (s *scanner) stray(t tag) bool {
	if s.open[t] > 0 || t == tagP || t == tagBr || s.container >= 0 || s.track >= 0 || s.watch >= 0 || s.sib >= 0 {
		return false
	}
	if tagFlags[t]&fHeading != 0 && s.phrasing > 0 {
		return false
	}
	if s.depth > 0 {
		top := s.stack[s.depth-1].t
		return top != tagSvg && tagFlags[top]&fSVG == 0 && !tableContext(top)
	}
	return true
}

// closeBlock handles the end tag of a block (div, section, …) whose element
// is open below others, as in Bookinfo's own template, which never closes
// the <div> inside each review <section>. The parser then pops everything
// above the block, which this mirrors when none of it is a formatting
// element (those would be recreated later) or a scope boundary (which
// would make the parser ignore the end tag), nor a form, nor SVG.
func (s *scanner) closeBlock(t tag) bool {
	k := s.depth - 1
	for s.stack[k].t != t {
		u := s.stack[k].t
		// A <form> popped here would stay the parser's form element and
		// make it ignore the next <form> start tag.
		if tagFlags[u]&fFormatting != 0 || u == tagTable || u == tagTd || u == tagTh || u == tagForm ||
			u == tagSvg || tagFlags[u]&fSVG != 0 {
			return false
		}
		k--
	}
	for s.depth > k {
		if !s.pop() {
			return false
		}
	}
	return true
}

// pop closes the current element. It is small enough to inline: most
// tokens are end tags that close the current element.
func (s *scanner) pop() bool {
	s.depth--
	e := &s.stack[s.depth]
	s.open[e.t]--
	s.phrasing -= phrasingOnly[e.t]
	return e.role == 0 && s.watch < 0 || s.popRole(e.role)
}

// popRole finishes the evidence an element held.
func (s *scanner) popRole(role uint8) bool {
	ok := true
	if role&roleTrack != 0 {
		ok = s.endTrack()
	}
	if role&roleWrapper != 0 {
		s.wrapper = -1
	}
	if role&roleReview != 0 {
		s.rev = -1
		if s.sections == 2 {
			s.pending = s.nrev - 1
		}
	}
	if role&roleContainer != 0 {
		s.container = -2
	}
	if role&roleSibling != 0 {
		if pod := firstWordBytes(s.sibText); len(pod) > 0 {
			s.p.addPod(pod)
		}
		s.sib = -1
	}
	if s.watch >= 0 && s.depth < s.watch {
		s.watch = -1 // the parent was the last child: no pod name
	}
	return ok
}
