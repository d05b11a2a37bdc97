package classify

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The differential tests below prove that Page and PageGoquery return equal
// Results (version, outcome and all evidence) on the fixtures and on pages
// mutated the way real deployments and accidents change them.

var (
	reBetweenTags = regexp.MustCompile(`>\s+<`)
	reQuoted      = regexp.MustCompile(`(\s[a-zA-Z:-]+)="([^"\s'=<>` + "`" + `]+)"`)
	reDouble      = regexp.MustCompile(`="([^"']*)"`)
	rePod         = regexp.MustCompile(`reviews-v\d+-[a-z0-9]+-[a-z0-9]+`)
	rePodBlock    = regexp.MustCompile(`(?s)<dl>\s*<dt>Reviews served by:</dt>.*?</dl>`)
	reFirstStar   = regexp.MustCompile(`(?s)(<svg id="glyphicon glyphicon-star".*?</svg>|<span class="glyphicon glyphicon-star"></span>)`)
	reColour      = regexp.MustCompile(`gap-x-1 text-(red|black)-500">|color="(red|black)"`)
	reLastReview  = regexp.MustCompile(`(?s)(.*)(<section.*?</section>|<blockquote>.*?</blockquote>)`)
)

// minify removes all white space between tags.
func minify(s string) string { return strings.TrimSpace(reBetweenTags.ReplaceAllString(s, "><")) }

// unquote drops the quotes of every attribute value that may go unquoted,
// as a minifier does. It keeps the quote that closes upstream's unclosed
// class quote (lg:px-8>…<div class="max-w-2xl">): a minifier that parses the
// page keeps that attribute's meaning, which a regexp cannot know.
func unquote(s string) string {
	const broken = `<div class="max-w-2xl">`
	s = strings.ReplaceAll(s, broken, "\x01")
	return strings.ReplaceAll(reQuoted.ReplaceAllString(s, "$1=$2"), "\x01", broken)
}

