package labtest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// Host is a test host of the test's own: a network namespace joined to
// this one by a veth pair, with an address the API server accepts where it
// refuses loopback (Endpoints, the service proxy). Nothing else reaches it.
type Host struct {
	IP   string // the host's address, e.g. 10.251.3.2
	Gate string // this side's address of the pair
	ns   string
}

var hosts atomic.Int32

// NewHost makes a host for the test and removes it when the test ends. It
// needs root and iproute2; without them the test is skipped, except under
// CI=true, where .ci/run runs as root on a machine with iproute2.
func NewHost(t testing.TB) *Host {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("a network namespace test host needs root and iproute2 under CI=true (ip: %v, euid %d)", err, os.Geteuid())
		}
		t.Skip("a network namespace test host needs root and iproute2")
	}
	n := int(hosts.Add(1)) + os.Getpid()%200
	h := &Host{IP: fmt.Sprintf("10.251.%d.2", n%250), Gate: fmt.Sprintf("10.251.%d.1", n%250), ns: fmt.Sprintf("canary-test-%d-%d", os.Getpid(), n)}
	outer, inner := fmt.Sprintf("cvo%d", n), fmt.Sprintf("cvi%d", n)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", h.ns).Run()
		_ = exec.Command("ip", "link", "del", outer).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", h.ns},
		{"link", "add", outer, "type", "veth", "peer", "name", inner},
		{"link", "set", inner, "netns", h.ns},
		{"addr", "add", h.Gate + "/30", "dev", outer},
		{"link", "set", outer, "up"},
		{"-n", h.ns, "addr", "add", h.IP + "/30", "dev", inner},
		{"-n", h.ns, "link", "set", inner, "up"},
		{"-n", h.ns, "link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return h
}

// Command runs a program inside the host.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}
