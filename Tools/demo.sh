#!/usr/bin/env bash
# The main job on the bundled fixture: builds sledger, imports a quarter of a team's sign-ins
# into a fresh ledger, checks it, and prints what is in it.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build --product sledger
sledger=.build/debug/sledger
ledger=$(mktemp -d)/ledger
trap 'rm -rf "$(dirname "$ledger")"' EXIT
fixture=Fixtures/team-quarter/events.ndjson

echo "\$ sledger import $fixture"
$sledger import --ledger "$ledger" "$fixture"
echo
echo "\$ sledger check"
$sledger check --ledger "$ledger"
echo
echo "\$ sledger stats"
$sledger stats --ledger "$ledger"
