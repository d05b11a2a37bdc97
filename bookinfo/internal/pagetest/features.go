package pagetest

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// ReviewFeatures is what one review shows, as a classifier would read it.
type ReviewFeatures struct {
	Reviewer     string
	Color        string // star wrapper colour, "" when there is no wrapper
	Wrappers     int    // star wrappers in the review; upstream draws 0 or 1
	Filled       int
	Empty        int
	RatingsError string
	Quoted       bool // review text wrapped in literal double quotes
}

// Features are the parts of a page that tell versions, failures and pages
// apart. They are extracted here independently of any classifier, so tests
// can hold our rendered pages to the real upstream ones.
type Features struct {
	Doctype        bool // a full document (1.22) rather than a fragment (current)
	LeadingMeta    bool // the body starts with <meta charset="utf-8">
	Title          bool // "The Comedy of Errors" heading
	DetailsHeading bool
	ReviewsHeading bool
	ProductPage    bool // title plus the reviews heading or the reviews error
	Reviews        []ReviewFeatures
	StrayStars     int      // star glyphs outside any star wrapper
	StarComments   []string // 1.22: "full stars:" / "empty stars:" markers
	ReviewsError   string
	ReviewsSorry   string
	DetailsError   string
	DetailsSorry   string
	Details        []string // "label=value" in page order
	ServedBy       []string // reviews pod names, in page order
	Clusters       []string // "on cluster" names, in page order
	User           string   // signed-in user shown in the nav
	SignOut        bool
	SignInButton   bool
	LoginForm      bool // login form posting username and passwd to login
	CloseIcon      bool // current: the dialog's fill="none" close icon (a star trap)
	SwallowedDiv   bool // current: the upstream unclosed class quote
	IndexLinks     []string
	Services       []string // service URLs in the landing page table, sorted
}

// The markups, as package app names them; this package cannot import it,
// since app's own tests use this one.
const (
	markupCurrent = "current"
	markup122     = "1.22"
)

// Selectors match class tokens, never substrings, so glyphicon-star does not
// match glyphicon-star-empty.
const (
	selFilledSVG  = `svg[id="glyphicon glyphicon-star"]`
	selEmptySVG   = `svg[fill="none"][stroke="currentColor"]`
	selCloseIcon  = `dialog#dialog button#close-dialog svg[fill="none"]`
	selFilledSpan = `span.glyphicon.glyphicon-star`
	selEmptySpan  = `span.glyphicon.glyphicon-star-empty`
	selUsername   = `input[name="username"]`
	selPasswd     = `input[name="passwd"][type="password"]`
)

// PageFeatures extracts the features of page, a product page or the
// landing page in markup "current" or "1.22", failing t when it does not
// parse.
func PageFeatures(t testing.TB, markup string, page []byte) Features {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	start := bytes.TrimSpace(page)
	f := Features{
		Doctype:     len(start) >= 9 && strings.EqualFold(string(start[:9]), "<!doctype"),
		LeadingMeta: bytes.HasPrefix(start, []byte(`<meta charset="utf-8">`)),
	}
	switch markup {
	case markupCurrent:
		extractCurrent(doc, &f)
	case markup122:
		extract122(doc, &f)
	default:
		t.Fatalf("unknown markup %q", markup)
	}
	doc.Find(`a[href^="/productpage"]`).Each(func(_ int, a *goquery.Selection) {
		f.IndexLinks = append(f.IndexLinks, a.AttrOr("href", ""))
	})
	doc.Find("td").Each(func(_ int, td *goquery.Selection) {
		if s := normText(td); strings.HasPrefix(s, "http://") && !slices.Contains(f.Services, s) {
			f.Services = append(f.Services, s)
		}
	})
	slices.Sort(f.Services)
	f.ProductPage = f.Title && (f.ReviewsHeading || f.ReviewsError != "")
	return f
}

