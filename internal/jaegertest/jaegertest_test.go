package jaegertest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStart proves the harness against the real binary: a span sent each
// way Start offers comes back by its trace id from both query APIs.
func TestStart(t *testing.T) {
	s := Start(t)
	now := time.Now()

	senders := []struct {
		name, service, traceID string
		url, body              string
	}{
		{
			name: "otlp-http-json", service: "otlp-svc", traceID: "5b8efff798038103d269b633813fc60c",
			url: s.OTLPHTTP + "/v1/traces",
			// OTLP/HTTP's JSON encoding: ids in hex, not base64, and
			// 64-bit times as strings.
			body: fmt.Sprintf(`{"resourceSpans":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"otlp-svc"}}]},
  "scopeSpans":[{"scope":{"name":"jaegertest"},"spans":[{
    "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
    "name":"GET /productpage","kind":2,
    "startTimeUnixNano":"%d","endTimeUnixNano":"%d",
    "attributes":[{"key":"http.response.status_code","value":{"intValue":"200"}}]}]}]}]}`,
				now.UnixNano(), now.Add(5*time.Millisecond).UnixNano()),
		},
		{
			name: "zipkin-v2-json", service: "zipkin-svc", traceID: "463ac35c9f6413ad48485a3953bb6124",
			url: s.Zipkin + "/api/v2/spans",
			body: fmt.Sprintf(`[{"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d312",
  "name":"get /reviews","kind":"SERVER","timestamp":%d,"duration":5000,
  "localEndpoint":{"serviceName":"zipkin-svc"},"tags":{"http.status_code":"200"}}]`,
				now.UnixMicro()),
		},
	}
	readers := []struct {
		name string
		path string // before the trace id
		// services lists the service names of a response body.
		services func([]byte) ([]string, error)
	}{
		{"api-v3", "/api/v3/traces/", servicesV3},
		{"api-v2", "/api/traces/", servicesV2},
	}

	for _, snd := range senders {
		resp, err := http.Post(snd.url, "application/json", bytes.NewBufferString(snd.body))
		if err != nil {
			t.Fatalf("%s: %v", snd.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: POST %s: %s: %s", snd.name, snd.url, resp.Status, b)
		}
	}
	for _, snd := range senders {
		for _, rd := range readers {
			t.Run(snd.name+"/"+rd.name, func(t *testing.T) {
				url := s.QueryURL + rd.path + snd.traceID
				// Storage is written before the POST returns with this
				// configuration, but Jaeger promises no such thing: poll.
				deadline := time.Now().Add(10 * time.Second)
				for {
					got, body, err := get(url, rd.services)
					if err == nil && slices.Contains(got, snd.service) {
						t.Logf("GET %s: %s", url, body)
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("GET %s: services %q, want %q (err %v); body %s", url, got, snd.service, err, body)
					}
					time.Sleep(100 * time.Millisecond)
				}
			})
		}
	}
}

func get(url string, services func([]byte) ([]string, error)) ([]string, []byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, body, fmt.Errorf("%s", resp.Status)
	}
	got, err := services(body)
	return got, body, err
}

// servicesV3 reads the api_v3 answer: OTLP's TracesData in protobuf JSON,
// wrapped in {"result": ...}.
func servicesV3(body []byte) ([]string, error) {
	var r struct {
		Result struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []struct {
						Key   string
						Value struct{ StringValue string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	var out []string
	for _, rs := range r.Result.ResourceSpans {
		for _, a := range rs.Resource.Attributes {
			if a.Key == "service.name" {
				out = append(out, a.Value.StringValue)
			}
		}
	}
	return out, nil
}

// servicesV2 reads the UI's internal API: Jaeger's JSON model, traces
// under "data" with their services under "processes".
func servicesV2(body []byte) ([]string, error) {
	var r struct {
		Data []struct {
			TraceID   string
			Processes map[string]struct{ ServiceName string }
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	var out []string
	for _, tr := range r.Data {
		for _, p := range tr.Processes {
			out = append(out, p.ServiceName)
		}
	}
	return out, nil
}

// TestListeners checks that Jaeger listens on exactly the addresses Start
// gave it, so that no default port (16686, 4317, 8888...) of a component
// or of a newer release collides between parallel tests. It reads the
// process's sockets from /proc, as ss -ltnp would.
func TestListeners(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	s := Start(t)
	want := []string{
		strings.TrimPrefix(s.QueryURL, "http://"), s.queryGRPC, s.OTLPGRPC,
		strings.TrimPrefix(s.OTLPHTTP, "http://"), strings.TrimPrefix(s.Zipkin, "http://"),
	}
	got, err := listeners(s.pid)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("jaeger listens on %q, want %q", got, want)
	}
}

// listeners returns the TCP addresses a process listens on and the UDP
// addresses it has bound, e.g. "127.0.0.1:4317" or "udp [::]:6831".
func listeners(pid int) ([]string, error) {
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			udp := strings.HasPrefix(table, "udp")
			if !udp && f[3] != "0A" { // TCP_LISTEN
				continue
			}
			addr, err := procAddr(f[1])
			if err != nil {
				return nil, err
			}
			if udp {
				addr = "udp " + addr
			}
			out = append(out, addr)
		}
	}
	return out, nil
}

// procAddr decodes /proc/net's hex address: the IP as 32-bit words in host
// (little-endian) order, then the port in big-endian hex.
func procAddr(s string) (string, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	raw, err := hex.DecodeString(hexIP)
	if !ok || err != nil || len(raw)%4 != 0 {
		return "", fmt.Errorf("bad /proc/net address %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return "", fmt.Errorf("bad /proc/net address %q", s)
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)).String(), nil
}

func TestProcAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0100007F:10E1", "127.0.0.1:4321"},
		{"00000000:22B8", "0.0.0.0:8888"},
		{"00000000000000000000000000000000:10DD", "[::]:4317"},
		{"0000000000000000FFFF00000100007F:4166", "127.0.0.1:16742"},
	} {
		got, err := procAddr(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("procAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
