package app

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The productpage JSON API under /api/v1/products, which the gateway also
// exposes. Its errors are the upstream texts.
func (pp *productPage) apiProducts(rw http.ResponseWriter, _ *http.Request) {
	writeJSON(rw, http.StatusOK, []map[string]any{{
		"id": 0, "title": "The Comedy of Errors",
		"descriptionHtml": "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays.",
	}})
}

func (pp *productPage) apiProduct(rw http.ResponseWriter, r *http.Request) {
	pp.apiProxy(rw, r, "details", "Sorry, product details are currently unavailable for this book.")
}

func (pp *productPage) apiReviews(rw http.ResponseWriter, r *http.Request) {
	pp.apiProxy(rw, r, "reviews", "Sorry, product reviews are currently unavailable for this book.")
}

func (pp *productPage) apiRatings(rw http.ResponseWriter, r *http.Request) {
	pp.apiProxy(rw, r, "ratings", "Sorry, product ratings are currently unavailable for this book.")
}

func (pp *productPage) apiProxy(rw http.ResponseWriter, r *http.Request, service, sorry string) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.NotFound(rw, r)
		return
	}
	url := "http://" + service + ":9080/" + service + "/" + strconv.Itoa(id)
	body, err := get(r.Context(), pp.client, url, outgoingHeaders(r, pp.key.sessionUser(r)), productpageTimeout)
	if err != nil {
		writeJSON(rw, http.StatusServiceUnavailable, map[string]string{"error": sorry})
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	_, _ = rw.Write(body)
}

// staticFile answers the assets the page links; their content does not
// matter to anyone measuring the mesh, only that the route works.
func staticFile(rw http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/static/tailwind/tailwind.css", "/static/bootstrap/css/bootstrap.min.css", "/static/bootstrap/css/bootstrap-theme.min.css":
		rw.Header().Set("Content-Type", "text/css")
		_, _ = rw.Write([]byte("/* local mesh stand-in stylesheet */\n"))
	case "/static/jquery.min.js", "/static/bootstrap/js/bootstrap.min.js":
		rw.Header().Set("Content-Type", "text/javascript")
		_, _ = rw.Write([]byte("// local mesh stand-in script\n"))
	default:
		http.NotFound(rw, r)
	}
}

// writeJSON answers with v as JSON, as the mesh's admin API does.
func writeJSON(rw http.ResponseWriter, code int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	_ = json.NewEncoder(rw).Encode(v)
}
