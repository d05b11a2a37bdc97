// Package bookinfo has no code of its own: the local stand-in for Istio's
// Bookinfo sample lives in three packages below it, which import one way
// only (mesh imports istio and app; those two import no bookinfo package).
//
//   - bookinfo/istio: the Istio resources (VirtualService, DestinationRule,
//     Gateway): parsing and validation, the immutable Config snapshot and
//     the routing tables it compiles to.
//   - bookinfo/app: Bookinfo's applications (productpage, details, ratings,
//     reviews v1 to v3) and productpage's pages.
//   - bookinfo/mesh: the data plane that runs the apps behind sidecars and
//     an ingress gateway routing by istio's tables, reports Istio's
//     telemetry and serves the admin API.
package bookinfo
