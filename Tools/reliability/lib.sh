# Shared by the campaigns: the binary, Python, a scratch directory removed on exit.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
AUDIT="$PY $HERE/audit.py"
GEN="$PY $ROOT/Tools/generate_events.py"
if [ -z "${SLEDGER:-}" ]; then
    SLEDGER=$ROOT/.build-rel-release/release/sledger
    if [ ! -x "$SLEDGER" ]; then
        echo "building the release binary (swift build -c release --scratch-path .build-rel-release)" >&2
        (cd "$ROOT" && swift build -c release --scratch-path .build-rel-release >&2) || exit 2
    fi
fi
[ -x "$SLEDGER" ] || { echo "no sledger binary at $SLEDGER" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sledger-campaign.XXXXXX")
KEEP=${KEEP:-0}
cleanup() { [ "$KEEP" = 1 ] && echo "kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT
# Do not let the Swift runtime's crash backtraces flood the output (a crash still shows in the exit status).
export SWIFT_BACKTRACE=enable=no
unset SLEDGER_LEDGER
# A random integer in [lo, hi], from bash's RANDOM (seeded by SEED for a repeatable campaign).
RANDOM=${SEED:-$$}
rand() { echo $(( $1 + ( (RANDOM << 15 | RANDOM) % ($2 - $1 + 1) ) )); }
# Runs a command so that the shell does not announce its death by a signal (the status shows it).
quiet() { "$@" < /dev/null & wait $! 2>/dev/null; }
