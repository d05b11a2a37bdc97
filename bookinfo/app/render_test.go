package app

import (
	"bytes"
	"fmt"
	"github.com/canary-gate/canary/internal/sharedtest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/canary-gate/canary/bookinfo/internal/pagetest"
)

var renderMarkups = []Markup{MarkupCurrent, Markup122}

// Synthetic pod names of the shape a Deployment gives its pods, like the
// fixtures' (which are synthetic too).
const (
	podV1 = "reviews-v1-7c5bd94f8d-h2q6w"
	podV2 = "reviews-v2-6d8f9b7c5d-t4kzn"
	podV3 = "reviews-v3-5f7c9d6b8f-x9pvr"
)

const ratingsDown = "Ratings service is currently unavailable"

// fixtureDirs maps each markup to its folder under shared/fixtures.
var fixtureDirs = map[Markup]string{MarkupCurrent: "bookinfo", Markup122: "bookinfo-1.22"}

// bookDetails is the details service's fixed answer.
func bookDetails() *Details {
	return &Details{Author: "William Shakespeare", Year: 1595, Type: "paperback", Pages: 200,
		Publisher: "PublisherA", Language: "English", ISBN10: "1234567890", ISBN13: "123-1234567890"}
}

// reviewsData is what productpage gets from the reviews workload on pod; rate
// turns each reviewer's stars (5 and 4, as upstream's seed data) into the
// Rating that workload attaches, or nil for reviews v1.
func reviewsData(pod string, rate func(stars int) *Rating) PageData {
	d := PageData{Details: bookDetails(), PodName: pod, ClusterName: "null"}
	for i, stars := range []int{5, 4} {
		r := Review{Reviewer: fmt.Sprintf("Reviewer%d", i+1), Text: fmt.Sprintf("Review text number %d.", i+1)}
		if rate != nil {
			r.Rating = rate(stars)
		}
		d.Reviews = append(d.Reviews, r)
	}
	return d
}

func starsIn(color string) func(int) *Rating {
	return func(n int) *Rating { return &Rating{Stars: n, Color: color} }
}

func ratingsFailed(int) *Rating { return &Rating{Error: ratingsDown} }

// renderCases holds one PageData per fixture file (the nine backend states);
// a nil entry is the landing page.
func renderCases() map[string]*PageData {
	detailsDown := reviewsData(podV1, nil)
	detailsDown.Details, detailsDown.DetailsError = nil, true
	jason := reviewsData(podV3, starsIn("red"))
	jason.User = "jason"
	pages := map[string]PageData{
		"reviews-v1":             reviewsData(podV1, nil),
		"reviews-v2":             reviewsData(podV2, starsIn("black")),
		"reviews-v3":             reviewsData(podV3, starsIn("red")),
		"ratings-unavailable-v2": reviewsData(podV2, ratingsFailed),
		"ratings-unavailable-v3": reviewsData(podV3, ratingsFailed),
		"reviews-unavailable":    {Details: bookDetails(), ReviewsError: true},
		"details-unavailable":    detailsDown,
		"v3-logged-in-jason":     jason,
	}
	cases := map[string]*PageData{"index": nil}
	for name, d := range pages {
		cases[name] = &d
	}
	return cases
}

func renderCase(t testing.TB, m Markup, d *PageData) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if d == nil {
		err = RenderIndex(&buf, m)
	} else {
		err = RenderProductPage(&buf, m, *d)
	}
	if err != nil {
		t.Fatalf("render %s: %v", m, err)
	}
	return buf.Bytes()
}

func TestRenderMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, m := range renderMarkups {
		for name, d := range renderCases() {
			t.Run(string(m)+"/"+name, func(t *testing.T) {
				t.Parallel()
				fixture, err := os.ReadFile(sharedtest.Dir(t, "fixtures", fixtureDirs[m], name+".html"))
				if err != nil {
					t.Fatalf("read fixture: %v", err)
				}
				want := pagetest.PageFeatures(t, string(m), fixture)
				got := pagetest.PageFeatures(t, string(m), renderCase(t, m, d))
				pagetest.PodWorkloads(&want)
				pagetest.PodWorkloads(&got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("features of rendered %s page differ from fixture (-fixture +rendered):\n%s", name, diff)
				}
				// The fixture must also show what the data says, so a blind
				// extractor cannot make the comparison above vacuous.
				if diff := cmp.Diff(summarizeData(m, d), pagetest.SummarizeFeatures(want)); diff != "" {
					t.Errorf("fixture %s does not show its backend state (-data +fixture):\n%s", name, diff)
				}
			})
		}
	}
}

