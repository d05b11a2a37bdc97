package classify

import "strconv"

// Result is what one response says: which reviews version served the page
// and whether the page was healthy. Two Results are equal (==) exactly when
// they carry the same version, outcome and evidence.
type Result struct {
	// Version is the reviews version that served the page: "v1", "v2",
	// "v3" or another version named by a pod name or a rule, and "" when
	// the evidence does not say. It is never guessed.
	Version string
	// Outcome says whether the page was healthy.
	Outcome Outcome

	f    facts  // evidence for Reason, kept small and inline
	note string // text evidence on the rare paths (errors, rules)
}

// why names the decision that produced a Result; Reason turns it and the
// facts into words.
type why uint8

const (
	whyNone              why = iota
	whyStars                 // colour, filled, empty
	whyPlain                 // reviews without stars: v1
	whyRatingsPod            // ratings down, pod name gives the version
	whyRatingsNoPod          // ratings down, no pod name
	whyRatingsPodBad         // ratings down, pod name without a version
	whyRatingsPodsDiffer     // ratings down, pod names disagree
	whyReviewsErr            // "Error fetching product reviews"
	whyStatus                // status code in n
	whyTransport             // error text in note
	whyParse                 // parser error text in note
	whyNoLandmark            // no product page landmark
	whyNoHeading             // landmarks, but no "Book Reviews"
	whyHeadings              // n "Book Reviews" headings
	whyNoReviews             // heading without reviews
	whyAllCut                // every review cut short
	whyOdd                   // a review with several wrappers, or stars and an error
	whyMixed                 // some reviews rated, others not
	whyColours               // colour and colour2 disagree
	whyColour                // colour is neither black nor red
	whyRule                  // rule description in note
	whyNoRule                // no rule matched
	whyNoHeader              // version header missing, header name in note
	whyHeaderVersion         // version from the header named in note
	whyStatusRule            // status code in n, rule description in note
)

// facts is the evidence behind a Result. It holds counts and copies of
// short texts instead of slices of the body, so that a Result costs no
// allocation and stays valid when the caller reuses its body buffer.
type facts struct {
	why     why
	details bool   // the details section failed as well
	reviews uint16 // reviews on the page
	partial uint16 // reviews whose end was not seen (page cut short)
	filled  uint16 // filled stars over all reviews
	empty   uint16 // empty stars over all reviews
	n       int    // HTTP status, heading count
	colour  text15 // star colour
	colour2 text15 // a second, disagreeing star colour
	pod     text63 // "Reviews served by" pod name
}

// text15 and text63 hold a short text inline. Longer texts are cut, and
// Reason marks the cut with "…".
type (
	text15 struct {
		n    uint8
		long bool
		b    [15]byte
	}
	text63 struct {
		n    uint8
		long bool
		b    [63]byte
	}
)

func (t *text15) set(s []byte) { t.n, t.long = uint8(copy(t.b[:], s)), len(s) > len(t.b) }
func (t *text63) set(s []byte) { t.n, t.long = uint8(copy(t.b[:], s)), len(s) > len(t.b) }
func (t *text15) get() []byte  { return t.b[:t.n] }
func (t *text63) get() []byte  { return t.b[:t.n] }
func appendText(b, s []byte, long bool) []byte {
	b = append(b, s...)
	if long {
		b = append(b, "…"...)
	}
	return b
}

// Transport is the Result for a request that got no response; err is the
// client's error. It is for the caller that sends the requests.
func Transport(err error) Result {
	r := Result{Outcome: TransportError, f: facts{why: whyTransport}}
	if err != nil {
		r.note = ": " + err.Error()
	}
	return r
}

// statusResult is the Result for a response whose status is not 200. The
// body of such a response says nothing reliable about the version to the
// Bookinfo classifier; Rules may still find one in it.
func statusResult(status int) Result {
	return Result{Outcome: HTTPError, f: facts{why: whyStatus, n: status}}
}

// Reason returns short evidence for the Result in words, for example
// "red star wrapper, 9 filled + 1 empty stars". It is built on each call,
// so that classifying costs nothing until someone asks why.
func (r Result) Reason() string {
	f := &r.f
	b := f.appendReason(make([]byte, 0, 96), r.note)
	if f.partial > 0 && f.why != whyAllCut {
		b = append(b, ", page cut short in the reviews"...)
	}
	if f.details {
		b = append(b, "; details unavailable"...)
	}
	return string(b)
}

