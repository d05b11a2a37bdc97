package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// flaggerPayload is the JSON Flagger POSTs to a webhook
// (CanaryWebhookPayload in github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1).
type flaggerPayload struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Checksum  string            `json:"checksum"`
	Metadata  map[string]string `json:"metadata"`
}

// Flagger's hook types. Flagger counts a non-2xx answer of pre-rollout as
// a failed check (the canary is rolled back at its threshold) and makes the
// confirm-* hooks wait for a 2xx without counting anything; rollback rolls
// back on a 2xx.
var gateHooks = map[string]bool{
	"confirm-rollout": true, "confirm-traffic-increase": true, "confirm-promotion": true, "pre-rollout": true,
}

// flagger answers POST /flagger/{hook}: the confirm-* and pre-rollout
// hooks run a gate with the webhook's metadata as `canary verify` flags;
// rollback answers 200 (roll back) only when the canary's last gate
// failed; rollout starts steady load for the analysis (one per canary);
// post-rollout and event are acknowledged.
func (s *Server) flagger(rw http.ResponseWriter, r *http.Request) {
	hook := r.PathValue("hook")
	var p flaggerPayload
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&p); err != nil {
		http.Error(rw, "flagger payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	if p.Name == "" || p.Namespace == "" {
		http.Error(rw, "flagger payload: want name and namespace", http.StatusBadRequest)
		return
	}
	key := p.Namespace + "/" + p.Name
	switch {
	case gateHooks[hook]:
		out, busy := s.run(r.Context(), "flagger/"+hook, key, p.Metadata)
		if busy != "" {
			http.Error(rw, busy+": try again", http.StatusConflict)
			return
		}
		s.remember(key, p.Checksum, out)
		writeOutcome(rw, out)
	case hook == "rollback":
		last := s.last(key, p.Checksum)
		if last != nil && last.Verdict == Fail {
			fmt.Fprintf(rw, "roll back %s: its last gate failed: %s\n", key, last.Reason)
			return
		}
		http.Error(rw, "no failed gate for "+key+": not rolling back", http.StatusPreconditionFailed)
	case hook == "rollout" && s.opts.Load != nil:
		fmt.Fprintln(rw, s.startLoad(key, p.Metadata))
	case hook == "rollout" || hook == "post-rollout" || hook == "event":
		fmt.Fprintf(rw, "%s %s: acknowledged\n", hook, key)
	default:
		http.Error(rw, fmt.Sprintf("unknown Flagger hook %q: want one of confirm-rollout, confirm-traffic-increase, confirm-promotion, pre-rollout, rollout, post-rollout, rollback, event", hook), http.StatusNotFound)
	}
}

// writeOutcome maps a verdict to the status Flagger acts on: 200 PASS;
// 403 FAIL; 503 INCONCLUSIVE (not a failure: retry); 400 for settings
// the gate refused; 500 when it could not run. The body is the reason and
// then the gate's JSON report.
func writeOutcome(rw http.ResponseWriter, out Outcome) {
	code := http.StatusOK
	switch {
	case out.Usage:
		code = http.StatusBadRequest
	case out.Err != nil && out.Verdict == "":
		code = http.StatusInternalServerError
	case out.Verdict == Fail:
		code = http.StatusForbidden
	case out.Verdict == Inconclusive:
		code = http.StatusServiceUnavailable
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.WriteHeader(code)
	line := out.Verdict + "  " + out.Reason
	if out.Err != nil {
		line = strings.TrimSpace(out.Verdict + " " + out.Err.Error())
	}
	fmt.Fprintln(rw, strings.TrimSpace(line))
	if len(out.Report) > 0 {
		_, _ = rw.Write(out.Report)
	}
}

// remember keeps the last outcome per canary and checksum.
func (s *Server) remember(key, checksum string, out Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := out
	s.results[key+"@"+checksum] = &o
	s.results[key] = &o
}

// last is the canary's last outcome for the checksum (any, without one).
func (s *Server) last(key, checksum string) *Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if checksum != "" {
		return s.results[key+"@"+checksum]
	}
	return s.results[key]
}