// mutations maps a name to a change of a page. Each models something a
// deployment, a proxy, a fork or a broken response does.
var mutations = []struct {
	name string
	fn   func(string) string
}{
	{"minify", minify},
	{"minify+unquote", func(s string) string { return unquote(minify(s)) }},
	{"unquote", unquote},
	{"single quotes", func(s string) string { return reDouble.ReplaceAllString(s, "='$1'") }},
	{"CRLF", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }},
	{"CR", func(s string) string { return strings.ReplaceAll(s, "\n", "\r") }},
	{"minify+CRLF", func(s string) string { return strings.ReplaceAll(minify(s), "><", ">\r\n<") }},
	{"banner red text", banner(`<p class="text-red-500">Red alert: maintenance window</p>`)},
	{"banner font red", banner(`<font color="red">Sale!</font>`)},
	{"banner star wrapper", banner(`<div class="flex gap-x-1 text-red-500"><svg id="glyphicon glyphicon-star"></svg></div>`)},
	{"banner unclosed font", banner(`<font color="red">Sale!`)},
	{"banner unclosed b", banner(`<p><b>Sale!</p>`)},
	{"banner table", banner(`<table><tr><td>x</td></tr></table>`)},
	{"banner svg", banner(`<svg><circle r="1"/></svg>`)},
	{"banner script", banner(`<script>var a = "</div>";</script>`)},
	{"banner textarea", banner(`<textarea>`)},
	{"duplicate last review", func(s string) string { return reLastReview.ReplaceAllString(s, "$1$2$2") }},
	{"drop a star", func(s string) string { return replaceFirst(reFirstStar, s, "") }},
	{"add a star", func(s string) string { return replaceFirst(reFirstStar, s, "$1$1") }},
	{"swap colours", swapColours},
	{"swap first colour", func(s string) string {
		if loc := reColour.FindStringIndex(s); loc != nil {
			return s[:loc[0]] + swapColours(s[loc[0]:loc[1]]) + s[loc[1]:]
		}
		return s
	}},
	{"blue stars", colours("blue")},
	{"remove pod name", func(s string) string { return rePod.ReplaceAllString(s, "") }},
	{"remove pod block", func(s string) string { return rePodBlock.ReplaceAllString(s, "") }},
	{"pod v12", func(s string) string { return strings.ReplaceAll(s, "reviews-v2-", "reviews-v12-") }},
	{"entity in colour", colours("&#114;ed")},
	{"upper-case attributes", func(s string) string {
		return strings.NewReplacer(`color="`, `COLOR="`, `class="flex gap`, `CLASS="flex gap`, ` fill="none"`, ` FILL="none"`).Replace(s)
	}},
	{"upper-case colour", colours("RED")},
	{"upper-case fill", func(s string) string { return strings.ReplaceAll(s, `fill="none"`, `fill="NONE"`) }},
	{"upper-case tags", func(s string) string {
		return strings.NewReplacer("<font", "<FONT", "</font>", "</FONT>", "<section", "<SECTION").Replace(s)
	}},
	{"padded colour", func(s string) string {
		return strings.NewReplacer(`color="red"`, `color=" red "`, `color="black"`, "color=\"black\t\"").Replace(s)
	}},
	{"comments in reviews", func(s string) string {
		return strings.NewReplacer("Book Reviews</h4>", "Book Reviews</h4><!-- reviews -->", "-500\">", "-500\"><!-- stars -->").Replace(s)
	}},
	{"comment in pod label", func(s string) string { return strings.ReplaceAll(s, "served by:", "served <!-- x -->by:") }},
	{"entity in pod label", func(s string) string { return strings.ReplaceAll(s, "served by:", "served by&#58;") }},
	{"fix unclosed quote", func(s string) string { return strings.ReplaceAll(s, `lg:px-8>`, `lg:px-8">`) }},
	{"close sections' divs", func(s string) string { return strings.ReplaceAll(s, "</section>", "</div></section>") }},
	{"drop section end tags", func(s string) string { return strings.ReplaceAll(s, "</section>", "") }},
	{"drop blockquote end tags", func(s string) string { return strings.ReplaceAll(s, "</blockquote>", "") }},
	{"split ratings text", func(s string) string { return strings.ReplaceAll(s, "is currently", "is <b>currently</b>") }},
	{"self-closing divs", func(s string) string {
		return strings.Replace(s, "<div class=\"max-w-2xl\">", "<div/><div class=\"max-w-2xl\">", 1)
	}},
	{"stray end tags", func(s string) string { return strings.ReplaceAll(s, "</h4>", "</h4></span></a>") }},
	{"nested anchors", banner(`<a href="#"><div><a href="#x">x</a></div></a>`)},
	{"form popped by a div", banner(`<div><form></div><form><h4>Book Reviews</h4></form>`)},
	{"anchor in pod sibling", func(s string) string { return strings.ReplaceAll(s, "<u>", "<a href=x><u>") }},
	{"no doctype", func(s string) string { return strings.Replace(s, "<!DOCTYPE html>", "", 1) }},
	{"text after body", func(s string) string { return strings.Replace(s, "</body>", "</body>x", 1) }},
	// Bootstrap's star spans, spelled exactly, skip the attribute read;
	// these change what is around them.
	{"star span with text", func(s string) string {
		return strings.ReplaceAll(s, `glyphicon-star"></span>`, `glyphicon-star"> </span>`)
	}},
	{"star spans nested", func(s string) string {
		return strings.ReplaceAll(s, `<span class="glyphicon glyphicon-star"></span>`,
			`<span class="glyphicon glyphicon-star"><span class="glyphicon glyphicon-star-empty"></span></span>`)
	}},
	{"star span in pod block", func(s string) string {
		return strings.ReplaceAll(s, "<u>", `<span class="glyphicon glyphicon-star"></span><u>`)
	}},
	{"star span after label", func(s string) string {
		return strings.ReplaceAll(s, "served by:</dt>", `served by:</dt><span class="glyphicon glyphicon-star"></span>`)
	}},
	{"star span in banner", banner(`<font color="red"><span class="glyphicon glyphicon-star"></span></font>`)},
	{"NUL", func(s string) string { return strings.Replace(s, "Book Reviews", "Book\x00 Reviews", 1) }},
}

func banner(html string) func(string) string {
	return func(s string) string {
		if i := strings.Index(s, "<nav"); i >= 0 {
			return s[:i] + html + s[i:]
		}
		return html + s
	}
}

func replaceFirst(re *regexp.Regexp, s, repl string) string {
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil {
		return s
	}
	return s[:loc[0]] + string(re.ExpandString(nil, repl, s, loc)) + s[loc[1]:]
}

func swapColours(s string) string {
	return strings.NewReplacer(`text-red-500">`, `text-black-500">`, `text-black-500">`, `text-red-500">`,
		`color="red"`, `color="black"`, `color="black"`, `color="red"`).Replace(s)
}

// colours paints every star wrapper in c.
func colours(c string) func(string) string {
	return func(s string) string {
		return reColour.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasPrefix(m, "color=") {
				return `color="` + c + `"`
			}
			return "gap-x-1 text-" + c + `-500">`
		})
	}
}

