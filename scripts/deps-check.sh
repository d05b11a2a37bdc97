#!/usr/bin/env bash
# Enforces the one-way import rules of the house style: data flows
# attack -> classify -> results -> decide -> report, each package imports
# only those upstream of it (and scenarios, which is pure data); only cmd
# wires them. results aggregates the records into windows; decide is the
# statistical engine that turns pages and windows into verdicts and
# imports no renderer; report renders those verdicts and never decides.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)
fail=0
check() { # package, allowed internal imports (space separated)
  local pkg=$1; shift
  [ -d "$pkg" ] || return 0
  for dep in $(go list -f '{{join .Imports "\n"}}' "./$pkg" 2>/dev/null | grep "^$mod/" || true); do
    local short=${dep#"$mod/"}
    local ok=0
    for a in "$@"; do [ "$short" = "$a" ] && ok=1; done
    if [ $ok = 0 ]; then echo "deps-check: $pkg must not import $short"; fail=1; fi
  done
}
# internal/yamlerr is a leaf every YAML reader may use; internal/devcert a
# leaf for tests and benchmarks that need certificates; internal/textfmt a
# leaf that prints numbers, latencies and times the same way for the
# engine's sentences and the reports that show them.
check internal/yamlerr
check internal/devcert
check internal/textfmt
# internal/files reads the files flags name within bounds; internal/redact
# masks secrets in everything printed: leaves any package may use.
check internal/files
check internal/redact
# internal/lab runs the lab's control plane; internal/labtest starts it for tests.
check internal/lab
check internal/labtest internal/lab
check internal/sharedtest
check internal/jaegertest
check internal/lab/cmd/canary-lab internal/lab
check scenarios internal/yamlerr
check classify scenarios internal/yamlerr
check results classify internal/textfmt
check decide classify results internal/textfmt
check attack classify results scenarios internal/files internal/redact
check report classify results decide internal/textfmt
# The local Bookinfo mesh: Istio resources and Bookinfo's apps know nothing
# of each other or of the data plane (mesh), which wires them together.
# pagetest is test support for app's tests, so it must not import app.
# bookinfo itself is only the doc of the three.
check bookinfo/istio internal/yamlerr
check bookinfo/app
check bookinfo/mesh bookinfo/istio bookinfo/app internal/files
check bookinfo/internal/pagetest
check bookinfo/kube bookinfo/istio bookinfo/mesh
check bookinfo
check verify attack classify decide jaeger prom report results scenarios internal/textfmt internal/files internal/redact
check prom internal/files internal/redact
# live shows a running gate: it reads the load's and the engine's results
# and renders nothing else.
check live attack decide internal/redact
check jaeger
check serve
check cluster internal/redact
# The benchmark's page server renders the mesh's product page itself.
check internal/benchserver bookinfo/app internal/devcert
exit $fail
