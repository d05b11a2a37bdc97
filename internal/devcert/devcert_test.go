package devcert

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestIssueVerifies(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ca.Issue("bookinfo.example", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.TLS()
	if err != nil {
		t.Fatalf("Pair.TLS() error: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca.PEM) {
		t.Fatal("CA.PEM holds no certificate")
	}
	tests := []struct {
		name  string
		host  string
		usage x509.ExtKeyUsage
		ok    bool
	}{
		{"dns name as server", "bookinfo.example", x509.ExtKeyUsageServerAuth, true},
		{"ip as server", "127.0.0.1", x509.ExtKeyUsageServerAuth, true},
		{"as client", "", x509.ExtKeyUsageClientAuth, true},
		{"other name", "other.example", x509.ExtKeyUsageServerAuth, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: tc.host, Roots: roots,
				KeyUsages: []x509.ExtKeyUsage{tc.usage}, CurrentTime: time.Now()})
			if (err == nil) != tc.ok {
				t.Errorf("Verify(%q, %v) = %v; want ok %v", tc.host, tc.usage, err, tc.ok)
			}
		})
	}
}

func TestIssueWantsAHost(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Issue(); err == nil {
		t.Error("Issue() = nil error; want one asking for a host")
	}
}
