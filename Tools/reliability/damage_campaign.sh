#!/bin/bash
# Damage campaign (issue 5, item 4): a copy of a 20,000-event ledger is damaged one way at a
# time (a bit flipped in a record inside data.mdb, an index entry removed from by_user,
# by_session or ids, two records swapped, a bit flipped in a name in user_names or
# session_names, a late event's `lags` entry removed or a bit flipped in its lag or its `at`,
# data.mdb truncated); then `check` must exit 1 and
# name the first damaged seq, and each query (`sessions --at T`, `who --at T`, `export`,
# `log --format ndjson`, `replay`) must either refuse (exit 3, pointing to `sledger check`) or
# print exactly what it prints on the intact ledger. Anything else (a different answer with
# exit 0, a crash) is a silent wrong answer.
#
#   Tools/reliability/damage_campaign.sh     (SLEDGER=path, SEED=n, KEEP=1, LIST=1)
#
# Prints `N damages: check named the first damaged seq in X of Y; queries: R refused, C
# correct, W wrong` and exits 1 when check misses or any query answers wrongly.
. "$(dirname "$0")/lib.sh"
EVENTS=20000
# Lines 14,001-16,000 are moved to the end, so that the last 2,000 events (seqs 18,001-20,000)
# come late: each is lagged, and `lags` lists it (docs/FORMAT.md). Line N is seq N.
LAGGED_FROM=18001
cases=() # "kind args..."
for k in $(seq 1 10); do cases+=("flip $(rand 1 $EVENTS) $(rand 0 400)"); done
for k in $(seq 1 6); do cases+=("unindex $(rand 1 $EVENTS) by_user"); done
for k in $(seq 1 3); do cases+=("unindex $(rand 1 $EVENTS) by_session"); done
for k in $(seq 1 3); do cases+=("unindex $(rand 1 $EVENTS) ids"); done
for k in $(seq 1 6); do a=$(rand 1 $((EVENTS - 1))); cases+=("swap $a $(rand $((a + 1)) $EVENTS)"); done
for k in $(seq 1 2); do cases+=("flipname $(rand 1 $EVENTS) user_names"); done
for k in $(seq 1 2); do cases+=("flipname $(rand 1 $EVENTS) session_names"); done
for k in $(seq 1 2); do cases+=("unlag $(rand $LAGGED_FROM $EVENTS)"); done
for k in $(seq 1 3); do cases+=("fliplag $(rand $LAGGED_FROM $EVENTS) $(rand 20 50)"); done
for k in $(seq 1 2); do cases+=("fliplagat $(rand $LAGGED_FROM $EVENTS) $(rand 20 50)"); done
for f in 0.95 0.6 0.3 0.0; do cases+=("truncate $f"); done
# LIST=1: print the cases this SEED draws, one a line, and stop (to find a seed with a given case).
if [ "${LIST:-0}" = 1 ]; then printf '%s\n' "${cases[@]}"; exit 0; fi
$GEN --events $EVENTS --seed 3 > "$WORK/generated.ndjson"
{ sed -n '1,14000p' "$WORK/generated.ndjson"; sed -n '16001,$p' "$WORK/generated.ndjson"; sed -n '14001,16000p' "$WORK/generated.ndjson"; } > "$WORK/events.ndjson"
intact="$WORK/intact"
"$SLEDGER" import --ledger "$intact" "$WORK/events.ndjson" > /dev/null || exit 1
# T: one second after the last event, so that many sessions are open. `sessions` and `who` run
# twice: as they are (they fold from the latest checkpoint, 16,384 events in) and under a copy
# of the default policy with another name, which no checkpoint was written for, so that they
# fold the whole log. `user U` and `sessions --user U` of the damaged event's user read the
# user's slice through by_user and by_session.
# TMID: one second after generated line 16,000, the newest of the late events: a walk up to it
# stops long before their seqs, so it finds them through `lags` alone.
second_after() {
    $PY -c "
import json, sys, datetime
at = json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2]) - 1])['at']
t = datetime.datetime.fromisoformat(at.replace('Z', '+00:00')) + datetime.timedelta(seconds=1)
print(t.strftime('%Y-%m-%dT%H:%M:%SZ'))" "$WORK/generated.ndjson" "$1"
}
T=$(second_after $EVENTS)  # the generator writes in time order: its last line is the latest
TMID=$(second_after 16000)
"$SLEDGER" policy | $PY -c "import json, sys; p = json.load(sys.stdin); p['name'] = 'whole-log'; print(json.dumps(p))" > "$WORK/whole-log.json"
WHOLE="--policy $WORK/whole-log.json"
QUERIES=("sessions --at $T --format ndjson" "who --at $T --format ndjson" "sessions --at $T --format ndjson $WHOLE"
         "who --at $T --format ndjson $WHOLE" "sessions --at $TMID --format ndjson" "who --at $TMID --format ndjson"
         "export" "log --format ndjson" "replay")
