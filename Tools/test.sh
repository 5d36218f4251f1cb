#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test (XCTest, through swift test).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh --tests
swift build --build-tests
swift test --skip-build "$@"