// bases are the pages the mutations start from: the fixtures when present,
// and synthetic pages in both markups always.
func bases(t *testing.T) map[string]string {
	m := map[string]string{}
	for _, p := range []struct {
		name string
		s    synth
	}{
		{"v1", synth{reviews: []rv{plain, plain}, pod: pod1}},
		{"v2", synth{reviews: []rv{black5, black4}, pod: pod2}},
		{"v3", synth{reviews: []rv{red5, red4}, pod: pod3}},
		{"down", synth{reviews: []rv{down, down}, pod: pod2}},
		{"reviews-error", synth{reviewsErr: true, detailsErr: true}},
	} {
		m["synth-current-"+p.name] = p.s.current()
		m["synth-1.22-"+p.name] = p.s.bootstrap()
	}
	if t != nil && sharedPresent() {
		for _, f := range fixtures(t) {
			m[f.name()] = string(f.body)
		}
	}
	return m
}

func TestPageMutations(t *testing.T) {
	t.Parallel()
	fast, total := 0, 0
	for name, base := range bases(t) {
		for _, m := range mutations {
			body := []byte(m.fn(base))
			if got, ref := Page(200, nil, body), PageGoquery(200, nil, body); got != ref {
				t.Errorf("%s, %s: Page = %q %v (%s); PageGoquery = %q %v (%s)", name, m.name,
					got.Version, got.Outcome, got.Reason(), ref.Version, ref.Outcome, ref.Reason())
			}
			var s scanner
			if _, ok := s.scan(body); ok {
				fast++
			}
			total++
		}
	}
	t.Logf("fast path certain on %d of %d mutated pages", fast, total)
}

// TestPageTruncated cuts every base page at many offsets. Beyond agreeing,
// a cut page may lose its version or become unrecognized, but it must never
// show a version, or a page outcome, that the whole page does not have.
func TestPageTruncated(t *testing.T) {
	t.Parallel()
	stride := 13
	if testing.Short() {
		stride = 101
	}
	for name, base := range bases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			whole := Page(200, nil, []byte(base))
			for n := 0; n < len(base); n += stride {
				body := []byte(base[:n])
				got, ref := Page(200, nil, body), PageGoquery(200, nil, body)
				if got != ref {
					t.Fatalf("cut at %d: Page = %q %v (%s); PageGoquery = %q %v (%s)", n,
						got.Version, got.Outcome, got.Reason(), ref.Version, ref.Outcome, ref.Reason())
				}
				read := got.Outcome.Severity() <= ReviewsUnavailable.Severity()
				if got.Version != "" && got.Version != whole.Version || read && got.Outcome != whole.Outcome {
					t.Fatalf("cut at %d: Page = %q %v (%s); whole page is %q %v", n,
						got.Version, got.Outcome, got.Reason(), whole.Version, whole.Outcome)
				}
			}
		})
	}
}

func sharedPresent() bool {
	_, err := os.Stat(sharedDir)
	return err == nil
}

// TestPageMemo checks that a page resumed from a remembered prefix gets the
// same Result as the reference, for suffixes that differ from the page that
// was remembered, and that the resume really happens.
func TestPageMemo(t *testing.T) {
	t.Parallel()
	for name, base := range bases(t) {
		at := memoPoint([]byte(base))
		if at < 0 {
			continue
		}
		var prime scanner
		prime.scan([]byte(base))
		for _, m := range mutations {
			body := []byte(m.fn(base))
			if memoPoint(body) != at || string(body[:at]) != base[:at] {
				continue // the mutation changed the prefix
			}
			if got, ref := Page(200, nil, body), PageGoquery(200, nil, body); got != ref {
				t.Errorf("%s, %s: resumed Page = %q %v (%s); PageGoquery = %q %v (%s)", name, m.name,
					got.Version, got.Outcome, got.Reason(), ref.Version, ref.Outcome, ref.Reason())
			}
		}
		// The text before the resume point must not run on into it.
		body := []byte(base[:at] + "< " + base[at+1:])
		if got, ref := Page(200, nil, body), PageGoquery(200, nil, body); got != ref {
			t.Errorf("%s, '<' made text: Page = %q %v; PageGoquery = %q %v", name, got.Version, got.Outcome, ref.Version, ref.Outcome)
		}
		var s scanner
		if s.resume([]byte(base)) < 0 && len(*memo.Load()) < memoSlots {
			t.Errorf("%s: not resumed after a scan of the same page", name)
		}
	}
}
