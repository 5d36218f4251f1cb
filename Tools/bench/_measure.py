#!/usr/bin/python3
"""Run one command and report its wall time and peak memory as one JSON line.

    _measure.py [--stdout FILE] -- COMMAND [ARG ...]

Samples /proc/PID/status every 50 ms for the peak RssAnon (anonymous memory: what the
process allocated itself; LMDB's file-backed map and the page cache do not count) and
VmRSS, and takes the exact wall time and ru_maxrss from wait4. The command's standard
output goes to FILE (default: discarded), its standard error passes through. Exits with
the command's status. The JSON line goes to standard output (`measure()` returns it as a
dict to Python callers such as compare_sqlite.py):

    {"status":0,"wall_s":1.234,"cpu_s":1.5,"peak_rss_anon_kb":5120,"peak_vm_rss_kb":90000,"max_rss_kb":91000,"dirtied_mb":12.3}

`cpu_s` is user plus system time of the command and its threads (from wait4). `dirtied_mb` is
what the kernel counts as written by it (`ru_oublock`): the page-cache pages it made dirty,
whole folios each, which is what write-back then writes to disk for a write through a
shared mapping (LMDB's MDB_WRITEMAP; docs/PERFORMANCE.md, "Issue 4: durable calls wrote whole folios").
"""

import json
import os
import subprocess
import sys
import threading
import time


def sample(pid, peaks, done):
    path = f"/proc/{pid}/status"
    while not done.is_set():
        try:
            with open(path) as status:
                for line in status:
                    if line.startswith(("RssAnon:", "VmRSS:")):
                        name, value = line.split(":", 1)
                        kb = int(value.split()[0])
                        if kb > peaks[name]:
                            peaks[name] = kb
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        done.wait(0.05)


def measure(args, out_path=os.devnull, stdin_path=None):
    """Runs args, its standard output to out_path, its standard input from stdin_path if
    given (else this process's own, so `... | _measure.py -- sledger append` measures the
    append of what the pipe holds); returns the dict that main prints."""
    peaks = {"RssAnon": 0, "VmRSS": 0}
    done = threading.Event()
    stdin = open(stdin_path, "rb") if stdin_path else None
    with open(out_path, "wb") as out:
        start = time.monotonic()
        proc = subprocess.Popen(args, stdout=out, stdin=stdin)
        sampler = threading.Thread(target=sample, args=(proc.pid, peaks, done), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        done.set()
        sampler.join()
    if stdin:
        stdin.close()
    return {"status": os.waitstatus_to_exitcode(status), "wall_s": round(wall, 4),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "peak_rss_anon_kb": peaks["RssAnon"],
            "peak_vm_rss_kb": peaks["VmRSS"], "max_rss_kb": usage.ru_maxrss,
            "dirtied_mb": round(usage.ru_oublock * 512 / 1e6, 1)}


def main():
    args = sys.argv[1:]
    out_path = os.devnull
    if args[:1] == ["--stdout"]:
        out_path, args = args[1], args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: _measure.py [--stdout FILE] -- COMMAND [ARG ...]")
    result = measure(args, out_path)
    print(json.dumps(result, separators=(",", ":")))
    code = result["status"]
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
