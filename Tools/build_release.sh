#!/usr/bin/env bash
# Builds the release binary the benchmarks time and that we would ship:
# .build-release/release/sledger, with the Swift runtime and Foundation linked in statically
# (--static-swift-stdlib), which cuts a command's start-up by a third (docs/PERFORMANCE.md: about
# 8.1 ms to 5.3 ms for `sledger policy` on this machine; a small query is mostly start-up).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --static-swift-stdlib --scratch-path .build-release --product sledger >&2
