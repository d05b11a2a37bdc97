#!/usr/bin/env bash
# The canary walkthrough on the built-in local Bookinfo mesh: start the mesh
# on free loopback ports, apply each stage's VirtualService and show the split
# of reviews versions the pages really got.
set -euo pipefail
canary=${1:-bin/canary}
work=$(mktemp -d)
trap 'kill $mesh_pid 2>/dev/null || true; wait $mesh_pid 2>/dev/null || true; rm -rf "$work"' EXIT

"$canary" bookinfo serve --addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
mesh_pid=$!
for _ in $(seq 50); do grep -q 'ingress http' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
ingress=$(sed -n 's/.*ingress http:\/\/\([^/]*\)\/productpage.*/\1/p' "$work/serve.out")
export CANARY_BOOKINFO_ADMIN=$(sed -n 's/.*admin http:\/\/\([^ ]*\) .*/\1/p' "$work/serve.out")
[ -n "$ingress" ] || { echo "demo: the mesh did not start:"; cat "$work/serve.log"; exit 4; }
echo "local Bookinfo mesh: http://$ingress/productpage (admin $CANARY_BOOKINFO_ADMIN)"

vs() { # name, then "subset weight" pairs
  local name=$1; shift
  printf 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n'
  while [ $# -gt 0 ]; do printf '    - destination: {host: reviews, subset: %s}\n      weight: %s\n' "$1" "$2"; shift 2; done
}

split() { # fetch N pages and count the reviews version of each
  local n=$1 v1=0 v2=0 v3=0 other=0 page
  for _ in $(seq "$n"); do
    page=$(curl -sf "http://$ingress/productpage" || true)
    if grep -q 'gap-x-1 text-red-500' <<<"$page"; then v3=$((v3+1))
    elif grep -q 'gap-x-1 text-black-500' <<<"$page"; then v2=$((v2+1))
    elif grep -q 'Reviewer1' <<<"$page"; then v1=$((v1+1))
    else other=$((other+1)); fi
  done
  printf '  %-44s v1 %3d  v2 %3d  v3 %3d  other %d  (of %d pages)\n' "$2" "$v1" "$v2" "$v3" "$other" "$n"
}

n=60
echo "stage                                          split observed"
split $n "no reviews VirtualService (a third each)"
vs reviews v1 100 | "$canary" bookinfo apply -f - >/dev/null; sleep 1.2
split $n "all v1"
vs reviews v1 50 v3 50 | "$canary" bookinfo apply -f - >/dev/null; sleep 1.2
split $n "50/50 v1/v3"
vs reviews v3 100 | "$canary" bookinfo apply -f - >/dev/null; sleep 1.2
split $n "100% v3"
echo "demo: done (this stand-in demo becomes 'canary demo' with verdicts as the verify command lands)"
