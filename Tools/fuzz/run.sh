#!/usr/bin/env bash
# The fuzz campaign (docs/FUZZING.md): builds the libFuzzer targets and runs each for a
# bounded time, seeded from Fixtures/.
#
#   Tools/fuzz/run.sh [SECONDS]      SECONDS per target, default 60
#
# Targets: FuzzEventParser (one NDJSON line through EventParser) and FuzzPolicy (one
# policy file through Policy(json:)). Property violations do not stop a run: each kind is
# printed once (FINDING ...), counted, and its shortest input saved under
# Tools/fuzz/.work/findings/TARGET/. A crash (a trap in the code) stops libFuzzer, whose
# input is saved under .work/artifacts/TARGET/; the run then goes on for the time left.
# Then differential.py compares EventParser with Tools/canonical.py on the whole event corpus
# (its differences in .work/differential/differences.txt).
# Environment: FUZZ_WORK (default Tools/fuzz/.work), FUZZ_JOBS unused (one process a target).
set -euo pipefail
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${FUZZ_WORK:-$here/.work}
cd "$here"

swift build -c release --scratch-path "$here/.build-fuzz" \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library >"$work.build.log" 2>&1 \
    || { mkdir -p "$work"; cat "$work.build.log" >&2; echo "fuzz: build failed" >&2; exit 1; }
bin=$(swift build -c release --scratch-path "$here/.build-fuzz" --show-bin-path)
mkdir -p "$work"
mv -f "$work.build.log" "$work/build.log"
rm -rf "$work/seeds"
python3 "$here/make_seeds.py" "$root/Fixtures" "$work/seeds" >/dev/null

total_execs=0 total_crashes=0 total_findings=0
for target in FuzzEventParser FuzzPolicy; do
    case $target in
        FuzzEventParser) dict=event.dict max_len=8192 ;;
        FuzzPolicy) dict=policy.dict max_len=16384 ;;
    esac
    corpus=$work/corpus/$target findings=$work/findings/$target artifacts=$work/artifacts/$target
    mkdir -p "$corpus" "$findings" "$artifacts"
    log=$work/$target.log
    : >"$log"
    execs=0 crashes=0 runs=0
    start=$(date +%s)
    while :; do
        left=$((start + seconds - $(date +%s)))
        [ "$left" -gt 0 ] || break
        before=$(find "$artifacts" -type f | wc -l)
        runs=$((runs + 1))
        set +e
        FUZZ_FINDINGS_DIR=$findings SWIFT_BACKTRACE=enable=no "$bin/$target" \
            -max_total_time="$left" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
            -dict="$here/$dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
            "$corpus" "$work/seeds/$target" >>"$log" 2>&1
        set -e
        n=$(grep -a 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
        execs=$((execs + ${n:-0}))
        sed -i 's/stat::number_of_executed_units/counted::number_of_executed_units/' "$log"
        after=$(find "$artifacts" -type f | wc -l)
        crashes=$((crashes + after - before))
        [ "$after" -gt "$before" ] || break
    done
    kinds=$(find "$findings" -name '*.input' | wc -l)
    cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    echo "$target: $seconds s, $execs executions, $crashes crashes, $kinds finding kinds ($(grep -a '^FINDINGS' "$log" | tail -1 | sed 's/^FINDINGS [A-Za-z]*: //')), coverage $cov, corpus $(find "$corpus" -type f | wc -l)"
    total_execs=$((total_execs + execs)) total_crashes=$((total_crashes + crashes)) total_findings=$((total_findings + kinds))
done
# The event corpus, new units and seeds, against Tools/canonical.py.
python3 "$here/differential.py" "$bin/ParseLines" "$work/differential" "$work/corpus/FuzzEventParser" \
    "$work/seeds/FuzzEventParser" >"$work/differential.log" 2>&1 || true
head -1 "$work/differential.log"
echo "fuzz: $seconds s a target, $total_execs executions, $total_crashes crashes, $total_findings finding kinds (inputs in ${work#$root/}/findings, crashes in ${work#$root/}/artifacts)"
