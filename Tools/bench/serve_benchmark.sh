#!/usr/bin/env bash
# Load figures for `sledger serve` on loopback (docs/PERFORMANCE.md, "The server"):
# ingest with 1, 8 and 64 connections sending batches of 100 events, a single-event request
# on one connection, and `who` queries. Uses wrk from Debian's packages and a release build.
#   Tools/bench/serve_benchmark.sh [SECONDS]      (default 15 s per run)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 2; }
Tools/build_release.sh
sledger=.build-release/release/sledger
# WORK_DIR picks the file system (default /tmp; /dev/shm takes the disk out of the figures).
work=$(mktemp -d "${WORK_DIR:-/tmp}/sledger-serve-bench-XXXXXX")
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

start() {  # start LEDGER: a server on a free port; sets $server and $url
  rm -f "$work/serve.out"
  "$sledger" serve --ledger "$1" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
  server=$!
  for _ in $(seq 200); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/^listening on //p' "$work/serve.out")
}
stop() { kill -TERM "$server"; wait "$server" || true; }

# wrk's summary as one table row: requests/s, events/s, p50, p99, max, non-2xx and timeouts
# (wrk runs with --timeout 10s, so a stall shows in the latencies rather than as a timeout).
row() {  # row LABEL EVENTS_PER_REQUEST FILE
  local rps p50 p99 max errors timeouts
  rps=$(awk '/^Requests\/sec/ {print $2}' "$3")
  p50=$(awk '$1 == "50%" {print $2}' "$3")
  p99=$(awk '$1 == "99%" {print $2}' "$3")
  max=$(awk '$1 == "Latency" && NF >= 4 {print $4}' "$3")
  errors=$(awk '/Non-2xx/ {print $5}' "$3")
  timeouts=$(awk '/Socket errors/ {print $NF}' "$3")
  printf '| %s | %.0f | %s | %s | %s | %s | %s / %s |\n' "$1" "$rps" "$(awk -v r="$rps" -v n="$2" 'BEGIN {printf "%.0f", r * n}')" \
    "$p50" "$p99" "$max" "${errors:-0}" "${timeouts:-0}"
}

echo "date: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg); ledgers in $(df --output=fstype "$work" | tail -1) ($work)"
echo
echo "| run | requests/s | events/s | p50 | p99 | max | non-2xx / timeouts |"
echo "|---|---|---|---|---|---|---|"
start "$work/ingest"
for c in 1 8 64; do
  threads=$(( c < 2 ? 1 : 2 ))
  RUN="c$c" BATCH=100 wrk -t$threads -c$c -d${seconds}s --timeout 10s --latency -s Tools/bench/serve_ingest.lua "$url" >"$work/wrk-$c.txt"
  row "ingest, $c connection(s), 100 events a request" 100 "$work/wrk-$c.txt"
done
RUN=single BATCH=1 wrk -t1 -c1 -d${seconds}s --timeout 10s --latency -s Tools/bench/serve_ingest.lua "$url" >"$work/wrk-single.txt"
row "ingest, 1 connection, 1 event a request" 1 "$work/wrk-single.txt"
events=$(curl -s "$url/v1/stats" | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
stop
echo
echo "ledger after the ingest runs: $events events; check: $("$sledger" check --ledger "$work/ingest" | sed "s/, head [^;]*//")"

# `who` on the team fixture (about 8,000 events), and on a million generated events
# (10,000 users, sessions refreshed over months) imported with the CLI, which writes checkpoints.
"$sledger" import --ledger "$work/team" Fixtures/team-quarter/events.ndjson Fixtures/incident-april/events.ndjson >/dev/null
/usr/bin/python3 Tools/generate_events.py --events 1000000 --seed 1 --users 10000 >"$work/1m.ndjson"
"$sledger" import --ledger "$work/1m" "$work/1m.ndjson" >/dev/null
last=$("$sledger" stats --ledger "$work/1m" --format csv | tail -1 | cut -d, -f5)
echo
echo "| run | queries/s | - | p50 | p99 | max | non-2xx / timeouts |"
echo "|---|---|---|---|---|---|---|"
start "$work/team"
wrk -t2 -c8 -d${seconds}s --timeout 10s --latency "$url/v1/who?at=2026-04-06T10:00:00Z" >"$work/wrk-who.txt"
row "who?at=, team-quarter + incident-april, 8 connections" 0 "$work/wrk-who.txt"
stop
start "$work/1m"
wrk -t2 -c8 -d${seconds}s --timeout 10s --latency "$url/v1/who?at=$last" >"$work/wrk-who-1m.txt"
row "who?at=$last (the last event), 1,000,000 generated events, 8 connections" 0 "$work/wrk-who-1m.txt"
stop
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
