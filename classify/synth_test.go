package classify

import (
	"fmt"
	"strings"
)

// This file builds small product pages in both markups, modelled on the
// fixtures, so that tests can vary one thing at a time.

// rv is one review: a star colour with counts, or plain (v1), or down (the
// ratings error).
type rv struct {
	colour        string // "" plain, "down" ratings error, else the star colour
	filled, empty int
}

var (
	red5   = rv{"red", 5, 0}
	red4   = rv{"red", 4, 1}
	black5 = rv{"black", 5, 0}
	black4 = rv{"black", 4, 1}
	plain  = rv{}
	down   = rv{colour: "down"}
)

const (
	pod1 = "reviews-v1-5b86c7b8d8-2xq9l"
	pod2 = "reviews-v2-75d79f5c6b-kx4tp"
	pod3 = "reviews-v3-7b6f49d8cb-mwq7z"
)

type synth struct {
	reviews    []rv
	pod        string // "" prints no "Reviews served by"
	detailsErr bool
	reviewsErr bool
	banner     string // HTML put at the top of the body
}

// current renders the Tailwind markup of Istio 1.23+, including its
// unclosed class quote, the unclosed div in each section and the dialog's
// close icon (an SVG with fill="none").
func (s synth) current() string {
	var b strings.Builder
	b.WriteString("\n<meta charset=\"utf-8\">\n<title>Simple Bookstore App</title>\n")
	b.WriteString("<script src=\"static/tailwind/tailwind.css\"></script>\n" + s.banner + "\n")
	b.WriteString("<nav class=\"bg-gray-800\">\n  <a href=\"#\" class=\"text-white\">BookInfo Sample</a>\n</nav>\n")
	b.WriteString("<dialog id=\"dialog\">\n  <button id=\"close-dialog\" type=\"button\">\n" +
		"    <svg class=\"h-6 w-6\" fill=\"none\" viewBox=\"0 0 24 24\" stroke-width=\"1.5\" stroke=\"currentColor\" aria-hidden=\"true\">\n" +
		"      <path stroke-linecap=\"round\" d=\"M6 18L18 6M6 6l12 12\" />\n    </svg>\n  </button>\n</dialog>\n")
	if s.detailsErr {
		b.WriteString("<div class=\"container\">\n  <p class=\"text-2xl text-red-500\">Error fetching product details</p>\n</div>\n")
	} else {
		b.WriteString("<div class=\"container\">\n  <h4 class=\"text-3xl font-semibold\">Book Details</h4>\n</div>\n")
	}
	b.WriteString("<div class=\"bg-blue-600/5 py-12 mx-auto\" >\n  <div class=\"container mx-auto px-4 sm:px-6 lg:px-8>\n    <div class=\"max-w-2xl\">\n")
	if s.reviewsErr {
		b.WriteString("      <p class=\"text-2xl text-red-500\">Error fetching product reviews</p>\n" +
			"      <p class=\"text-lg text-gray-600\">Sorry, product reviews are currently unavailable for this book.</p>\n")
	} else {
		b.WriteString("      <h4 class=\"text-3xl font-semibold\">Book Reviews</h4>\n      <div class=\"flex flex-col md:flex-row\">\n")
		for i, r := range s.reviews {
			s.currentReview(&b, i, r)
		}
		b.WriteString("      </div>\n")
	}
	b.WriteString("    </div>\n    </div>\n  </div>\n</div>\n")
	return b.String()
}

