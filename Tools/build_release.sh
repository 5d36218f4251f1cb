#!/usr/bin/env bash
# Builds the release binary the benchmarks time and that we would ship:
# .build-release/release/sledger, with the Swift runtime and Foundation linked in statically
# (--static-swift-stdlib), which cuts a command's start-up by a third (docs/PERFORMANCE.md,
# "Start-up": about 8.1 ms to 5.3 ms for `sledger policy` on that machine; a small query is
# mostly start-up), and exporting none of its own symbols (--no-export-dynamic: 557 dynamic
# symbols instead of 27,221, which the runtime's start-up walks in a dladdr call; about 0.3 ms
# less). It stays a position-independent executable: without PIE it starts about 1 ms sooner,
# but its code would load at a fixed address, no randomization for a tool that serves HTTP
# (docs/PERFORMANCE.md, measured twice and not adopted).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --static-swift-stdlib --scratch-path .build-release --product sledger \
    -Xlinker --no-export-dynamic >&2
