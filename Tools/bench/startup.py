#!/usr/bin/env python3
"""How long a command takes as a process, start to exit: the median of N runs (default 40).

    Tools/bench/startup.py [-n N] -- COMMAND [ARGS...] [--- COMMAND [ARGS...] ...]

Each command's standard output goes to /dev/null. Prints one line per command: its median and
fastest wall time in milliseconds. What docs/PERFORMANCE.md's "Start-up" figures come from,
e.g. `sledger policy` (no ledger, no input: start-up and exit alone) against a Swift "hello".
"""
import argparse
import statistics
import subprocess
import sys
import time


def main():
    argv = sys.argv[1:]
    n = 40
    if len(argv) >= 2 and argv[0] == "-n":
        n, argv = int(argv[1]), argv[2:]
    if not argv or argv[0] != "--":
        sys.exit(__doc__)
    commands, current = [], []
    for word in argv[1:]:
        if word == "---":
            commands.append(current)
            current = []
        else:
            current.append(word)
    commands.append(current)
    for command in commands:
        walls = []
        for _ in range(n):
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
            walls.append(time.perf_counter() - start)
        print(f"{statistics.median(walls) * 1000:.1f} ms median, {min(walls) * 1000:.1f} ms fastest: {' '.join(command)}")


if __name__ == "__main__":
    main()
