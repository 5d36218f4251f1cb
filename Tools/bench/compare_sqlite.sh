#!/usr/bin/env bash
# sledger beside SQLite (and raw LMDB): the same questions of the same events, answers
# cross-checked, side by side with the ratio (issue 4).
#
#     Tools/bench/compare_sqlite.sh [EVENTS]        (default 1000000)
#
# Builds sledger (release, .build-release; SKIP_BUILD=1 uses the binary there as it is) and
# the C baselines, takes EVENTS events from Tools/generate_events.py --seed 1 --start
# 2023-01-01T00:00:00Z (bench-out/events-EVENTS-seed1-from2023.ndjson, the file
# replay_benchmark.sh uses; generated if missing) or INPUT=FILE, then Tools/bench/
# compare_sqlite.py times, each question as its own process, warm:
#
#   import          sledger import; SQLite with its 3 indexes in place, and built after the
#                   rows; raw LMDB with 3 string-keyed indexes (all one durable commit)
#   who --at T      at the first decile, the middle and the last event of the log:
#   sessions --at T   sledger's answer against SQL (Tools/bench/sqlite_query.c) on the same
#   one user at T     events: `sessions --at T --user U` and `user U --at T` for the user
#                   with the most sessions at T, every field compared
#   whole replay    sledger replay --jobs 2 (plain replay when the build has no --jobs)
#                   against SQLite's ordered scan with the expiry fold (sqlite_scan.c) and
#                   the raw LMDB scan of the ledger (raw_lmdb_scan.c)
#   durable appends APPEND_BATCHES (100) calls of 10,000 fresh events each (the generator's
#                   events after the input's last, same arguments) into copies of the large
#                   stores: `sledger append`, one SQLite transaction, one raw LMDB commit
#
# SQLite runs in WAL mode with synchronous=FULL: a commit returns only when it is on disk,
# what sledger's append and import promise (SPEC.md section 3); NORMAL would let SQLite skip
# the fsync at each commit in WAL mode and lose the last commits in a power failure.
#
# Prints one markdown table (question, sledger, SQLite, ratio with sledger faster > 1, raw
# LMDB), the machine, date and load average; writes bench-out/results/compare-EVENTS.json
# (Tools/bench/growth.py reads those; compare-EVENTS.json.partial holds the rows measured so
# far while it runs). Exits 1 with one line when sledger and SQLite give a
# different answer to any question. Environment:
#
#   BENCH_DIR       where inputs, stores and results go (default bench-out/ in the repo)
#   SLEDGER=PATH    time this sledger binary instead of building the checkout's
#   INPUT=FILE      use this NDJSON file (e.g. the 100M one); give GEN_ARGS it was made with
#   GEN_ARGS        the generator's arguments besides --events (default: --seed 1 --start
#                   2023-01-01T00:00:00Z; for a 100k-user file add --users 100000), used
#                   to make the append batches continue the same data
#   REPEAT          runs of each query (default 5); SCAN_REPEAT runs of each scan (default 3);
#                   SQLITE_REPEAT runs of each SQLite query (default REPEAT; at 100M its `who`
#                   and `sessions` scan the table, minutes a run)
#   IMPORT=0        reuse the stores of an earlier run (no import rows)
#   SQLITE_INDEXED=0  skip SQLite's import with indexes in place (very slow at 100M)
#   APPEND=0|1      the durable-append case (default 1 up to 10M events, 0 above: it needs a
#                   copy of each large store); APPEND_BATCHES (100), APPEND_SIZE (10000)
#   RAW=0|1         the raw LMDB store (import and append rows; default: when appending)
#   KEEP=1          keep the append copies and the raw LMDB store (the ledger and the SQLite
#                   database are always kept, for IMPORT=0)
set -euo pipefail

EVENTS=${1:-1000000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$ROOT/Tools/bench
OUT=${BENCH_DIR:-$ROOT/bench-out}
PY=/usr/bin/python3
GEN_ARGS=${GEN_ARGS:---seed 1 --start 2023-01-01T00:00:00Z}
mkdir -p "$OUT/bin" "$OUT/results"
say() { printf '== %s\n' "$*" >&2; }

if [[ -n ${SLEDGER:-} ]]; then
    SLEDGER=$(realpath "$SLEDGER")
else
    SLEDGER=$ROOT/.build-release/release/sledger
fi
if [[ ${SKIP_BUILD:-0} != 1 && $SLEDGER == "$ROOT/.build-release/release/sledger" ]] || [[ ! -x $SLEDGER ]]; then
    say "building sledger (release)"
    "$ROOT/Tools/build_release.sh"
fi
for prog in sqlite_import sqlite_query sqlite_scan; do
    cc -O2 -o "$OUT/bin/$prog" "$BENCH/$prog.c" -lsqlite3
done
for prog in raw_lmdb_append raw_lmdb_scan; do
    cc -O2 -o "$OUT/bin/$prog" "$BENCH/$prog.c" -llmdb
done

if [[ -n ${INPUT:-} ]]; then
    INPUT=$(realpath "$INPUT")
    EVENTS=$(grep -c . "$INPUT")
else
    INPUT=$OUT/events-$EVENTS-seed1-from2023.ndjson
    if [[ ! -s $INPUT ]]; then
        say "generating $EVENTS events"
        # shellcheck disable=SC2086
        "$PY" "$ROOT/Tools/generate_events.py" --events "$EVENTS" $GEN_ARGS > "$INPUT.tmp"
        mv "$INPUT.tmp" "$INPUT"
    fi
    EVENTS=$(grep -c . "$INPUT")
fi

BATCH_ARGS=()
if [[ ${APPEND:-$((EVENTS <= 10000000))} == 1 ]]; then
    BATCHES=${APPEND_BATCHES:-100}
    SIZE=${APPEND_SIZE:-10000}
    BDIR=$OUT/append-$EVENTS-$BATCHES-x-$SIZE
    if [[ ! -s $BDIR/done ]]; then
        say "generating $((BATCHES * SIZE)) events that continue the input"
        rm -rf "$BDIR"
        mkdir -p "$BDIR"
        # The generator's stream for more events starts with the input's: check that it does
        # (the same arguments), then keep what follows it.
        # shellcheck disable=SC2086
        "$PY" "$ROOT/Tools/generate_events.py" --events $((EVENTS + BATCHES * SIZE)) $GEN_ARGS |
            tail -n +"$EVENTS" > "$BDIR/all.ndjson"
        if [[ $(head -1 "$BDIR/all.ndjson") != "$(tail -1 "$INPUT")" ]]; then
            echo "compare_sqlite.sh: the generator with GEN_ARGS='$GEN_ARGS' does not continue $INPUT" >&2
            exit 1
        fi
        mkdir "$BDIR/batches"
        tail -n +2 "$BDIR/all.ndjson" | split -l "$SIZE" -a 4 -d - "$BDIR/batches/batch-"
        rm "$BDIR/all.ndjson"
        echo ok > "$BDIR/done"
    fi
    BATCH_ARGS=(--batches "$BDIR/batches")
fi

exec "$PY" "$BENCH/compare_sqlite.py" --sledger "$SLEDGER" --bin "$OUT/bin" --out "$OUT" --input "$INPUT" \
    --events "$EVENTS" --origin "generate_events.py --events $EVENTS $GEN_ARGS" "${BATCH_ARGS[@]}"
