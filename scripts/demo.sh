#!/usr/bin/env bash
# The canary walkthrough on the built-in local Bookinfo mesh: start the mesh
# on free loopback ports, apply each stage's VirtualService and gate it with
# `canary verify`, client side (the pages) and server side (the sidecars'
# istio_requests_total). Exits non-zero if any stage does not pass.
set -euo pipefail
canary=${1:-bin/canary}
work=$(mktemp -d)
trap 'kill $mesh_pid 2>/dev/null || true; wait $mesh_pid 2>/dev/null || true; rm -rf "$work"' EXIT

"$canary" bookinfo serve --addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
mesh_pid=$!
for _ in $(seq 50); do grep -q 'ingress http' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
ingress=$(sed -n 's/.*ingress http:\/\/\([^/]*\)\/productpage.*/\1/p' "$work/serve.out")
admin=$(sed -n 's/.*admin http:\/\/\([^ ]*\) .*/\1/p' "$work/serve.out")
[ -n "$ingress" ] || { echo "demo: the mesh did not start:"; cat "$work/serve.log"; exit 4; }
export CANARY_BOOKINFO_ADMIN=$admin
echo "local Bookinfo mesh: http://$ingress/productpage (admin http://$admin)"

scrape=()
for v in v1 v2 v3; do scrape+=(--scrape "http://$admin/sidecars/reviews-$v/stats/prometheus"); done

vs() { # "subset weight" pairs, then an optional mirror subset after --mirror
  printf 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n'
  while [ $# -gt 0 ] && [ "$1" != --mirror ]; do
    printf '    - destination: {host: reviews, subset: %s}\n      weight: %s\n' "$1" "$2"; shift 2
  done
  [ $# -gt 0 ] && printf '    mirror: {host: reviews, subset: %s}\n' "$2"
  return 0
}

failed=0
stage() { # name, expect, extra verify flags...
  local name=$1 expect=$2; shift 2
  printf '\n== %s: expect %s\n' "$name" "$expect"
  if ! "$canary" verify --target "http://$ingress/productpage" --rate 200/s --expect "$expect" "${scrape[@]}" "$@"; then
    failed=1
  fi
}

stage "no reviews VirtualService (a third each)" v1=33.3,v2=33.3,v3=33.4 --tolerance 10
vs v1 100 | "$canary" bookinfo apply -f - >/dev/null
stage "all v1" v1=100
vs v1 50 v3 50 | "$canary" bookinfo apply -f - >/dev/null
stage "canary 50/50 v1/v3" v1=50,v3=50
vs v3 100 | "$canary" bookinfo apply -f - >/dev/null
stage "promote v3" v3=100
vs v1 100 | "$canary" bookinfo apply -f - >/dev/null
stage "back to v1" v1=100
vs v1 100 --mirror v2 | "$canary" bookinfo apply -f - >/dev/null
stage "mirror v1 to v2" v1=100 --mirror v2 --settle-min 2s
echo
if [ $failed = 0 ]; then echo "demo: every stage passed"; else echo "demo: a stage did not pass"; fi
exit $failed
