package mesh

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"net/http"
	"net/http/httputil"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/canary-gate/canary/bookinfo/istio"
)

// gatewayName is the Gateway the ingress serves; VirtualServices bind to it
// by name, as bookinfo-gateway.yaml does.
const gatewayName = "bookinfo-gateway"

// gatewayProxy is one of the mesh's gateways: Istio's istio-ingressgateway,
// routed by the VirtualServices of the Istio Gateway bookinfo-gateway, or
// the Deployment Istio runs for a Gateway API Gateway (bookinfo-gateway-istio
// for bookinfo-gateway), routed by the HTTPRoutes whose parent it is.
type gatewayProxy struct {
	peer    *peer
	tel     *telemetry
	key     func(*istio.Table) string // the routing table's name of the gateway
	tracer  trace.Tracer              // nil without tracing
	attrs   []attribute.KeyValue
	handler http.Handler
}

// K8sGatewayService is the Service (and Deployment) Istio creates for the
// Gateway API Gateway bookinfo-gateway: the Gateway's name and "-istio".
const K8sGatewayService = gatewayName + "-istio"

func (m *Mesh) newGateway(p *peer, key func(*istio.Table) string) *gatewayProxy {
	gw := &gatewayProxy{peer: p, tel: newTelemetry(m.started), key: key}
	if m.tracing != nil {
		gw.tracer = m.tracing.tracer(p.app + "." + p.namespace)
		// The local gateway has one pod; Prometheus discovery calls it by
		// the workload name too.
		gw.attrs = proxyAttrs("router", p.workload, p.namespace, p.app, p.canonicalRevision)
	}
	gw.handler = m.gatewayHandler(gw)
	m.peers[p.workload] = p
	return gw
}

func (m *Mesh) gatewayHandler(gw *gatewayProxy) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The gateway's routing picks the pod; the URL host only has to be
			// the service, the Host header stays what the client sent.
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "productpage:9080"
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport:  &outbound{m: m, gw: gw},
		BufferPool: &bufferPool{},
		ErrorHandler: func(rw http.ResponseWriter, _ *http.Request, err error) {
			http.Error(rw, "upstream connect error or disconnect/reset before headers: "+err.Error(), http.StatusServiceUnavailable)
		},
	}
}

// loadIngressTLS reads the ingress's certificate and key; both empty
// means plain http and a nil config.
func loadIngressTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls-cert and tls-key: give both or neither")
	}
	pems := make([][]byte, 2)
	for i, f := range []struct{ opt, path string }{{"tls-cert", certFile}, {"tls-key", keyFile}} {
		b, err := files.Read(f.path, files.MaxSecret)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.opt, err)
		}
		pems[i] = b
	}
	cert, err := tls.X509KeyPair(pems[0], pems[1])
	if err != nil {
		return nil, fmt.Errorf("tls-cert and tls-key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// ingressProtocols are HTTP/1.1 and HTTP/2: by ALPN over TLS, by prior
// knowledge (h2c) over plain http, as an Istio gateway's listener accepts
// both. The pods behind it are still called over HTTP/1.1.
func ingressProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// ServeHTTP is a gateway's listener: it gives every request an
// x-request-id, as Envoy does, and routes it by the gateway's routes.
func (gw *gatewayProxy) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Header.Get("x-request-id") == "" {
		r.Header.Set("x-request-id", newRequestID())
	}
	r.Header.Del(peerHeader) // only sidecars may claim an identity
	r.Header.Del(serviceHeader)
	gw.handler.ServeHTTP(rw, r)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// bufferPool lends the proxy its copy buffers: without it every page costs
// a fresh 32 KiB buffer, the largest allocation on the ingress path.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }
