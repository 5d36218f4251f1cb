#!/bin/bash
# Crash campaign (issue 5, item 1): ROUNDS real `sledger import` / `append` processes killed
# with SIGKILL at a random moment (some while `log --follow` and `stats` readers run), each
# followed by `check`, an audit of every id, and a re-run of the same call, which must converge
# on exactly the ledger a run without kills gives. Then readers killed inside a transaction:
# their stale slots must be cleared by the next writer, so pages are reused again.
#
#   Tools/reliability/crash_campaign.sh [ROUNDS]     (default 200; SLEDGER=path, SEED=n, KEEP=1)
#
# Prints `N kills: L lost, P partial, C converged (...)` and exits 1 on any violation.
. "$(dirname "$0")/lib.sh"
ROUNDS=${1:-200}
EPOCH=10   # a fresh ledger every EPOCH rounds keeps `check` quick

$GEN --events 400000 --seed 5 > "$WORK/all.ndjson"
TOTAL=$(wc -l < "$WORK/all.ndjson")
next_line=1
take() {  # take N lines of the realistic log as the next call's input (unique ids throughout)
    sed -n "${next_line},$((next_line + $1 - 1))p" "$WORK/all.ndjson" > "$2"
    next_line=$((next_line + $1))
    if [ $next_line -gt $((TOTAL - 20000)) ]; then next_line=1; fi
}

lost=0 partial=0 converged=0 bad_check=0 bad_rerun=0 violations=0
before=0 during=0 committed_unacked=0 acked=0 with_readers=0
ledger=""
for round in $(seq 1 "$ROUNDS"); do
    if [ $(( (round - 1) % EPOCH )) -eq 0 ]; then
        ledger="$WORK/ledger$round"; : > "$WORK/manifest"; : > "$WORK/expected.ndjson"
        take 2000 "$WORK/base$round.ndjson"
        "$SLEDGER" import --ledger "$ledger" "$WORK/base$round.ndjson" > /dev/null || { echo "round $round: base import failed"; exit 1; }
        echo "acked $WORK/base$round.ndjson" >> "$WORK/manifest"
        cat "$WORK/base$round.ndjson" >> "$WORK/expected.ndjson"
    fi
    input="$WORK/r$round.ndjson"
    n=$(rand 1000 12000)
    take "$n" "$input"
    readers=()
    if [ $((round % 4)) -eq 0 ]; then   # a writer killed while readers run
        with_readers=$((with_readers + 1))
        "$SLEDGER" log --ledger "$ledger" --follow --format ndjson > /dev/null 2>&1 & readers+=($!)
        ( while :; do "$SLEDGER" stats --ledger "$ledger" --format json > /dev/null 2>&1; done ) & readers+=($!)
    fi
    out="$WORK/out"
    if [ $((round % 2)) -eq 0 ]; then
        "$SLEDGER" append --ledger "$ledger" < "$input" > "$out" 2>&1 & pid=$!
    else
        "$SLEDGER" import --ledger "$ledger" "$input" > "$out" 2>&1 & pid=$!
    fi
    # about 10 us an event is how long a call takes on the machine this was written on:
    # the kill lands anywhere from before the process starts reading to after it exits
    us=$(rand 0 $((n * 12)))
    sleep "$(printf '%d.%06d' $((us / 1000000)) $((us % 1000000)))"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null; status=$?
    for r in "${readers[@]}"; do kill -KILL "$r" 2>/dev/null; wait "$r" 2>/dev/null; done
    if [ $status -eq 0 ]; then
        grep -q "^imported $(wc -l < "$input"), duplicates 0$" "$out" || { echo "round $round: exit 0 without the summary: $(cat "$out")"; violations=$((violations + 1)); }
        echo "acked $input" >> "$WORK/manifest"; acked=$((acked + 1))
    else
        echo "unacked $input" >> "$WORK/manifest"
    fi
    # check, then audit every id of every call so far
    if ! "$SLEDGER" check --ledger "$ledger" > "$WORK/check" 2>&1; then
        echo "round $round: check failed: $(head -3 "$WORK/check")"; bad_check=$((bad_check + 1))
    fi
    "$SLEDGER" log --ledger "$ledger" --format ndjson > "$WORK/log.ndjson" 2>"$WORK/err" || echo "round $round: log failed: $(cat "$WORK/err")"
    audit=$($AUDIT verify "$WORK/log.ndjson" "$WORK/manifest"); audit_status=$?
    round_lost=$(echo "$audit" | sed 's/.*"lost": \([0-9]*\).*/\1/')
    round_partial=$(echo "$audit" | sed 's/.*"partial": \([0-9]*\).*/\1/')
    lost=$((lost + round_lost)); partial=$((partial + round_partial))
    [ $audit_status -eq 0 ] || { echo "round $round (exit $status): $audit"; violations=$((violations + 1)); }
    present=$(grep -c . "$WORK/log.ndjson")
    expected_before=$(grep -c . "$WORK/expected.ndjson")
    if [ $status -ne 0 ]; then
        if [ "$present" -eq "$expected_before" ]; then before=$((before + 1)); else committed_unacked=$((committed_unacked + 1)); fi
    fi
    # the same call again, with ids: it must succeed and converge on the kill-free ledger
    cat "$input" >> "$WORK/expected.ndjson"
    if [ $((round % 2)) -eq 0 ]; then
        "$SLEDGER" append --ledger "$ledger" < "$input" > "$out" 2>&1; rerun=$?
    else
        "$SLEDGER" import --ledger "$ledger" "$input" > "$out" 2>&1; rerun=$?
    fi
    [ $rerun -eq 0 ] || { echo "round $round: re-run failed ($rerun): $(cat "$out")"; bad_rerun=$((bad_rerun + 1)); }
    sed -i "\$s/^unacked /acked /" "$WORK/manifest"
    if "$SLEDGER" export --ledger "$ledger" | cmp -s - "$WORK/expected.ndjson" \
        && "$SLEDGER" check --ledger "$ledger" > /dev/null 2>&1; then
        converged=$((converged + 1))
    else
        echo "round $round: the ledger after the re-run differs from the kill-free one"; violations=$((violations + 1))
    fi
