package bookinfo

import (
	"net/http"
	"strconv"
)

// The JSON the Bookinfo services answer, byte-compatible with upstream:
// reviews builds its answer by string concatenation, so it is built the same
// way here (see bookinfo-and-istio research, section 1).
const (
	detailsJSON = `{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}`
	ratingsJSON = `{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}`

	reviewer1Text = "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"
	reviewer2Text = "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."
	ratingsError  = "Ratings service is currently unavailable"
)

// newApp returns the application container of a workload.
func newApp(m *Mesh, w *workload) http.Handler {
	client := &http.Client{Transport: &outbound{m: m, src: w}}
	switch w.spec.App {
	case "productpage":
		return newProductPage(m, client)
	case "details":
		return jsonApp("/details/", detailsJSON)
	case "ratings":
		return jsonApp("/ratings/", ratingsJSON)
	default:
		return &reviewsApp{w: w, client: client}
	}
}

// jsonApp serves a fixed answer under prefix, like details and ratings v1.
func jsonApp(prefix, body string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"{id}", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(body))
	})
	mux.HandleFunc("GET /health", health)
	return mux
}

func health(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	_, _ = rw.Write([]byte(`{"status":"healthy"}`))
}

// reviewsApp is reviews v1 (no ratings), v2 (black stars) or v3 (red stars).
type reviewsApp struct {
	w      *workload
	client *http.Client
}

func (a *reviewsApp) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		health(rw, r)
		return
	}
	if r.Method != http.MethodGet || len(r.URL.Path) <= len("/reviews/") || r.URL.Path[:len("/reviews/")] != "/reviews/" {
		http.NotFound(rw, r)
		return
	}
	p := a.w.pod.Load()
	podname := ""
	if p != nil {
		podname = p.name
	}
	var rating1, rating2 string
	switch a.w.spec.Version {
	case "v2", "v3":
		color := "black"
		if a.w.spec.Version == "v3" {
			color = "red"
		}
		rating1, rating2 = a.ratings(r, color)
	}
	body := make([]byte, 0, 512)
	body = append(body, `{"id": "0","podname": "`...)
	body = append(body, podname...)
	body = append(body, `","clustername": "null","reviews": [{  "reviewer": "Reviewer1",  "text": "`...)
	body = append(body, reviewer1Text...)
	body = append(body, '"')
	body = append(body, rating1...)
	body = append(body, `},{  "reviewer": "Reviewer2",  "text": "`...)
	body = append(body, reviewer2Text...)
	body = append(body, '"')
	body = append(body, rating2...)
	body = append(body, `}]}`...)
	rw.Header().Set("Content-Type", "application/json")
	_, _ = rw.Write(body)
}

// ratings calls the ratings service as reviews does: 10 s timeout for black
// stars, 2.5 s for any other colour, and the error object on any failure.
func (a *reviewsApp) ratings(r *http.Request, color string) (string, string) {
	timeout := ratingsTimeout(color)
	stars, err := fetchRatings(r, a.client, timeout)
	if err != nil {
		e := `, "rating": {"error": "` + ratingsError + `"}`
		return e, e
	}
	return ratingJSON(stars[0], color), ratingJSON(stars[1], color)
}

func ratingJSON(stars int, color string) string {
	if stars < 0 {
		return `, "rating": {"error": "` + ratingsError + `"}`
	}
	return `, "rating": {"stars": ` + strconv.Itoa(stars) + `, "color": "` + color + `"}`
}
