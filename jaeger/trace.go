package jaeger

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Trace is one trace as the query service returned it.
type Trace struct {
	ID    string
	API   string // "v3" or "v1": which endpoint answered
	Spans []Span
}

// Span is one span, flattened: the process's service name on the span and
// every tag (OTLP attribute) as a string.
type Span struct {
	SpanID   string
	ParentID string
	Service  string
	Name     string
	Kind     string // "server", "client", … ("" when unset)
	Start    time.Time
	Duration time.Duration
	Tags     map[string]string
}

// parseV3 reads an /api/v3/traces/{id} answer: OTLP JSON, wrapped in
// {"result": …} by the gateway that streams it.
func parseV3(body []byte) (*Trace, error) {
	var wrapped struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &wrapped); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if wrapped.Error != nil {
		if wrapped.Error.Code == 5 { // gRPC NOT_FOUND
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("jaeger error %d: %s", wrapped.Error.Code, wrapped.Error.Message)
	}
	otlp := body
	if len(wrapped.Result) > 0 {
		otlp = wrapped.Result
	}
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(otlp)
	if err != nil {
		return nil, fmt.Errorf("not OTLP JSON: %w", err)
	}
	t := &Trace{API: "v3"}
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		service := ""
		if v, ok := rs.Resource().Attributes().Get("service.name"); ok {
			service = v.AsString()
		}
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				s := spans.At(k)
				if t.ID == "" {
					t.ID = s.TraceID().String()
				}
				sp := Span{
					SpanID: s.SpanID().String(), Service: service, Name: s.Name(), Kind: kindV3(s.Kind()),
					Start: s.StartTimestamp().AsTime(), Duration: s.EndTimestamp().AsTime().Sub(s.StartTimestamp().AsTime()),
					Tags: map[string]string{},
				}
				if p := s.ParentSpanID(); !p.IsEmpty() {
					sp.ParentID = p.String()
				}
				s.Attributes().Range(func(k string, v pcommon.Value) bool {
					sp.Tags[k] = v.AsString()
					return true
				})
				t.Spans = append(t.Spans, sp)
			}
		}
	}
	sortSpans(t.Spans)
	return t, nil
}

func kindV3(k ptrace.SpanKind) string {
	switch k {
	case ptrace.SpanKindServer:
		return "server"
	case ptrace.SpanKindClient:
		return "client"
	case ptrace.SpanKindProducer:
		return "producer"
	case ptrace.SpanKindConsumer:
		return "consumer"
	case ptrace.SpanKindInternal:
		return "internal"
	}
	return ""
}

// parseV1 reads an /api/traces/{id} answer: the Jaeger UI's JSON.
func parseV1(body []byte) (*Trace, error) {
	var r struct {
		Data []struct {
			TraceID string `json:"traceID"`
			Spans   []struct {
				SpanID     string `json:"spanID"`
				Operation  string `json:"operationName"`
				References []struct {
					RefType string `json:"refType"`
					SpanID  string `json:"spanID"`
				} `json:"references"`
				StartTime int64   `json:"startTime"` // µs since the epoch
				Duration  int64   `json:"duration"`  // µs
				Tags      []tagV1 `json:"tags"`
				ProcessID string  `json:"processID"`
			} `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("not Jaeger's JSON: %w", err)
	}
	if len(r.Errors) > 0 {
		if r.Errors[0].Code == 404 {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("jaeger error %d: %s", r.Errors[0].Code, r.Errors[0].Msg)
	}
	if len(r.Data) == 0 {
		return nil, ErrNotFound
	}
	d := r.Data[0]
	t := &Trace{ID: d.TraceID, API: "v1"}
	for _, s := range d.Spans {
		sp := Span{SpanID: s.SpanID, Service: d.Processes[s.ProcessID].ServiceName, Name: s.Operation,
			Start: time.UnixMicro(s.StartTime), Duration: time.Duration(s.Duration) * time.Microsecond, Tags: map[string]string{}}
		for _, ref := range s.References {
			if ref.RefType == "CHILD_OF" {
				sp.ParentID = ref.SpanID
				break
			}
		}
		for _, tg := range s.Tags {
			sp.Tags[tg.Key] = tg.String()
		}
		sp.Kind = sp.Tags["span.kind"]
		t.Spans = append(t.Spans, sp)
	}
	sortSpans(t.Spans)
	return t, nil
}

// tagV1 is one v1 tag; its value's JSON type follows its "type".
type tagV1 struct {
	Key   string          `json:"key"`
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

func (t tagV1) String() string {
	var s string
	if json.Unmarshal(t.Value, &s) == nil {
		return s
	}
	var f float64
	if json.Unmarshal(t.Value, &f) == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return string(t.Value) // true, false, or what a newer Jaeger sends
}

func sortSpans(s []Span) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].Start.Before(s[j].Start) })
}
