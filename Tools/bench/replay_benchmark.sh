#!/usr/bin/env bash
# Replay and query speed of sledger on a generated ledger, beside raw LMDB and SQLite reading
# the same events in the same (at, seq) order.
#
#     Tools/bench/replay_benchmark.sh [EVENTS]        (default 10000000)
#
# Generates EVENTS events (Tools/generate_events.py --seed 1, starting 2023-01-01 so that a
# 10M-event log, about 22 months, lies in the past of the ledger's clock and `future-event`
# does not fire on half of it) unless bench-out/ has them,
# imports them into a sledger ledger and a SQLite database (WAL, indexes built after the
# rows) unless present, then times, each as its own process pinned to one core (taskset -c 0):
#
#   sledger replay            the verifier: a seq-order pass for late-event, then the fold of
#                             every rule in (at, seq) order, checksums verified on every record
#   sledger sessions --at T   state only (no findings): the fold up to T = the last event
#   sledger who --at T        the same up to the middle of the log
#   raw LMDB scan (C)         the floor: the same ledger's records in seq order, read only
#   SQLite ordered scan (C)   SELECT ... ORDER BY at, seq with a minimal expiry fold in C
#
# Prints a markdown table (events/s, ratio, wall, peak RssAnon) and the machine.
set -euo pipefail

EVENTS=${1:-10000000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$ROOT/Tools/bench
OUT=${BENCH_DIR:-$ROOT/bench-out}
PY=/usr/bin/python3
mkdir -p "$OUT/bin" "$OUT/results"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say() { printf '%s\n' "$*" >&2; }

say "== building (release)"
"$ROOT/Tools/build_release.sh"
SLEDGER=$ROOT/.build-release/release/sledger
cc -O2 -o "$OUT/bin/raw_lmdb_scan" "$BENCH/raw_lmdb_scan.c" -llmdb
cc -O2 -o "$OUT/bin/sqlite_import" "$BENCH/sqlite_import.c" -lsqlite3
cc -O2 -o "$OUT/bin/sqlite_scan" "$BENCH/sqlite_scan.c" -lsqlite3

INPUT=$OUT/events-$EVENTS-seed1-from2023.ndjson
if [[ ! -s $INPUT ]]; then
    say "== generating $EVENTS events"
    "$PY" "$ROOT/Tools/generate_events.py" --events "$EVENTS" --seed 1 --start 2023-01-01T00:00:00Z > "$INPUT"
fi
LEDGER=$OUT/replay-ledger-$EVENTS
if [[ ! -s $LEDGER/data.mdb ]]; then
    say "== importing into sledger"
    rm -rf "$LEDGER"
    "$SLEDGER" import --ledger "$LEDGER" "$INPUT" >&2
fi
SQLDIR=$OUT/replay-sqlite-$EVENTS
if [[ ! -s $SQLDIR/sqlite-indexed-after.db ]]; then
    say "== importing into SQLite"
    mkdir -p "$SQLDIR"
    "$OUT/bin/sqlite_import" --mode indexed-after --dir "$SQLDIR" "$INPUT" >&2
fi

LAST=$("$SLEDGER" stats --ledger "$LEDGER" --format json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["last_at"])')
FIRST=$("$SLEDGER" stats --ledger "$LEDGER" --format json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["first_at"])')
MID=$("$PY" -c "
from datetime import datetime
a=datetime.fromisoformat('$FIRST'.replace('Z','+00:00')); b=datetime.fromisoformat('$LAST'.replace('Z','+00:00'))
print((a+(b-a)/2).strftime('%Y-%m-%dT%H:%M:%SZ'))")

measure() {  # name, command...
    local name=$1; shift
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    cat "$LEDGER/data.mdb" > /dev/null  # every run starts with the ledger in the page cache
    say "== $name"
    "$PY" "$BENCH/_measure.py" --stdout "$OUT/results/replay-$name.out" -- taskset -c 0 "$@" > "$OUT/results/replay-$name.json" || true
}
measure replay "$SLEDGER" replay --ledger "$LEDGER" --format json
measure sessions "$SLEDGER" sessions --ledger "$LEDGER" --at "$LAST" --format csv
measure who "$SLEDGER" who --ledger "$LEDGER" --at "$MID" --format csv
measure raw-scan "$OUT/bin/raw_lmdb_scan" "$LEDGER"
measure sqlite-scan "$OUT/bin/sqlite_scan" "$SQLDIR/sqlite-indexed-after.db"

"$PY" - "$OUT/results" "$EVENTS" "$LOAD_BEFORE" "$INPUT" "$MID" "$LAST" <<'PYEOF'
import json, os, subprocess, sys, datetime
results, events, load_before, input_file, mid, last = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
def get(name):
    with open(os.path.join(results, f"replay-{name}.json")) as f:
        return json.load(f)
rows = [("sledger replay (every rule, findings streamed)", "replay", events),
        ("sledger sessions --at last event (state only)", "sessions", events),
        (f"sledger who --at {mid} (half the log)", "who", events // 2),
        ("raw LMDB scan of the same ledger (C)", "raw-scan", events),
        ("SQLite ordered scan + expiry fold (C)", "sqlite-scan", events)]
base = get("replay")["wall_s"]
print(f"| {events:,} events, one core | events/s | ÷ sledger replay | wall s | peak RssAnon |")
print("|---|---:|---:|---:|---:|")
for label, name, n in rows:
    r = get(name)
    rate = n / r["wall_s"]
    print(f"| {label} | {rate:,.0f} | {base / r['wall_s']:.2f} | {r['wall_s']:.2f} | {r['peak_rss_anon_kb'] / 1024:.1f} MiB |")
replay = json.load(open(os.path.join(results, "replay-replay.out")))
print()
print(f"- replay found {len(replay['findings'])} findings: " + (", ".join(f"{k} {v}" for k, v in replay['summary'].items() if v) or "none"))
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print(f"- machine: {os.cpu_count()} cores, {cpu}; load average before: {load_before}; after: {open('/proc/loadavg').read().split()[0:3]}")
print(f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}; input: {input_file} ({os.path.getsize(input_file):,} bytes)")
print("- each figure: wall clock of one process pinned to core 0 (taskset -c 0), from start to exit, ledger in the page cache")
PYEOF
