package attack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// ErrTLS is wrapped by the error Run returns, before sending anything,
// when the TLS handshake with the target fails over a certificate: the
// target's is not trusted or not for the name asked, or the target
// refuses ours (or wants one). errors.Is(err, ErrTLS) tells this apart
// from the outcome of a request, which is data. The message is one line:
//
//	target https://127.0.0.1:8443: tls: x509: certificate signed by unknown authority (give --ca-file FILE, or --insecure to skip verification)
var ErrTLS = errors.New("tls")

// ErrNoHTTP2 is wrapped by the error Run returns, before sending
// anything, when HTTP2 is set and the target does not speak HTTP/2:
//
//	target https://127.0.0.1:8443: --http2: the server did not negotiate HTTP/2 (ALPN offered h2, got http/1.1)
var ErrNoHTTP2 = errors.New("the server did not negotiate HTTP/2")

const (
	// checkBudget bounds the check before the load; a target that does not
	// answer in time is measured, not waited for.
	checkBudget = 2 * time.Second
	// verdictWait is the least time given a server to refuse our client
	// certificate after the handshake; see awaitVerdict.
	verdictWait = 100 * time.Millisecond
)

// h2cPreface is HTTP/2's client connection preface (RFC 9113, section
// 3.4): the fixed string, then an empty SETTINGS frame.
const h2cPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"

// certAlerts are the alerts with which a server refuses the client's
// certificate, or the lack of one (certificate required, in TLS 1.3):
// bad, unsupported, revoked, expired, unknown, unknown CA, required.
var certAlerts = []tls.AlertError{42, 43, 44, 45, 46, 48, 116}

// handshakeFailure is the alert of a TLS 1.2 server that wanted a client
// certificate and got none (RFC 5246, section 7.4.6), among other causes.
const handshakeFailure tls.AlertError = 40

// check does, before the clock starts, the part of a first request that
// shows whether any request can succeed as configured: the TLS handshake
// with an https target, and whether the target speaks HTTP/2 when HTTP2
// is set. A certificate that one side cannot verify, or HTTP/2 refused,
// would otherwise turn the whole run into transport errors that a gate
// counts against the canary. Anything else, such as a refused connection
// or a timeout, is left for the attack to count. Behind a proxy the
// clients dial the proxy, not the target, so nothing is checked.
func (a *Attack) check(ctx context.Context) error {
	https := a.target.Scheme == "https"
	if !https && !a.o.HTTP2 || !direct(a.target) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, min(a.o.Timeout, checkBudget))
	defer cancel()
	conn, err := a.dialer.net.DialContext(ctx, "tcp", canonicalAddr(a.target.Scheme, a.target.Host))
	if err != nil {
		return nil
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if !https {
		return a.checkH2C(conn)
	}
	return a.checkTLS(ctx, conn, deadline)
}

// checkTLS shakes hands over raw as the clients will, with the same
// configuration.
func (a *Attack) checkTLS(ctx context.Context, raw net.Conn, deadline time.Time) error {
	cfg := a.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = a.target.Hostname()
	}
	if a.o.HTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"} // to learn what the server picks instead
	}
	asked, certs := false, cfg.Certificates
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked = true
		if len(certs) > 0 {
			return &certs[0], nil
		}
		return &tls.Certificate{}, nil
	}
	c := tls.Client(raw, cfg)
	start := time.Now()
	if err := c.HandshakeContext(ctx); err != nil {
		return a.tlsError(err, asked)
	}
	if asked {
		if d := start.Add(max(2*time.Since(start), verdictWait)); d.Before(deadline) {
			deadline = d
		}
		if err := awaitVerdict(c, deadline); err != nil {
			return a.tlsError(err, asked)
		}
	}
	if p := c.ConnectionState().NegotiatedProtocol; a.o.HTTP2 && p != "h2" {
		if p == "" {
			p = "no protocol"
		}
		return fmt.Errorf("target %s: --http2: %w (ALPN offered h2, got %s)", a.origin(), ErrNoHTTP2, p)
	}
	return nil
}

// awaitVerdict reads from c until deadline, for the server's answer to the
// client certificate it asked for. In TLS 1.3 the client's handshake ends
// before the server has checked that certificate, so a server that
// refuses it says so with an alert that only a read sees. One that
// accepts it sends nothing (HTTP/1.1) or its SETTINGS (HTTP/2): a
// timeout or data both mean accepted, and the error returned is nil.
func awaitVerdict(c *tls.Conn, deadline time.Time) error {
	_ = c.SetReadDeadline(deadline)
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}

// tlsError turns a handshake error about a certificate into Run's error,
// with the option that fixes it; asked says whether the server asked for
// a client certificate. Any other error gives nil: the attack counts it
// like every request's.
func (a *Attack) tlsError(err error, asked bool) error {
	sent := a.o.CertFile != ""
	hint := verifyHint(err)
	switch {
	case hint != "":
	case asked && refusedOurs(err, sent) && sent:
		hint = "the server refused the client certificate of --cert"
	case asked && refusedOurs(err, sent):
		hint = "the server wants a client certificate: give --cert FILE and --key FILE"
	default:
		return nil
	}
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ve) {
		err = ve.Err // its "tls: failed to verify certificate" says no more than ErrTLS
	}
	return fmt.Errorf("target %s: %w: %w (%s)", a.origin(), ErrTLS, err, hint)
}

// verifyHint says what to do about the target's certificate, or "" if
// err is not about it.
func verifyHint(err error) string {
	var (
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return "give --ca-file FILE, or --insecure to skip verification"
	case errors.As(err, &host):
		return "give --sni NAME with a name the certificate holds, or --insecure to skip verification"
	case errors.As(err, &invalid), errors.As(err, &verify):
		return "the target's certificate does not verify; --insecure skips verification"
	}
	return ""
}

// refusedOurs reports whether err is the alert of a server that asked for
// a client certificate and refused ours, or the lack of one if !sent: in
// TLS 1.2 that is a plain handshake failure. crypto/tls reports a
// received alert as a *net.OpError "remote error" around an unexported
// type whose text is that of the tls.AlertError with the same code.
func refusedOurs(err error, sent bool) bool {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" {
		return false
	}
	if !sent && oe.Err.Error() == tls.AlertError(handshakeFailure).Error() {
		return true
	}
	for _, alert := range certAlerts {
		if oe.Err.Error() == alert.Error() {
			return true
		}
	}
	return false
}

// checkH2C sends the HTTP/2 preface with prior knowledge, as the
// Transport will. An HTTP/2 server answers with a SETTINGS frame; a
// server of HTTP/1.x only answers with a status line, which is the one
// answer reported. Most take the preface for a bad request; Go's passes
// it to the handler as a "PRI *" request, for x/net's h2c handler.
func (a *Attack) checkH2C(c net.Conn) error {
	if _, err := io.WriteString(c, h2cPreface); err != nil {
		return nil
	}
	var head [9]byte // a frame header, or "HTTP/1.1 "
	if _, err := io.ReadFull(c, head[:]); err != nil || !bytes.HasPrefix(head[:], []byte("HTTP/")) {
		return nil
	}
	rest, _ := bufio.NewReaderSize(c, 256).ReadSlice('\n')
	status := bytes.TrimSpace(append(head[:], rest...))
	return fmt.Errorf("target %s: --http2: %w (sent the h2c preface, got %.60q)", a.origin(), ErrNoHTTP2, status)
}

// origin is the target's scheme and host, which is what a check is about.
func (a *Attack) origin() string {
	return a.target.Scheme + "://" + a.target.Host
}
