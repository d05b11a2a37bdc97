package results

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func encodeAll(rs []Record) string {
	var b bytes.Buffer
	for i := range rs {
		b.Write(Append(nil, &rs[i]))
		b.WriteByte('\n')
	}
	return b.String()
}

func scanAll(t *testing.T, input string) ([]Record, *Scanner) {
	t.Helper()
	s := NewScanner(strings.NewReader(input), "run.jsonl")
	var got []Record
	for s.Scan() {
		got = append(got, s.Record())
	}
	return got, s
}

func TestScanner(t *testing.T) {
	t.Parallel()
	all := encodeAll(goldenRecords)
	want := make([]Record, len(goldenRecords))
	for i, r := range goldenRecords {
		want[i] = r.Normalize()
	}
	tests := []struct {
		name    string
		input   string
		want    []Record
		err     string
		warning string
	}{
		{name: "whole file", input: all, want: want},
		{name: "no final newline", input: strings.TrimSuffix(all, "\n"), want: want},
		{name: "blank lines", input: "\n" + all + "\n\n", want: want},
		{name: "empty", input: ""},
		{name: "torn last line", input: all + all[:40], want: want,
			warning: "run.jsonl: 1 unreadable line skipped, the first run.jsonl:5: torn last line: l: expected ',' or '}' after the value"},
		{name: "bad line in the middle", input: all[:strings.Index(all, "\n")+1] + "{\"t\":1}\n" + all, want: append(want[:1:1], want...),
			warning: "run.jsonl: 1 unreadable line skipped, the first run.jsonl:2: t: expected a JSON string"},
		{name: "line too long", input: strings.Repeat("x", MaxLineBytes+1), warning: "run.jsonl: 1 unreadable line skipped, the first run.jsonl:1: line longer than"},
		{name: "line too long, then records", input: strings.Repeat("x", 3*MaxLineBytes) + "\n" + all, want: want,
			warning: "run.jsonl: 1 unreadable line skipped, the first run.jsonl:1: line longer than"},
		// Two writers without O_APPEND: one's line cut into by the other's.
		{name: "interleaved writers", input: all[:30] + all + all[30:], want: append(want[1:len(want):len(want)], want[1:]...),
			warning: "run.jsonl: 2 unreadable lines skipped, the first run.jsonl:1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, s := scanAll(t, tc.input)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
			checkErr(t, "Err", s.Err(), tc.err)
			checkErr(t, "Warning", s.Warning(), tc.warning)
		})
	}
}

func checkErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s() = %v; want nil", what, err)
	case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
		t.Errorf("%s() = %v; want prefix %q", what, err, want)
	case err != nil:
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("%s() = %T; want it to wrap a *LineError", what, err)
		}
	}
}

func TestWriterRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range goldenRecords {
				if err := w.Write(&goldenRecords[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := w.Write(&goldenRecords[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v; want ErrClosed", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, s := scanAll(t, string(data))
	if s.Err() != nil || s.Warning() != nil || len(got) != 4*len(goldenRecords) {
		t.Errorf("read back %d records, err %v, warning %v; want %d", len(got), s.Err(), s.Warning(), 4*len(goldenRecords))
	}
}

// TestWriterFlushesWithinASecond checks that a record reaches the file while
// the run goes on, so a killed process loses at most a second of data.
func TestWriterFlushesWithinASecond(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(&goldenRecords[0]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(FlushInterval + 500*time.Millisecond)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(path); len(data) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("record not on disk %v after Write", FlushInterval+500*time.Millisecond)
}

type failWriter struct{}

var errDiskFull = errors.New("no space left on device")

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriterErrorIsSticky(t *testing.T) {
	t.Parallel()
	w := NewWriter(failWriter{})
	if err := w.Write(&goldenRecords[0]); err != nil {
		t.Fatalf("first Write = %v; want nil (still buffered)", err)
	}
	if err := w.Flush(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Flush = %v; want %v", err, errDiskFull)
	}
	if err := w.Write(&goldenRecords[0]); !errors.Is(err, errDiskFull) {
		t.Errorf("Write after failed Flush = %v; want %v", err, errDiskFull)
	}
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("Close = %v; want %v", err, errDiskFull)
	}
}

func TestCreateUnwritable(t *testing.T) {
	t.Parallel()
	_, err := Create(filepath.Join(t.TempDir(), "missing-dir", "run.jsonl"))
	if err == nil || !strings.HasPrefix(err.Error(), "open results file: ") {
		t.Errorf("Create in a missing directory = %v; want an open error", err)
	}
}

// TestDiskFull writes to /dev/full, where every write fails with ENOSPC.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	w, err := Create("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write(&goldenRecords[0])
	if err := w.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Flush on /dev/full = %v; want ENOSPC", err)
	}
	if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close on /dev/full = %v; want ENOSPC", err)
	}
}

func TestOpenAppendCutsTornLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "run.jsonl")
	all := encodeAll(goldenRecords[:2])
	if err := os.WriteFile(path, []byte(all+all[:30]), 0o644); err != nil { // killed mid-line
		t.Fatal(err)
	}
	w, err := OpenAppend(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&goldenRecords[2]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, s := scanAll(t, string(data))
	if s.Err() != nil || s.Warning() != nil || len(got) != 3 {
		t.Errorf("after append: %d records, error %v, warning %v; want 3 clean records:\n%s", len(got), s.Err(), s.Warning(), data)
	}
}

// TestTwoWritersOneFile: two writers appending to one file (two load pods
// on a shared volume) interleave whole lines: every record reads back and
// none is torn.
func TestTwoWritersOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.jsonl")
	const each = 20_000 // several flushes of the 64 KiB buffer each
	var wg sync.WaitGroup
	for range 2 {
		w, err := Create(path)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range each {
				if err := w.Write(&goldenRecords[i%len(goldenRecords)]); err != nil {
					t.Error(err)
					return
				}
			}
			if err := w.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, s := scanAll(t, string(data))
	if len(got) != 2*each || s.Skipped() != 0 || s.Err() != nil {
		t.Errorf("read back %d records, %d skipped (%v), err %v; want %d whole records", len(got), s.Skipped(), s.Warning(), s.Err(), 2*each)
	}
}
