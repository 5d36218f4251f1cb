#!/usr/bin/env bash
# Import throughput of sledger against raw LMDB and SQLite on the same NDJSON file.
#
#     Tools/bench/import_benchmark.sh [EVENTS]        (default 1000000)
#
# Builds sledger (release, scratch path .build-release) and the C baselines, generates
# EVENTS events with Tools/generate_events.py --seed 1 (or Tools/bench/_gen_stub.py when
# the project's generator is absent), then times, each on a fresh store:
#
#   sledger import            the real thing: validation, records, checksums, chain, indexes
#   raw LMDB, log only        each line's bytes under its seq, MDB_APPEND, one durable commit
#   raw LMDB + 3 indexes      the same plus (user,at), (session,seq), (at,seq) string keys
#   SQLite + 3 indexes        WAL, synchronous=FULL, one transaction, indexes created first
#   SQLite, indexes after     rows first, then the indexes, same transaction
#   SQLite, no index          the table alone
#
# Every run is a separate process timed by wall clock from start to exit (Tools/bench/
# _measure.py), with its peak RssAnon sampled every 50 ms (LMDB's map and the page cache
# are file-backed and do not count). Between runs: sync, an attempt to drop the page cache
# (needs root; ignored when refused), and a read of the input so every run starts with it
# cached. Prints a markdown table and the machine. Environment:
#
#   BENCH_DIR   where inputs, stores and raw results go (default: bench-out/ in the repo, ignored by git)
#   RUNS        runs of each system; the fastest counts (default 1)
#   KEEP=1      keep the stores afterwards (default: deleted, the input file is kept)
#   INPUT=FILE  time this NDJSON file instead of generating one (EVENTS is then ignored)
set -euo pipefail

EVENTS=${1:-1000000}
RUNS=${RUNS:-1}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$ROOT/Tools/bench
OUT=${BENCH_DIR:-$ROOT/bench-out}
PY=/usr/bin/python3
mkdir -p "$OUT/bin" "$OUT/results"
rm -f "$OUT/results/"*.json
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

say() { printf '%s\n' "$*" >&2; }

say "== building sledger (release)"
"$ROOT/Tools/build_release.sh"
SLEDGER=$ROOT/.build-release/release/sledger

say "== building the C baselines"
cc -O2 -o "$OUT/bin/raw_lmdb_append" "$BENCH/raw_lmdb_append.c" -llmdb
cc -O2 -o "$OUT/bin/sqlite_import" "$BENCH/sqlite_import.c" -lsqlite3

if [[ -n ${INPUT:-} ]]; then
    INPUT=$(realpath "$INPUT")
    ORIGIN="$INPUT (given)"
else
    if [[ -f $ROOT/Tools/generate_events.py ]]; then
        GENERATOR=$ROOT/Tools/generate_events.py
    else
        GENERATOR=$BENCH/_gen_stub.py
    fi
    ORIGIN="${GENERATOR#"$ROOT"/} --events $EVENTS --seed 1"
    INPUT=$OUT/events-$EVENTS-seed1-$(basename "$GENERATOR" .py).ndjson
fi
if [[ -n ${GENERATOR:-} ]] && [[ ! -s $INPUT || $GENERATOR -nt $INPUT ]]; then
    say "== generating $EVENTS events with ${GENERATOR#"$ROOT"/}"
    "$PY" "$GENERATOR" --events "$EVENTS" --seed 1 > "$INPUT.tmp"
    mv "$INPUT.tmp" "$INPUT"
fi
LINES=$(grep -c . "$INPUT" || true)

