package serve

import (
	"encoding/json"
	"net/http"
)

// verdictAnswer is what GET /v1/verdict answers, for an Argo Rollouts web
// metric: jsonPath "{$.verdict}" with successCondition `result == "PASS"`
// and failureCondition `result == "FAIL"` leaves INCONCLUSIVE
// inconclusive, which pauses the rollout for a person instead of failing it.
type verdictAnswer struct {
	Verdict string          `json:"verdict"`
	Reason  string          `json:"reason"`
	Error   string          `json:"error,omitempty"`
	Report  json.RawMessage `json:"report,omitempty"`
}

// verdict answers GET /v1/verdict?expect=…&target=… (or POST with a JSON
// object of the same settings): it runs a gate and answers 200 with the
// verdict in JSON, also for FAIL and INCONCLUSIVE (a web metric reads any
// non-2xx as an error); 400 for refused settings, 409 when busy, 500 when
// the gate could not run.
func (s *Server) verdict(rw http.ResponseWriter, r *http.Request) {
	settings := map[string]string{}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&settings); err != nil {
			writeJSON(rw, http.StatusBadRequest, verdictAnswer{Error: "settings: want a JSON object of strings: " + err.Error()})
			return
		}
	} else {
		for k, v := range r.URL.Query() {
			settings[k] = v[len(v)-1]
		}
	}
	key := settings["gate"]
	if key == "" {
		key = "argo:" + settings["target"] + ":" + settings["host"]
	}
	delete(settings, "gate")
	out, busy := s.run(r.Context(), "argo", key, settings)
	if busy != "" {
		writeJSON(rw, http.StatusConflict, verdictAnswer{Error: busy})
		return
	}
	ans := verdictAnswer{Verdict: out.Verdict, Reason: out.Reason, Report: out.Report}
	if out.Err != nil {
		ans.Error = out.Err.Error()
	}
	code := http.StatusOK
	switch {
	case out.Usage:
		code = http.StatusBadRequest
	case out.Verdict == "":
		code = http.StatusInternalServerError
	}
	writeJSON(rw, code, ans)
}

func writeJSON(rw http.ResponseWriter, code int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	_ = json.NewEncoder(rw).Encode(v)
}

// pageCount is one canary_pages_total series' increment.
type pageCount struct {
	version, outcome string
	n                int
}

// reportVersions are the per-version pages of a gate's JSON report (its
// load summary) or of an attack's JSON summary.
type reportVersions []struct {
	Name     string `json:"name"`
	Outcomes []struct {
		Outcome string `json:"outcome"`
		Count   int    `json:"count"`
	} `json:"outcomes"`
	Latency struct {
		Histogram *histogram `json:"histogram"`
	} `json:"latency"`
}

// versionsOf reads the per-version pages of a report; nil when it has none.
func versionsOf(report []byte) reportVersions {
	var r struct {
		Load *struct {
			Versions reportVersions `json:"versions"`
		} `json:"load"`
		Versions reportVersions `json:"versions"`
	}
	if len(report) == 0 || json.Unmarshal(report, &r) != nil {
		return nil
	}
	if r.Load != nil {
		return r.Load.Versions
	}
	return r.Versions
}

// pageCounts reads the pages by version and outcome from a report.
func pageCounts(vs reportVersions) []pageCount {
	var out []pageCount
	for _, v := range vs {
		for _, o := range v.Outcomes {
			if o.Count > 0 {
				out = append(out, pageCount{v.Name, o.Outcome, o.Count})
			}
		}
	}
	return out
}
