package classify

import "bytes"

// Texts that Bookinfo's productpage template prints, in both markups. The
// Bootstrap markup adds "!" to the two section errors.
const (
	textReviews    = "Book Reviews"
	textDetails    = "Book Details"
	textReviewsErr = "Error fetching product reviews"
	textDetailsErr = "Error fetching product details"
	textRatingsErr = "Ratings service is currently unavailable"
	textPodLabel   = "Reviews served by:"
	textBrand      = "BookInfo Sample"
	textTitle      = "Simple Bookstore App"
)

// review is what one review shows: a <section> in the Tailwind markup, a
// <blockquote> in the Bootstrap one. Both classifiers fill it in, and the
// shared code below decides, so that they cannot differ in judgement.
type review struct {
	wrappers int    // star wrappers: div.flex.gap-x-1 or font[color]
	colour   []byte // colour of the (single) wrapper
	filled   int    // filled stars in the wrapper
	empty    int    // empty stars in the wrapper
	down     int    // "Ratings service is currently unavailable" paragraphs
	complete bool   // the end of the review was seen
}

// tally sums the reviews of a page.
type tally struct {
	reviews, rated, down, plain, cut, odd, partial int
	filled, empty                                  int
	coloured                                       bool // colour is set
	colour, colour2                                []byte
}

func (t *tally) add(r *review) {
	t.reviews++
	if !r.complete {
		t.partial++
	}
	switch {
	case r.wrappers > 1 || r.wrappers == 1 && r.down > 0:
		t.odd++
	case r.wrappers == 1 && r.filled+r.empty == 0:
		// An empty wrapper is odd, unless the page was cut inside it.
		if r.complete {
			t.odd++
		} else {
			t.cut++
		}
	case r.wrappers == 1:
		t.rated++
		t.filled += r.filled
		t.empty += r.empty
		if !t.coloured {
			t.coloured, t.colour = true, r.colour
		} else if t.colour2 == nil && !bytes.Equal(r.colour, t.colour) {
			t.colour2 = r.colour
		}
	case r.down > 0:
		t.down++
	case r.complete:
		t.plain++
	default:
		t.cut++
	}
}

// page is the page-level evidence.
type page struct {
	reviewsErr int  // h4 or p "Error fetching product reviews[!]"
	detailsErr int  // h4 or p "Error fetching product details[!]"
	headings   int  // h4 "Book Reviews"
	landmark   bool // anything that marks a product page
	pods       int
	pod        []byte // first "Reviews served by" pod name
	podsDiffer bool
	t          tally
}

func (p *page) addPod(pod []byte) {
	if p.pods == 0 {
		p.pod = pod
	} else if !bytes.Equal(pod, p.pod) {
		p.podsDiffer = true
	}
	p.pods++
}

// decide turns the evidence into a Result, following the rule of
// bookinfo-and-istio.md §4: a reviews error first, then the star colour,
// then the ratings error with the pod name, then plain reviews (v1).
// When alloc is false, decide refuses (ok false) a version it would have
// to allocate.
func decide(p *page, alloc bool) (r Result, ok bool) {
	t := &p.t
	r.f.details = p.detailsErr > 0
	r.f.reviews, r.f.partial = u16(t.reviews), u16(t.partial)
	switch {
	case p.reviewsErr > 0:
		r.Outcome, r.f.why = ReviewsUnavailable, whyReviewsErr
		r.f.reviews, r.f.partial = 0, 0
		return r, true
	case p.headings != 1:
		return noReviews(p), true
	case t.reviews == 0 || t.odd > 0 || t.rated > 0 && t.down+t.plain > 0 || t.down > 0 && t.plain > 0:
		r.Outcome, r.f.why = Unrecognized, whyMixed
		if t.reviews == 0 {
			r.f.why = whyNoReviews
		} else if t.odd > 0 {
			r.f.why = whyOdd
		}
	case t.rated > 0:
		stars(&r, t)
	case t.down > 0:
		return ratingsDown(r, p, alloc)
	case t.plain > 0:
		r.Version, r.f.why = versions[1], whyPlain
	default:
		r.Outcome, r.f.why = Unrecognized, whyAllCut
	}
	if r.Outcome == OK && r.f.details {
		r.Outcome = DetailsUnavailable
	}
	return r, true
}

// noReviews decides a page without exactly one "Book Reviews" heading.
func noReviews(p *page) Result {
	r := Result{Outcome: Unrecognized, f: facts{details: p.detailsErr > 0}}
	switch {
	case p.headings > 1:
		r.f.why, r.f.n = whyHeadings, p.headings
	case p.landmark || p.detailsErr > 0:
		r.f.why = whyNoHeading
	default:
		r.Outcome, r.f = NotProductPage, facts{why: whyNoLandmark}
	}
	return r
}

// stars decides a page whose reviews all show a star wrapper.
func stars(r *Result, t *tally) {
	r.f.colour.set(t.colour)
	switch {
	case t.colour2 != nil:
		r.Outcome, r.f.why = Unrecognized, whyColours
		r.f.colour2.set(t.colour2)
	case string(t.colour) == "black":
		r.Version, r.f.why = versions[2], whyStars
	case string(t.colour) == "red":
		r.Version, r.f.why = versions[3], whyStars
	default:
		r.Outcome, r.f.why = Unrecognized, whyColour
	}
	if r.f.why == whyStars {
		r.f.filled, r.f.empty = u16(t.filled), u16(t.empty)
	}
}

// ratingsDown decides a page whose reviews all show the ratings error. The
// markup of v2 and v3 is then identical; only the pod name can tell them
// apart, and without one the version stays "".
func ratingsDown(r Result, p *page, alloc bool) (Result, bool) {
	r.Outcome = RatingsUnavailable
	r.f.pod.set(p.pod)
	switch {
	case p.pods == 0:
		r.f.why = whyRatingsNoPod
	case p.podsDiffer:
		r.f.why = whyRatingsPodsDiffer
	default:
		v, ok, needAlloc := podVersion(p.pod, alloc)
		if needAlloc {
			return r, false
		}
		r.Version, r.f.why = v, whyRatingsPod
		if !ok {
			r.f.why = whyRatingsPodBad
		}
	}
	return r, true
}

// u16 clamps a count for facts; only absurd pages reach the limit.
func u16(n int) uint16 { return uint16(min(n, 1<<16-1)) }
