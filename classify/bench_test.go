package classify

import (
	"strings"
	"testing"
)

// benchPages are the fixtures named by markup and state, plus two variants
// real deployments produce.
func benchPages(b *testing.B) []struct {
	name string
	body []byte
} {
	byName := map[string][]byte{}
	for _, f := range fixtures(b) {
		byName[f.name()] = f.body
	}
	var pages []struct {
		name string
		body []byte
	}
	add := func(name string, body []byte) {
		pages = append(pages, struct {
			name string
			body []byte
		}{name, body})
	}
	for _, n := range []struct{ bench, fixture string }{
		{"current-v1", "current-reviews-v1"},
		{"current-v2", "current-reviews-v2"},
		{"current-v3", "current-reviews-v3"},
		{"current-jason", "current-v3-logged-in-jason"},
		{"ratings-unavailable", "current-ratings-unavailable-v2"},
		{"details-unavailable", "current-details-unavailable"},
		{"reviews-unavailable", "current-reviews-unavailable"},
		{"1.22-v1", "1.22-reviews-v1"},
		{"1.22-v2", "1.22-reviews-v2"},
		{"1.22-v3", "1.22-reviews-v3"},
		{"1.22-ratings-unavailable", "1.22-ratings-unavailable-v3"},
		{"index-fallback", "current-index"},
	} {
		add(n.bench, byName[n.fixture])
	}
	add("current-v3-minified", []byte(minify(string(byName["current-reviews-v3"]))))
	add("current-v3-crlf", []byte(strings.ReplaceAll(string(byName["current-reviews-v3"]), "\n", "\r\n")))
	return pages
}

func BenchmarkPage(b *testing.B) {
	for _, p := range benchPages(b) {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.body)))
			b.ReportAllocs()
			for b.Loop() {
				Page(200, nil, p.body)
			}
		})
	}
}

// BenchmarkPageCold is the fast path without the prefix memo: the cost of
// a page seen for the first time (the index page falls back and is left out).
func BenchmarkPageCold(b *testing.B) {
	for _, p := range benchPages(b) {
		if p.name == "index-fallback" {
			continue
		}
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.body)))
			b.ReportAllocs()
			for b.Loop() {
				s := scanner{cold: true}
				if _, ok := s.scan(p.body); !ok {
					b.Fatal("fast path not certain")
				}
			}
		})
	}
}

func BenchmarkPageGoquery(b *testing.B) {
	for _, p := range benchPages(b) {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.body)))
			b.ReportAllocs()
			for b.Loop() {
				PageGoquery(200, nil, p.body)
			}
		})
	}
}

// BenchmarkResultReason is what a caller pays when it asks why.
func BenchmarkResultReason(b *testing.B) {
	r := Page(200, nil, []byte(synth{reviews: []rv{red5, red4}, pod: pod3}.current()))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Reason()
	}
}
