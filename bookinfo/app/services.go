package app

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

// Env is what a workload's application gets from the mesh that runs it.
// The mesh fills one in per workload, so that the apps need none of its
// types and this package does not import it.
type Env struct {
	App     string // the workload's "app" label: productpage, details, ratings or reviews
	Version string // the workload's "version" label, e.g. "v2"
	// PodName returns the name of the workload's running pod ("" when it
	// has none), which reviews puts in every answer.
	PodName func() string
	// Client makes the app's calls to other services, plain
	// http://SERVICE:9080/... URLs, through the workload's sidecar.
	Client *http.Client
	// Markup is productpage's template generation.
	Markup Markup
	// SessionKey signs and checks productpage's session cookies.
	SessionKey []byte
}

// New returns the application container of a workload.
func New(env Env) http.Handler {
	switch env.App {
	case "productpage":
		return newProductPage(env.Markup, env.SessionKey, env.Client)
	case "details":
		return jsonApp("/details/", detailsJSON)
	case "ratings":
		return jsonApp("/ratings/", ratingsJSON)
	default:
		return &reviewsApp{version: env.Version, podName: env.PodName, client: env.Client}
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
	version string
	podName func() string
	client  *http.Client
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
	podname := ""
	if a.podName != nil {
		podname = a.podName()
	}
	var rating1, rating2 string
	switch a.version {
	case "v2", "v3":
		color := "black"
		if a.version == "v3" {
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