func TestRenderStarsClamped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		stars, filled, empt int
	}{
		{"negative", -3, 0, 5},
		{"zero", 0, 0, 5},
		{"three", 3, 3, 2},
		{"five", 5, 5, 0},
		{"above five", 9, 5, 0},
	}
	for _, m := range renderMarkups {
		for _, tc := range tests {
			t.Run(string(m)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				d := reviewsData(podV2, func(int) *Rating { return &Rating{Stars: tc.stars, Color: "black"} })
				f := pagetest.PageFeatures(t, string(m), renderCase(t, m, &d))
				for _, r := range f.Reviews {
					if r.Filled != tc.filled || r.Empty != tc.empt || r.Color != "black" {
						t.Errorf("Stars=%d: review %s = %d filled, %d empty, colour %q; want %d, %d, \"black\"",
							tc.stars, r.Reviewer, r.Filled, r.Empty, r.Color, tc.filled, tc.empt)
					}
				}
			})
		}
	}
}

func TestRenderClusterName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, cluster string
		want          []string
	}{
		{"unset literal null", "null", nil},
		{"empty", "", nil},
		{"named", "east", []string{"east"}},
	}
	for _, m := range renderMarkups {
		for _, tc := range tests {
			t.Run(string(m)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				d := reviewsData(podV3, starsIn("red"))
				d.ClusterName = tc.cluster
				f := pagetest.PageFeatures(t, string(m), renderCase(t, m, &d))
				want := tc.want
				if m == MarkupCurrent && want != nil {
					want = append(want, want...) // once per review
				}
				if diff := cmp.Diff(want, f.Clusters); diff != "" {
					t.Errorf("ClusterName %q: clusters shown (-want +got):\n%s", tc.cluster, diff)
				}
			})
		}
	}
}

func TestRenderUnknownMarkup(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := RenderProductPage(&buf, "1.0", PageData{}); err == nil {
		t.Error(`RenderProductPage(markup "1.0") = nil error; want an error`)
	}
	if err := RenderIndex(&buf, ""); err == nil {
		t.Error(`RenderIndex(markup "") = nil error; want an error`)
	}
}

func TestGoldenProductPage(t *testing.T) {
	t.Parallel()
	cases := renderCases()
	for _, m := range renderMarkups {
		for _, v := range []string{"v1", "v2", "v3"} {
			name := string(m) + "-" + v
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				got := renderCase(t, m, cases["reviews-"+v])
				path := filepath.Join("testdata", "golden", name+".html")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden (run go test ./bookinfo/app -update to create it): %v", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("RenderProductPage(%s, %s) differs from %s (-want +got):\n%s", m, v, path, diff)
				}
			})
		}
	}
}

// TestRenderCacheKeyCoversPageData changes every leaf field of a PageData in
// turn and requires the cache key to change, so a field added to PageData
// later cannot be answered with a stale page.
func TestRenderCacheKeyCoversPageData(t *testing.T) {
	t.Parallel()
	d := reviewsData(podV2, starsIn("black"))
	d.User, d.ClusterName = "jason", "east"
	base, ok := keyOf(MarkupCurrent, &d)
	if !ok {
		t.Fatal("keyOf(two reviews) = not cachable; want cachable")
	}
	changes := func(what string, edit func(*PageData)) {
		c := d
		c.Reviews = slices.Clone(d.Reviews)
		edit(&c)
		if k, _ := keyOf(MarkupCurrent, &c); k == base {
			t.Errorf("%s leaves the render cache key unchanged; add it to pageKey", what)
		}
	}
	if k, _ := keyOf(Markup122, &d); k == base {
		t.Error("markup leaves the render cache key unchanged")
	}
	changes("nil Details", func(c *PageData) { c.Details = nil })
	changes("nil Rating", func(c *PageData) { c.Reviews[1].Rating = nil })
	changes("fewer reviews", func(c *PageData) { c.Reviews = c.Reviews[:1] })

	var visit func(path string, v reflect.Value)
	visit = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				visit(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Pointer:
			visit(path, v.Elem())
		case reflect.Slice:
			visit(path+"[1]", v.Index(1))
		case reflect.String, reflect.Bool, reflect.Int:
			old := reflect.ValueOf(v.Interface())
			switch v.Kind() {
			case reflect.String:
				v.SetString(v.String() + "x")
			case reflect.Bool:
				v.SetBool(!v.Bool())
			default:
				v.SetInt(v.Int() + 1)
			}
			if k, _ := keyOf(MarkupCurrent, &d); k == base {
				t.Errorf("changing PageData%s leaves the render cache key unchanged; add it to pageKey", path)
			}
			v.Set(old)
		default:
			t.Errorf("PageData%s is a %s; teach pageKey and this test about it", path, v.Kind())
		}
	}
	visit("", reflect.ValueOf(&d).Elem())
}

