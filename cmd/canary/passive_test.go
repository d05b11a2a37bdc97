package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{"2m", now.Add(-2 * time.Minute), ""},
		{"90s", now.Add(-90 * time.Second), ""},
		{"2026-12-07T09:30:00Z", now.Add(-30 * time.Minute), ""},
		{"2026-12-07T10:30:00+01:00", now.Add(-30 * time.Minute), ""},
		{"0s", time.Time{}, "want a positive duration"},
		{"-5m", time.Time{}, "want a positive duration"},
		{"2026-12-07T11:00:00Z", time.Time{}, "want a time in the past"},
		{"yesterday", time.Time{}, "want a duration such as 2m, or an RFC 3339 time"},
		{"", time.Time{}, "want a duration"},
	} {
		got, err := parseSince(tc.in, now)
		switch {
		case tc.err == "" && (err != nil || !got.Equal(tc.want)):
			t.Errorf("parseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "--since ")):
			t.Errorf("parseSince(%q) error = %v; want one naming --since and saying %q", tc.in, err, tc.err)
		}
	}
}

// FuzzParseSince: any --since value gives a time in the past or a
// one-line error naming the flag, never a panic.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"2m", "1h30m", "2026-12-07T09:30:00Z", "", "-1s", "9999999999h", "2026-13-40T99:00:00Z"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseSince(s, now)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--since ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("parseSince(%q) error %q: want one line naming --since", s, err)
			}
			return
		}
		if got.After(now) {
			t.Fatalf("parseSince(%q) = %v, after now", s, got)
		}
	})
}
