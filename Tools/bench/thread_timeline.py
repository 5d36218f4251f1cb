#!/usr/bin/python3
"""Run one command and print, every half second, the CPU time each of its threads used.

    thread_timeline.py [--every SECONDS] COMMAND [ARG ...]

Polls /proc/PID/task/*/stat every 20 ms. Each line is the time since the start, then each
thread's CPU seconds in that interval (the threads in the order first seen: for `sledger
import`, the main thread, which writes, first), then their sum: on this 2-core machine a sum
under 2 x the interval is an idle core. A thread alone at a full interval while the others
show 0 is the others waiting on it. The last line is the wall time.

     4.0 0.00 0.00 0.50 0.00 0.02 sum 0.52

The command's output is discarded. Python's standard library only.
"""

import subprocess
import sys
import time

from thread_cpu import cpu_by_thread  # the same /proc reading, from the script beside this one


def main():
    args = sys.argv[1:]
    every = 0.5
    if args[:1] == ["--every"]:
        every, args = float(args[1]), args[2:]
    if not args:
        sys.exit(__doc__)
    start = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    order, last = [], {}
    due = start + every
    while process.poll() is None:
        time.sleep(0.02)
        if time.monotonic() < due:
            continue
        now = cpu_by_thread(process.pid)
        order += [t for t in sorted(now) if t not in order]
        row = [now.get(t, last.get(t, 0.0)) - last.get(t, 0.0) for t in order]
        print(f"{due - start:5.1f} " + " ".join(f"{x:4.2f}" for x in row) + f" sum {sum(row):4.2f}", flush=True)
        last.update(now)
        due += every
    print(f"wall {time.monotonic() - start:.2f} status {process.returncode}")
    sys.exit(process.returncode)


if __name__ == "__main__":
    main()
