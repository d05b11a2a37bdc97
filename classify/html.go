package classify

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// The selectors below define the classes; the fast path in fast.go only
// reproduces what they find. One selector serves both markups wherever the
// markups allow it.
var (
	selHeadingText = cascadia.MustCompile("h4, p")
	selH4          = cascadia.MustCompile("h4")
	selTitle       = cascadia.MustCompile("title")
	selBrand       = cascadia.MustCompile("a")
	selIndexLink   = cascadia.MustCompile(`a[href*="productpage"]`)
	selSection     = cascadia.MustCompile("section")
	selBlockquote  = cascadia.MustCompile("blockquote")
	selWrapper     = cascadia.MustCompile("div.flex.gap-x-1, font[color]")
	selFilled      = cascadia.MustCompile(`svg[id="glyphicon glyphicon-star"], span.glyphicon-star`)
	selEmpty       = cascadia.MustCompile(`svg[fill="none"][stroke], span.glyphicon-star-empty`)
	selP           = cascadia.MustCompile("p")
)

// PageGoquery is the reference classifier: it parses the whole page and
// reads it with goquery selectors. It is 15 to 80 times slower than Page,
// which falls back to it whenever its own scan is not certain.
func PageGoquery(status int, header http.Header, body []byte) Result {
	if status != http.StatusOK {
		return statusResult(status)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return Result{Outcome: Unrecognized, f: facts{why: whyParse}, note: err.Error()}
	}
	var p page
	gqPage(doc.Selection, &p)
	r, _ := decide(&p, true)
	return r
}

// gqPage gathers the page evidence.
func gqPage(doc *goquery.Selection, p *page) {
	doc.FindMatcher(selHeadingText).Each(func(_ int, s *goquery.Selection) {
		switch trimSpace(s.Text()) {
		case textReviewsErr, textReviewsErr + "!":
			p.reviewsErr++
		case textDetailsErr, textDetailsErr + "!":
			p.detailsErr++
		}
	})
	headings := doc.FindMatcher(selH4).FilterFunction(textIs(textReviews))
	p.headings = headings.Length()
	p.landmark = doc.FindMatcher(selH4).FilterFunction(textIs(textDetails)).Length() > 0 ||
		doc.FindMatcher(selBrand).FilterFunction(textIs(textBrand)).Length() > 0 ||
		doc.FindMatcher(selTitle).FilterFunction(textIs(textTitle)).Length() > 0 &&
			doc.FindMatcher(selIndexLink).Length() == 0
	if p.headings != 1 {
		return
	}
	container := headings.Parent()
	reviews, sections := container.FindMatcher(selSection), true
	if reviews.Length() == 0 {
		reviews, sections = container.FindMatcher(selBlockquote), false
	}
	reviews.Each(func(_ int, s *goquery.Selection) {
		r := gqReview(s, sections)
		p.t.add(&r)
	})
	gqPods(container.Nodes[0], p)
}

// gqReview gathers the evidence of one review. A <section> review is
// complete once its <blockquote> (which follows the stars) has begun; a
// <blockquote> review is complete once any element follows it.
func gqReview(s *goquery.Selection, section bool) review {
	var r review
	w := s.FindMatcher(selWrapper)
	if r.wrappers = w.Length(); r.wrappers == 1 {
		r.colour = wrapperColour(w.Nodes[0])
		r.filled = w.FindMatcher(selFilled).Length()
		r.empty = w.FindMatcher(selEmpty).Length()
	}
	r.down = s.FindMatcher(selP).FilterFunction(textIs(textRatingsErr)).Length()
	if section {
		r.complete = s.FindMatcher(selBlockquote).Length() > 0
	} else {
		r.complete = followed(s.Nodes[0])
	}
	return r
}

// followed reports whether an element follows n in document order outside
// n, that is whether n or an ancestor has a next element sibling (goquery's
// n.Parents().AddBack().NextAll() is not empty). It walks up instead, so
// that deeply nested reviews cost linear, not quadratic, time.
func followed(n *html.Node) bool {
	for ; n != nil; n = n.Parent {
		for s := n.NextSibling; s != nil; s = s.NextSibling {
			if s.Type == html.ElementNode {
				return true
			}
		}
	}
	return false
}

// wrapperColour is the colour of a star wrapper: the color attribute of a
// <font> (case-insensitive, as browsers read it), or X in the one class
// token text-X-500 of a <div>. It is "" when there is no such single token.
func wrapperColour(n *html.Node) []byte {
	if n.Data == "font" {
		for _, a := range n.Attr {
			if a.Key == "color" {
				return asciiLower([]byte(trimSpace(a.Val)))
			}
		}
	}
	var colour string
	found := 0
	for _, a := range n.Attr {
		if a.Key != "class" {
			continue
		}
		for _, tok := range strings.FieldsFunc(a.Val, isSpace) {
			if c, ok := colourToken(tok); ok {
				colour, found = c, found+1
			}
		}
		break // the parser keeps only the first class attribute
	}
	if found != 1 {
		return []byte{}
	}
	return []byte(colour)
}

// colourToken returns X for a class token "text-X-500".
func colourToken(tok string) (string, bool) {
	if len(tok) > len("text--500") && strings.HasPrefix(tok, "text-") && strings.HasSuffix(tok, "-500") {
		return tok[len("text-") : len(tok)-len("-500")], true
	}
	return "", false
}

// gqPods finds the pod names in the reviews container: the first word after
// "Reviews served by:" in the same text node (Tailwind markup), or else the
// first word of the next element sibling of that text's parent (the
// <u>pod</u> after <dt>Reviews served by:</dt> in the Bootstrap markup).
func gqPods(n *html.Node, p *page) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			gqPods(c, p)
			continue
		}
		if c.Type != html.TextNode {
			continue
		}
		i := strings.Index(c.Data, textPodLabel)
		if i < 0 {
			continue
		}
		pod := firstWord(c.Data[i+len(textPodLabel):])
		if pod == "" {
			for s := n.NextSibling; s != nil; s = s.NextSibling {
				if s.Type == html.ElementNode {
					pod = firstWord(goquery.NewDocumentFromNode(s).Text())
					break
				}
			}
		}
		if pod != "" {
			p.addPod([]byte(pod))
		}
	}
}

// textIs matches elements whose text, trimmed, is one of want.
func textIs(want ...string) func(int, *goquery.Selection) bool {
	return func(_ int, s *goquery.Selection) bool {
		t := trimSpace(s.Text())
		for _, w := range want {
			if t == w {
				return true
			}
		}
		return false
	}
}

// isSpace reports HTML's ASCII white space, the set the tokenizer and
// cascadia use; strings.TrimSpace would also trim U+00A0 and U+0085.
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r'
}

func trimSpace(s string) string { return strings.TrimFunc(s, isSpace) }

// asciiLower lower-cases ASCII letters only, as HTML does for colour names.
func asciiLower(b []byte) []byte {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

func firstWord(s string) string {
	s = strings.TrimLeftFunc(s, isSpace)
	if i := strings.IndexFunc(s, isSpace); i >= 0 {
		s = s[:i]
	}
	return s
}
