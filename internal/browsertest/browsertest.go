// Package browsertest renders pages in headless Chromium for tests: the
// HTML reports must draw and must fetch nothing, which only a browser can
// show. Chromium is Debian's /usr/bin/chromium; without it the tests skip,
// except under CI=true, where they fail.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Path is where Debian installs Chromium.
const Path = "/usr/bin/chromium"

// Chromium returns Path, skipping the test without it (failing it under
// CI=true: CI must install the chromium package).
func Chromium(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs %s (Debian package chromium): %v", Path, err)
		}
		t.Skipf("no %s: %v", Path, err)
	}
	return Path
}

// DroppingListener accepts connections on loopback and closes them, so
// that nothing the browser sends leaves the machine.
func DroppingListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// Run runs headless Chromium with a fresh profile, returns its
// stdout and the network requests the page initiated, read from its net
// log.
func Run(t testing.TB, chromium, dir, proxy string, args ...string) (stdout string, fetched []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp(dir, "profile")
	if err != nil {
		t.Fatal(err)
	}
	netLog := filepath.Join(profile, "netlog.json")
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
		"--proxy-server=http://" + proxy, "--log-net-log=" + netLog, "--window-size=1280,2400"}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return out.String(), pageRequests(t, netLog)
}

// pageRequests reads a Chromium net log and returns the URLs of requests
// a page initiated (the browser's own have no initiator) other than
// file: and data: ones.
func pageRequests(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("net log: %v", err)
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL       string `json:"url"`
				Initiator string `json:"initiator"`
			} `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatalf("net log %s: %v", path, err)
	}
	start, ok := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatalf("net log %s has no URL_REQUEST_START_JOB event type", path)
	}
	var urls []string
	for _, e := range log.Events {
		p := e.Params
		if e.Type != start || p.URL == "" || p.Initiator == "not an origin" ||
			strings.HasPrefix(p.URL, "file:") || strings.HasPrefix(p.URL, "data:") {
			continue
		}
		urls = append(urls, p.URL)
	}
	return urls
}

// CheckScreenshot wants a 1280×2400 PNG that is not blank, and copies it to
// copyTo when that is not empty.
func CheckScreenshot(t testing.TB, path, copyTo string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2400 {
		t.Errorf("screenshot is %v; want 1280×2400", b)
	}
	colours := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 7 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours; want a drawn page", len(colours))
	}
	if copyTo != "" {
		if err := os.WriteFile(copyTo, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
