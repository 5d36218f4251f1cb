#!/usr/bin/env bash
# The main job on the bundled fixtures: build sledger, import a team's quarter of sign-ins and
# the week after it, verify the ledger, and ask what a security reviewer would ask.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build --product sledger
sledger=.build/debug/sledger
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SLEDGER_LEDGER=$work/ledger

run() { echo; echo "\$ sledger $*"; "$sledger" "$@"; }

run import Fixtures/team-quarter/events.ndjson
run import Fixtures/incident-april/events.ndjson
run check
run stats
# The verifier: every disagreement between the log and the rules (exit 1: errors were found).
run replay || true
# Who was signed in just after Dana logged out of all sessions, while her old session was being used?
run who --at 2026-04-06T12:45:00Z
run sessions --at 2026-04-06T12:45:00Z --user dana.okafor@acme.example
run sessions --at 2026-04-06T10:00:00Z --user dana.okafor@acme.example
run session s_dana_web