func TestRenderCachedEqualsUncached(t *testing.T) {
	t.Parallel()
	for _, m := range renderMarkups {
		for name, d := range renderCases() {
			if d == nil {
				continue
			}
			t.Run(string(m)+"/"+name, func(t *testing.T) {
				t.Parallel()
				var want bytes.Buffer
				if err := executePage(&want, m, d); err != nil {
					t.Fatal(err)
				}
				for i := range 2 { // a miss, then a hit
					if got := renderCase(t, m, d); !bytes.Equal(got, want.Bytes()) {
						t.Errorf("RenderProductPage call %d differs from the uncached render", i+1)
					}
				}
			})
		}
	}
}

func TestRenderCacheBounded(t *testing.T) {
	t.Parallel()
	var c pageCache
	for i := range maxCachedPages + 10 {
		c.put(pageKey{markup: MarkupCurrent, user: fmt.Sprint("user", i)}, []byte{byte(i)})
	}
	if got := len(*c.pages.Load()); got != maxCachedPages {
		t.Errorf("cache holds %d pages after %d distinct puts; want %d", got, maxCachedPages+10, maxCachedPages)
	}
	if page, ok := c.get(pageKey{markup: MarkupCurrent, user: "user0"}); !ok || page[0] != 0 {
		t.Errorf("get(user0) = %v, %v; want the first page stored", page, ok)
	}
}

func BenchmarkRenderProductPage(b *testing.B) {
	d := *renderCases()["reviews-v2"]
	for _, m := range renderMarkups {
		// cached is what a load test sees after the first request of each
		// backend state; uncached is the cost of that first request.
		for _, cached := range []bool{true, false} {
			name := string(m) + "/cached"
			if !cached {
				name = string(m) + "/uncached"
			}
			b.Run(name, func(b *testing.B) {
				var buf bytes.Buffer
				b.SetBytes(int64(len(renderCase(b, m, &d))))
				b.ReportAllocs()
				for b.Loop() {
					buf.Reset()
					var err error
					if cached {
						err = RenderProductPage(&buf, m, d)
					} else {
						err = executePage(&buf, m, &d)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// summarizeData is what the page rendered from d in markup m must convey
// (the landing page for a nil d).
func summarizeData(m Markup, d *PageData) pagetest.PageSummary {
	if d == nil {
		return pagetest.PageSummary{IndexLinks: []string{"/productpage?u=normal", "/productpage?u=test"}}
	}
	s := pagetest.PageSummary{ProductPage: true, ReviewsError: d.ReviewsError, DetailsError: d.DetailsError,
		DetailsShown: d.Details != nil && !d.DetailsError, User: d.User, SignInButton: d.User == "",
		LoginForm: true, CloseIcon: m == MarkupCurrent, SwallowedDiv: m == MarkupCurrent}
	if d.ReviewsError {
		return s
	}
	for _, r := range d.Reviews {
		rf := pagetest.ReviewFeatures{Reviewer: r.Reviewer, Quoted: m == MarkupCurrent}
		switch {
		case r.Rating == nil:
		case r.Rating.Error != "":
			rf.RatingsError = r.Rating.Error
		default:
			n := clampStars(r.Rating.Stars)
			rf.Color, rf.Wrappers, rf.Filled, rf.Empty = r.Rating.Color, 1, n, maxStars-n
			if m == Markup122 {
				s.StarComments += 2
			}
		}
		s.Reviews = append(s.Reviews, rf)
		// Current markup repeats the pod name in every review, 1.22 once.
		if m == MarkupCurrent || len(s.Pods) == 0 {
			s.Pods = append(s.Pods, pagetest.PodShape.FindStringSubmatch(d.PodName)[1])
		}
	}
	return s
}