func (s synth) currentReview(b *strings.Builder, i int, r rv) {
	b.WriteString("        <section class=\"px-6 py-12 sm:py-8 lg:px-8\">\n          <div class=\"mx-auto max-w-2xl\">\n")
	switch r.colour {
	case "":
	case "down":
		b.WriteString("            <p class=\"text-red-500\">Ratings service is currently unavailable</p>\n")
	default:
		fmt.Fprintf(b, "            <div class=\"flex gap-x-1 text-%s-500\">\n", r.colour)
		for range r.filled {
			b.WriteString("              <svg id=\"glyphicon glyphicon-star\" class=\"h-5 w-5 flex-none\" viewBox=\"0 0 20 20\" fill=\"currentColor\" aria-hidden=\"true\">\n" +
				"                <path fill-rule=\"evenodd\" d=\"M10.868 2.884c-.321-.772z\" clip-rule=\"evenodd\" />\n              </svg>\n")
		}
		for range r.empty {
			b.WriteString("              <svg xmlns=\"http://www.w3.org/2000/svg\" fill=\"none\" viewBox=\"0 0 24 24\" stroke-width=\"1.5\" stroke=\"currentColor\" class=\"h-5 w-5 flex-none\">\n" +
				"                <path stroke-linecap=\"round\" d=\"M11.48 3.499a.562.562Z\" />\n              </svg>\n")
		}
		b.WriteString("            </div>\n")
	}
	fmt.Fprintf(b, "            <blockquote class=\"mt-10 text-xl\">\n              <p>\"Review text %d.\"</p>\n            </blockquote>\n", i+1)
	fmt.Fprintf(b, "            <div class=\"mt-4 flex items-center gap-x-6\">\n              <div class=\"text-sm leading-6\">\n"+
		"                <div class=\"font-semibold text-gray-900\">Reviewer%d</div>\n", i+1)
	if s.pod != "" {
		fmt.Fprintf(b, "                <div class=\"mt-0.5 text-gray-600 font-mono\">Reviews served by: \n                  %s\n                  \n                </div>\n", s.pod)
	}
	b.WriteString("              </div>\n            </div>\n        </section>\n")
}

// bootstrap renders the Bootstrap markup of Istio 1.15 to 1.22 (1.0 to 1.14
// when pod is "").
func (s synth) bootstrap() string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n    <title>Simple Bookstore App</title>\n" +
		"<link rel=\"stylesheet\" href=\"static/bootstrap/css/bootstrap.min.css\">\n  </head>\n  <body>\n" + s.banner + "\n")
	b.WriteString("<nav class=\"navbar navbar-inverse navbar-static-top\">\n  <div class=\"container\">\n" +
		"    <a class=\"navbar-brand\" href=\"#\">BookInfo Sample</a>\n  </div>\n</nav>\n")
	b.WriteString("<div id=\"login-modal\" class=\"modal fade\" role=\"dialog\">\n  <button type=\"button\" class=\"close\" data-dismiss=\"modal\">&times;</button>\n</div>\n")
	b.WriteString("<div class=\"container-fluid\">\n  <div class=\"row\">\n    <div class=\"col-md-6\">\n")
	if s.detailsErr {
		b.WriteString("      <h4 class=\"text-center text-primary\">Error fetching product details!</h4>\n      <p>Sorry, product details are currently unavailable for this book.</p>\n")
	} else {
		b.WriteString("      <h4 class=\"text-center text-primary\">Book Details</h4>\n      <dl>\n        <dt>Type:</dt>paperback\n      </dl>\n")
	}
	b.WriteString("    </div>\n    <div class=\"col-md-6\">\n")
	if s.reviewsErr {
		b.WriteString("      <h4 class=\"text-center text-primary\">Error fetching product reviews!</h4>\n      <p>Sorry, product reviews are currently unavailable for this book.</p>\n")
	} else {
		b.WriteString("      <h4 class=\"text-center text-primary\">Book Reviews</h4>\n")
		for i, r := range s.reviews {
			bootstrapReview(&b, i, r)
		}
		if s.pod != "" {
			fmt.Fprintf(&b, "      <dl>\n        <dt>Reviews served by:</dt>\n        <u>%s</u>\n      </dl>\n", s.pod)
		}
	}
	b.WriteString("    </div>\n  </div>\n</div>\n<script src=\"static/jquery.min.js\"></script>\n  </body>\n</html>\n")
	return b.String()
}

func bootstrapReview(b *strings.Builder, i int, r rv) {
	fmt.Fprintf(b, "      <blockquote>\n        <p>Review text %d.</p>\n        <small>Reviewer%d</small>\n", i+1, i+1)
	switch r.colour {
	case "":
	case "down":
		b.WriteString("        <p><i>Ratings service is currently unavailable</i></p>\n")
	default:
		fmt.Fprintf(b, "        <font color=\"%s\">\n          <!-- full stars: -->\n", r.colour)
		for range r.filled {
			b.WriteString("          <span class=\"glyphicon glyphicon-star\"></span>\n")
		}
		b.WriteString("          <!-- empty stars: -->\n")
		for range r.empty {
			b.WriteString("          <span class=\"glyphicon glyphicon-star-empty\"></span>\n")
		}
		b.WriteString("        </font>\n")
	}
	b.WriteString("      </blockquote>\n")
}
