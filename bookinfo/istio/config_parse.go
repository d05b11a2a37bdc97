package istio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/canary-gate/canary/internal/yamlerr"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Resource is one parsed document.
type Resource struct {
	Kind      string // "VirtualService", "DestinationRule", "Gateway", "HTTPRoute", "Service" or "Namespace"
	Group     string // GroupGatewayAPI for the Gateway API's Gateway and HTTPRoute, else ""
	Name      string
	Namespace string // "default" when absent; any other namespace is rejected
	Source    string // "file.yaml:12": file name and first line of the document, for messages

	VirtualService  *v1alpha3.VirtualService
	DestinationRule *v1alpha3.DestinationRule
	Gateway         *v1alpha3.Gateway

	// The Kubernetes kinds (gatewayapi.go): a Gateway API Gateway, an
	// HTTPRoute, a per-version Service.
	K8sGateway *gatewayv1.GatewaySpec
	HTTPRoute  *gatewayv1.HTTPRouteSpec
	Service    *corev1.ServiceSpec
	// Labels are a Namespace's labels (never nil for one: they are all the
	// mesh reads of it) or a Service's; ambient.go reads them.
	Labels map[string]string
	// Created is when the resource was created: the cluster's
	// creationTimestamp, or when Apply first took it (one time per Apply
	// call, as one kubectl apply of a file lands within a second). The
	// Gateway API breaks ties between routes by it, the oldest first.
	Created time.Time
}

// Kinds and API versions the local mesh accepts.
const (
	kindVirtualService  = "VirtualService"
	kindDestinationRule = "DestinationRule"
	kindGateway         = "Gateway"
	defaultNamespace    = "default"
	supportedKinds      = "VirtualService, DestinationRule or Gateway (apiVersion networking.istio.io/v1alpha3, v1beta1 or v1), Gateway or HTTPRoute (gateway.networking.k8s.io/v1), Service or Namespace (v1)"
)

var istioAPIVersions = map[string]bool{
	"networking.istio.io/v1alpha3": true,
	"networking.istio.io/v1beta1":  true,
	"networking.istio.io/v1":       true,
}

// topLevelFields are the fields a resource document may carry; status is
// ignored, like kubectl apply does.
var topLevelFields = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true, "status": true}