done
during=$((ROUNDS - acked))

# Readers killed while they hold a read transaction (export of a large ledger holds one for its
# whole run). A stale slot pins old pages; the next writer must clear it (mdb_reader_check).
ledger="$WORK/readers"
$GEN --events 150000 --seed 9 > "$WORK/readers.ndjson"
"$SLEDGER" import --ledger "$ledger" "$WORK/readers.ndjson" > /dev/null
reader_kills=0 stale_seen=0 stale_left=0
# LMDB resets the reader table when the first process opens the environment again, so stale
# slots matter (and can be seen) only while some other process keeps it open: a follower.
"$SLEDGER" log --ledger "$ledger" --follow --after 150000 --format ndjson > /dev/null & follower=$!
sleep 0.3
mkfifo "$WORK/fifo"
for k in 1 2 3 4 5; do
    # export blocks writing into a pipe nobody reads, inside its read transaction
    sleep 30 < "$WORK/fifo" & sink=$!
    "$SLEDGER" export --ledger "$ledger" > "$WORK/fifo" & pid=$!
    sleep 0.3; kill -KILL $pid; wait $pid 2>/dev/null
    kill $sink; wait $sink 2>/dev/null
    reader_kills=$((reader_kills + 1))
done
stale_seen=$($AUDIT readers "$ledger")
# 40 small appends: each rewrites the same few pages; with the stale slots cleared their old
# copies are reused, so the file's used pages barely grow.
pages() { $PY -c "import lmdb,sys; e=lmdb.open(sys.argv[1],readonly=True,max_dbs=16,create=False); print(e.info()['last_pgno'])" "$1"; }
grown() {
    local start; start=$(pages "$ledger")
    for i in $(seq 1 40); do
        printf '{"type":"logout","at":"2026-06-01T00:00:%02dZ","user":"u_stale","session":"s_stale","id":"stale-%s-%d"}\n' $((i % 60)) "$1" "$i" \
            | "$SLEDGER" append --ledger "$ledger" > /dev/null || echo "append failed"
    done
    echo $(( $(pages "$ledger") - start ))
}
growth_after_kill=$(grown killed)
stale_left=$($AUDIT readers "$ledger")
# for comparison: the same appends while a live reader pins a snapshot
$PY -c "
import lmdb, sys, time
e = lmdb.open(sys.argv[1], readonly=True, max_dbs=16, create=False)
t = e.begin(); print('pinned', flush=True); time.sleep(60)" "$ledger" > "$WORK/pin" & pinner=$!
while ! grep -q pinned "$WORK/pin"; do sleep 0.05; done
growth_pinned=$(grown pinned)
kill $pinner; wait $pinner 2>/dev/null
kill $follower; wait $follower 2>/dev/null
[ "$stale_seen" -gt 0 ] || { echo "readers: no stale slot was seen, the kills missed the transactions"; violations=$((violations + 1)); }
"$SLEDGER" check --ledger "$ledger" > /dev/null || { echo "readers: check failed"; violations=$((violations + 1)); }
if [ "$stale_left" -ne 0 ]; then echo "readers: $stale_left stale reader slots left after a write"; violations=$((violations + 1)); fi
if [ "$growth_after_kill" -ge "$growth_pinned" ]; then echo "readers: pages grew $growth_after_kill after the kills, $growth_pinned with a live reader"; violations=$((violations + 1)); fi

total_bad=$((lost + partial + bad_check + bad_rerun + violations))
echo "$ROUNDS kills: $lost lost, $partial partial, $converged converged ($acked finished before the kill, $before killed before the commit, $committed_unacked after the commit but before exit; $with_readers with readers running; check failed $bad_check, re-run failed $bad_rerun); $reader_kills readers killed in a transaction: $stale_seen stale slots, $stale_left left after the next write, pages grown over 40 appends $growth_after_kill (with a live reader pinning: $growth_pinned)"
[ $total_bad -eq 0 ] && [ $converged -eq "$ROUNDS" ]
