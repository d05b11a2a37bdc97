package results

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/canary-gate/canary/classify"
)

var update = flag.Bool("update", false, "update golden files")

var at = time.Date(2026, 11, 25, 8, 24, 0, 123456789, time.UTC)

// goldenRecords covers every field, the omitted ones and the escapes.
var goldenRecords = []Record{
	{At: at, Latency: 1234567 * time.Nanosecond, Status: 200, Version: "v2", Outcome: classify.OK,
		ID: "0f1e2d3c-1234-4abc-8def-0123456789ab"},
	{At: at.Add(time.Millisecond), Latency: 60 * time.Second, Status: 503, Version: "v3", Outcome: classify.RatingsUnavailable,
		ID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", Trace: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	{At: at.Add(2 * time.Millisecond), Latency: 10 * time.Second, Outcome: classify.TransportError,
		ID: "a1b2c3d4-0000-4000-8000-000000000000", Trace: "00-00000000000000000000000000000001-0000000000000001-01"},
	{At: at.In(time.FixedZone("CET", 3600)), Version: "we\"ird\\\n\x01\xff", Outcome: classify.Unrecognized},
}

func TestAppendGolden(t *testing.T) {
	var buf bytes.Buffer
	for i := range goldenRecords {
		buf.Write(Append(nil, &goldenRecords[i]))
		buf.WriteByte('\n')
	}
	path := filepath.Join("testdata", t.Name()+".golden.jsonl")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("Append mismatch (-want +got):\n%s", diff)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range goldenRecords {
		t.Run(r.ID, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(Append(nil, &r))
			if err != nil {
				t.Fatalf("Decode(Append(%+v)) error: %v", r, err)
			}
			if diff := cmp.Diff(r.Normalize(), got); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRecordSize pins the 200-byte budget with the longest realistic record:
// a failed sample with every field, the longest outcome name and a 60 s latency.
func TestRecordSize(t *testing.T) {
	r := goldenRecords[1]
	r.Outcome = longestOutcome(t)
	r.At = time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC)
	if n := len(Append(nil, &r)) + 1; n > 200 {
		t.Errorf("record with newline is %d bytes; want <= 200: %s", n, Append(nil, &r))
	}
}

func longestOutcome(t *testing.T) classify.Outcome {
	t.Helper()
	var best classify.Outcome
	for o := range 256 {
		out := classify.Outcome(o)
		if _, err := classify.ParseOutcome(out.String()); err == nil && len(out.String()) > len(best.String()) {
			best = out
		}
	}
	return best
}

func TestAppendAllocs(t *testing.T) {
	r := goldenRecords[1]
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], &r) }); n != 0 {
		t.Errorf("Append allocates %v times per record; want 0", n)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	ok := `"t":"2026-11-25T08:24:00.123456Z","o":"ok"`
	tests := []struct {
		name, line, want string
	}{
		{"empty object", `{}`, `t: missing; expected an RFC 3339 time`},
		{"not an object", `[1,2]`, `expected a JSON object`},
		{"torn", `{"t":"2026-11-25T08:2`, `t: expected a JSON string`},
		{"bad time", `{"t":"yesterday","o":"ok"}`, `t: expected an RFC 3339 time, got "yesterday"`},
		{"missing outcome", `{"t":"2026-11-25T08:24:00.123456Z"}`, `o: missing; expected an outcome name`},
		{"unknown outcome", `{"t":"2026-11-25T08:24:00Z","o":"great"}`, `o: expected an outcome name, got "great"`},
		{"negative latency", `{` + ok + `,"l":-1}`, `l: expected an integer from 0 to 9223372036854775`},
		{"status too big", `{` + ok + `,"s":1000}`, `s: expected an integer from 0 to 999`},
		{"status as string", `{` + ok + `,"s":"200"}`, `s: expected an integer from 0 to 999`},
		{"version as number", `{` + ok + `,"v":2}`, `v: expected a JSON string`},
		{"no colon", `{"t" 1}`, `t: expected ':' after the key`},
		{"trailing data", `{` + ok + `} x`, `unexpected data after the object`},
		{"nested unknown", `{` + ok + `,"x":{"a":1}}`, `x: expected a string, number, true, false or null`},
		{"missing comma", `{` + ok + ` "s":1}`, `o: expected ',' or '}' after the value`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tc.line))
			if err == nil || err.Error() != tc.want {
				t.Errorf("Decode(%s) error = %v; want %q", tc.line, err, tc.want)
			}
		})
	}
}

func TestDecodeTolerates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line string
		want       Record
	}{
		{"spaces and unknown keys", ` { "x" : true , "t" : "2026-11-25T08:24:00Z" , "n":null, "o" : "http-error" , "s" : 502 } `,
			Record{At: at.Truncate(time.Second), Outcome: classify.HTTPError, Status: 502}},
		{"escapes", `{"t":"2026-11-25T08:24:00Z","o":"ok","v":"\u00e9\ud83d\ude00\/\t"}`,
			Record{At: at.Truncate(time.Second), Outcome: classify.OK, Version: "é😀/\t"}},
		{"other zone", `{"t":"2026-11-25T09:24:00+01:00","o":"ok"}`,
			Record{At: at.Truncate(time.Second), Outcome: classify.OK}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode([]byte(tc.line))
			if err != nil {
				t.Fatalf("Decode(%s) error: %v", tc.line, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decode(%s) mismatch (-want +got):\n%s", tc.line, diff)
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	r := goldenRecords[1]
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], &r)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecode(b *testing.B) {
	line := Append(nil, &goldenRecords[1])
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := Decode(line); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNormalizeIsIdempotent(t *testing.T) {
	for _, r := range goldenRecords {
		once := r.Normalize()
		if diff := cmp.Diff(once, once.Normalize()); diff != "" {
			t.Errorf("Normalize not idempotent for %q:\n%s", strings.ToValidUTF8(r.Version, "?"), diff)
		}
	}
}
