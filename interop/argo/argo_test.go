// Package argo tests canary serve with Argo Rollouts' own web metric
// provider: the metric of examples/argo-rollouts-analysistemplate.yaml,
// its args resolved by the analysis controller's own function, measured
// by the provider's Run, which judges the result with the controller's
// condition evaluation (utils/evaluate.EvaluateResult).
package argo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/metricproviders/webmetric"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	analysisutil "github.com/argoproj/argo-rollouts/utils/analysis"
	log "github.com/sirupsen/logrus"
	"sigs.k8s.io/yaml"

	"github.com/canary-gate/canary/interop/harness"
)

// TestArgoWebMetric: on the local mesh's 50/50 split, the example's metric
// is Successful for the right split, Failed for a wrong one, and
// Inconclusive (not Failed: the rollout pauses for a person) for a gate
// with too few pages to decide.
func TestArgoWebMetric(t *testing.T) {
	split := harness.Shared(t, "seed-manifests", "virtual-service-reviews-50-50.yaml")
	var tmpl v1alpha1.AnalysisTemplate
	if err := yaml.UnmarshalStrict(harness.Example(t, "argo-rollouts-analysistemplate.yaml"), &tmpl); err != nil {
		t.Fatalf("examples/argo-rollouts-analysistemplate.yaml is not an Argo AnalysisTemplate: %v", err)
	}
	if len(tmpl.Spec.Metrics) != 1 || tmpl.Spec.Metrics[0].Provider.Web == nil {
		t.Fatalf("examples/argo-rollouts-analysistemplate.yaml: want one web metric, got %+v", tmpl.Spec.Metrics)
	}
	env := harness.Start(t, split)

	// metric resolves the example's {{args.expect}} as the analysis
	// controller does, then points the URL at this test's canary serve
	// and adds the settings that keep the gate fast and local.
	metric := func(expect, maxRequests string) v1alpha1.Metric {
		t.Helper()
		m, err := analysisutil.ResolveMetricArgs(tmpl.Spec.Metrics[0], []v1alpha1.Argument{{Name: "expect", Value: &expect}})
		if err != nil {
			t.Fatalf("resolve args: %v", err)
		}
		u, err := url.Parse(m.Provider.Web.URL)
		if err != nil {
			t.Fatal(err)
		}
		srv, _ := url.Parse(env.Serve)
		u.Scheme, u.Host = srv.Scheme, srv.Host
		extra := url.Values{}
		for k, v := range env.GateSettings(maxRequests) {
			extra.Set(k, v)
		}
		u.RawQuery += "&" + extra.Encode()
		m.Provider.Web.URL = u.String()
		return *m
	}
	measure := func(m v1alpha1.Metric) v1alpha1.Measurement {
		t.Helper()
		client, err := webmetric.NewWebMetricHttpClient(m)
		if err != nil {
			t.Fatal(err)
		}
		parser, err := webmetric.NewWebMetricJsonParser(m)
		if err != nil {
			t.Fatal(err)
		}
		logger := log.New()
		logger.SetOutput(io.Discard)
		p := webmetric.NewWebMetricProvider(*log.NewEntry(logger), client, parser)
		return p.Run(&v1alpha1.AnalysisRun{}, m)
	}

	// Too few pages for the sequential test: check the gate really is
	// INCONCLUSIVE with a plain GET of the same URL first.
	inconclusive := metric("v1=50,v3=50", "30")
	if v := verdict(t, inconclusive.Provider.Web.URL); v != "INCONCLUSIVE" {
		t.Fatalf("GET %s: verdict %q; want INCONCLUSIVE for this row's premise", inconclusive.Provider.Web.URL, v)
	}
	for _, c := range []struct {
		name string
		m    v1alpha1.Metric
		want v1alpha1.AnalysisPhase
	}{
		{"right split", metric("v1=50,v3=50", harness.DecisivePages), v1alpha1.AnalysisPhaseSuccessful},
		{"wrong split", metric("v1=100", "3000"), v1alpha1.AnalysisPhaseFailed},
		{"too few pages", inconclusive, v1alpha1.AnalysisPhaseInconclusive},
	} {
		got := measure(c.m)
		if got.Phase != c.want {
			t.Errorf("%s: measurement phase %s (value %q, message %q); want %s", c.name, got.Phase, got.Value, got.Message, c.want)
		} else {
			t.Logf("%s: %s, value %s", c.name, got.Phase, got.Value)
		}
	}
}

// verdict GETs canary serve's /v1/verdict URL and returns its verdict.
func verdict(t *testing.T, u string) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Minute}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", u, resp.StatusCode, err)
	}
	t.Logf("GET %s: %s (%s)", u, ans.Verdict, ans.Reason)
	return ans.Verdict
}
