package istio

import (
	"errors"
	"strings"
	"testing"

	"istio.io/api/networking/v1alpha3"
)

const syncGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
`

const syncRule = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v3, labels: {version: v3}}]
`

func syncVS(name, subset string) string {
	return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ` + name + `}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: ` + subset + `}}]}]
`
}

// syncCORS stands for a VirtualService the API server accepts with a
// corsPolicy, which the parser would refuse: it is made in syncResources.
const syncCORS = "cors"

// TestSync: a cluster's objects are taken one by one, the oldest claim on
// a host wins, dangling references stay (unlike Apply), and the changes
// include deletions.
func TestSync(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		before   []string
		rs       []string
		want     []string // resources of the snapshot
		rejected []string // "KIND/NAME: message part"
		changes  []string
	}{
		{
			name: "dangling subset kept", rs: []string{syncVS("reviews", "v2")},
			want: []string{"VirtualService/reviews"}, changes: []string{"virtualservice.networking.istio.io/reviews created"},
		},
		{
			name: "oldest claim wins", rs: []string{syncRule, syncVS("old", "v1"), syncVS("new", "v3")},
			want:     []string{"DestinationRule/reviews", "VirtualService/old"},
			rejected: []string{"VirtualService/new: host reviews is already routed by VirtualService old (x.yaml:1), which is older and wins"},
		},
		{
			name: "unsupported field left out", rs: []string{syncGateway, syncCORS},
			want:     []string{"Gateway/gw"},
			rejected: []string{"VirtualService/ratings: spec.http[0].corsPolicy: field not supported by the local mesh"},
		},
		{
			name: "changes against the old snapshot", before: []string{syncGateway, syncRule, syncVS("reviews", "v1")},
			rs:   []string{syncRule, syncVS("reviews", "v3")},
			want: []string{"DestinationRule/reviews", "VirtualService/reviews"},
			changes: []string{
				"destinationrule.networking.istio.io/reviews unchanged",
				`gateway.networking.istio.io "gw" deleted`,
				"virtualservice.networking.istio.io/reviews configured",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var before *Config
			if tc.before != nil {
				var err error
				if before, _, err = before.Apply(syncResources(t, tc.before)); err != nil {
					t.Fatal(err)
				}
			}
			got, changes, rejected := before.Sync(syncResources(t, tc.rs))
			var names []string
			for _, r := range got.Resources() {
				names = append(names, r.Kind+"/"+r.Name)
			}
			if strings.Join(names, " ") != strings.Join(tc.want, " ") {
				t.Errorf("Sync: resources %v; want %v", names, tc.want)
			}
			if len(rejected) != len(tc.rejected) {
				t.Fatalf("Sync: rejected %v; want %v", rejected, tc.rejected)
			}
			for i, rej := range rejected {
				kind, msg, _ := strings.Cut(tc.rejected[i], ": ")
				if rej.Resource.Kind+"/"+rej.Resource.Name != kind || !strings.Contains(rej.Err.Error(), msg) || !errors.Is(rej.Err, ErrInvalid) {
					t.Errorf("Sync: rejection %d = %s %v; want %s with %q wrapping ErrInvalid", i, rej.Resource.Name, rej.Err, kind, msg)
				}
			}
			if tc.changes != nil {
				var cs []string
				for _, c := range changes {
					cs = append(cs, c.String())
				}
				if strings.Join(cs, "\n") != strings.Join(tc.changes, "\n") {
					t.Errorf("Sync: changes\n%s\nwant\n%s", strings.Join(cs, "\n"), strings.Join(tc.changes, "\n"))
				}
			}
		})
	}
}

func syncResources(t *testing.T, docs []string) []Resource {
	var rs []Resource
	for _, d := range docs {
		if d != syncCORS {
			rs = append(rs, mustParse(t, "x.yaml", d)...)
			continue
		}
		r := mustParse(t, "x.yaml", strings.ReplaceAll(syncVS("ratings", "v1"), "reviews", "ratings"))[0]
		r.VirtualService.Http[0].Route[0].Destination.Subset = ""
		r.VirtualService.Http[0].CorsPolicy = &v1alpha3.CorsPolicy{AllowOrigins: []*v1alpha3.StringMatch{
			{MatchType: &v1alpha3.StringMatch_Exact{Exact: "https://x"}},
		}}
		rs = append(rs, r)
	}
	return rs
}
