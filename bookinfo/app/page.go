package app

// Markup selects which generation of the productpage template is rendered.
type Markup string

const (
	// MarkupCurrent is the Tailwind template of Istio 1.23 and later.
	MarkupCurrent Markup = "current"
	// Markup122 is the Bootstrap 3 template of Istio 1.15 to 1.22, which
	// prints the reviews pod name once per page.
	Markup122 Markup = "1.22"
)

// Rating is what reviews v2 and v3 attach to a review: stars in a colour, or
// the error text when the ratings call failed.
type Rating struct {
	Stars int
	Color string // "black" (v2) or "red" (v3)
	Error string // "Ratings service is currently unavailable" when ratings failed
}

// Review is one entry of the reviews service's answer.
type Review struct {
	Reviewer string
	Text     string
	Rating   *Rating // nil for reviews v1, which never calls ratings
}

// Details is the details service's answer, as productpage shows it.
type Details struct {
	Author    string
	Year      int
	Type      string
	Pages     int
	Publisher string
	Language  string
	ISBN10    string
	ISBN13    string
}

// PageData is everything productpage needs to render /productpage.
type PageData struct {
	User         string   // logged-in user ("" when signed out)
	Details      *Details // nil when DetailsError
	DetailsError bool
	Reviews      []Review // empty when ReviewsError
	ReviewsError bool
	PodName      string // reviews pod that answered ("" when ReviewsError)
	ClusterName  string // "null" (the reviews service's literal) hides "on cluster"
}
