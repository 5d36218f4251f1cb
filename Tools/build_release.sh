#!/usr/bin/env bash
# Builds the release binary the benchmarks time and that we would ship:
# .build-release/release/sledger, with the Swift runtime and Foundation linked in statically
# (--static-swift-stdlib), as a position-dependent executable that exports no symbols
# (-no-pie, --no-export-dynamic). A small query is mostly start-up, and each of these cuts it
# (docs/PERFORMANCE.md, "Start-up"): the static runtime from about 8.1 to 5.3 ms for
# `sledger policy`; then, with nothing to relocate at load (as a PIE it has 109,757 relocations
# to apply, and 285 more page faults) and a dynamic symbol table of 557 entries instead of
# 27,221 (the runtime's start-up calls dladdr, which walks it), 6.2-8.3 to 4.0-4.6 ms.
# Nothing in sledger or its libraries looks its own symbols up at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --static-swift-stdlib --scratch-path .build-release --product sledger \
    -Xlinker -no-pie -Xlinker --no-export-dynamic >&2
