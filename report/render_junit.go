package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/canary-gate/canary/results"
)

// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub actions).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// renderJUnit writes one test case for the verdict, failed unless PASS
// (skipped when INCONCLUSIVE), and one per window, failed when alarmed.
func renderJUnit(w io.Writer, v *view) error {
	s := junitSuite{Name: "canary soak", Time: seconds(v.end.Sub(v.start)),
		Properties: []junitProperty{{"expect", v.band()}, {"period", v.period()},
			{"sources", strings.Join(v.rep.Sources, ", ")}}}
	if !v.start.IsZero() {
		s.Timestamp = v.start.UTC().Format("2006-01-02T15:04:05")
	}
	s.Cases = append(s.Cases, v.junitVerdict(s.Time))
	if s.Cases[0].Skipped != nil {
		s.Skipped++
	}
	for _, win := range v.windows {
		s.Cases = append(s.Cases, v.junitWindow(win))
	}
	for _, c := range s.Cases {
		s.Tests++
		if c.Failure != nil {
			s.Failures++
		}
	}
	out := junitSuites{Name: v.rep.Title, Tests: s.Tests, Failures: s.Failures, Suites: []junitSuite{s}}
	ew := &errWriter{w: w}
	ew.printf("%s", xml.Header)
	enc := xml.NewEncoder(ew)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	ew.printf("\n")
	return ew.err
}

// junitVerdict is the verdict's test case: failed unless PASS, skipped
// when INCONCLUSIVE.
func (v *view) junitVerdict(time string) junitCase {
	c := junitCase{Name: "verdict", Classname: "soak", Time: time}
	switch v.verdict {
	case "PASS":
	case "INCONCLUSIVE":
		c.Skipped = &junitMessage{Message: v.reason}
	default:
		c.Failure = &junitMessage{Message: v.verdict + ": " + v.reason, Type: v.verdict}
	}
	return c
}

// junitWindow is a window's test case, failed with its alarms.
func (v *view) junitWindow(win results.Window) junitCase {
	c := junitCase{Name: "window " + v.clock(win.Start), Classname: "soak.windows", Time: seconds(win.End.Sub(win.Start))}
	if alarms := v.alarmsIn(win); len(alarms) > 0 {
		var lines []string
		for _, a := range alarms {
			lines = append(lines, string(a.Kind)+": "+a.Message)
		}
		c.Failure = &junitMessage{Message: alarmSummary(alarms), Type: string(alarms[0].Kind),
			Text: strings.Join(lines, "\n")}
	}
	return c
}

// seconds formats a duration as JUnit's decimal seconds.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
