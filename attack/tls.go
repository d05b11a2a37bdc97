package attack

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"net/url"
	"strings"
)

// tlsConfig builds the one *tls.Config that both clients use for the
// target u, after checking that the TLS options fit together. Nil fields
// mean Go's defaults: the system roots, and the target's host for SNI.
func (o *Options) tlsConfig(u *url.URL) (*tls.Config, error) {
	if err := o.checkTLSOptions(u); err != nil {
		return nil, err
	}
	cfg := &tls.Config{InsecureSkipVerify: o.Insecure, ServerName: o.serverName()}
	if o.HTTP2 {
		// The Transport would set this itself on first use; setting it
		// now means nothing writes to the shared config once requests run.
		cfg.NextProtos = []string{"h2"}
	}
	if o.CAFile != "" {
		pem, err := files.Read(o.CAFile, files.MaxSecret)
		if err != nil {
			return nil, fmt.Errorf("ca-file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca-file: want PEM certificates in %s, found none", o.CAFile)
		}
	}
	if o.CertFile != "" {
		c, err := loadKeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// checkTLSOptions rejects TLS options that contradict each other or the
// target's scheme.
func (o *Options) checkTLSOptions(u *url.URL) error {
	switch {
	case o.CertFile != "" && o.KeyFile == "":
		return errors.New("cert and key: give both, got only cert")
	case o.KeyFile != "" && o.CertFile == "":
		return errors.New("cert and key: give both, got only key")
	case o.Insecure && o.CAFile != "":
		return errors.New("insecure: skips verification, so ca-file would go unused; give one of them")
	case strings.ContainsAny(o.ServerName, ":/ "):
		return fmt.Errorf("sni: want a host name without port or path, got %q", o.ServerName)
	}
	if u.Scheme == "https" {
		return nil
	}
	for _, opt := range []struct {
		name string
		set  bool
	}{
		{"ca-file", o.CAFile != ""}, {"cert", o.CertFile != ""},
		{"insecure", o.Insecure}, {"sni", o.ServerName != ""},
	} {
		if opt.set {
			return fmt.Errorf("%s: want an https target, got %s", opt.name, u.Redacted())
		}
	}
	return nil
}

// serverName is the name for SNI and verification. Without ServerName, a
// Host header names it: a user who reaches a Gateway by IP and sets the
// Host header means that virtual host, the way curl --resolve users
// expect the URL's name to be both Host and SNI. Empty leaves it to each
// client, which takes the target's host.
func (o *Options) serverName() string {
	if o.ServerName != "" {
		return o.ServerName
	}
	if h := o.Headers.Get("Host"); h != "" {
		return (&url.URL{Host: h}).Hostname()
	}
	return ""
}

// loadKeyPair reads the client certificate and key, naming the file at
// fault.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := files.Read(certFile, files.MaxSecret)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cert: %w", err)
	}
	keyPEM, err := files.Read(keyFile, files.MaxSecret)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key: %w", err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cert and key: %w", err)
	}
	return c, nil
}
