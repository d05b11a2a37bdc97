// Package results defines the results file shared by attack (the writer) and
// report/soak (the readers): one compact JSON object per request, one per line.
//
// A line looks like this (the trace is present only for failed samples):
//
//	{"t":"2026-11-25T08:24:00.123456Z","l":1234,"s":200,"v":"v2","o":"ok","id":"0f1e2d3c-…"}
//
// Keys are short on purpose: a record stays under 200 bytes, so an hour at
// 2,000 requests/s is about 1.4 GB instead of the 45 GB a body-carrying
// format needs. Times are UTC with microsecond precision and latencies are
// whole microseconds; that is the resolution of the latency histograms too.
package results

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/canary-gate/canary/classify"
)

// Record is what the results file keeps about one request. Bodies are never
// part of it.
type Record struct {
	At      time.Time        // when the request was sent
	Latency time.Duration    // until the last body byte was read
	Status  int              // HTTP status; 0 when there was no response
	Version string           // the version the classifier saw, "" if none
	Outcome classify.Outcome // the classifier's verdict
	ID      string           // the x-request-id header sent
	Trace   string           // the traceparent header sent; only for failed samples
}

// timeLayout is fixed-width so that every record of a run has the same shape.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Normalize returns r as it reads back from a results file: At in UTC and
// truncated to the microsecond, Latency truncated to the microsecond and
// strings with each invalid UTF-8 byte replaced by U+FFFD.
func (r Record) Normalize() Record {
	r.At = r.At.UTC().Truncate(time.Microsecond)
	if r.Latency < 0 {
		r.Latency = 0
	}
	r.Latency = r.Latency.Truncate(time.Microsecond)
	r.Version = validUTF8(r.Version)
	r.ID = validUTF8(r.ID)
	r.Trace = validUTF8(r.Trace)
	return r
}

// Append appends the JSON encoding of r to dst, without a trailing newline,
// and returns the extended buffer. It does not allocate when dst has room.
func Append(dst []byte, r *Record) []byte {
	dst = append(dst, `{"t":"`...)
	dst = r.At.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, `","l":`...)
	lat := r.Latency
	if lat < 0 {
		lat = 0
	}
	dst = strconv.AppendInt(dst, int64(lat/time.Microsecond), 10)
	dst = append(dst, `,"s":`...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	if r.Version != "" {
		dst = append(dst, `,"v":`...)
		dst = appendString(dst, r.Version)
	}
	dst = append(dst, `,"o":`...)
	dst = appendString(dst, r.Outcome.String())
	if r.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, r.ID)
	}
	if r.Trace != "" {
		dst = append(dst, `,"tp":`...)
		dst = appendString(dst, r.Trace)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 bytes become U+FFFD
// one for one, so Normalize can predict the result.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			dst = appendEscape(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// validUTF8 replaces each invalid byte of s with U+FFFD, like appendString.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
