package cluster_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canary-gate/canary/cluster"
	"github.com/canary-gate/canary/internal/labtest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// rollout is a stage's file: a comment-only header (not a document), then
// Istio's networking.istio.io/v1 Gateway, DestinationRule and
// VirtualService without a namespace, and a core ConfigMap with one.
func rollout(v1, v3 int) string {
	return "# the 50/50 stage of the walkthrough\n---\n" + gateway + "---\n" + rules + "---\n" +
		reviewsVS("reviews", "  - route:\n"+
			"    - {destination: {host: reviews, subset: v1}, weight: "+strconv.Itoa(v1)+"}\n"+
			"    - {destination: {host: reviews, subset: v3}, weight: "+strconv.Itoa(v3)+"}\n") +
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: rollout, namespace: kube-system}\ndata: {stage: canary}\n"
}

// TestApply applies a stage's file to a real API server with server-side
// apply: every object is created with canary as its field manager, a
// second apply changes nothing, a changed weight is applied over another
// manager's, and a bad document or a user without rights is one line
// naming the file and the document.
func TestApply(t *testing.T) {
	start := time.Now()
	l, kubeconfig := labtest.Start(t)
	t.Logf("lab up in %v", time.Since(start).Round(time.Millisecond))
	cl, err := cluster.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vss := cl.Istio.NetworkingV1().VirtualServices("default")
	weights := func() []int32 {
		t.Helper()
		vs, err := vss.Get(ctx, "reviews", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var w []int32
		for _, d := range vs.Spec.Http[0].Route {
			w = append(w, d.Weight)
		}
		return w
	}

	wantLines := []string{
		"gateway.networking.istio.io/bookinfo-gateway serverside-applied",
		"virtualservice.networking.istio.io/bookinfo serverside-applied",
		"destinationrule.networking.istio.io/reviews serverside-applied",
		"virtualservice.networking.istio.io/reviews serverside-applied",
		"configmap/rollout serverside-applied",
	}
	t0 := time.Now()
	lines, err := cl.Apply(ctx, "rollout.yaml", []byte(rollout(50, 50)))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	t.Logf("first apply of %d objects in %v", len(lines), time.Since(t0).Round(time.Millisecond))
	if !slices.Equal(lines, wantLines) {
		t.Errorf("Apply lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
	if w := weights(); !slices.Equal(w, []int32{50, 50}) {
		t.Errorf("reviews weights = %v; want [50 50]", w)
	}
	if _, err := cl.Istio.NetworkingV1().Gateways("default").Get(ctx, "bookinfo-gateway", metav1.GetOptions{}); err != nil {
		t.Errorf("the Gateway went elsewhere than the context's namespace (default): %v", err)
	}
	cm, err := cl.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "rollout", metav1.GetOptions{})
	if err != nil || cm.Data["stage"] != "canary" {
		t.Fatalf("ConfigMap kube-system/rollout = %v, %v; want data stage=canary", cm, err)
	}
	vs, err := vss.Get(ctx, "reviews", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mf := vs.ManagedFields; len(mf) != 1 || mf[0].Manager != cluster.FieldManager || mf[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("reviews managedFields = %+v; want one Apply entry of manager %q", mf, cluster.FieldManager)
	}

	// Idempotent: the same lines, and the server stores nothing new.
	t0 = time.Now()
	again, err := cl.Apply(ctx, "rollout.yaml", []byte(rollout(50, 50)))
	if err != nil || !slices.Equal(again, wantLines) {
		t.Errorf("second Apply = %q, %v; want the same lines and no error", again, err)
	}
	t.Logf("re-apply in %v", time.Since(t0).Round(time.Millisecond))
	vs2, err := vss.Get(ctx, "reviews", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if vs2.ResourceVersion != vs.ResourceVersion || vs2.Generation != vs.Generation {
		t.Errorf("re-apply changed reviews: resourceVersion %s → %s, generation %d → %d; want no change",
			vs.ResourceVersion, vs2.ResourceVersion, vs.Generation, vs2.Generation)
	}

	// Another manager (kubectl's server-side apply) takes the weights;
	// canary's next stage owns them again without a conflict (Force).
	kubectl := exec.Command("kubectl", "--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", "-")
	kubectl.Stdin = strings.NewReader(rollout(90, 10))
	if out, err := kubectl.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply --server-side: %v\n%s", err, out)
	}
	if w := weights(); !slices.Equal(w, []int32{90, 10}) {
		t.Fatalf("weights after kubectl = %v; want [90 10]", w)
	}
	if _, err := cl.Apply(ctx, "promote.yaml", []byte(rollout(0, 100))); err != nil {
		t.Fatalf("Apply over kubectl's fields: %v", err)
	}
	if w := weights(); !slices.Equal(w, []int32{0, 100}) {
		t.Errorf("weights after the changed apply = %v; want [0 100]", w)
	}

	// Bad documents: one line naming the file and the document; the
	// objects before the bad one are applied and reported.
	for _, tc := range []struct {
		name, data, want string
		lines            int
		match            func(error) bool
	}{
		{name: "unknown kind", data: rules + "---\napiVersion: v1\nkind: Nope\nmetadata: {name: x}\n", lines: 1,
			want: `bad.yaml: document 2 (Nope x): no matches for kind "Nope" in version "v1"`, match: meta.IsNoMatchError},
		{name: "no kind", data: "# header\n---\nmetadata: {name: x}\n",
			want: "bad.yaml: document 1 (x): no apiVersion or kind, expected a Kubernetes object"},
		{name: "no name", data: rules + "---\n" + strings.Replace(rules, "metadata: {name: reviews}", "metadata: {generateName: r-}", 1),
			want: "bad.yaml: document 2 (DestinationRule): no metadata.name"},
		{name: "not YAML", data: rules + "---\nkind: [\n", want: "bad.yaml: document 2: error converting YAML to JSON"},
		{name: "schema", data: strings.Replace(rules, "host: reviews", "host: 42", 1), lines: 0,
			want:  `bad.yaml: document 1 (DestinationRule reviews): failed to create typed patch object (default/reviews; networking.istio.io/v1, Kind=DestinationRule): .spec.host: expected string`,
			match: isAPIStatus},
		{name: "nothing", data: "# only a comment\n", want: "bad.yaml: no Kubernetes objects"},
	} {
		lines, err := cl.Apply(ctx, "bad.yaml", []byte(tc.data))
		switch {
		case err == nil:
			t.Errorf("%s: Apply = %q, nil; want error %q", tc.name, lines, tc.want)
		case !strings.HasPrefix(err.Error(), tc.want) || strings.ContainsAny(err.Error(), "\r\n"):
			t.Errorf("%s: Apply error %q; want one line starting %q", tc.name, err, tc.want)
		case tc.match != nil && !tc.match(errors.Unwrap(err)):
			t.Errorf("%s: Apply error %q does not wrap the API's error", tc.name, err)
		case len(lines) != tc.lines:
			t.Errorf("%s: Apply lines %q; want %d before the bad document", tc.name, lines, tc.lines)
		}
	}

	// A user outside system:masters: the API's Forbidden, verb and
	// resource named, after the file and the document.
	viewer := viewer(t, l)
	_, err = viewer.Apply(ctx, "vs.yaml", []byte(split5050))
	want := `vs.yaml: document 1 (VirtualService reviews): virtualservices.networking.istio.io "reviews" is forbidden: User "viewer" cannot patch resource "virtualservices" in API group "networking.istio.io" in the namespace "default"`
	if err == nil || !apierrors.IsForbidden(errors.Unwrap(err)) || err.Error() != want {
		t.Errorf("Apply as a user without rights: %v\nwant Forbidden: %s", err, want)
	}
	if w := weights(); !slices.Equal(w, []int32{0, 100}) {
		t.Errorf("weights after the refused apply = %v; want [0 100] unchanged", w)
	}
}

func isAPIStatus(err error) bool {
	_, ok := err.(apierrors.APIStatus)
	return ok
}

// TestApplyContextNamespace: an object without a namespace goes to the
// kubeconfig context's namespace; a cluster-scoped object has none.
func TestApplyContextNamespace(t *testing.T) {
	_, kubeconfig := labtest.Start(t)
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts[cfg.CurrentContext].Namespace = "team-a"
	path := filepath.Join(t.TempDir(), "team-a.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	cl, err := cluster.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Namespace != "team-a" {
		t.Errorf("Namespace = %q; want the context's team-a", cl.Namespace)
	}
	ctx := context.Background()
	lines, err := cl.Apply(ctx, "ns.yaml", []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: routing}\ndata: {v: '1'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"namespace/team-a serverside-applied", "configmap/routing serverside-applied"}; !slices.Equal(lines, want) {
		t.Errorf("Apply lines = %q; want %q", lines, want)
	}
	if _, err := cl.Kube.CoreV1().ConfigMaps("team-a").Get(ctx, "routing", metav1.GetOptions{}); err != nil {
		t.Errorf("ConfigMap not in the context's namespace team-a: %v", err)
	}
}