func extractCurrent(doc *goquery.Document, f *Features) {
	f.Title = hasHeading(doc.Find("h1"), "The Comedy of Errors")
	f.DetailsHeading = hasHeading(doc.Find("h4"), "Book Details")
	f.ReviewsHeading = hasHeading(doc.Find("h4"), "Book Reviews")
	collectSectionErrors(f, doc.Find("p.text-2xl.text-red-500"))
	table := doc.Find("h4").FilterFunction(textEquals("Book Details")).Parent().Find("table").First()
	cells := table.Find("tbody td")
	table.Find("thead th").Each(func(i int, th *goquery.Selection) {
		f.Details = append(f.Details, normText(th)+"="+normText(cells.Eq(i)))
	})
	inWrappers := 0
	doc.Find("section").Each(func(_ int, s *goquery.Selection) {
		r := ReviewFeatures{
			Reviewer:     normText(s.Find("div.font-semibold.text-gray-900")),
			RatingsError: normText(s.Find("p.text-red-500").Not(".text-2xl")),
			Quoted:       isQuoted(normText(s.Find("blockquote > p"))),
		}
		s.Find("div.flex.gap-x-1").Each(func(_ int, w *goquery.Selection) {
			c := starWrapperColor(w.AttrOr("class", ""))
			if c == "" {
				return
			}
			if r.Wrappers++; r.Wrappers == 1 {
				r.Color = c
			}
			r.Filled += w.Find(selFilledSVG).Length()
			r.Empty += w.Find(selEmptySVG).Length()
		})
		inWrappers += r.Filled + r.Empty
		f.Reviews = append(f.Reviews, r)
		s.Find("div.font-mono").Each(func(_ int, d *goquery.Selection) {
			rest, ok := strings.CutPrefix(normText(d), "Reviews served by:")
			if fs := strings.Fields(rest); ok && len(fs) > 0 {
				f.ServedBy = append(f.ServedBy, fs[0])
				if len(fs) == 4 && fs[1] == "on" && fs[2] == "cluster" {
					f.Clusters = append(f.Clusters, fs[3])
				}
			}
		})
	})
	all := doc.Find(selFilledSVG).Length() + doc.Find(selEmptySVG).Not("#close-dialog svg").Length()
	f.StrayStars = all - inWrappers
	// cascadia lower-cases attribute names in selectors while the parser
	// keeps SVG's viewBox camel-cased, so [viewBox=…] never matches.
	f.CloseIcon = doc.Find(selCloseIcon).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.AttrOr("viewBox", "") == "0 0 24 24"
	}).Length() == 1
	f.SwallowedDiv = doc.Find(`div[class*="lg:px-8>"]`).Length() > 0
	f.User = normText(doc.Find("nav p.text-base.font-medium.text-gray-50"))
	f.SignOut = doc.Find(`nav a[href="logout"]`).Length() > 0
	f.SignInButton = doc.Find("nav button#sign-in-button").Length() == 1
	f.LoginForm = hasLoginForm(doc.Find(`dialog#dialog form[method="post"][action="login"]`))
}

func extract122(doc *goquery.Document, f *Features) {
	f.Title = hasHeading(doc.Find("h3"), "The Comedy of Errors")
	f.DetailsHeading = hasHeading(doc.Find("h4.text-primary"), "Book Details")
	f.ReviewsHeading = hasHeading(doc.Find("h4.text-primary"), "Book Reviews")
	collectSectionErrors(f, doc.Find("h4.text-primary"))
	dl := doc.Find("h4.text-primary").FilterFunction(textEquals("Book Details")).NextFiltered("dl")
	label := ""
	dl.Contents().Each(func(_ int, c *goquery.Selection) {
		switch goquery.NodeName(c) {
		case "dt":
			label = strings.TrimSuffix(normText(c), ":")
		case "#text":
			if v := strings.TrimSpace(c.Text()); label != "" && v != "" {
				f.Details = append(f.Details, label+"="+v)
				label = ""
			}
		}
	})
	inWrappers := 0
	doc.Find("blockquote").Each(func(_ int, s *goquery.Selection) {
		r := ReviewFeatures{
			Reviewer:     normText(s.ChildrenFiltered("small")),
			RatingsError: normText(s.Find("p > i")),
			Quoted:       isQuoted(normText(s.ChildrenFiltered("p").First())),
		}
		s.Find("font[color]").Each(func(_ int, w *goquery.Selection) {
			if r.Wrappers++; r.Wrappers == 1 {
				r.Color = w.AttrOr("color", "")
			}
			r.Filled += w.Find(selFilledSpan).Length()
			r.Empty += w.Find(selEmptySpan).Length()
			w.Contents().Each(func(_ int, c *goquery.Selection) {
				if goquery.NodeName(c) == "#comment" {
					f.StarComments = append(f.StarComments, strings.TrimSpace(c.Get(0).Data))
				}
			})
		})
		inWrappers += r.Filled + r.Empty
		f.Reviews = append(f.Reviews, r)
	})
	f.StrayStars = doc.Find(selFilledSpan).Length() + doc.Find(selEmptySpan).Length() - inWrappers
	doc.Find("dl > dt").FilterFunction(textEquals("Reviews served by:")).Each(func(_ int, dt *goquery.Selection) {
		u := dt.Parent().ChildrenFiltered("u")
		f.ServedBy = append(f.ServedBy, normText(u.Eq(0)))
		if strings.Contains(normText(dt.Parent()), "on cluster") {
			f.Clusters = append(f.Clusters, normText(u.Eq(1)))
		}
	})
	if span := doc.Find("nav i.glyphicon-user").NextFiltered("span"); span.Length() > 0 {
		user, _, _ := strings.Cut(normText(span), "(")
		f.User = strings.TrimSpace(user)
	}
	f.SignOut = doc.Find(`nav a[href="logout"]`).Length() > 0
	f.SignInButton = doc.Find(`nav button[data-toggle="modal"][href="#login-modal"]`).Length() == 1
	f.LoginForm = hasLoginForm(doc.Find(`div#login-modal form[method="post"][action="login"]`))
}

