package results

import (
	"bytes"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/canary-gate/canary/classify"
)

// FuzzDecode has two oracles. Arbitrary input must never panic, and whatever
// decodes must encode and decode again to the same record. Inputs that look
// like record fields are also built into a Record, which must survive
// Append then Decode unchanged (after Normalize).
func FuzzDecode(f *testing.F) {
	for i := range goldenRecords {
		r := goldenRecords[i]
		f.Add(Append(nil, &r), r.At.UnixNano(), int64(r.Latency), r.Status, r.Version, uint8(r.Outcome), r.ID, r.Trace)
	}
	f.Add([]byte(`{"t":"2026-11-25T08:2`), int64(0), int64(-1), -5, "\xff", uint8(200), "", "")
	f.Add([]byte(`{"v":"\ud800\u0041","t":"2026-11-25T08:24:00Z","o":"ok"}`), int64(1), int64(1), 99, "\x00", uint8(1), "a\"b", "\\")
	f.Fuzz(func(t *testing.T, line []byte, unixNano, latency int64, status int, version string, outcome uint8, id, trace string) {
		if r, err := Decode(line); err == nil {
			again, err := Decode(Append(nil, &r))
			if err != nil {
				t.Fatalf("Decode(Append(Decode(%q))) error: %v", line, err)
			}
			if diff := cmp.Diff(r.Normalize(), again); diff != "" {
				t.Fatalf("re-encoding %q changed the record (-want +got):\n%s", line, diff)
			}
		}
		r := fuzzRecord(unixNano, latency, status, version, outcome, id, trace)
		enc := Append(nil, &r)
		if !utf8.Valid(enc) || bytes.IndexByte(enc, '\n') >= 0 {
			t.Fatalf("Append(%+v) = %q; want one line of valid UTF-8", r, enc)
		}
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Append(%+v)) = %q: %v", r, enc, err)
		}
		if diff := cmp.Diff(r.Normalize(), got); diff != "" {
			t.Fatalf("round trip of %q (-want +got):\n%s", enc, diff)
		}
	})
}

// fuzzRecord builds a Record from fuzz input, within the format's domain:
// a status from 0 to 999 and a known outcome.
func fuzzRecord(unixNano, latency int64, status int, version string, outcome uint8, id, trace string) Record {
	r := Record{
		At:      time.Unix(0, unixNano),
		Latency: time.Duration(latency),
		Status:  status % 1000,
		Version: version,
		Outcome: classify.Outcome(outcome),
		ID:      id,
		Trace:   trace,
	}
	if r.Status < 0 {
		r.Status = -r.Status
	}
	if _, err := classify.ParseOutcome(r.Outcome.String()); err != nil {
		r.Outcome = classify.OK
	}
	return r
}

// FuzzScanner: a results file torn and interleaved anywhere (two writers
// cutting into each other's lines, a crash mid-line, garbage spliced in)
// never panics or fails the read: every readable line is read back, and
// every other non-blank line is counted as skipped.
func FuzzScanner(f *testing.F) {
	var all []byte
	for i := range goldenRecords {
		all = append(append(all, Append(nil, &goldenRecords[i])...), '\n')
	}
	f.Add(all, uint16(30), uint16(200), []byte("{\"t\":"))
	f.Add(all, uint16(0), uint16(0), []byte("\n\n"))
	f.Add(all, uint16(7), uint16(7), bytes.Repeat([]byte("x"), 70_000))
	f.Fuzz(func(t *testing.T, file []byte, cut, at uint16, splice []byte) {
		c, a := int(cut)%(len(file)+1), int(at)%(len(file)+1)
		// Another writer's bytes land at c; the file is cut off at a.
		torn := append(append(append([]byte{}, file[:c]...), splice...), file[c:]...)
		torn = torn[:min(len(torn), a+len(splice)+c)]
		s := NewScanner(bytes.NewReader(torn), "fuzz.jsonl")
		records := 0
		for s.Scan() {
			records++
			if _, err := Decode(Append(nil, &s.rec)); err != nil {
				t.Fatalf("a record read back does not re-encode: %v", err)
			}
		}
		if s.Err() != nil {
			t.Fatalf("Err() = %v on an in-memory file; want unreadable lines skipped", s.Err())
		}
		lines, readable := 0, 0
		for _, l := range bytes.Split(torn, []byte("\n")) {
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			lines++
			if _, err := Decode(l); err == nil && len(l) <= MaxLineBytes {
				readable++
			}
		}
		if records != readable || records+s.Skipped() != lines {
			t.Fatalf("%d records and %d skipped; the file has %d lines, %d of them readable", records, s.Skipped(), lines, readable)
		}
		if (s.Skipped() == 0) != (s.Warning() == nil) {
			t.Fatalf("Skipped() = %d but Warning() = %v", s.Skipped(), s.Warning())
		}
	})
}
