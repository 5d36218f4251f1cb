#!/usr/bin/env bash
# Builds the release binary the benchmarks time and that we would ship:
# .build-release/release/sledger, with the Swift runtime and Foundation linked in statically
# (--static-swift-stdlib), which halves a command's start-up (docs/PERFORMANCE.md: about
# 11.5 ms to 5.9 ms for `sledger policy` on this machine; most small queries are start-up).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --static-swift-stdlib --scratch-path .build-release --product sledger >&2
