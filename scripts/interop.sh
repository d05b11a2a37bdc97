#!/usr/bin/env bash
# Interop tests: canary serve called by the controllers' own client code,
# Flagger's webhook client (interop/flagger) and Argo Rollouts' web metric
# provider (interop/argo), on the local mesh. Each is a Go module of its own
# (sharing the standard-library-only interop/harness through a local
# replace) so that the controllers' dependencies stay out of canary's go.mod;
# their go.sum files are committed, so no -mod=mod. Both build with the
# installed Go (Argo Rollouts v1.8.3, Flagger v1.36.1): no GOTOOLCHAIN.
# Without the shared workspace beside the project the tests skip, except
# under CI=true, where they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
for mod in interop/flagger interop/argo; do
  (cd "$mod" && "$GO" test -count=1 -timeout 15m ./...)
done
