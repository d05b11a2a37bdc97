package classify

import (
	"bytes"
	"net/http"
)

// Page classifies one response from Bookinfo's productpage. A status other
// than 200 is an HTTPError with version "". Otherwise a single allocation-
// free scan reads the page; when that scan is not certain that it sees what
// PageGoquery would see, Page returns PageGoquery's answer instead, so the
// two always agree. The header is not consulted: a productpage response
// carries no version header.
//
// Page is safe for concurrent use. To resume repeated pages half-way, it
// keeps a few page prefixes it has seen (at most 16, each the size of a
// page up to its reviews); that changes its speed, never its Results.
func Page(status int, header http.Header, body []byte) Result {
	if status != http.StatusOK {
		return statusResult(status)
	}
	var s scanner
	if r, ok := s.scan(body); ok {
		return r
	}
	return PageGoquery(status, header, body)
}

// The fast path accepts only a subset of HTML: lower-case names from the
// tag table, elements closed by their own end tags in order, no text where
// the parser would move it, and a few more rules in fasttree.go. On that
// subset the tree golang.org/x/net/html builds is the naive one, so the
// selectors of html.go can be answered while scanning. Everything else,
// including any page cut short, goes to PageGoquery.
const (
	maxDepth   = 64 // far below x/net/html's limit of 512
	maxReviews = 8
)

// Document phases, a coarse copy of the parser's insertion modes.
const (
	phaseInitial   uint8 = iota // white space, comments, a doctype
	phaseHTML                   // after <html>
	phaseHead                   // in head
	phaseAfterHead              // after </head>
	phaseBody                   // in body
	phaseAfterBody              // after </body>
	phaseAfterHTML              // after </html>
)

// tagMemo is a start tag read earlier in this page: b[start:end].
type tagMemo struct {
	start, end int
	t          tag
	want       uint8
	self       bool
	a          attrs
}

type entry struct {
	t    tag
	kids bool  // has had an element child
	role uint8 // role* bits: the element holds evidence
}

// Roles of open elements; pop has work to do only for these.
const (
	roleTrack = 1 << iota
	roleWrapper
	roleReview
	roleContainer
	roleSibling
)

// scanner is the state of one fast scan. It lives on Page's stack.
type scanner struct {
	cold     bool // neither resume nor remember (benchmarks)
	b        []byte
	pos      int // start of the token being handled
	phase    uint8
	doctype  bool
	depth    int
	stack    [maxDepth]entry
	open     [tagCount]uint8 // open elements by tag
	phrasing int             // open p and h1…h6

	track    int  // stack index of the h4 or p whose text is read, or -1
	trackTag tag  // its tag
	trackRev bool // it lies inside a review
	fresh    bool // the tracked h4 is its parent's first element
	tk       textTrack

	p         page
	container int   // stack index of the reviews container; -1 before, -2 after
	sections  uint8 // review elements: 0 not yet, 1 section, 2 blockquote
	rev       int   // stack index of the open review, or -1
	wrapper   int   // stack index of the open star wrapper, or -1
	pending   int   // review waiting for a following element, or -1
	watch     int   // depth at which a pod name sibling may start, or -1
	sib       int   // stack index of that sibling, or -1
	sibText   []byte
	nrev      int
	attrs     attrs // of the current start tag
	tags      [4]tagMemo
	ntag      int
	reviews   [maxReviews]review
	nextAmp   int // next '&' at or after some text start
	nextLabel int // next "Reviews served by:"
}

// scan runs the fast path; ok is false when it is not certain.
func (s *scanner) scan(b []byte) (r Result, ok bool) {
	if len(b) >= 1<<32-1 {
		return r, false // attribute offsets are uint32
	}
	at, start := -1, -1
	if !s.cold {
		start = s.resume(b)
	}
	if start < 0 {
		at, start = memoPoint(b), 0
		s.b, s.track, s.container, s.rev, s.wrapper = b, -1, -1, -1, -1
		s.pending, s.watch, s.sib = -1, -1, -1
		s.nextAmp, s.nextLabel = -1, indexFrom(b, 0, textPodLabel)
	}
	if bytes.IndexByte(b[start:], 0) >= 0 {
		return r, false // the parser drops or replaces NUL; not worth mirroring
	}
	text, from := start, start
	for {
		j := bytes.IndexByte(b[from:], '<')
		if j < 0 || from+j+1 >= len(b) {
			if !s.text(text, len(b)) {
				return r, false
			}
			return s.finish()
		}
		k := from + j
		kind := tokenKind[b[k+1]]
		if kind == tokText {
			from = k + 1 // a '<' that starts no tag is text
			continue
		}
		if text < k && !s.quiet() && !s.text(text, k) {
			return r, false
		}
		if k == at && start == 0 && kind == tokStart && !s.cold {
			s.remember(at)
		}
		if kind == tokEnd {
			if n := s.closesCurrent(k); n > 0 {
				// pop, written out: this is the most common token.
				s.depth--
				e := &s.stack[s.depth]
				s.open[e.t]--
				s.phrasing -= phrasingOnly[e.t]
				if (e.role != 0 || s.watch >= 0) && !s.popRole(e.role) {
					return r, false
				}
				text, from = n, n
				continue
			}
		}
		if text = s.token(k, kind); text < 0 {
			return r, false
		}
		from = text
	}
}

// quiet reports that text here needs no look: the body, no evidence being
// read, and no table or SVG rules.
func (s *scanner) quiet() bool {
	return s.track < 0 && s.container < 0 && s.sib < 0 && s.phase == phaseBody &&
		(s.depth == 0 || tagFlags[s.stack[s.depth-1].t]&fContext == 0)
}

// token handles the token at b[k] == '<' and returns the position after
// it, or -1.
func (s *scanner) token(k int, kind uint8) int {
	s.pos = k
	switch kind {
	case tokStart:
		return s.start(k)
	case tokEnd:
		return s.end(k)
	}
	return s.markup(k)
}

// closesCurrent returns the position after the end tag at b[k] when it is
// exactly the end tag of the current element, as most end tags are, or 0.
func (s *scanner) closesCurrent(k int) int {
	if s.depth == 0 || s.phase != phaseBody {
		return 0
	}
	name := tagNames[s.stack[s.depth-1].t]
	if n := k + 2 + len(name); n < len(s.b) && s.b[n] == '>' && string(s.b[k+2:n]) == name {
		return n + 1
	}
	return 0
}

// finish decides once the whole body has been read. A page with elements
// still open was cut short, and only the parser knows how it closes them.
func (s *scanner) finish() (Result, bool) {
	if s.depth != 0 {
		return Result{}, false
	}
	for i := 0; i < s.nrev; i++ {
		s.p.t.add(&s.reviews[i])
	}
	r, ok := decide(&s.p, false)
	switch r.Outcome {
	case OK, DetailsUnavailable, RatingsUnavailable, ReviewsUnavailable:
		return r, ok
	}
	return r, false // rare pages; let the reference explain them
}
