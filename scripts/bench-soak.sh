#!/usr/bin/env bash
# Soak memory check: `canary soak` at RATE requests/s for DURATION against the
# static page server, RSS sampled from /proc every 10 s. Prints RSS after 2
# minutes and at the end; the requirement is growth within 5 MB.
#   RATE=2000 DURATION=30m scripts/bench-soak.sh      (defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${RATE:-2000}
duration=${DURATION:-30m}
page=${PAGE:-} # a product page FILE; default: the one benchserver renders
work=$(mktemp -d)
trap 'kill $server_pid $soak_pid 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o bin/canary ./cmd/canary
go build -o "$work/benchserver" ./internal/benchserver
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server_args=(-addr "127.0.0.1:$port")
[ -n "$page" ] && server_args+=(-page "$page")
"$work/benchserver" "${server_args[@]}" >/dev/null 2>&1 &
server_pid=$!
sleep 0.5

bin/canary soak --target "http://127.0.0.1:$port/productpage" --rate "$rate" --duration "$duration" \
  --window 1m --expect v3=100 --results "$work/soak.jsonl" --every 1m --output "$work/report.txt" \
  >"$work/soak.out" 2>"$work/soak.log" &
soak_pid=$!
start=$(date +%s)
: >"$work/rss"
while kill -0 "$soak_pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$soak_pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )) $rss" >>"$work/rss"
  sleep 10
done
wait "$soak_pid" || true
at2=$(awk '$1 >= 120 {print $2; exit}' "$work/rss")
last=$(tail -1 "$work/rss" | awk '{print $2}')
max=$(sort -k2 -n "$work/rss" | tail -1 | awk '{print $2}')
records=$(wc -l <"$work/soak.jsonl")
bytes=$(stat -c %s "$work/soak.jsonl")
echo "soak at ${rate}/s for ${duration}: $(head -1 "$work/soak.out")"
echo "RSS after 2 min: $((at2 / 1024)) MB; at the end: $((last / 1024)) MB; max $((max / 1024)) MB; growth $(((last - at2) / 1024)) MB"
echo "results: $records records, $((bytes / records)) B per record"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