mkdir -p "$WORK/expected"
for i in "${!QUERIES[@]}"; do
    "$SLEDGER" ${QUERIES[$i]} --ledger "$intact" > "$WORK/expected/$i" 2>&1 || { echo "intact ledger: ${QUERIES[$i]} failed"; exit 1; }
done


named=0 checked=0 refused=0 correct=0 wrong=0 silent=0 crashed=0
declare -A per_kind
for c in "${cases[@]}"; do
    set -- $c; kind=$1; shift
    ledger="$WORK/case"; rm -rf "$ledger"; cp -a "$intact" "$ledger"
    seq=$($AUDIT damage "$ledger" "$kind" "$@") || { echo "$c: could not damage"; exit 1; }
    quiet "$SLEDGER" check --ledger "$ledger" > "$WORK/out" 2> "$WORK/err"; status=$?
    checked=$((checked + 1))
    if [ "$seq" = "-" ]; then   # truncated: no seq can be predicted; damage must be reported, not crash
        if [ $status -ge 128 ]; then
            verdict="CHECK CRASHED (signal $((status - 128)))"
        elif { [ $status -eq 1 ] && grep -q "^damaged" "$WORK/out"; } || { [ $status -eq 3 ] && grep -q "sledger check" "$WORK/err"; }; then
            named=$((named + 1)); verdict="check exit $status"
        else
            verdict="CHECK MISSED (exit $status)"
        fi
    elif [ $status -eq 1 ] && grep -q "^damaged: first damaged seq $seq\$" "$WORK/out"; then
        named=$((named + 1)); verdict="check named seq $seq"
    elif [ $status -ge 128 ]; then
        verdict="CHECK CRASHED (signal $((status - 128)))"
    else
        verdict="CHECK MISSED (exit $status: $(head -1 "$WORK/out" "$WORK/err" | tr '\n' ' '))"
    fi
    line="$c: $verdict;"
    queries=("${QUERIES[@]}")
    if [ "$seq" != "-" ]; then
        # the damaged event's user (seq N is line N of the generated file), answered on the intact ledger
        user=$(sed -n "${seq}p" "$WORK/events.ndjson" | $PY -c "import json, sys; print(json.load(sys.stdin)['user'])")
        for q in "user $user --at $T --format ndjson" "sessions --at $T --user $user --format ndjson"; do
            "$SLEDGER" $q --ledger "$intact" > "$WORK/expected/${#queries[@]}" 2>&1 || { echo "intact ledger: $q failed"; exit 1; }
            queries+=("$q")
        done
    fi
    for i in "${!queries[@]}"; do
        quiet "$SLEDGER" ${queries[$i]} --ledger "$ledger" > "$WORK/out" 2> "$WORK/err"; status=$?
        name=${queries[$i]%% *}
        case "${queries[$i]}" in *--policy*) name+="(whole-log)" ;; *--user*) name+="(--user)" ;; esac
        if [ $status -eq 3 ] && grep -q "sledger check" "$WORK/err"; then
            refused=$((refused + 1)); line+=" $name refused"
        elif [ $status -eq 0 ] && cmp -s "$WORK/out" "$WORK/expected/$i"; then
            correct=$((correct + 1)); line+=" $name correct"
        else
            wrong=$((wrong + 1)); per_kind[$kind]=$(( ${per_kind[$kind]:-0} + 1 ))
            if [ $status -ge 128 ]; then crashed=$((crashed + 1)); line+=" $name CRASHED(signal $((status - 128)))"
            elif [ $status -le 1 ]; then silent=$((silent + 1)); line+=" $name WRONG-ANSWER(exit $status)"
            else line+=" $name BAD-EXIT($status)"; fi
        fi
    done
    echo "$line"
done
summary=""
for k in "${!per_kind[@]}"; do summary+=" $k:${per_kind[$k]}"; done
echo "${#cases[@]} damages: check named the first damaged seq (or reported the damage) in $named of $checked; queries: $refused refused pointing to check, $correct correct, $wrong wrong ($silent silently wrong, with exit 0 or 1 (replay's "findings"), $crashed crashed)${summary:+ (by damage:$summary)}"
[ $named -eq $checked ] && [ $wrong -eq 0 ]
