#!/bin/bash
# Wall time and peak anonymous memory of the commands that read a whole ledger, or write a
# copy of it, one run each (docs/PERFORMANCE.md, the memory target "for every command"):
# check, digest, stats, export, log, checkpoint, compact, and a session and a user. Each is
# one process measured by _measure.py, its output to /dev/null (compact writes its copy to
# LEDGER.compacted, removed afterwards: make room for a copy of the ledger).
#
#   Tools/bench/commands_memory.sh SLEDGER LEDGER [SESSION_ID [USER_ID]]
#
# Prints one Markdown table row per command; exits 1 when a command fails (check's exit 1 is
# damage: a failure here).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,10p' "$0"; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
S=$1 L=$2 SESSION=${3:-} USER_ID=${4:-u_00169}
if [ -z "$SESSION" ]; then
  SESSION=$( ("$S" log --ledger "$L" --format ndjson --after 0 || true) | head -1 | /usr/bin/python3 -c "import json, sys; print(json.loads(sys.stdin.readline())['session'])")
fi
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $S on $L"
echo
echo "| command | wall s | CPU s | peak RssAnon | written (dirtied) |"
echo "|---|---:|---:|---:|---:|"
run() {
  local line
  sync
  line=$("$ROOT/Tools/bench/_measure.py" -- "$S" "$@" --ledger "$L") || { echo "failed: $*" >&2; exit 1; }
  /usr/bin/python3 -c "
import json, sys
m = json.loads(sys.argv[1])
peak = f\"{m['peak_rss_anon_kb'] / 1024:.0f} MiB\" if m['peak_rss_anon_kb'] else 'not sampled (under 50 ms)'
print(f\"| \`{sys.argv[2]}\` | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {peak} | {m['dirtied_mb']:,.0f} MB |\")" "$line" "$*"
}
run check
run digest
run stats
run export
run log --format ndjson
run log
run session "$SESSION"
run user "$USER_ID"
run checkpoint
rm -rf "$L.compacted"
run compact --to "$L.compacted"
rm -rf "$L.compacted"