DROPPED=no
settle() {
    sync
    if { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then DROPPED=yes; fi
    cat "$INPUT" > /dev/null
}

# measure NAME STORE COMMAND...: one timed run into a fresh STORE (a directory or a file prefix).
measure() {
    local name=$1 store=$2
    shift 2
    local run
    for ((run = 1; run <= RUNS; run++)); do
        rm -rf "$store" "$store"-wal "$store"-shm
        settle
        say "== $name (run $run of $RUNS)"
        "$PY" "$BENCH/_measure.py" --stdout "$OUT/results/$name.$run.out" -- "$@" > "$OUT/results/$name.$run.json"
        du -sk --apparent-size "$store"* 2>/dev/null | awk '{s += $1} END {print s + 0}' > "$OUT/results/$name.$run.apparent"
        du -sk "$store"* 2>/dev/null | awk '{s += $1} END {print s + 0}' > "$OUT/results/$name.$run.disk"
    done
}

measure sledger "$OUT/store-sledger" "$SLEDGER" import --ledger "$OUT/store-sledger" "$INPUT"
mkdir -p "$OUT/store-raw"
measure raw-log "$OUT/store-raw/raw-log" "$OUT/bin/raw_lmdb_append" --mode log --dir "$OUT/store-raw" "$INPUT"
measure raw-indexed "$OUT/store-raw/raw-indexed" "$OUT/bin/raw_lmdb_append" --mode indexed --dir "$OUT/store-raw" "$INPUT"
mkdir -p "$OUT/store-sqlite"
for mode in indexed indexed-after plain; do
    measure "sqlite-$mode" "$OUT/store-sqlite/sqlite-$mode.db" \
        "$OUT/bin/sqlite_import" --mode "$mode" --dir "$OUT/store-sqlite" "$INPUT"
done

# Check that every run stored every event before believing its time.
"$SLEDGER" check --ledger "$OUT/store-sledger" >&2

"$PY" - "$OUT/results" "$RUNS" "$EVENTS" "$LINES" <<'EOF'
import json, os, sys
results, runs, events, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [
    ("sledger", "sledger import"),
    ("raw-log", "raw LMDB, log only (C)"),
    ("raw-indexed", "raw LMDB + 3 string indexes (C)"),
    ("sqlite-indexed", "SQLite WAL + 3 indexes (C)"),
    ("sqlite-indexed-after", "SQLite WAL, indexes built after (C)"),
    ("sqlite-plain", "SQLite WAL, no index (C)"),
]
def load(name, run):
    base = os.path.join(results, f"{name}.{run}")
    m = json.load(open(base + ".json"))
    out = open(base + ".out").read()
    if m["status"] != 0:
        sys.exit(f"{name} failed (status {m['status']}): {out}")
    if name == "sledger":
        if not out.startswith(f"imported {lines}, "):
            sys.exit(f"sledger stored something else than {lines} events: {out}")
    else:
        reported = json.loads(out)
        if reported["events"] != lines:
            sys.exit(f"{name} stored {reported['events']} events, not {lines}")
        m["self"] = next(v for k, v in reported.items() if isinstance(v, dict))
    m["disk_kb"] = int(open(base + ".disk").read())
    m["apparent_kb"] = int(open(base + ".apparent").read())
    return m
best = {}
for name, _ in rows:
    best[name] = min((load(name, r) for r in range(1, runs + 1)), key=lambda m: m["wall_s"])
def rss(kb):
    return f"{kb / 1024:.1f} MiB" if kb else "n/a (too short to sample)"
rate = {name: lines / m["wall_s"] for name, m in best.items()}
print(f"| import of {lines:,} events | events/s | ÷ sledger | wall s | peak RssAnon | on disk |")
print("|---|---:|---:|---:|---:|---:|")
for name, title in rows:
    m = best[name]
    print(f"| {title} | {rate[name]:,.0f} | {rate[name] / rate['sledger']:.2f} | {m['wall_s']:.2f} "
          f"| {rss(m['peak_rss_anon_kb'])} | {m['disk_kb'] / 1024:.0f} MiB |")
print()
print(f"Target: 500,000 events/s durably committed; sledger: {rate['sledger']:,.0f} events/s "
      f"({'met' if rate['sledger'] >= 500_000 else 'not met'}).")
json.dump({"events": lines, "best": best}, open(os.path.join(results, "summary.json"), "w"), indent=1)
EOF

CPU=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(cd "$ROOT" && git status --porcelain -- Sources Package.swift 2>/dev/null | head -1)
FS=$(df -T "$OUT" | awk 'NR == 2 {print $2 " on " $1}')
cat <<EOF

- machine: $(nproc) cores, ${CPU:-unknown CPU}, $MEM RAM, $(uname -sr), file system $FS
- load average (1, 5, 15 min) before the build: $LOAD_BEFORE; after the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)
- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); sledger at $COMMIT${DIRTY:+ (with uncommitted changes)}; $(swift --version 2>/dev/null | head -1)
- input: $LINES events, $(stat -c %s "$INPUT") bytes, from $ORIGIN
- each figure: wall clock of one process from start to exit (durable commit included), best of $RUNS run(s); page cache dropped between runs: $DROPPED (input re-read into the cache before each run either way)
- "on disk": blocks allocated (\`du -k\`); sledger's and raw LMDB's data.mdb are sparse (MDB_WRITEMAP)
EOF

if [[ ${KEEP:-0} != 1 ]]; then
    rm -rf "$OUT/store-sledger" "$OUT/store-raw" "$OUT/store-sqlite"
fi
