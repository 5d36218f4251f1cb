#!/bin/bash
# Concurrency campaign (issue 5, item 2): for SECONDS (or until their EVENTS run out), WRITERS processes append and import
# batches at once (now and then re-sending a batch already acknowledged, which must come back
# as all duplicates) while READERS processes query (`stats`, `log`, `who`, `check`). At the end
# every acknowledged event must be present exactly once, seq gapless, each call contiguous,
# and `check` (the chain and every index) intact; every reader must have succeeded and seen
# the event count only grow.
#
#   Tools/reliability/concurrency_campaign.sh [SECONDS]   (default 60; WRITERS=4 READERS=2, SLEDGER=path)
#
# Prints `W writers, R readers, S s: C calls acknowledged, E events, 0 lost, 0 duplicated, ...`
# and exits 1 on any violation.
. "$(dirname "$0")/lib.sh"
SECONDS_TO_RUN=${1:-60}
WRITERS=${WRITERS:-4}
READERS=${READERS:-2}
ledger="$WORK/ledger"

# EVENTS (default 600,000, about 110 MB of ledger) is what the writers have to append; past
# about 47 MB the map grows beyond its first 64 MiB while other writers open the ledger.
EVENTS=${EVENTS:-600000}
$GEN --events "$EVENTS" --seed 11 > "$WORK/all.ndjson"
started=$(date +%s.%N)
# each writer gets its own slice of the realistic log, so ids never collide between writers
split -n l/"$WRITERS" -d "$WORK/all.ndjson" "$WORK/slice."

elapsed() { printf '%.1f' "$(echo "$(date +%s.%N) - $started" | bc)"; }

writer() {  # writer W: batches of 1..3000 lines from its slice, by append or import
    local w=$1 slice; slice=$(ls "$WORK"/slice.* | sed -n "$((w + 1))p")
    local line=1 batch=0 end=$(( $(date +%s) + SECONDS_TO_RUN )) n f out status
    while [ "$(date +%s)" -lt $end ]; do
        batch=$((batch + 1)); n=$(rand 1 3000)
        f="$WORK/w$w.b$batch.ndjson"
        sed -n "${line},$((line + n - 1))p" "$slice" > "$f"; line=$((line + n))
        [ -s "$f" ] || break
        if [ $((batch % 2)) -eq 0 ]; then
            out=$("$SLEDGER" append --ledger "$ledger" < "$f" 2>&1); status=$?
        else
            out=$("$SLEDGER" import --ledger "$ledger" "$f" 2>&1); status=$?
        fi
        n=$(grep -c . "$f")
        if [ $status -eq 0 ] && [ "$out" = "imported $n, duplicates 0" ]; then
            echo "acked $f" >> "$WORK/manifest.$w"
        else
            echo "unacked $f" >> "$WORK/manifest.$w"
            echo "writer $w batch $batch: exit $status after $(elapsed) s: $out" >> "$WORK/violations"
        fi
        if [ $((batch % 7)) -eq 0 ]; then  # re-send the previous batch: all duplicates
            local prev="$WORK/w$w.b$((batch - 1)).ndjson" m
            m=$(grep -c . "$prev")
            out=$("$SLEDGER" import --ledger "$ledger" "$prev" 2>&1); status=$?
            echo resend >> "$WORK/resends.$w"
            [ $status -eq 0 ] && [ "$out" = "imported 0, duplicates $m" ] \
                || echo "writer $w re-send of batch $((batch - 1)): exit $status: $out" >> "$WORK/violations"
        fi
    done
}

reader() {  # reader R: queries until the writers stop; counts must never go down
    local r=$1 last=0 count status queries=0
    while [ ! -e "$WORK/stop" ]; do
        count=$("$SLEDGER" stats --ledger "$ledger" --format json 2>&1 | sed -n 's/.*"events" *: *\([0-9]*\).*/\1/p'); status=${PIPESTATUS[0]}
        if [ -z "$count" ]; then
            # until the first call has created the ledger, "no ledger" is the right answer
            [ "$last" -gt 0 ] || { sleep 0.05; continue; }
            echo "reader $r: stats failed" >> "$WORK/violations"; continue
        fi
        [ "$count" -ge "$last" ] || echo "reader $r: the count went from $last to $count" >> "$WORK/violations"
        last=$count
        case $((queries % 4)) in
            0) "$SLEDGER" log --ledger "$ledger" --after $((count > 50 ? count - 50 : 0)) --format ndjson > /dev/null ;;
            1) "$SLEDGER" who --ledger "$ledger" --at 2026-03-01T00:00:00Z --format json > /dev/null ;;
            2) "$SLEDGER" check --ledger "$ledger" > "$WORK/check.$r" ;;
            3) "$SLEDGER" sessions --ledger "$ledger" --at 2026-02-01T00:00:00Z --format ndjson > /dev/null ;;
        esac
        status=$?
        [ $status -eq 0 ] || echo "reader $r query $((queries % 4)): exit $status $(cat "$WORK/check.$r" 2>/dev/null | head -2)" >> "$WORK/violations"
        queries=$((queries + 1))
    done
    echo $queries > "$WORK/queries.$r"
}

: > "$WORK/violations"; readers=(); writers=()
for r in $(seq 1 "$READERS"); do reader "$r" & readers+=($!); done
for w in $(seq 0 $((WRITERS - 1))); do (seed_rand $((${SEED:-$$} + w)) "$WORK/rng.$w"; writer "$w") & writers+=($!); done
for p in "${writers[@]}"; do wait "$p"; done
touch "$WORK/stop"
for p in "${readers[@]}"; do wait "$p"; done

cat "$WORK"/manifest.* > "$WORK/manifest"
"$SLEDGER" log --ledger "$ledger" --format ndjson > "$WORK/log.ndjson"
audit=$($AUDIT verify "$WORK/log.ndjson" "$WORK/manifest") || echo "audit: $audit" >> "$WORK/violations"
"$SLEDGER" check --ledger "$ledger" > "$WORK/check" 2>&1; check_status=$?
[ $check_status -eq 0 ] || echo "check: exit $check_status: $(head -3 "$WORK/check")" >> "$WORK/violations"
took=$(elapsed)
field() { echo "$audit" | sed "s/.*\"$1\": \([0-9]*\).*/\1/"; }
calls=$(grep -c . "$WORK/manifest"); acked=$(grep -c '^acked' "$WORK/manifest")
resends=$(cat "$WORK"/resends.* 2>/dev/null | wc -l)
queries=$(cat "$WORK"/queries.* 2>/dev/null | paste -sd+ | bc); queries=${queries:-0}
problems=$(grep -c . "$WORK/violations")
sort -t' ' -k6,6n "$WORK/violations" | head -5
echo "$WRITERS writers, $READERS readers, ${took} s (limit ${SECONDS_TO_RUN} s): $acked of $calls calls acknowledged, $resends re-sends all duplicates, $(field events) events, $(field lost) lost, $(field duplicated) duplicated, $(field gaps) seq gaps, $(field unordered) calls not contiguous, $(field strays) strays; $queries reader queries; check exit $check_status; $problems violations"
[ "$problems" -eq 0 ]
