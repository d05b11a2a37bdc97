// Package classify tells, from one HTTP response, which version of a
// service produced it and whether the response was healthy.
//
// For Istio's Bookinfo sample, Page reads a productpage response: the star
// colour of the reviews says v2 (black) or v3 (red), reviews without stars
// say v1, and the section errors say which backend failed. Both markups are
// understood: the Tailwind template of Istio 1.23 and later, and the
// Bootstrap template of Istio 1.0 to 1.22. When ratings are down, v2 and v3
// pages differ only in the "Reviews served by" pod name; without it (before
// Istio 1.15) the version is left empty rather than guessed.
//
// The classes are defined by PageGoquery, which parses the page and reads it
// with goquery selectors. Page gives the same Result, but first tries one
// allocation-free scan that accepts only a subset of HTML on which it can
// follow the HTML parser exactly; on anything else, including any page cut
// short, it calls PageGoquery. Load generators call Page on every response.
//
// A page cut short (for example by a body size limit) is classified from
// the reviews it shows: once a review's stars, its ratings error, or its
// end has been seen, that decides, and the Reason says the page was cut.
// A page cut before that is Unrecognized, or NotProductPage when not even
// a product page landmark (the title, the brand, a section heading) made
// it. A cut never shows a version the whole page does not have.
//
// Forks with more reviewers or other star counts classify like Bookinfo;
// only the colour and the consistency of the reviews matter. Reviews that
// disagree (two colours, or stars next to plain reviews) are Unrecognized.
//
// For other applications, ParseRules reads YAML rules that map selectors,
// response headers or JSON paths (gjson syntax) to versions and outcomes,
// and VersionHeader takes the version from a response header. Rules see
// every response, so that an error whose body or headers name a version
// counts against that version.
package classify
