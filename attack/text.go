package attack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/canary-gate/canary/classify"
)

// WriteText writes the human-readable summary: rates, duration, the share
// and outcomes of each version, latency quantiles, status codes and the
// recent failures with the ids to look up in Jaeger.
func (s *Summary) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "target      %s\n", s.Target)
	fmt.Fprintf(&b, "rate        %s achieved, %s requested, over %s\n",
		fmtRate(s.Rate), requested(s.Requested), s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "requests    %d sent, %d completed, %d dropped, %d late, %d in flight; %d workers (peak %d, max %d)",
		s.Sent, s.Completed, s.Dropped, s.Late, s.InFlight(), s.Workers, s.PeakWorkers, s.MaxWorkers)
	if s.Logins > 0 {
		fmt.Fprintf(&b, ", %d logins", s.Logins)
	}
	fmt.Fprintf(&b, "\nlatency     %s\n", fmtLatency(s.Latency))
	if s.Dropped > 0 {
		fmt.Fprintf(&b, "warning     %d requests were not sent: all %d workers were busy (the target is slower than rate × workers allows)\n",
			s.Dropped, s.MaxWorkers)
	}
	s.writeVersions(&b)
	fmt.Fprintf(&b, "status      %s\n", fmtStatus(s.Status))
	s.writeFailures(&b)
	_, err := w.Write(b.Bytes())
	return err
}

// String returns the text summary.
func (s *Summary) String() string {
	var b strings.Builder
	_ = s.WriteText(&b)
	return b.String()
}

// WriteJSON writes the summary as one indented JSON document.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// writeVersions renders one row per version and one column per outcome seen.
func (s *Summary) writeVersions(b *bytes.Buffer) {
	fmt.Fprintf(b, "\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "version\trequests\tshare\t")
	for _, c := range s.Outcomes {
		fmt.Fprintf(tw, "%s\t", c.Name)
	}
	fmt.Fprintf(tw, "p50\tp90\tp99\tmax\t\n")
	row := func(name string, count uint64, share float64, outcomes []Count, l Latency) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t", name, count, 100*share)
		for _, c := range s.Outcomes {
			fmt.Fprintf(tw, "%d\t", countIn(outcomes, c.Outcome))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", fmtDur(l.P50), fmtDur(l.P90), fmtDur(l.P99), fmtDur(l.Max))
	}
	for _, v := range s.Versions {
		row(versionName(v.Name), v.Count, v.Share, v.Outcomes, v.Latency)
	}
	if len(s.Versions) > 1 || s.Completed == 0 {
		row("all", s.Completed, 1, s.Outcomes, s.Latency)
	}
	_ = tw.Flush() // writes to a bytes.Buffer cannot fail
	fmt.Fprintf(b, "\n")
}

func (s *Summary) writeFailures(b *bytes.Buffer) {
	if len(s.Failures) == 0 {
		return
	}
	fmt.Fprintf(b, "\nrecent failures (newest last; find them in Jaeger by x-request-id or trace id)\n")
	for _, f := range s.Failures {
		where := "traceparent " + f.Trace
		if f.Link != "" {
			where = f.Link
		}
		fmt.Fprintf(b, "  %s  %-19s  status %3d  %-7s  %8s  x-request-id %s  %s",
			f.At.Format("15:04:05.000"), f.Name, f.Status, versionName(f.Version), fmtDur(f.Latency), f.ID, where)
		if f.Reason != "" {
			fmt.Fprintf(b, "  %s", oneLine(f.Reason, 120))
		}
		b.WriteByte('\n')
	}
}

func countIn(cs []Count, o classify.Outcome) uint64 {
	for _, c := range cs {
		if c.Outcome == o {
			return c.Count
		}
	}
	return 0
}

func versionName(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func requested(r float64) string {
	if r == 0 {
		return "max (closed loop)"
	}
	return fmtRate(r)
}

func fmtRate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.3g/s", r)
}

func fmtLatency(l Latency) string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s  mean %s",
		fmtDur(l.P50), fmtDur(l.P90), fmtDur(l.P99), fmtDur(l.Max), fmtDur(l.Mean))
}

// fmtDur prints a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

func fmtStatus(m map[int]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "none"
		}
		parts[i] = fmt.Sprintf("%s: %d", name, m[c])
	}
	return strings.Join(parts, "  ")
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