func (f *facts) appendReason(b []byte, note string) []byte {
	switch f.why {
	case whyStars:
		b = appendText(b, f.colour.get(), f.colour.long)
		b = append(b, " star wrapper, "...)
		b = strconv.AppendUint(b, uint64(f.filled), 10)
		b = append(b, " filled + "...)
		b = strconv.AppendUint(b, uint64(f.empty), 10)
		return append(b, " empty stars"...)
	case whyPlain:
		b = strconv.AppendUint(b, uint64(f.reviews-f.partial), 10)
		return append(b, " reviews without stars"...)
	case whyRatingsPod, whyRatingsPodBad, whyRatingsPodsDiffer:
		return f.appendPod(b)
	case whyColours:
		b = append(b, "reviews disagree: "...)
		b = appendText(b, f.colour.get(), f.colour.long)
		b = append(b, " and "...)
		b = appendText(b, f.colour2.get(), f.colour2.long)
		return append(b, " star wrappers"...)
	case whyColour:
		b = append(b, "star colour \""...)
		b = appendText(b, f.colour.get(), f.colour.long)
		return append(b, "\" is neither black (v2) nor red (v3)"...)
	case whyStatus:
		return strconv.AppendInt(append(b, "HTTP "...), int64(f.n), 10)
	case whyStatusRule:
		b = strconv.AppendInt(append(b, "HTTP "...), int64(f.n), 10)
		return append(append(b, "; "...), note...)
	case whyHeadings:
		return append(strconv.AppendInt(b, int64(f.n), 10), " \"Book Reviews\" headings"...)
	}
	return append(append(b, fixedReasons[f.why]...), note...)
}

// appendPod words the ratings-unavailable reasons, which rest on the pod name.
func (f *facts) appendPod(b []byte) []byte {
	switch f.why {
	case whyRatingsPod:
		b = append(b, "ratings unavailable, pod name "...)
		return appendText(b, f.pod.get(), f.pod.long)
	case whyRatingsPodBad:
		b = append(b, "ratings unavailable and pod name "...)
		b = appendText(b, f.pod.get(), f.pod.long)
		return append(b, " names no version: not guessed"...)
	}
	b = append(b, "ratings unavailable and the pod names disagree (first "...)
	b = appendText(b, f.pod.get(), f.pod.long)
	return append(b, "): not guessed"...)
}

// fixedReasons holds the reasons that need no numbers; a note follows them.
var fixedReasons = [whyStatusRule + 1]string{
	whyReviewsErr:    "Error fetching product reviews",
	whyRatingsNoPod:  "ratings unavailable and no pod name: v2 or v3, not guessed",
	whyTransport:     "no response",
	whyParse:         "unparsable page: ",
	whyNoLandmark:    "no product page landmark (Book Reviews, Book Details, BookInfo Sample, page title)",
	whyNoHeading:     "product page without a Book Reviews section (cut short?)",
	whyNoReviews:     "no reviews under Book Reviews",
	whyAllCut:        "page cut short before the end of the first review",
	whyOdd:           "a review with several star wrappers, an empty wrapper, or stars and a ratings error",
	whyMixed:         "reviews disagree: stars, ratings errors and plain reviews mixed",
	whyNoRule:        "no rule matched",
	whyNoHeader:      "no rule matched and no version header ",
	whyHeaderVersion: "version from header ",
}

// versions interns v0 to v9, so that the common versions cost no allocation.
var versions = [10]string{"v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"}

// podVersion returns the version in a pod name of the form
// "reviews-v<digits>-…" (the Deployment reviews-v2 makes pods
// reviews-v2-<hash>-<id>). ok is false for any other form. When alloc is
// false, only v0 to v9 are returned, as interned strings.
func podVersion(pod []byte, alloc bool) (v string, ok, needAlloc bool) {
	const prefix = "reviews-v"
	if len(pod) <= len(prefix) || string(pod[:len(prefix)]) != prefix {
		return "", false, false
	}
	d := pod[len(prefix):]
	n := 0
	for n < len(d) && '0' <= d[n] && d[n] <= '9' {
		n++
	}
	if n == 0 || n == len(d) || d[n] != '-' {
		return "", false, false
	}
	if n == 1 {
		return versions[d[0]-'0'], true, false
	}
	if !alloc {
		return "", true, true
	}
	return "v" + string(d[:n]), true, false
}
