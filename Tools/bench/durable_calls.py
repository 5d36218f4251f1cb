#!/usr/bin/python3
"""Durable calls into large ledgers, builds alternating: what each call costs in time and in
bytes written to disk.

    durable_calls.py --build NAME=BINARY:LEDGER [--build ...] [--device vda] CHUNK ...

Each CHUNK (an NDJSON file) is one `import` call for every build, the builds in turn and
their order reversed from one chunk to the next, so none always goes first; each build appends
to its own LEDGER (copies of the same ledger, so they stay alike). Before each call the page cache is
written back (`sync`), so the bytes the device wrote during the call (its
/sys/block/DEVICE/stat) are the call's own, and its fsync's. Prints one JSON line per call:
Tools/bench/_measure.py's fields (wall, CPU, peak anonymous memory, `dirtied_mb`: what the
kernel counted as dirtied by the call, whole folios) plus `disk_mb`, `build` and `chunk`.

To see what a slower disk would make of it, run it inside a cgroup whose writes are limited
(cgroup v1: `echo "254:0 209715200" > /sys/fs/cgroup/blkio/NAME/blkio.throttle.write_bps_device`
and `echo $$ > /sys/fs/cgroup/blkio/NAME/cgroup.procs` in the shell that starts it).
docs/PERFORMANCE.md ("Issue 4: durable calls wrote whole folios") has the runs of 2026-12-06.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _measure import measure  # noqa: E402


def sectors_written(device):
    with open(f"/sys/block/{device}/stat") as stat:
        return int(stat.read().split()[6])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", required=True, help="NAME=BINARY:LEDGER")
    parser.add_argument("--device", default="vda", help="the block device the ledgers are on")
    parser.add_argument("chunks", nargs="+")
    args = parser.parse_args()
    builds = []
    for spec in args.build:
        name, rest = spec.split("=", 1)
        binary, ledger = rest.split(":", 1)
        builds.append((name, binary, ledger))
    for k, chunk in enumerate(args.chunks):
        for name, binary, ledger in builds if k % 2 == 0 else builds[::-1]:
            os.sync()
            before = sectors_written(args.device)
            m = measure([binary, "import", "--ledger", ledger, chunk])
            m["disk_mb"] = round((sectors_written(args.device) - before) * 512 / 1e6, 1)
            m["build"], m["chunk"] = name, os.path.basename(chunk)
            print(json.dumps(m), flush=True)
            if m["status"] != 0:
                sys.exit(1)


if __name__ == "__main__":
    main()