var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// ParseManifests parses the Istio resources in data, a multi-document YAML
// stream like `kubectl apply -f` accepts (a `kind: List` of items too). name is
// the file name used in Resource.Source and in messages. It validates every
// resource on its own; cross-resource checks happen in Config.Apply. All
// errors wrap ErrInvalid and are one line: "FILE:LINE: KIND NAME: PATH: ...".
func ParseManifests(name string, data []byte) ([]Resource, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []Resource
	for {
		var doc yaml.Node
		err := yamlerr.Decode(dec, &doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(name, data, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		rs, err := parseDocument(name, doc.Content[0])
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	if len(out) == 0 {
		return nil, invalidf("%s:1: no resources found, expected at least one %s", name, supportedKinds)
	}
	return out, nil
}

// parseDocument parses one document: a resource or a List of resources.
func parseDocument(file string, root *yaml.Node) ([]Resource, error) {
	d := &docInfo{file: file, line: root.Line}
	root, err := resolveAlias(d, root, "")
	if err != nil {
		return nil, err
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil // empty document
	}
	if root.Kind != yaml.MappingNode {
		return nil, d.errorf("", "got %s, expected a resource (a mapping with apiVersion, kind, metadata and spec)", describe(root))
	}
	fields, err := mappingFields(d, root, "")
	if err != nil {
		return nil, err
	}
	if kind, _ := scalarString(d, fields, "kind", ""); kind != "List" {
		r, err := parseObject(file, root)
		return []Resource{r}, err
	}
	return parseList(d, fields)
}

// parseList parses the items of a `kind: List` document (kubectl output).
func parseList(d *docInfo, fields yamlFields) ([]Resource, error) {
	d.kind = "List"
	for _, key := range fields.keys {
		if key != "apiVersion" && key != "kind" && key != "items" && key != "metadata" {
			return nil, d.errorf(key, "unknown field, expected apiVersion, kind, metadata and items")
		}
	}
	items, ok := fields.m["items"]
	if !ok {
		return nil, nil
	}
	seq, err := resolveAlias(d, items.val, "items")
	if err != nil {
		return nil, err
	}
	if seq.Kind != yaml.SequenceNode {
		return nil, d.errorf("items", "got %s, expected a list of resources", describe(seq))
	}
	var out []Resource
	for i, item := range seq.Content {
		item, err := resolveAlias(d, item, fmt.Sprintf("items[%d]", i))
		if err != nil {
			return nil, err
		}
		if item.Kind != yaml.MappingNode {
			return nil, d.errorf(fmt.Sprintf("items[%d]", i), "got %s, expected a resource", describe(item))
		}
		r, err := parseObject(d.file, item)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// parseObject parses one resource mapping into a validated Resource.
func parseObject(file string, n *yaml.Node) (Resource, error) {
	d := &docInfo{file: file, line: n.Line, lines: map[string]int{}}
	r := Resource{Source: fmt.Sprintf("%s:%d", file, n.Line), Namespace: defaultNamespace}
	fields, err := mappingFields(d, n, "")
	if err != nil {
		return r, err
	}
	if api, kind := peekString(fields, "apiVersion"), peekString(fields, "kind"); isKubeAPI(api, kind) {
		if err := readKubeHeader(d, fields, &r, kind); err != nil {
			return r, err
		}
		return parseKubeObject(d, n, r)
	}
	if err := readHeader(d, fields, &r); err != nil {
		return r, err
	}
	msg := newSpec(&r)
	enc := &specEncoder{doc: d, lines: d.lines, budget: maxYAMLNodes}
	if spec, ok := fields.m["spec"]; ok && !isNull(spec.val) {
		err = enc.message(spec.val, msg.ProtoReflect().Descriptor(), "spec", "", 0)
	} else {
		enc.buf = append(enc.buf, "{}"...)
	}
	if err != nil {
		return r, err
	}
	if err := protojson.Unmarshal(enc.buf, msg); err != nil {
		return r, enc.protoError(err)
	}
	return r, checkResource(d, r)
}

// readHeader reads and checks apiVersion, kind and metadata into r and d.
func readHeader(d *docInfo, fields yamlFields, r *Resource) error {
	for _, key := range fields.keys {
		d.lines[key] = fields.m[key].key.Line
	}
	kind, kerr := scalarString(d, fields, "kind", "")
	d.kind = kind
	name, ns, err := readMetadata(d, fields)
	d.name = name
	if err != nil {
		return err
	}
	if kerr != nil {
		return kerr
	}
	for _, key := range fields.keys {
		if !topLevelFields[key] {
			return d.errorf(key, "unknown field, expected apiVersion, kind, metadata and spec")
		}
	}
	if err := checkType(d, fields, kind); err != nil {
		return err
	}
	if name == "" {
		return d.errorf("metadata.name", "missing name, expected a lower-case DNS-1123 name")
	}
	if len(name) > 253 || !dns1123.MatchString(name) {
		return d.errorf("metadata.name", "invalid name %q, expected a lower-case DNS-1123 name", name)
	}
	if ns != defaultNamespace {
		return d.errorf("metadata.namespace", "namespace %q is not supported, expected %q (the local mesh has one namespace)", ns, defaultNamespace)
	}
	r.Kind, r.Name, r.Namespace = kind, name, ns
	return nil
}

// peekString is a top-level scalar field's value, "" when absent or not a
// plain string (readHeader reports those).
func peekString(fields yamlFields, key string) string {
	f, ok := fields.m[key]
	if !ok || f.val.Kind != yaml.ScalarNode {
		return ""
	}
	return f.val.Value
}

// readKubeHeader reads a Kubernetes kind's metadata into r and d; the
// decoder checks the rest.
func readKubeHeader(d *docInfo, fields yamlFields, r *Resource, kind string) error {
	d.kind = kind
	name, ns, err := readMetadata(d, fields)
	d.name = name
	switch {
	case err != nil:
		return err
	case name == "":
		return d.errorf("metadata.name", "missing name, expected a lower-case DNS-1123 name")
	case len(name) > 253 || !dns1123.MatchString(name):
		return d.errorf("metadata.name", "invalid name %q, expected a lower-case DNS-1123 name", name)
	case ns != defaultNamespace:
		return d.errorf("metadata.namespace", "namespace %q is not supported, expected %q (the local mesh has one namespace)", ns, defaultNamespace)
	}
	r.Kind, r.Name, r.Namespace = kind, name, ns
	return nil
}

// checkType checks kind and apiVersion.
func checkType(d *docInfo, fields yamlFields, kind string) error {
	switch kind {
	case kindVirtualService, kindDestinationRule, kindGateway:
	case "":
		return d.errorf("kind", "missing kind, expected %s", supportedKinds)
	default:
		return d.errorf("kind", "unsupported kind %q, expected %s", kind, supportedKinds)
	}
	api, err := scalarString(d, fields, "apiVersion", "")
	switch {
	case err != nil:
		return err
	case api == "":
		return d.errorf("apiVersion", "missing apiVersion, expected networking.istio.io/v1alpha3, v1beta1 or v1")
	case !istioAPIVersions[api]:
		return d.errorf("apiVersion", "unsupported apiVersion %q, expected networking.istio.io/v1alpha3, v1beta1 or v1", api)
	}
	return nil
}

// readMetadata returns metadata.name and metadata.namespace ("default" when
// absent); other metadata fields (labels, annotations, uid...) are ignored.
func readMetadata(d *docInfo, fields yamlFields) (name, ns string, err error) {
	meta, ok := fields.m["metadata"]
	if !ok || isNull(meta.val) {
		return "", defaultNamespace, nil
	}
	mn, err := resolveAlias(d, meta.val, "metadata")
	if err != nil {
		return "", "", err
	}
	if mn.Kind != yaml.MappingNode {
		return "", "", d.errorf("metadata", "got %s, expected a mapping with name", describe(mn))
	}
	mf, err := mappingFields(d, mn, "metadata")
	if err != nil {
		return "", "", err
	}
	for _, key := range mf.keys {
		d.lines["metadata."+key] = mf.m[key].key.Line
	}
	if name, err = scalarString(d, mf, "name", "metadata."); err != nil {
		return "", "", err
	}
	if ns, err = scalarString(d, mf, "namespace", "metadata."); err != nil {
		return name, "", err
	}
	if ns == "" {
		ns = defaultNamespace
	}
	return name, ns, nil
}

// newSpec allocates the spec message for r.Kind and stores it in r.
func newSpec(r *Resource) proto.Message {
	switch r.Kind {
	case kindVirtualService:
		r.VirtualService = &v1alpha3.VirtualService{}
		return r.VirtualService
	case kindDestinationRule:
		r.DestinationRule = &v1alpha3.DestinationRule{}
		return r.DestinationRule
	default:
		r.Gateway = &v1alpha3.Gateway{}
		return r.Gateway
	}
}
