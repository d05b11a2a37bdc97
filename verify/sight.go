package verify

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

// BlindAfter is how many answered responses without any version end a
// gate: the classifier does not fit the app (a wrong --version-header, no
// --rules for a service that is not Bookinfo). A real rollout serves
// versioned responses from the start, and settling would otherwise spend
// a minute and more requests than --max-requests before a FAIL that tells
// a pipeline to roll back what is only a misconfiguration.
const BlindAfter = 50

// ErrNoVersion means the classifier named no version in the first
// BlindAfter answered responses: a usage error (exit 2), never a verdict.
var ErrNoVersion = errors.New("no version recognised")

// sight watches whether the classifier recognises anything, and keeps what
// the first response looked like for the hint. Only 200 answers count: a
// 404 or 503 while a route settles is an error of the rollout, and an
// outage page the classifier knows (Bookinfo's reviews unavailable) is
// recognised, whatever its version.
type sight struct {
	answered, versioned int
	once                sync.Once
	mu                  sync.Mutex
	first               string // the first response's classification and headers
}

// watch wraps the attack's classifier to see the first response. The
// Bookinfo classifier (nil) is left alone: the attack's fast path for it
// keeps no headers, and its hint needs none.
func (s *sight) watch(o *attack.Options) {
	inner := o.Classify
	if inner == nil {
		return
	}
	o.Classify = func(status int, h http.Header, body []byte) classify.Result {
		r := inner(status, h, body)
		s.once.Do(func() {
			names := make([]string, 0, len(h))
			for k := range h {
				names = append(names, k)
			}
			slices.Sort(names)
			s.mu.Lock()
			s.first = fmt.Sprintf("the first (HTTP %d) was %q, with headers %s", status, r.Reason(), strings.Join(names, ", "))
			s.mu.Unlock()
		})
		return r
	}
}

// blind counts one response and reports whether enough were answered,
// none with a version, to stop. The gate's lock is held.
func (s *sight) blind(r *results.Record) bool {
	if r.Status != http.StatusOK {
		return false
	}
	s.answered++
	if r.Version != "" || (r.Outcome != classify.Unrecognized && r.Outcome != classify.NotProductPage) {
		s.versioned++
	}
	return s.answered >= BlindAfter && s.versioned == 0
}

// err is ErrNoVersion with a hint when the gate stopped blind.
func (s *sight) err(o *Options) error {
	if s.answered < BlindAfter || s.versioned > 0 {
		return nil
	}
	s.mu.Lock()
	first := s.first
	s.mu.Unlock()
	if first == "" {
		first = "they were not Bookinfo product pages"
	}
	hint := "for an app other than Bookinfo give --version-header NAME (the response header that names the version) or --rules FILE (see README)"
	if o.Classifier != "" {
		hint = "check " + o.Classifier + ", or give --rules FILE (see README)"
	}
	return fmt.Errorf("%w: none of the first %d responses answered 200 named a version; %s; %s", ErrNoVersion, BlindAfter, first, hint)
}