// collectSectionErrors records the "Error fetching product …" texts among
// candidates and the "Sorry, …" line that follows each.
func collectSectionErrors(f *Features, candidates *goquery.Selection) {
	candidates.Each(func(_ int, e *goquery.Selection) {
		switch s := normText(e); {
		case strings.HasPrefix(s, "Error fetching product reviews"):
			f.ReviewsError, f.ReviewsSorry = s, normText(e.Next())
		case strings.HasPrefix(s, "Error fetching product details"):
			f.DetailsError, f.DetailsSorry = s, normText(e.Next())
		}
	})
}

// starWrapperColor returns X from a text-X-500 class token, "" when there is none.
func starWrapperColor(class string) string {
	for _, tok := range strings.Fields(class) {
		if c, ok := strings.CutPrefix(tok, "text-"); ok {
			if c, ok = strings.CutSuffix(c, "-500"); ok && c != "" {
				return c
			}
		}
	}
	return ""
}

func hasLoginForm(form *goquery.Selection) bool {
	return form.Length() == 1 && form.Find(selUsername).Length() == 1 && form.Find(selPasswd).Length() == 1
}

// normText is the element's text with whitespace runs collapsed.
func normText(s *goquery.Selection) string {
	return strings.Join(strings.Fields(s.Text()), " ")
}

func textEquals(want string) func(int, *goquery.Selection) bool {
	return func(_ int, s *goquery.Selection) bool { return normText(s) == want }
}

func hasHeading(s *goquery.Selection, want string) bool {
	return s.FilterFunction(textEquals(want)).Length() > 0
}

func isQuoted(s string) bool {
	return len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"'
}

// PodShape matches the name Kubernetes gives a reviews pod and captures its
// reviews-vN- prefix.
var PodShape = regexp.MustCompile(`^(reviews-v[0-9]+-)[a-z0-9]+-[a-z0-9]+$`)

// PodWorkloads keeps only the reviews-vN- prefix of each pod name, since the
// random suffixes of the fixtures' pods are not ours. Malformed names stay
// whole so they show up in a diff.
func PodWorkloads(f *Features) {
	for i, p := range f.ServedBy {
		if m := PodShape.FindStringSubmatch(p); m != nil {
			f.ServedBy[i] = m[1]
		}
	}
}

// PageSummary is what a page must convey about its backend state.
type PageSummary struct {
	ProductPage  bool
	Reviews      []ReviewFeatures
	ReviewsError bool
	DetailsError bool
	DetailsShown bool
	Pods         []string
	User         string
	StrayStars   int
	StarComments int
	SignInButton bool
	LoginForm    bool
	CloseIcon    bool
	SwallowedDiv bool
	IndexLinks   []string
}

// SummarizeFeatures is what a page with features f conveys.
func SummarizeFeatures(f Features) PageSummary {
	return PageSummary{ProductPage: f.ProductPage, Reviews: f.Reviews, ReviewsError: f.ReviewsError != "",
		DetailsError: f.DetailsError != "", DetailsShown: len(f.Details) > 0, Pods: f.ServedBy,
		User: f.User, StrayStars: f.StrayStars, StarComments: len(f.StarComments), SignInButton: f.SignInButton,
		LoginForm: f.LoginForm, CloseIcon: f.CloseIcon, SwallowedDiv: f.SwallowedDiv, IndexLinks: f.IndexLinks}
}
