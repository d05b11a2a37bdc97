package classify

import (
	"strings"
	"testing"
)

// agree checks that the fast path and the reference agree on body, and
// returns their answer.
func agree(t *testing.T, body []byte) Result {
	t.Helper()
	got, ref := Page(200, nil, body), PageGoquery(200, nil, body)
	if got != ref {
		t.Fatalf("Page = %q %v (%s); PageGoquery = %q %v (%s)", got.Version, got.Outcome, got.Reason(), ref.Version, ref.Outcome, ref.Reason())
	}
	return got
}

func TestPageTraps(t *testing.T) {
	t.Parallel()
	const redBanner = `<div class="text-red-500"><p class="text-red-500">Red alert: maintenance tonight</p><font color="red">red</font></div>` +
		`<div class="flex gap-x-1 text-red-500"><svg id="glyphicon glyphicon-star" viewBox="0 0 20 20"></svg></div>`
	for _, tc := range []struct {
		name    string
		page    synth
		version string
		outcome Outcome
		reason  string // checked when not ""
	}{
		{"v1", synth{reviews: []rv{plain, plain}, pod: pod1}, "v1", OK, "2 reviews without stars"},
		{"v2", synth{reviews: []rv{black5, black4}, pod: pod2}, "v2", OK, "black star wrapper, 9 filled + 1 empty stars"},
		{"v3 without pod name", synth{reviews: []rv{red5, red4}}, "v3", OK, "red star wrapper, 9 filled + 1 empty stars"},
		{"red banners are not v3", synth{reviews: []rv{black5, black4}, pod: pod2, banner: redBanner}, "v2", OK, ""},
		{"red error text is not v3", synth{reviews: []rv{down, down}, pod: pod2, banner: redBanner}, "v2", RatingsUnavailable, ""},
		{"empty star is not a filled star", synth{reviews: []rv{black4, black4}, pod: pod2}, "v2", OK, "black star wrapper, 8 filled + 2 empty stars"},
		{"fork with three reviewers and three stars", synth{reviews: []rv{{"red", 3, 2}, {"red", 3, 2}, {"red", 3, 2}}, pod: pod3}, "v3", OK, "red star wrapper, 9 filled + 6 empty stars"},
		{"reviews disagree in colour", synth{reviews: []rv{red5, black4}, pod: pod3}, "", Unrecognized, "reviews disagree: red and black star wrappers"},
		{"unknown star colour", synth{reviews: []rv{{"blue", 5, 0}, {"blue", 4, 1}}, pod: pod3}, "", Unrecognized, `star colour "blue" is neither black (v2) nor red (v3)`},
		{"stars and plain reviews mixed", synth{reviews: []rv{red5, plain}, pod: pod3}, "", Unrecognized, ""},
		{"ratings error and plain reviews mixed", synth{reviews: []rv{down, plain}, pod: pod2}, "", Unrecognized, ""},
		{"empty star wrapper", synth{reviews: []rv{{"red", 0, 0}, {"red", 0, 0}}, pod: pod3}, "", Unrecognized, ""},
		{"ratings unavailable v2", synth{reviews: []rv{down, down}, pod: pod2}, "v2", RatingsUnavailable, "ratings unavailable, pod name " + pod2},
		{"ratings unavailable without pod name", synth{reviews: []rv{down, down}}, "", RatingsUnavailable, "ratings unavailable and no pod name: v2 or v3, not guessed"},
		{"ratings unavailable, pod name without version", synth{reviews: []rv{down, down}, pod: "reviews-canary-7b6f49d8cb-mwq7z"}, "", RatingsUnavailable, ""},
		{"ratings unavailable, pod v12", synth{reviews: []rv{down, down}, pod: "reviews-v12-7b6f49d8cb-mwq7z"}, "v12", RatingsUnavailable, ""},
		{"reviews unavailable is never v1", synth{reviewsErr: true}, "", ReviewsUnavailable, "Error fetching product reviews"},
		{"details unavailable, v1", synth{reviews: []rv{plain, plain}, pod: pod1, detailsErr: true}, "v1", DetailsUnavailable, "2 reviews without stars; details unavailable"},
		{"details and ratings unavailable", synth{reviews: []rv{down, down}, pod: pod3, detailsErr: true}, "v3", RatingsUnavailable, "ratings unavailable, pod name " + pod3 + "; details unavailable"},
		{"details and reviews unavailable", synth{reviewsErr: true, detailsErr: true}, "", ReviewsUnavailable, "Error fetching product reviews; details unavailable"},
		{"no reviews", synth{pod: pod1}, "", Unrecognized, "no reviews under Book Reviews"},
	} {
		for _, m := range []struct {
			name   string
			render func(synth) string
		}{{"current", synth.current}, {"1.22", synth.bootstrap}} {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				got := agree(t, []byte(m.render(tc.page)))
				if got.Version != tc.version || got.Outcome != tc.outcome {
					t.Errorf("Page() = %q %v (%s); want %q %v", got.Version, got.Outcome, got.Reason(), tc.version, tc.outcome)
				}
				if tc.reason != "" && got.Reason() != tc.reason {
					t.Errorf("Page().Reason() = %q; want %q", got.Reason(), tc.reason)
				}
			})
		}
	}
}

