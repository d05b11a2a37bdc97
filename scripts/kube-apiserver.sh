#!/usr/bin/env bash
# Prints the path of a kube-apiserver binary for the lab, building it from
# the k8s.io/kubernetes Go module the first time (about 4 minutes on 2
# cores) and reusing it after. The binary lives in the Go build cache's
# directory, keyed by version, so a CI cache of GOCACHE keeps it and
# nothing is ever committed.
#
#   scripts/kube-apiserver.sh            # build or reuse; prints the path
#   KUBE_VERSION=v1.33.7 scripts/kube-apiserver.sh
#
# k8s.io/kubernetes is not meant to be imported: `go install` fails on its
# `=> ./staging/...` replaces, so a throwaway module pins each staging
# module to the matching v0.X.Y release instead (the recipe measured in
# ../shared/research/real-cluster.md).
set -euo pipefail
version=${KUBE_VERSION:-v1.34.3}
minor=${version#v1.}; minor=${minor%%.*}
staging=v0.${version#v1.}
cache="$(go env GOCACHE)/canary-lab/kube-$version"
bin="$cache/kube-apiserver"
# (no pipe into grep -q: with pipefail an early exit could SIGPIPE the binary)
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "Kubernetes $version" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log() { echo "kube-apiserver.sh: $*" >&2; }
log "building kube-apiserver $version from the Go module (once; cached in $cache)"
cd "$work"
export GOFLAGS=-mod=mod GOWORK=off
go mod init canary.local/kube-apiserver-build >/dev/null 2>&1
go get "k8s.io/kubernetes@$version" >/dev/null 2>&1
modfile="$(go env GOMODCACHE)/k8s.io/kubernetes@$version/go.mod"
for m in $(go mod edit -json "$modfile" | jq -r '.Replace[] | select(.New.Path | startswith("./staging/")) | .Old.Path'); do
  go mod edit -replace "$m=$m@$staging"
done
go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$version" >/dev/null 2>&1
go build -trimpath -ldflags "-X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
  -o "$bin.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$bin.tmp" "$bin"
log "built $("$bin" --version)"
echo "$bin"
