#!/bin/bash
# Two builds side by side, each on its own ledger of the same events (as after a format change,
# where the old build cannot read the new ledger): who, sessions and user U at instants, and a
# whole replay --jobs 2, each run once unmeasured and then measured with _measure.py (3 times a
# round for the queries, once for the replay), the builds in turn, A first in odd rounds and B
# first in even ones, ROUNDS times; then the md5 of each answer (ndjson) from both, compared:
# the script exits 1 when an answer differs or a command fails.
#
#   Tools/bench/ab_queries.sh NAME_A SLEDGER_A LEDGER_A NAME_B SLEDGER_B LEDGER_B [T ...]
#
# Paths may be absolute or relative to the current directory. T defaults to the ledger's first
# event, its middle and its last (from `sledger stats`). USER_ID (default u_00169) is the user
# of `user`; REPLAY_POLICY, when set, is a policy file for the replays (one with a small
# max_skew makes every lagged event a finding: the lags index read whole). Each ledger's
# data.mdb is read before its build's runs in every round, so that both are measured warm; two
# ledgers that do not fit in memory together are measured one after the other, never interleaved.
set -euo pipefail
[ $# -ge 6 ] || { sed -n '2,16p' "$0"; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
NA=$1 SA=$(abs "$2") LA=$(abs "$3") NB=$4 SB=$(abs "$5") LB=$(abs "$6"); shift 6
USER_ID=${USER_ID:-u_00169} ROUNDS=${ROUNDS:-2}
if [ $# -gt 0 ]; then INSTANTS=("$@"); else
  listed=$("$SB" stats --ledger "$LB" --format json | /usr/bin/python3 -c "
import json, sys, datetime
s = json.load(sys.stdin)[0]
f, l = (datetime.datetime.fromisoformat(s[k].replace('Z', '+00:00')) for k in ('first_at', 'last_at'))
print(s['first_at']); print((f + (l - f) / 2).strftime('%Y-%m-%dT%H:%M:%SZ')); print(s['last_at'])")
  mapfile -t INSTANTS <<< "$listed"
  [ ${#INSTANTS[@]} -eq 3 ] || { echo "could not read the ledger's first and last instants" >&2; exit 2; }
fi
REPLAY=(replay --jobs 2); [ -n "${REPLAY_POLICY:-}" ] && REPLAY+=(--policy "$(abs "$REPLAY_POLICY")")
QUERIES=(who sessions "user $USER_ID")
side() { if [ "$1" = A ]; then N=$NA S=$SA L=$LA; else N=$NB S=$SB L=$LB; fi; }
# One measured run: "wall ms, peak RssAnon MiB"; a failed command stops the script (replay's
# exit 1 is its findings, not a failure).
m() {
  local line status
  line=$("$ROOT/Tools/bench/_measure.py" -- "$@") && status=0 || status=$?
  if [ "$status" -ne 0 ] && ! { [ "$status" -eq 1 ] && [ "$2" = replay ]; }; then echo "failed ($status): $*" >&2; exit 1; fi
  /usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(round(d['wall_s']*1000,1), 'ms', d['peak_rss_anon_kb']//1024, 'MiB')" "$line"
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
for r in $(seq 1 "$ROUNDS"); do
  order=(A B); [ $((r % 2)) -eq 0 ] && order=(B A)
  for s in "${order[@]}"; do
    side $s
    cat "$L/data.mdb" > /dev/null
    for T in "${INSTANTS[@]}"; do
      for q in "${QUERIES[@]}"; do
        read -ra Q <<< "$q"
        "$S" "${Q[@]}" --ledger "$L" --at "$T" > /dev/null
        for k in 1 2 3; do res=$(m "$S" "${Q[@]}" --ledger "$L" --at "$T"); echo "r$r $N $q $T: $res"; done
      done
    done
    "$S" "${REPLAY[@]}" --ledger "$L" > /dev/null || [ $? -eq 1 ]
    res=$(m "$S" "${REPLAY[@]}" --ledger "$L"); echo "r$r $N replay: $res"
  done
done
declare -A answer
out=$(mktemp); trap 'rm -f "$out"' EXIT
for s in A B; do
  side $s
  for T in "${INSTANTS[@]}"; do
    for q in "${QUERIES[@]}"; do
      read -ra Q <<< "$q"
      answer[$s $q $T]=$("$S" "${Q[@]}" --ledger "$L" --at "$T" --format ndjson | md5sum | cut -c1-32)
      echo "$N $q $T ${answer[$s $q $T]}"
    done
  done
  "$S" "${REPLAY[@]}" --ledger "$L" --format ndjson > "$out" || [ $? -eq 1 ]
  answer[$s replay]=$(md5sum < "$out" | cut -c1-32)
  echo "$N replay ($(wc -l < "$out") findings) ${answer[$s replay]}"
done
differ=0
for T in "${INSTANTS[@]}"; do
  for q in "${QUERIES[@]}"; do [ "${answer[A $q $T]}" = "${answer[B $q $T]}" ] || { echo "DIFFERENT: $q $T" >&2; differ=1; }; done
done
[ "${answer[A replay]}" = "${answer[B replay]}" ] || { echo "DIFFERENT: replay" >&2; differ=1; }
[ $differ -eq 0 ] && echo "every answer the same from both"
exit $differ
