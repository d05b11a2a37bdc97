package classify

import (
	"bytes"
	"sync/atomic"
)

// A load test sees the same page over and over: every response of one
// reviews pod to one user is byte for byte the same up to the reviews, and
// only a handful of such prefixes exist (markup, logged-in user, details
// up or down). The scanner's state at a token boundary depends on the bytes
// before it and nothing else, so Page remembers, for a few prefixes ending
// at the tag that holds "Book Reviews", the state there; a page that starts
// with one of those prefixes (compared byte by byte) resumes from it. That
// halves the work on the big Tailwind page and changes no Result: the fuzz
// test's determinism check covers a miss followed by a hit.
const (
	memoSlots     = 16   // prefixes remembered
	memoMinPrefix = 1024 // shorter prefixes are cheaper to scan than to compare
	memoReplace   = 64   // when full, replace a slot once per this many misses
)

type memoEntry struct {
	prefix []byte  // the page up to the resume point
	state  scanner // the state there, holding no slice of any body
	label  int     // first "Reviews served by:" in the prefix, or -1
}

var (
	memo       atomic.Pointer[[]*memoEntry] // copy on write; never modified in place
	memoMisses atomic.Uint64
)

// memoPoint is where a page's state is remembered: the '<' before the
// first "Book Reviews", or -1.
func memoPoint(b []byte) int {
	i := bytes.Index(b, []byte(textReviews))
	if i < memoMinPrefix {
		return -1
	}
	return bytes.LastIndexByte(b[:i], '<')
}

// resume loads a remembered state whose prefix b starts with, and returns
// where to go on from, or -1. Any remembered prefix will do: equal bytes
// give an equal state, whatever point the prefix was cut at. The page must
// start a tag there too, or the tokenizer would carry the text before it on.
func (s *scanner) resume(b []byte) int {
	if list := memo.Load(); list != nil {
		for _, e := range *list {
			at := len(e.prefix)
			if at+1 < len(b) && b[at] == '<' && tokenKind[b[at+1]] == tokStart && bytes.Equal(e.prefix, b[:at]) {
				*s = e.state
				s.b, s.nextAmp, s.nextLabel = b, -1, e.label
				if e.label < 0 {
					s.nextLabel = indexFrom(b, at, textPodLabel)
				}
				return at
			}
		}
	}
	memoMisses.Add(1)
	return -1
}

// remember stores the state at b[:at] when it holds no evidence yet, so
// that it can be copied without any slice of this body.
func (s *scanner) remember(at int) {
	if s.track >= 0 || s.container != -1 || s.nrev > 0 || s.sib >= 0 || s.watch >= 0 || s.pending >= 0 || s.p.pods > 0 {
		return
	}
	old := memo.Load()
	n := 0
	if old != nil {
		n = len(*old)
	}
	if n >= memoSlots && memoMisses.Load()%memoReplace != 0 {
		return // full: replace only now and then, so that many prefixes do not thrash
	}
	e := &memoEntry{prefix: bytes.Clone(s.b[:at]), state: *s, label: -1}
	if s.nextLabel < at {
		e.label = s.nextLabel
	}
	// Clear what points into this body.
	e.state.b, e.state.attrs, e.state.tk, e.state.tags = nil, attrs{}, textTrack{}, [4]tagMemo{}
	list := make([]*memoEntry, 0, min(n+1, memoSlots))
	if old != nil {
		list = append(list, *old...)
	}
	if len(list) < memoSlots {
		list = append(list, e)
	} else {
		list[memoMisses.Load()/memoReplace%memoSlots] = e
	}
	memo.CompareAndSwap(old, &list) // a lost race only loses this entry
}
