// Package verify runs the rollout gate: it drives load at the target with
// package attack, feeds every classified page to the sequential decision of
// package decide (after the settle rule), and checks the same split on the
// server side with Istio's own counts (package prom), then explains the
// verdict. It is shared by `canary verify` and the scenario runner.
package verify
