#!/usr/bin/python3
"""Run one command and report its wall time and the CPU time of each of its threads.

    thread_cpu.py COMMAND [ARG ...]

Polls /proc/PID/task/*/stat every 20 ms and keeps each thread's last user plus system time,
so a thread's figure may miss its last 20 ms. Prints one JSON line, the threads in the order
they were created (for `sledger import`: the main thread, which writes; then Dispatch's
threads, among them the checkpoint follower and the parse thread, the follower first):

    {"wall": 42.93, "threads": [28.91, 0.03, 18.98, 0.0, 17.6], "sum": 65.52, "status": 0}

and exits with the command's status.

The command's output is discarded. Python's standard library only.
"""

import json
import os
import subprocess
import sys
import time


def cpu_by_thread(pid):
    """Each live thread of `pid` with its user plus system CPU seconds so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (OSError, IndexError):
            pass
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    start = time.monotonic()
    process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = {}
    while process.poll() is None:
        seen.update(cpu_by_thread(process.pid))
        time.sleep(0.02)
    wall = time.monotonic() - start
    cpu = [round(seen[tid], 2) for tid in sorted(seen)]
    print(json.dumps({"wall": round(wall, 2), "threads": cpu, "sum": round(sum(cpu), 2), "status": process.returncode}))
    sys.exit(process.returncode)


if __name__ == "__main__":
    main()
