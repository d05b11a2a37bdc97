#!/usr/bin/env bash
# Prints the path of a Jaeger binary for end-to-end tests, building it from
# the github.com/jaegertracing/jaeger Go module the first time (about 5 to
# 8 minutes on 2 cores, 6.4 measured with an empty build cache, which it
# fills with 1.7 GB; the binary is 121 MB) and reusing it after. The binary
# lives in the Go build cache's directory, keyed by version, so a CI cache
# of GOCACHE keeps it and nothing is ever committed.
#
#   scripts/jaeger.sh            # build or reuse; prints the path
#
# tools/jaeger is a module of its own whose only content is
# `tool github.com/jaegertracing/jaeger/cmd/jaeger` at v1.75.0 with its
# go.sum committed: the build is reproducible (no -mod=mod) and Jaeger's
# hundreds of dependencies stay out of canary's go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.75.0
cache="$(go env GOCACHE)/canary-lab/jaeger-$version"
bin="$cache/jaeger"
# A module build has no tag to read, so the version is stamped the way
# Jaeger's own Makefile does; `jaeger --version` then prints it and the
# cached binary can be checked against the version this script wants.
# (no pipe into grep -q: with pipefail an early exit could SIGPIPE the binary)
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "jaeger version $version" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
log() { echo "jaeger.sh: $*" >&2; }
log "building jaeger $version from the Go module (once; cached in $cache)"
# The version is in tools/jaeger/go.mod; a mismatch means the two drifted.
have=$(GOWORK=off go list -C tools/jaeger -m -f '{{.Version}}' github.com/jaegertracing/jaeger)
if [ "$have" != "$version" ]; then
  log "tools/jaeger/go.mod pins jaeger $have, this script wants $version"
  exit 1
fi
GOWORK=off go build -C tools/jaeger -trimpath \
  -ldflags "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=$version" \
  -o "$bin.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
mv "$bin.tmp" "$bin"
log "built $("$bin" --version 2>/dev/null)"
echo "$bin"
