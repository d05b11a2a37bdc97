// Package flagger tests canary serve with Flagger's own webhook client:
// controller.CallWebhook is what Flagger's scheduler calls for every hook
// of a Canary, and its error is what holds, halts or rolls back a rollout.
package flagger

import (
	"maps"
	"net/url"
	"strings"
	"testing"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/controller"
	"sigs.k8s.io/yaml"

	"github.com/canary-gate/canary/interop/harness"
)

// TestFlaggerWebhooks: the webhooks of examples/flagger-canary.yaml,
// decoded into Flagger's Canary and sent by Flagger's CallWebhook to
// canary serve on the local mesh's 50/50 split. A right split returns nil
// (Flagger goes on), a wrong one an error (Flagger holds the weight, or
// counts a failed pre-rollout check), an inconclusive one an error too;
// the rollback hook returns nil (roll back) only after a failed gate.
func TestFlaggerWebhooks(t *testing.T) {
	split := harness.Shared(t, "seed-manifests", "virtual-service-reviews-50-50.yaml")
	var cd flaggerv1.Canary
	if err := yaml.UnmarshalStrict(harness.Example(t, "flagger-canary.yaml"), &cd); err != nil {
		t.Fatalf("examples/flagger-canary.yaml is not a Flagger Canary: %v", err)
	}
	env := harness.Start(t, split)

	hooks := map[flaggerv1.HookType]flaggerv1.CanaryWebhook{}
	for _, w := range cd.GetAnalysis().Webhooks {
		hooks[w.Type] = w
	}
	for _, typ := range []flaggerv1.HookType{flaggerv1.ConfirmTrafficIncreaseHook, flaggerv1.ConfirmPromotionHook, flaggerv1.RollbackHook} {
		if _, ok := hooks[typ]; !ok {
			t.Fatalf("examples/flagger-canary.yaml has no %s webhook", typ)
		}
	}
	// The example has no pre-rollout hook; one shaped like its
	// confirm-traffic-increase hook checks that type too.
	pre := hooks[flaggerv1.ConfirmTrafficIncreaseHook]
	pre.Name, pre.Type = "split-before-rollout", flaggerv1.PreRolloutHook
	pre.URL = strings.Replace(pre.URL, "/confirm-traffic-increase", "/pre-rollout", 1)
	hooks[pre.Type] = pre

	// here points a hook at this test's canary serve and, for a gate,
	// replaces the example's expect-from: cluster (there is no cluster
	// here) with expect, keeping its other metadata (host, tolerance).
	here := func(w flaggerv1.CanaryWebhook, expect, maxRequests string) flaggerv1.CanaryWebhook {
		u, err := url.Parse(w.URL)
		if err != nil {
			t.Fatalf("webhook %s: %v", w.Name, err)
		}
		srv, _ := url.Parse(env.Serve)
		u.Scheme, u.Host = srv.Scheme, srv.Host
		w.URL = u.String()
		if expect != "" {
			md := map[string]string{}
			if w.Metadata != nil {
				maps.Copy(md, *w.Metadata)
			}
			delete(md, "expect-from")
			maps.Copy(md, env.GateSettings(maxRequests))
			md["expect"] = expect
			w.Metadata = &md
		}
		return w
	}
	rollback := here(hooks[flaggerv1.RollbackHook], "", "")
	call := func(w flaggerv1.CanaryWebhook, phase flaggerv1.CanaryPhase) error {
		t.Helper()
		return controller.CallWebhook(cd, phase, w)
	}
	// Flagger's scheduler sends Progressing to gate hooks, and to rollback
	// hooks the canary's phase: Progressing while it is being analysed.
	wantRollback := func(after string, want bool) {
		t.Helper()
		err := call(rollback, flaggerv1.CanaryPhaseProgressing)
		switch {
		case want && err != nil:
			t.Errorf("rollback hook after %s: %v; want nil (Flagger rolls back)", after, err)
		case !want && err == nil:
			t.Errorf("rollback hook after %s: nil; want an error (Flagger does not roll back)", after)
		case !want && !strings.Contains(err.Error(), "not rolling back"):
			t.Errorf("rollback hook after %s: %v; want canary serve's 412 'not rolling back'", after, err)
		}
	}

	wantRollback("no gate", false)
	for _, typ := range []flaggerv1.HookType{flaggerv1.ConfirmTrafficIncreaseHook, flaggerv1.ConfirmPromotionHook, flaggerv1.PreRolloutHook} {
		if err := call(here(hooks[typ], "v1=50,v3=50", harness.DecisivePages), flaggerv1.CanaryPhaseProgressing); err != nil {
			t.Errorf("%s, right split: %v; want nil", typ, err)
		}
		wantRollback(string(typ)+" passed", false)
		err := call(here(hooks[typ], "v1=100", "3000"), flaggerv1.CanaryPhaseProgressing)
		if err == nil || !strings.HasPrefix(err.Error(), "FAIL") {
			t.Errorf("%s, wrong split: %v; want canary serve's 403 FAIL as the error", typ, err)
		}
		wantRollback(string(typ)+" failed", true)
	}
	// Too few pages to decide: 503, which Flagger's client (no retries by
	// default) returns as an error, so Flagger holds; and no rollback.
	if err := call(here(hooks[flaggerv1.ConfirmPromotionHook], "v1=50,v3=50", "30"), flaggerv1.CanaryPhaseProgressing); err == nil {
		t.Errorf("confirm-promotion, inconclusive: nil; want an error (Flagger holds)")
	} else {
		t.Logf("confirm-promotion, inconclusive: %v", err)
	}
	wantRollback("an inconclusive gate", false)
}