// TestPageOddHTML covers HTML that real deployments and mutations produce;
// the answer must not change, whichever path gives it.
func TestPageOddHTML(t *testing.T) {
	t.Parallel()
	v3 := synth{reviews: []rv{red5, red4}, pod: pod3}
	cur, boot := v3.current(), v3.bootstrap()
	for _, tc := range []struct {
		name, body, version string
		outcome             Outcome
	}{
		{"minified current", minify(cur), "v3", OK},
		{"minified 1.22", minify(boot), "v3", OK},
		{"CRLF current", strings.ReplaceAll(cur, "\n", "\r\n"), "v3", OK},
		{"CRLF 1.22", strings.ReplaceAll(boot, "\n", "\r\n"), "v3", OK},
		{"unquoted attributes", unquote(boot), "v3", OK},
		{"upper-case font colour", strings.ReplaceAll(boot, `<font color="red">`, `<FONT COLOR="RED">`), "v3", OK},
		{"entity in colour", strings.ReplaceAll(boot, `color="red"`, `color="&#114;ed"`), "v3", OK},
		{"entity in pod label", strings.ReplaceAll(synth{reviews: []rv{down, down}, pod: pod2}.current(), "served by:", "served by&#58;"), "v2", RatingsUnavailable},
		{"ratings error split by markup", strings.ReplaceAll(synth{reviews: []rv{down, down}, pod: pod2}.current(), "is currently", "is <b>currently</b>"), "v2", RatingsUnavailable},
		{"comment before reviews", strings.Replace(boot, "<h4 class=\"text-center text-primary\">Book Reviews", "<!-- <font color=black> --><h4 class=\"text-center text-primary\">Book Reviews", 1), "v3", OK},
		{"unclosed comment hides the reviews", strings.Replace(boot, "<h4 class=\"text-center text-primary\">Book Reviews", "<!-- <h4 class=\"text-center text-primary\">Book Reviews", 1), "", Unrecognized},
		// The parser ignores the second <form> (its form pointer survives the
		// implied close), so the third, black review shares the container.
		{"form pointer survives an implied close", "<div><form></div><div><form><h4>Book Reviews</h4>" +
			"<blockquote><small>R1</small><font color=red><span class=glyphicon-star></span></font></blockquote>" +
			"<blockquote><small>R2</small><font color=red><span class=glyphicon-star></span></font></blockquote></form>" +
			"<blockquote><small>R3</small><font color=black><span class=glyphicon-star></span></font></blockquote></div><br>",
			"", Unrecognized},
		{"index page", "<h3>Hello! This is a simple bookstore application</h3><a href=\"/productpage?u=normal\">Normal user</a>", "", NotProductPage},
		{"empty body", "", "", NotProductPage},
		{"cut before the reviews", cur[:strings.Index(cur, "Book Reviews")], "", Unrecognized},
		{"cut after the first star", cur[:strings.Index(cur, "glyphicon glyphicon-star")+200], "v3", OK},
		{"cut inside the first 1.22 review", boot[:strings.Index(boot, "<small>Reviewer1")], "", Unrecognized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := agree(t, []byte(tc.body))
			if got.Version != tc.version || got.Outcome != tc.outcome {
				t.Errorf("Page() = %q %v (%s); want %q %v", got.Version, got.Outcome, got.Reason(), tc.version, tc.outcome)
			}
		})
	}
}
