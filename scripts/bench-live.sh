#!/usr/bin/env bash
# Live view cost: does watching a soak slow its load? Closed-loop `canary
# soak` (50 workers, as fast as the page server answers) against the static
# page server, SECS seconds each, three ways, in two interleaved rounds
# (each keeps its better round): vegeta's CLI at rate 0 (the baseline),
# the soak alone, and the soak with --listen and WATCHERS watchers, each
# holding the page's event stream open (what a browser tab does; the
# drawing happens on the watcher's machine) plus one script polling
# /api/state every second. Prints requests/s as the server counted them,
# ratios against vegeta and watched against alone; rewrites the table
# between the live-bench markers of BENCHMARKS.md.
#   SECS=20 WATCHERS=10 scripts/bench-live.sh     (defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${SECS:-20}
watchers=${WATCHERS:-10}
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
log() { echo "bench-live: $*" >&2; }

go build -o bin/canary ./cmd/canary
go build -o "$tmp/benchserver" ./internal/benchserver
GOBIN="$tmp/gobin" go install github.com/tsenart/vegeta/v12@v12.13.0
"$tmp/benchserver" -addr 127.0.0.1:0 >"$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -qs '^listening on' "$tmp/server.log" && break; sleep 0.1; done
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$tmp/server.log")
[ -n "$port" ] || { log "benchserver did not start"; cat "$tmp/server.log" >&2; exit 1; }
url="http://127.0.0.1:$port/productpage"
echo "GET $url" >"$tmp/targets.txt"
live_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# measure NAME CMD...: the server's count of requests while CMD runs.
measure() {
  local name=$1; shift
  curl -fsS "http://127.0.0.1:$port/__reset" >/dev/null
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || true
  curl -fsS "http://127.0.0.1:$port/__stats?rate=0&duration=${secs}s" | jq -r '.count' >"$tmp/$name.count"
  sleep 1
}
soak=(bin/canary soak --target "$url" --rate 0 --workers 50 --duration "${secs}s" --window 5s --expect v3=100 --every 1h --format json)
watched() {
  "${soak[@]}" --listen "127.0.0.1:$live_port" &
  local soak_pid=$! w=()
  rm -f "$tmp"/events.*
  for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$live_port/api/state" 2>/dev/null && break; sleep 0.1; done
  for _ in $(seq "$watchers"); do
    curl -sN "http://127.0.0.1:$live_port/api/events" >"$tmp/events.$RANDOM" 2>/dev/null &
    w+=($!)
  done
  ( while kill -0 "$soak_pid" 2>/dev/null; do curl -fsS -o /dev/null "http://127.0.0.1:$live_port/api/state" 2>/dev/null; sleep 1; done ) &
  w+=($!)
  wait "$soak_pid" || true
  kill "${w[@]}" 2>/dev/null || true
  wait "${w[@]}" 2>/dev/null || true
}
for round in 1 2; do
  measure "vegeta-$round" "$tmp/gobin/vegeta" attack -targets="$tmp/targets.txt" -output=/dev/null \
    -rate=0 -workers=50 -max-workers=50 -duration="${secs}s"
  measure "alone-$round" "${soak[@]}"
  measure "watched-$round" watched
done
best() { sort -n "$tmp/$1-1.count" "$tmp/$1-2.count" | tail -1; }
vegeta=$(best vegeta); alone=$(best alone); watchedn=$(best watched)
events=$(cat "$tmp"/events.* 2>/dev/null | grep -c '^data: ' || true)
rps() { awk -v n="$1" -v s="$secs" 'BEGIN { printf "%d", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
table="| client | requests/s | vs vegeta | vs the soak alone |
|---|--:|--:|--:|
| vegeta attack, rate 0, 50 workers | $(rps "$vegeta") | 1.00 | |
| canary soak, rate 0, 50 workers | $(rps "$alone") | $(ratio "$alone" "$vegeta") | 1.00 |
| the same with --listen, $watchers event streams and a poller | $(rps "$watchedn") | $(ratio "$watchedn" "$vegeta") | $(ratio "$watchedn" "$alone") |

$secs s each, best of 2 interleaved rounds; $events states sent to the watchers in the last watched round; $(nproc) cores, load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(date -u '+%Y-%m-%d %H:%M UTC')."
echo "$table"
if grep -q '<!-- live-bench -->' BENCHMARKS.md; then
  awk -v t="$table" '/<!-- live-bench -->/ { print; print t; skip=1; next } /<!-- \/live-bench -->/ { skip=0 } !skip' BENCHMARKS.md >"$tmp/b.md"
  cp "$tmp/b.md" BENCHMARKS.md
fi
