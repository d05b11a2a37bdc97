// Package mesh is a local stand-in for the Istio Bookinfo sample running
// inside a mesh: productpage, details, ratings and three reviews versions
// (package bookinfo/app), each a real HTTP server on loopback behind a
// sidecar that routes by real Istio VirtualService and DestinationRule
// resources (package bookinfo/istio) and reports Istio's standard
// telemetry and, with Options.Tracing, the spans Istio's Envoy reports.
// It exists so that canary, its demo and its end-to-end tests
// have something faithful to drive without a Kubernetes cluster.
package mesh
