package app

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"sync"
	"sync/atomic"
)

// templateFS holds the productpage and landing-page templates of both markup
// generations. They keep only the structure that tells versions and failures
// apart (see the fixtures under shared/fixtures/bookinfo*).
//
//go:embed templates
var templateFS embed.FS

// maxStars is the ratings scale: upstream always draws five star glyphs.
const maxStars = 5

// starSlots backs the slices the templates range over; zero-size elements
// make filledStars and emptyStars allocation-free.
var starSlots [maxStars]struct{}

// renderFuncs holds the helpers the templates call. The raw-HTML ones exist
// because html/template strips comments and rejects the quote in the
// upstream bug, yet both are part of the pages we must mirror.
var renderFuncs = template.FuncMap{
	"filledStars": func(n int) []struct{} { return starSlots[:clampStars(n)] },
	"emptyStars":  func(n int) []struct{} { return starSlots[:maxStars-clampStars(n)] },
	// The 1.22 template marks the two star runs with these comments.
	"fullStarsComment":  func() template.HTML { return "<!-- full stars: -->" },
	"emptyStarsComment": func() template.HTML { return "<!-- empty stars: -->" },
	// Upstream's reviews container lacks its closing quote, so parsers swallow
	// the next <div class="max-w-2xl"> into the class value. Written verbatim
	// so every HTML parser sees exactly the DOM it sees in the real page.
	"unclosedContainer": func() template.HTML {
		return "<div class=\"container mx-auto px-4 sm:px-6 lg:px-8>\n    <div class=\"max-w-2xl\">"
	},
}

// pageTemplates are parsed once: rendering runs on every request of a load
// test.
var pageTemplates = map[Markup]*template.Template{
	MarkupCurrent: parseTemplate("productpage-current.html"),
	Markup122:     parseTemplate("productpage-1.22.html"),
}

// indexPages are the landing pages, rendered once since they take no data.
var indexPages = map[Markup][]byte{
	MarkupCurrent: renderStatic("index-current.html"),
	Markup122:     renderStatic("index-1.22.html"),
}

func parseTemplate(name string) *template.Template {
	return template.Must(template.New(name).Funcs(renderFuncs).ParseFS(templateFS, "templates/"+name))
}

func renderStatic(name string) []byte {
	var buf bytes.Buffer
	if err := parseTemplate(name).Execute(&buf, nil); err != nil {
		panic(fmt.Sprintf("render %s: %v", name, err))
	}
	return buf.Bytes()
}

func clampStars(n int) int {
	return min(max(n, 0), maxStars)
}

// RenderProductPage writes /productpage for d in markup m: for each review
// Rating.Stars filled stars then the rest empty (clamped to 0..5), the
// ratings or section error texts, the reviews pod name and the nav for a
// signed-in or signed-out user, laid out as the upstream template of that
// generation does.
//
// A load test asks for the same few backend states over and over, and
// html/template spends about a microsecond per dynamic value, so finished
// pages are memoised per distinct PageData (see pageCache).
func RenderProductPage(w io.Writer, m Markup, d PageData) error {
	if _, ok := pageTemplates[m]; !ok {
		return fmt.Errorf("render product page: unknown markup %q", m)
	}
	k, cachable := keyOf(m, &d)
	if page, hit := renderedPages.get(k); cachable && hit {
		_, err := w.Write(page)
		return err
	}
	return renderMiss(w, m, d, k, cachable)
}

// renderMiss renders a page that is not cached yet, memoising it when k is
// usable. It takes d by value so that only this path pays for d escaping to
// the heap.
func renderMiss(w io.Writer, m Markup, d PageData, k pageKey, cachable bool) error {
	if !cachable {
		return executePage(w, m, &d)
	}
	var buf bytes.Buffer
	if err := executePage(&buf, m, &d); err != nil {
		return err
	}
	renderedPages.put(k, buf.Bytes())
	_, err := w.Write(buf.Bytes())
	return err
}

// executePage renders d without the cache.
func executePage(w io.Writer, m Markup, d *PageData) error {
	if err := pageTemplates[m].Execute(w, d); err != nil {
		return fmt.Errorf("render product page (%s): %w", m, err)
	}
	return nil
}

// RenderIndex writes the landing page at / in markup m: a service table and
// the links /productpage?u=normal and /productpage?u=test. It is not a
// product page.
func RenderIndex(w io.Writer, m Markup) error {
	page, ok := indexPages[m]
	if !ok {
		return fmt.Errorf("render index: unknown markup %q", m)
	}
	_, err := w.Write(page)
	return err
}

// Cache bounds: upstream always returns two reviews, and a load test sees a
// handful of backend states times a few pods. Past maxCachedPages (say, many
// distinct signed-in users) pages are rendered afresh instead of evicting.
const (
	cachedReviews  = 2
	maxCachedPages = 256
)

// reviewKey and pageKey are comparable copies of everything a page shows, so
// a lookup neither allocates nor follows the caller's pointers. A test keeps
// them in step with PageData: every field must change the key.
type reviewKey struct {
	reviewer, text string
	rated          bool
	rating         Rating
}

type pageKey struct {
	markup                                 Markup
	user, pod, cluster                     string
	hasDetails, detailsError, reviewsError bool
	details                                Details
	nReviews                               int
	reviews                                [cachedReviews]reviewKey
}

func keyOf(m Markup, d *PageData) (pageKey, bool) {
	if len(d.Reviews) > cachedReviews {
		return pageKey{}, false
	}
	k := pageKey{markup: m, user: d.User, pod: d.PodName, cluster: d.ClusterName,
		detailsError: d.DetailsError, reviewsError: d.ReviewsError, nReviews: len(d.Reviews)}
	if d.Details != nil {
		k.hasDetails, k.details = true, *d.Details
	}
	for i, r := range d.Reviews {
		k.reviews[i] = reviewKey{reviewer: r.Reviewer, text: r.Text}
		if r.Rating != nil {
			k.reviews[i].rated, k.reviews[i].rating = true, *r.Rating
		}
	}
	return k, true
}

// pageCache is copy-on-write: readers load the current map with one atomic
// read and no lock, so the hot path does not contend across cores; writers,
// rare after warm-up, copy it under mu. Stored pages are never modified.
type pageCache struct {
	mu    sync.Mutex
	pages atomic.Pointer[map[pageKey][]byte]
}

var renderedPages pageCache

func (c *pageCache) get(k pageKey) ([]byte, bool) {
	if p := c.pages.Load(); p != nil {
		page, ok := (*p)[k]
		return page, ok
	}
	return nil, false
}

func (c *pageCache) put(k pageKey, page []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[pageKey][]byte
	if p := c.pages.Load(); p != nil {
		old = *p
	}
	if _, ok := old[k]; ok || len(old) >= maxCachedPages {
		return
	}
	next := maps.Clone(old)
	if next == nil {
		next = make(map[pageKey][]byte, 1)
	}
	next[k] = page
	c.pages.Store(&next)
}
