package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"io"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/canary-gate/canary/bookinfo/istio"
	"github.com/canary-gate/canary/cluster"
	"github.com/canary-gate/canary/decide"
)

// expectFromFile takes the expected split from the VirtualService for host
// in a manifest file, parsed with Istio's own types: the weights of its
// first route, so a pipeline verifies exactly the file it just applied.
// Header matches make the split depend on who asks, so such files are
// refused rather than guessed at.
//
// A file of Gateway API HTTPRoutes (Istio's Gateway API samples) is read
// with the Gateway API's types instead: the route whose parent is the
// Service host gives the weights of its backend Services. A file cannot
// say which pods a Service selects, so a backend counts as version V only
// when it is named HOST-V, as the samples' bookinfo-versions.yaml names
// them; any other name, and the rollout controllers' role names
// (HOST-canary, HOST-primary), is refused in favour of --expect-from
// cluster. backends are the route's backend Services other than host, for
// the server check (none for a VirtualService file).
func expectFromFile(path, host string) (e decide.Expectation, backends []string, err error) {
	data, err := files.Read(path, files.MaxConfig)
	if err != nil {
		return decide.Expectation{}, nil, fmt.Errorf("--expect-from %s: %w", path, unwrapPath(err))
	}
	if e, backends, ok, err := expectFromHTTPRoutes(path, data, host); ok || err != nil {
		return e, backends, err
	}
	rs, err := istio.ParseManifests(path, data)
	if err != nil {
		return decide.Expectation{}, nil, fmt.Errorf("--expect-from: %w", err)
	}
	for _, r := range rs {
		vs := r.VirtualService
		if vs == nil || !hostListed(vs.GetHosts(), host) {
			continue
		}
		ws, err := cluster.RouteSplit(vs, r.Name)
		if err != nil {
			return decide.Expectation{}, nil, fmt.Errorf("--expect-from %s: %w", r.Source, err)
		}
		parts := make([]string, len(ws))
		for i, w := range ws {
			if w.Subset == "" {
				return decide.Expectation{}, nil, fmt.Errorf("--expect-from %s: VirtualService %s routes to %s without a subset: no version to expect (--expect-from cluster reads it from the pods)", r.Source, r.Name, w.Host)
			}
			parts[i] = fmt.Sprintf("%s=%d", w.Subset, w.Percent)
		}
		e, err := decide.ParseExpect(strings.Join(parts, ","))
		return e, nil, err
	}
	return decide.Expectation{}, nil, fmt.Errorf("--expect-from %s: no VirtualService for host %q (see --host)", path, host)
}

func hostListed(hosts []string, host string) bool {
	for _, h := range hosts {
		if h == host || strings.HasPrefix(h, host+".") {
			return true
		}
	}
	return false
}

// expectFromHTTPRoutes reads the file's HTTPRoutes, and the backends of the
// one for host; ok is false when it has none (an Istio manifest, then).
func expectFromHTTPRoutes(path string, data []byte, host string) (e decide.Expectation, backends []string, ok bool, err error) {
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	seen := false
	for doc := 1; ; doc++ {
		var raw k8sruntime.RawExtension
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			if !seen {
				return decide.Expectation{}, nil, false, nil // not ours to report: the Istio parser says where
			}
			return decide.Expectation{}, nil, true, fmt.Errorf("--expect-from %s: document %d: %w", path, doc, err)
		}
		var tm metav1.TypeMeta
		if len(raw.Raw) == 0 || json.Unmarshal(raw.Raw, &tm) != nil ||
			tm.Kind != "HTTPRoute" || !strings.HasPrefix(tm.APIVersion, "gateway.networking.k8s.io/") {
			continue
		}
		seen = true
		var r gatewayv1.HTTPRoute
		if err := k8syaml.UnmarshalStrict(raw.Raw, &r); err != nil {
			return decide.Expectation{}, nil, true, fmt.Errorf("--expect-from %s: document %d: HTTPRoute: %w", path, doc, err)
		}
		if !cluster.RoutesService(&r, host, r.Namespace) {
			continue
		}
		bs, err := cluster.HTTPRouteSplit(&r)
		if err != nil {
			return decide.Expectation{}, nil, true, fmt.Errorf("--expect-from %s: %w", path, err)
		}
		parts := make([]string, len(bs))
		for i, b := range bs {
			v, ok := strings.CutPrefix(b.Service, host+"-")
			if !ok || v == "" || slices.Contains(roleNames, v) {
				return decide.Expectation{}, nil, true, fmt.Errorf("--expect-from %s: HTTPRoute %s routes to Service %s: a file does not say its pods' version (want %s-VERSION, or --expect-from cluster)", path, r.Name, b.Service, host)
			}
			parts[i] = fmt.Sprintf("%s=%s", v, strconv.FormatFloat(b.Percent, 'f', -1, 64))
		}
		e, err := decide.ParseExpect(strings.Join(parts, ","))
		if err != nil {
			return e, nil, true, fmt.Errorf("--expect-from %s: HTTPRoute %s: %w", path, r.Name, err)
		}
		return e, cluster.RouteBackends(&r, host), true, nil
	}
	if seen {
		return decide.Expectation{}, nil, true, fmt.Errorf("--expect-from %s: no HTTPRoute with the Service %q as its parent (see --host)", path, host)
	}
	return decide.Expectation{}, nil, false, nil
}

// roleNames are the suffixes Flagger and Argo Rollouts give their Services
// (reviews-canary, reviews-primary, …): roles, not versions; which version
// each serves changes with every rollout.
var roleNames = []string{"canary", "primary", "stable", "preview", "active"}
