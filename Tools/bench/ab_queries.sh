#!/bin/bash
# Two builds side by side, each on its own ledger of the same events (as after a format change,
# where the old build cannot read the new ledger): who, sessions and user U at instants, and a
# whole replay --jobs 2, each measured with _measure.py after one unmeasured run, the builds in
# turn, ROUNDS times; then the md5 of each answer (ndjson) from both, which must be equal.
#
#   Tools/bench/ab_queries.sh NAME_A SLEDGER_A LEDGER_A NAME_B SLEDGER_B LEDGER_B [T ...]
#
# T defaults to the ledger's first event, its middle and its last (from `sledger stats`).
# USER_ID (default u_00169) is the user of `user`; REPLAY_POLICY, when set, is a policy file
# for the replays (one with a small max_skew makes every lagged event a finding: the lags
# index read whole). Each ledger's data.mdb is read once before its builds' runs, so that
# both are measured warm; two ledgers that do not fit in memory together are measured one
# after the other, never interleaved.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 6 ] || { sed -n '2,14p' "$0"; exit 2; }
NA=$1 SA=$2 LA=$3 NB=$4 SB=$5 LB=$6; shift 6
USER_ID=${USER_ID:-u_00169} ROUNDS=${ROUNDS:-2}
if [ $# -gt 0 ]; then INSTANTS=("$@"); else
  mapfile -t INSTANTS < <("$SB" stats --ledger "$LB" --format json | /usr/bin/python3 -c "
import json, sys, datetime
s = json.load(sys.stdin)[0]
f, l = (datetime.datetime.fromisoformat(s[k].replace('Z', '+00:00')) for k in ('first_at', 'last_at'))
print(s['first_at']); print((f + (l - f) / 2).strftime('%Y-%m-%dT%H:%M:%SZ')); print(s['last_at'])")
fi
REPLAY=(replay --jobs 2); [ -n "${REPLAY_POLICY:-}" ] && REPLAY+=(--policy "$REPLAY_POLICY")
m() { Tools/bench/_measure.py -- "$@" | /usr/bin/python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(round(d['wall_s']*1000,1), 'ms', d['peak_rss_anon_kb']//1024, 'MiB')"; }
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
for r in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    if [ $side = A ]; then N=$NA S=$SA L=$LA; else N=$NB S=$SB L=$LB; fi
    cat "$L/data.mdb" > /dev/null
    for T in "${INSTANTS[@]}"; do
      for q in who sessions "user $USER_ID"; do
        $S $q --ledger "$L" --at "$T" > /dev/null
        for k in 1 2 3; do echo "r$r $N $q $T: $(m $S $q --ledger "$L" --at "$T")"; done
      done
    done
    echo "r$r $N replay: $(m $S "${REPLAY[@]}" --ledger "$L")"
  done
done
for side in A B; do
  if [ $side = A ]; then N=$NA S=$SA L=$LA; else N=$NB S=$SB L=$LB; fi
  for T in "${INSTANTS[@]}"; do
    for q in who sessions "user $USER_ID"; do echo "$N $q $T $($S $q --ledger "$L" --at "$T" --format ndjson | md5sum | cut -c1-32)"; done
  done
  echo "$N replay $($S "${REPLAY[@]}" --ledger "$L" --format ndjson | tee >(wc -l >&2) | md5sum | cut -c1-32)"
done
