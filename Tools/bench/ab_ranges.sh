#!/bin/bash
# Two builds on one ledger: `who --from T1 --to T2` (and `sessions`, with QUERY=sessions) for
# each range, each run once unmeasured and then measured with _measure.py RUNS times (3), the
# builds in turn, A first in odd rounds and B first in even ones, ROUNDS times (2); then the
# md5 of each answer (ndjson) from both, compared: exits 1 when an answer differs or a command fails.
#
#   Tools/bench/ab_ranges.sh NAME_A SLEDGER_A NAME_B SLEDGER_B LEDGER T1/T2 [T1/T2 ...]
#
# Paths may be absolute or relative to the current directory. The ledger's data.mdb is read
# once before the runs, so that both builds are measured warm.
set -euo pipefail
[ $# -ge 6 ] || { sed -n '2,10p' "$0"; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
NA=$1 SA=$(abs "$2") NB=$3 SB=$(abs "$4") L=$(abs "$5"); shift 5
RANGES=("$@")
QUERY=${QUERY:-who} ROUNDS=${ROUNDS:-2} RUNS=${RUNS:-3}
side() { if [ "$1" = A ]; then N=$NA S=$SA; else N=$NB S=$SB; fi; }
# One measured run: "wall ms, peak RssAnon MiB"; a failed command stops the script.
m() {
  local line
  line=$("$ROOT/Tools/bench/_measure.py" -- "$@") || { echo "failed: $*" >&2; exit 1; }
  /usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(round(d['wall_s']*1000,1), 'ms', d['peak_rss_anon_kb']//1024, 'MiB')" "$line"
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
cat "$L/data.mdb" > /dev/null
for r in $(seq 1 "$ROUNDS"); do
  order=(A B); [ $((r % 2)) -eq 0 ] && order=(B A)
  for s in "${order[@]}"; do
    side $s
    for range in "${RANGES[@]}"; do
      T1=${range%/*} T2=${range#*/}
      "$S" "$QUERY" --ledger "$L" --from "$T1" --to "$T2" > /dev/null
      for k in $(seq 1 "$RUNS"); do echo "r$r $N $QUERY $T1..$T2: $(m "$S" "$QUERY" --ledger "$L" --from "$T1" --to "$T2")"; done
    done
  done
done
declare -A answer
for s in A B; do
  side $s
  for range in "${RANGES[@]}"; do
    T1=${range%/*} T2=${range#*/}
    answer[$s $range]=$("$S" "$QUERY" --ledger "$L" --from "$T1" --to "$T2" --format ndjson | md5sum | cut -c1-32)
    echo "$N $QUERY $T1..$T2 ${answer[$s $range]}"
  done
done
differ=0
for range in "${RANGES[@]}"; do [ "${answer[A $range]}" = "${answer[B $range]}" ] || { echo "DIFFERENT: $range" >&2; differ=1; }; done
[ $differ -eq 0 ] && echo "every answer the same from both"
exit $differ
