# Shared by the campaigns: the binary, Python, a scratch directory removed on exit.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
AUDIT="$PY $HERE/audit.py"
GEN="$PY $ROOT/Tools/generate_events.py"
if [ -z "${SLEDGER:-}" ] && [ "${LIST:-0}" != 1 ]; then  # LIST=1 (damage_campaign.sh) only draws cases
    SLEDGER=$ROOT/.build-rel-release/release/sledger
    if [ ! -x "$SLEDGER" ]; then
        echo "building the release binary (swift build -c release --scratch-path .build-rel-release)" >&2
        (cd "$ROOT" && swift build -c release --scratch-path .build-rel-release >&2) || exit 2
    fi
fi
[ "${LIST:-0}" = 1 ] || [ -x "$SLEDGER" ] || { echo "no sledger binary at $SLEDGER" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sledger-campaign.XXXXXX")
KEEP=${KEEP:-0}
cleanup() { [ "$KEEP" = 1 ] && echo "kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT
# Do not let the Swift runtime's crash backtraces flood the output (a crash still shows in the exit status).
export SWIFT_BACKTRACE=enable=no
unset SLEDGER_LEDGER
# A random integer in [lo, hi], from a 64-bit linear congruential generator seeded by SEED, so
# that a campaign repeats. Its state lives in a file: `rand` runs in command substitutions,
# subshells, whose variables do not come back, and bash 5.1 and later seed RANDOM anew in each
# subshell (a campaign seeded through RANDOM drew other cases at every run). A process that
# draws beside others (a concurrency campaign's writer) gets its own file: `seed_rand N FILE`.
RNG_FILE=$WORK/rng
seed_rand() {
    RNG_FILE=${2:-$RNG_FILE}
    echo $(( ($1 * 2654435761 + 1) & 0x7fffffffffffffff )) > "$RNG_FILE"
}
seed_rand "${SEED:-$$}"
rand() {
    local s
    s=$(< "$RNG_FILE")
    s=$(( (s * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff ))
    echo "$s" > "$RNG_FILE"
    echo $(( $1 + ( (s >> 20) % ($2 - $1 + 1) ) ))
}
# Runs a command so that the shell does not announce its death by a signal (the status shows it).
quiet() { "$@" < /dev/null & wait $! 2>/dev/null; }
