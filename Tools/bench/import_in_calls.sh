#!/usr/bin/env bash
# Imports a large NDJSON file into a new ledger in several durable calls of CALL lines each
# (`sledger append`, one LMDB transaction per call), timing each call, and prints one JSON
# line per call (wall, peak RssAnon) and a summary. The way to load hundreds of millions of
# events: one call of 100M events is one transaction whose dirty pages outgrow what the kernel
# lets stay dirty (docs/PERFORMANCE.md).
#
#     Tools/bench/import_in_calls.sh FILE LEDGER [CALL]      (CALL default 10000000)
#
# Needs a release build (.build-release/release/sledger; Tools/bench/replay_benchmark.sh
# makes one). Writes LEDGER.calls.jsonl beside the ledger.
set -euo pipefail
FILE=$1
LEDGER=$2
CALL=${3:-10000000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLEDGER=${SLEDGER:-$ROOT/.build-release/release/sledger}
LOG=$LEDGER.calls.jsonl
[[ -e $LEDGER ]] && { echo "import_in_calls: $LEDGER exists; remove it first" >&2; exit 2; }
: > "$LOG"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
START=$(date +%s.%N)
# split runs the filter once per chunk, in order, with the chunk on standard input.
split -l "$CALL" --filter="/usr/bin/python3 '$ROOT/Tools/bench/_measure.py' -- '$SLEDGER' append --ledger '$LEDGER' >> '$LOG'" "$FILE"
END=$(date +%s.%N)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
/usr/bin/python3 - "$LOG" "$START" "$END" <<'PY'
import json, sys
calls = [json.loads(line) for line in open(sys.argv[1])]
wall = float(sys.argv[3]) - float(sys.argv[2])
assert all(c["status"] == 0 for c in calls), "a call failed"
print(json.dumps({"calls": len(calls), "wall_s": round(wall, 1),
                  "call_wall_s": [c["wall_s"] for c in calls],
                  "peak_rss_anon_kb": max(c["peak_rss_anon_kb"] for c in calls)}))
PY
