#!/usr/bin/python3
"""Load a large NDJSON file into a new ledger in durable calls of CALL lines each, while the
file is still being written (for example by Tools/generate_events.py): the generator and the
load then overlap instead of running one after the other.

    import_following.py FILE LEDGER [--call N] [--skip K] [--while-pid PID] [--chunk-dir DIR]

Reads FILE line by line; at its end it waits for more while PID (the writer) is alive, and
stops at the end once it is not. Each run of N complete lines is written to a file in
DIR (default /dev/shm, so the chunk costs no disk) and stored by one `sledger import` of that
file, timed by Tools/bench/_measure.py; a call starts only once its whole chunk is there, so
its wall time is the import's alone. Without --while-pid the file is taken as complete.
`--skip K` leaves out the first K lines and adds to an existing LEDGER, which must hold
exactly K events (to go on after a stopped load). Prints one JSON line per call (wall, rate,
peak memory, load average before and after, the kernel's write-back settings) and a summary
line; exits 1 when a call fails. SLEDGER=path for another binary than
.build-release/release/sledger.
"""

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def dirty_settings():
    """The kernel's write-back settings, which decide how a large durable call behaves
    (docs/PERFORMANCE.md): recorded with every call."""
    names = ("dirty_background_ratio", "dirty_ratio", "dirty_expire_centisecs", "dirty_writeback_centisecs")
    return {n: int(open(f"/proc/sys/vm/{n}").read()) for n in names}


def alive(pid):
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def chunks(path, size, writer, skip=0):
    """Yields lists of `size` complete lines (the last one shorter) as the file grows."""
    with open(path, "rb") as f:
        for _ in range(skip):
            f.readline()
        lines, partial = [], b""
        while True:
            line = f.readline()
            if line.endswith(b"\n"):
                lines.append(partial + line)
                partial = b""
                if len(lines) == size:
                    yield lines
                    lines = []
                continue
            partial += line
            if alive(writer):
                time.sleep(0.5)
                continue
            rest = f.read()  # the writer is gone: whatever is left is the end
            if rest:
                partial += rest
                continue
            if partial:
                lines.append(partial)
            if lines:
                yield lines
            return


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("ledger")
    parser.add_argument("--call", type=int, default=10_000_000)
    parser.add_argument("--skip", type=int, default=0)
    parser.add_argument("--while-pid", type=int)
    parser.add_argument("--chunk-dir", default="/dev/shm")
    args = parser.parse_args()
    sledger = os.environ.get("SLEDGER", os.path.join(ROOT, ".build-release/release/sledger"))
    if args.skip:
        # Going on from line K+1 is right only if the ledger holds lines 1..K and nothing else.
        stats = subprocess.run([sledger, "stats", "--ledger", args.ledger, "--format", "json"],
                               capture_output=True, text=True)
        held = json.loads(stats.stdout)[0]["events"] if stats.returncode == 0 else None
        if held != args.skip:
            sys.exit(f"import_following: --skip {args.skip}, but {args.ledger} holds {held} events")
    elif os.path.exists(args.ledger):
        sys.exit(f"import_following: {args.ledger} exists; remove it first")
    sys.path.insert(0, os.path.join(ROOT, "Tools/bench"))
    from _measure import measure

    chunk = os.path.join(args.chunk_dir, f"import_following.{os.getpid()}.ndjson")
    calls, start = [], time.monotonic()
    try:
        for lines in chunks(args.file, args.call, args.while_pid, args.skip):
            with open(chunk, "wb") as out:
                out.writelines(lines)
            load_before = open("/proc/loadavg").read().split()[:3]
            m = measure([sledger, "import", chunk, "--ledger", args.ledger])
            m.update(events=len(lines), events_per_s=round(len(lines) / m["wall_s"]), load_before=load_before,
                     load_after=open("/proc/loadavg").read().split()[:3], writer_alive=alive(args.while_pid),
                     vm=dirty_settings())
            print(json.dumps(m), flush=True)
            calls.append(m)
            if m["status"] != 0:
                sys.exit(f"import_following: call {len(calls)} exited {m['status']}")
    finally:
        if os.path.exists(chunk):
            os.unlink(chunk)
    events = sum(c["events"] for c in calls)
    import_wall = sum(c["wall_s"] for c in calls)
    print(json.dumps({"calls": len(calls), "events": events, "wall_s": round(time.monotonic() - start, 1),
                      "import_wall_s": round(import_wall, 1), "events_per_s": round(events / import_wall) if import_wall else 0,
                      "peak_rss_anon_kb": max((c["peak_rss_anon_kb"] for c in calls), default=0)}), flush=True)


if __name__ == "__main__":
    main()
