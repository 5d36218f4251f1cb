#!/usr/bin/env bash
# `sledger serve --writes mapped` beside `--writes buffered` (decision 0012) on copies of one
# large ledger: wrk posts batches of BATCH events (default 100, Tools/bench/serve_ingest.lua)
# on CONNECTIONS connections (default 8) for SECONDS, each way in turn, ROUNDS times. Each row:
# events/s, latencies, the server's peak RssAnon, and what the disk wrote during the run (from
# /sys/block/DEVICE/stat, so run nothing else meanwhile), with the commit's sync included.
#   Tools/bench/serve_writes.sh LEDGER [SECONDS] [ROUNDS]        (defaults: 20 s, 2 rounds)
# SLEDGER picks the binary (default: the release build, built first); WORK_DIR the directory
# for the copies (default bench-out/serve-writes; it must be on DEVICE, default vda).
set -euo pipefail
cd "$(dirname "$0")/../.."
ledger=${1:?usage: serve_writes.sh LEDGER [SECONDS] [ROUNDS]}
seconds=${2:-20}
rounds=${3:-2}
device=${DEVICE:-vda}
connections=${CONNECTIONS:-8}
batch=${BATCH:-100}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 2; }
if [ -z "${SLEDGER:-}" ]; then Tools/build_release.sh; SLEDGER=.build-release/release/sledger; fi
work=${WORK_DIR:-bench-out/serve-writes}
mkdir -p "$work"
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work/copy"' EXIT

written() { awk '{print $7}' "/sys/block/$device/stat"; }  # sectors written, 512 bytes each

echo "date: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ledger $ledger ($(du -sh "$ledger" | cut -f1)), $connections connections, $batch events a request, $seconds s a run"
echo
echo "| round | --writes | events/s | p50 | p99 | max | non-2xx | server peak RssAnon | disk written | disk written per event |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq "$rounds"); do
  for writes in mapped buffered; do
    rm -rf "$work/copy"
    cp -r --sparse=always "$ledger" "$work/copy"
    sync
    "$SLEDGER" serve --ledger "$work/copy" --listen 127.0.0.1:0 --writes "$writes" >"$work/serve.out" 2>"$work/serve.err" &
    server=$!
    for _ in $(seq 400); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
    url=$(sed -n 's/^listening on //p' "$work/serve.out")
    (while kill -0 "$server" 2>/dev/null; do
       awk '/^RssAnon/ {print $2}' "/proc/$server/status" 2>/dev/null; sleep 0.2
     done) >"$work/rss.txt" &
    sampler=$!
    before=$(written)
    RUN="$writes$round$(date +%s)" BATCH=$batch wrk -t2 -c"$connections" -d"${seconds}s" --timeout 30s --latency \
      -s Tools/bench/serve_ingest.lua "$url" >"$work/wrk.txt"
    events=$(awk -v n="$batch" '/^Requests\/sec/ {printf "%.0f", $2 * n}' "$work/wrk.txt")
    total=$(awk -v n="$batch" '/requests in/ {print $1 * n}' "$work/wrk.txt")
    kill -TERM "$server"; wait "$server" || true
    server=
    wait "$sampler" 2>/dev/null || true
    sync
    after=$(written)
    peak=$(sort -n "$work/rss.txt" | tail -1)
    mb=$(( (after - before) * 512 / 1000000 ))
    printf '| %s | %s | %s | %s | %s | %s | %s | %s MiB | %s MB | %s KB |\n' "$round" "$writes" "$events" \
      "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")" \
      "$(awk '$1 == "Latency" && NF >= 4 {print $4}' "$work/wrk.txt")" \
      "$(awk '/Non-2xx/ {print $5}' "$work/wrk.txt" | grep . || echo 0)" \
      "$(( ${peak:-0} / 1024 ))" "$mb" "$(awk -v b="$(( (after - before) * 512 ))" -v n="$total" 'BEGIN {printf "%.1f", n ? b / n / 1000 : 0}')"
  done
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
