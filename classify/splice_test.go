package classify

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// snippets are pieces the HTML parser treats specially: implied and ignored
// tags, formatting elements, tables, foreign content, raw text, comments,
// character references, and the texts and classes the evidence keys on.
var snippets = strings.Fields(`<p> </p> <div> </div> <a_href=x> </a> <b> </b> <i> </i> <u> </u> <small> </small>
<font_color=red> <font_color=black> </font> <span> </span> <span_class="glyphicon_glyphicon-star"></span>
<span_class=glyphicon-star-empty> <svg> </svg> <path/> <g> </g> <circle/> <svg_id="glyphicon_glyphicon-star"/>
<svg_fill=none_stroke=x/> <table> </table> <tbody> <tr> </tr> <td> </td> <th> <thead> <h3> </h3> <h4> </h4>
<h4>Book_Reviews</h4> <li> </li> <ul> </ul> <dl> <dt> </dt> <dd> <section> </section> <blockquote> </blockquote>
<button> </button> <form> </form> <br> </br> <hr> <img> <input> <label> <nav> </nav> <dialog> <main>
<!--_c_--> <!--> <!---> <!--_--!> <script>x</script> <title>t</title> <style>s</style> <textarea> <select>
<noscript> <template> <body> </body> <html> </html> <head> </head> <!DOCTYPE_html> <x-y> x Book_Reviews
Reviews_served_by:_reviews-v9-a-b Reviews_served_by: Ratings_service_is_currently_unavailable &amp; &#58;
<p>Ratings_service_is_currently_unavailable</p> <p>Error_fetching_product_reviews</p>
<p>Error_fetching_product_details!</p> <div_class="flex_gap-x-1_text-red-500"> <div_class="flex_gap-x-1_text-black-500">
<div_class='flex_gap-x-1_text-red-500'> <DIV> </SPAN> < > " ' = / <a> <nobr> <marquee> <math>`)

// TestPageSplice inserts random snippets into the base pages and checks that
// the two classifiers still agree. It explores parser states that byte-level
// fuzzing rarely builds.
func TestPageSplice(t *testing.T) {
	t.Parallel()
	n := 1500
	if testing.Short() {
		n = 300
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bs := bases(t)
	names := make([]string, 0, len(bs))
	for name := range bs {
		names = append(names, name)
	}
	sortStrings(names)
	fast := 0
	for i := range n {
		name := names[rng.IntN(len(names))]
		body := splice(rng, bs[name])
		got, ref := Page(200, nil, []byte(body)), PageGoquery(200, nil, []byte(body))
		if got != ref {
			t.Fatalf("case %d (%s): Page = %q %v (%s); PageGoquery = %q %v (%s)\n%s", i, name,
				got.Version, got.Outcome, got.Reason(), ref.Version, ref.Outcome, ref.Reason(), body)
		}
		var s scanner
		if _, ok := s.scan([]byte(body)); ok {
			fast++
		}
	}
	t.Logf("fast path certain on %d of %d spliced pages", fast, n)
}

// splice inserts one to four snippets before random '<' of the page (or at
// random bytes, one time in four).
func splice(rng *rand.Rand, s string) string {
	for range 1 + rng.IntN(4) {
		snip := strings.ReplaceAll(snippets[rng.IntN(len(snippets))], "_", " ")
		at := rng.IntN(len(s) + 1)
		if rng.IntN(4) > 0 {
			if j := strings.IndexByte(s[at:], '<'); j >= 0 {
				at += j
			}
		}
		s = s[:at] + snip + s[at:]
	}
	return s
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
