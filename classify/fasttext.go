package classify

import "bytes"

// This file handles the text between tokens.

// text handles the text b[i:k] between two tokens.
func (s *scanner) text(i, k int) bool {
	if i >= k {
		return true
	}
	seg := s.b[i:k]
	if s.phase != phaseBody || s.depth > 0 && tableContext(s.stack[s.depth-1].t) {
		// Text here would close the head, or be moved out of the table.
		return allSpace(seg)
	}
	if s.track < 0 && s.container < 0 && s.sib < 0 {
		return true
	}
	if s.nextAmp < i {
		s.nextAmp = indexByteFrom(s.b, i, '&')
	}
	if s.nextAmp < k {
		return false // a character reference could spell anything
	}
	if s.track >= 0 {
		s.tk.add(seg)
	}
	if s.sib >= 0 {
		if s.sibText != nil {
			return false
		}
		s.sibText = seg
	}
	if s.container >= 0 {
		return s.label(i, k)
	}
	return true
}

// label looks for "Reviews served by:" in the container's text b[i:k].
func (s *scanner) label(i, k int) bool {
	if s.nextLabel < i {
		s.nextLabel = indexFrom(s.b, i, textPodLabel)
	}
	if s.nextLabel+len(textPodLabel) > k {
		return true
	}
	pod := firstWordBytes(s.b[s.nextLabel+len(textPodLabel) : k])
	s.nextLabel = -1
	if len(pod) > 0 {
		s.p.addPod(pod)
		return true
	}
	// The pod name is in the next element sibling of the text's parent.
	if s.watch >= 0 || s.sib >= 0 {
		return false
	}
	s.watch = s.depth - 1
	return true
}

func tableContext(t tag) bool {
	return t == tagTable || t == tagThead || t == tagTbody || t == tagTr
}

func allSpace(b []byte) bool {
	for _, c := range b {
		if !isSpaceByte(c) {
			return false
		}
	}
	return true
}

func indexFrom(b []byte, from int, sep string) int {
	if j := bytes.Index(b[from:], []byte(sep)); j >= 0 {
		return from + j
	}
	return len(b)
}

func indexByteFrom(b []byte, from int, c byte) int {
	if j := bytes.IndexByte(b[from:], c); j >= 0 {
		return from + j
	}
	return len(b)
}

func firstWordBytes(b []byte) []byte {
	i := 0
	for i < len(b) && isSpaceByte(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isSpaceByte(b[j]) {
		j++
	}
	return b[i:j]
}

// textTrack follows the text of one h4 or p, enough to tell whether the
// trimmed text equals one of the short texts in decide.go.
type textTrack struct {
	segs  int    // segments with non-space text
	first []byte // the first one, trimmed
	n     int    // parser-text length from first to last non-space byte
	pend  int    // parser-text length of the space after the last one
}

func (t *textTrack) add(seg []byte) {
	lead := 0
	for lead < len(seg) && isSpaceByte(seg[lead]) {
		lead++
	}
	if lead == len(seg) {
		if t.segs > 0 {
			t.pend += crlfLen(seg)
		}
		return
	}
	trail := len(seg)
	for isSpaceByte(seg[trail-1]) {
		trail--
	}
	if t.segs == 0 {
		t.first, t.n = seg[lead:trail], crlfLen(seg[lead:trail])
	} else {
		t.n += t.pend + crlfLen(seg[:trail])
	}
	t.pend = crlfLen(seg[trail:])
	t.segs++
}

// crlfLen is the length of b after the tokenizer turns "\r\n" into "\n".
func crlfLen(b []byte) int {
	n := len(b)
	if bytes.IndexByte(b, '\r') < 0 {
		return n
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			n--
		}
	}
	return n
}

// endTrack compares the text of the closing h4 or p with the texts that
// matter. Text in several pieces is compared by length only; a length that
// could match sends the page to the reference.
func (s *scanner) endTrack() bool {
	s.track = -1
	tk := &s.tk
	if tk.segs > 1 {
		switch tk.n {
		case len(textReviews), len(textReviewsErr), len(textReviewsErr) + 1, len(textRatingsErr):
			return false
		}
		return true
	}
	switch string(tk.first) {
	case textReviewsErr, textReviewsErr + "!":
		s.p.reviewsErr++
	case textDetailsErr, textDetailsErr + "!":
		s.p.detailsErr++
	case textReviews:
		if s.trackTag == tagH4 {
			return s.heading()
		}
	case textRatingsErr:
		if s.trackTag == tagP && s.trackRev {
			s.reviews[s.nrev-1].down++
		}
	}
	return true
}

// heading counts an h4 "Book Reviews"; the first one's parent becomes the
// reviews container. Its reviews must all come after it, so the h4 has to
// be the parent's first element and no pod label may precede it.
func (s *scanner) heading() bool {
	if s.p.headings++; s.p.headings > 1 {
		return true // decide refuses such a page
	}
	if !s.fresh || s.depth == 0 || s.nextLabel < s.pos {
		return false
	}
	s.container = s.depth - 1
	s.stack[s.container].role |= roleContainer
	return true
}
