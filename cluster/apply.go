package cluster

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the field manager of canary's server-side applies: the
// fields a stage applies are owned by "canary" in managedFields.
const FieldManager = "canary"

// Apply applies the Kubernetes objects of data, multi-document YAML named
// name in messages, with server-side apply, in document order, as `kubectl
// apply --server-side --force-conflicts --field-manager canary -f` would.
// Kinds map to resources through the API server's discovery, so any kind
// it serves works, custom resources included. An object without a
// namespace goes to the kubeconfig context's namespace (Namespace), or
// "default"; cluster-scoped objects have none. It returns one kubectl-like
// line per object applied, "virtualservice.networking.istio.io/reviews
// serverside-applied", and stops at the first document that fails, with
// one line naming name and the document: "vs.yaml: document 2
// (VirtualService reviews): <the API server's message>". The API error is
// wrapped, so apierrors.IsForbidden and the like see it, and its message is
// kept: an RBAC refusal names the verb and the resource.
func (c *Cluster) Apply(ctx context.Context, name string, data []byte) ([]string, error) {
	objs, err := decodeObjects(name, data)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("%s: no Kubernetes objects, expected YAML documents with apiVersion, kind and metadata.name", name)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// A mapper per call, filled on first use: kinds that were installed
	// since the last call (a CRD) are found, and a kind unknown to the
	// cached discovery makes the deferred mapper read it again once.
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	var lines []string
	for _, o := range objs {
		line, err := c.applyObject(ctx, mapper, dyn, o.obj)
		if err != nil {
			return lines, &applyError{where: fmt.Sprintf("%s: %s", name, o.describe()), err: err}
		}
		lines = append(lines, line)
	}
	return lines, nil
}

func (c *Cluster) applyObject(ctx context.Context, mapper meta.RESTMapper, dyn dynamic.Interface, obj *unstructured.Unstructured) (string, error) {
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return "", err
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := cmp.Or(obj.GetNamespace(), c.Namespace, "default")
		obj.SetNamespace(ns)
		ri = dyn.Resource(m.Resource).Namespace(ns)
	} else {
		obj.SetNamespace("")
	}
	// Force: the stage owns the fields it applies. Another manager's
	// (kubectl's client-side apply, an earlier kubectl edit) would otherwise
	// be a conflict and stop the rollout halfway, where the scenario means
	// "routing is now this", like `kubectl apply --server-side
	// --force-conflicts`.
	if _, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return "", err
	}
	kind := strings.ToLower(gvk.Kind)
	if gvk.Group != "" {
		kind += "." + gvk.Group
	}
	return kind + "/" + obj.GetName() + " serverside-applied", nil
}

// document is one object of a file and its place there.
type document struct {
	n   int // 1-based among the documents that are not empty
	obj *unstructured.Unstructured
}

func (d document) describe() string {
	var what []string
	for _, s := range []string{d.obj.GetKind(), d.obj.GetName()} {
		if s != "" {
			what = append(what, s)
		}
	}
	if len(what) == 0 {
		return fmt.Sprintf("document %d", d.n)
	}
	return fmt.Sprintf("document %d (%s)", d.n, strings.Join(what, " "))
}

// decodeObjects splits data at its "---" lines and decodes each document
// that is not empty (only comments or space) into an object with an
// apiVersion, a kind and a name.
func decodeObjects(name string, data []byte) ([]document, error) {
	r := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []document
	for {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		d := document{n: len(docs) + 1, obj: &unstructured.Unstructured{}}
		if err == nil {
			err = yaml.Unmarshal(chunk, &d.obj.Object)
		}
		if err == nil && len(d.obj.Object) == 0 {
			continue // comments only
		}
		if err == nil {
			err = checkObject(d.obj)
		}
		if err != nil {
			return nil, &applyError{where: name + ": " + d.describe(), err: err}
		}
		docs = append(docs, d)
	}
}

// checkObject asks for what server-side apply needs.
func checkObject(o *unstructured.Unstructured) error {
	switch {
	case o.GetAPIVersion() == "" || o.GetKind() == "":
		return errors.New("no apiVersion or kind, expected a Kubernetes object such as apiVersion: networking.istio.io/v1, kind: VirtualService")
	case o.GetName() == "":
		return errors.New("no metadata.name, expected a name (server-side apply cannot generate one)")
	}
	return nil
}

// applyError is one line: where (the file and the document), then the
// error with its line breaks folded; it wraps the error.
type applyError struct {
	where string
	err   error
}

func (e *applyError) Error() string {
	return e.where + ": " + strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(e.err.Error())
}

func (e *applyError) Unwrap() error { return e.err }
