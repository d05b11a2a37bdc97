// Package istio is the control-plane half of the local Bookinfo mesh: the
// Istio resources it accepts and what they compile to. ParseManifests reads
// VirtualService, DestinationRule and Gateway manifests into Istio's own
// types and validates each one, rejecting every field the local mesh does
// not implement; Config is an immutable snapshot of the applied resources
// (Apply, Delete) that checks references across them; and each snapshot
// compiles to a routing Table that a sidecar or the ingress gateway asks
// where a Request goes (Route). It knows nothing of the data plane that
// consults the tables.
package istio
