// Package prom reads exact request counts from Istio's telemetry: from a
// Prometheus server by walking the raw samples of istio_requests_total over
// the test window (never increase() or rate(), which extrapolate and miss
// series born inside the window), or, without a server, by scraping sidecar
// endpoints before and after and diffing them.
//
// The method and its measured accuracy are in the project's Prometheus
// study: the raw walk was exact in every run, including series born inside
// the window and observed counter resets; only a proxy restart between two
// scrapes loses counts, which is why restarts are detected and reported.
package prom
