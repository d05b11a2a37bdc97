package classify_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/canary-gate/canary/classify"
)

// A product page of the Bootstrap markup (Istio 1.15 to 1.22), served by
// reviews v3: red stars.
var v3Page = `<!DOCTYPE html>
<html><head><title>Simple Bookstore App</title></head><body>
<div class="col-md-6">
  <h4 class="text-center text-primary">Book Reviews</h4>
  <blockquote><p>An extremely entertaining play by Shakespeare.</p><small>Reviewer1</small>
    <font color="red">` + strings.Repeat(`<span class="glyphicon glyphicon-star"></span>`, 5) + `</font>
  </blockquote>
  <blockquote><p>Absolutely fun and entertaining.</p><small>Reviewer2</small>
    <font color="red">` + strings.Repeat(`<span class="glyphicon glyphicon-star"></span>`, 4) +
	`<span class="glyphicon glyphicon-star-empty"></span></font>
  </blockquote>
  <dl><dt>Reviews served by:</dt><u>reviews-v3-7b6f49d8cb-mwq7z</u></dl>
</div>
</body></html>`

func ExamplePage() {
	r := classify.Page(http.StatusOK, nil, []byte(v3Page))
	fmt.Println(r.Version, r.Outcome, "-", r.Reason())

	// With ratings down, only the pod name tells v2 from v3.
	down := strings.NewReplacer(`<font color="red">`, `<!--`, `</font>`, `--><p><i>Ratings service is currently unavailable</i></p>`).Replace(v3Page)
	r = classify.Page(http.StatusOK, nil, []byte(down))
	fmt.Println(r.Version, r.Outcome, "-", r.Reason())

	r = classify.Page(http.StatusServiceUnavailable, nil, []byte("no healthy upstream"))
	fmt.Printf("%q %v - %s\n", r.Version, r.Outcome, r.Reason())
	// Output:
	// v3 ok - red star wrapper, 9 filled + 1 empty stars
	// v3 ratings-unavailable - ratings unavailable, pod name reviews-v3-7b6f49d8cb-mwq7z
	// "" http-error - HTTP 503
}

func ExampleParseRules() {
	rules, err := classify.ParseRules("shop.yaml", []byte(`
version_header: X-App-Version
rules:
  - name: maintenance page
    selector: div.maintenance
    outcome: unrecognized
  - name: api
    json: meta.version
    regex: '^(v[0-9]+)'
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := http.Header{"X-App-Version": {"v2"}}
	r := rules.Classify(http.StatusOK, h, []byte(`<p>Welcome to the shop</p>`))
	fmt.Println(r.Version, r.Outcome, "-", r.Reason())
	r = rules.Classify(http.StatusOK, h, []byte(`<div class="maintenance">Back soon</div>`))
	fmt.Println(r.Version, r.Outcome, "-", r.Reason())

	// An error counts against the version that the body names.
	r = rules.Classify(http.StatusServiceUnavailable, h, []byte(`{"meta": {"version": "v3.0.1"}, "error": "overloaded"}`))
	fmt.Println(r.Version, r.Outcome, "-", r.Reason())

	_, err = classify.ParseRules("shop.yaml", []byte("rules:\n  - selector: div\n    outcome: fine\n"))
	fmt.Println(err)
	// Output:
	// v2 ok - version from header X-App-Version
	// v2 unrecognized - rules[0] "maintenance page": selector div.maintenance
	// v3 http-error - HTTP 503; rules[1] "api": json meta.version
	// shop.yaml:3: rules[0].outcome: want one of ok, ratings-unavailable, details-unavailable, reviews-unavailable, not-productpage, unrecognized, http-error; got "fine"
}
