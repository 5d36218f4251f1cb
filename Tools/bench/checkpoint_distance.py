#!/usr/bin/python3
"""How many events a `who --at T` folds after its checkpoint, for each T given.

    /usr/bin/python3 Tools/bench/checkpoint_distance.py LEDGER T [T ...]

Reads the ledger with Python's `lmdb` module alone (Debian's python3-lmdb, hence
/usr/bin/python3), by docs/FORMAT.md: the events with `at <= T` are counted by a binary search
of the log by each record's `at` (bytes 4-12; lagged events make this approximate by at most
their number), and the checkpoint a query resumes from is the latest one keyed at or before T
(its `events` field, bytes 20-28). Prints, for each T: events up to T, the checkpoint's events,
version and size, and the difference: what the query folds. What docs/PERFORMANCE.md's
"fixed part" of a `who` is worked out from.
"""
import datetime
import struct
import sys

import lmdb


def nanoseconds(text):
    """An RFC 3339 UTC instant ("...Z", optional fraction) as nanoseconds since 1970."""
    whole = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    fraction = text[19:-1]
    return int(whole.timestamp()) * 10**9 + (int((fraction[1:] + "000000000")[:9]) if fraction else 0)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    env = lmdb.open(sys.argv[1], readonly=True, lock=False, max_dbs=20, subdir=True)
    checkpoints_db = env.open_db(b"checkpoints", create=False)
    log_db = env.open_db(b"log", create=False)
    with env.begin() as txn:
        checkpoints = []
        for key, value in txn.cursor(db=checkpoints_db):
            biased = struct.unpack(">Q", key)[0] ^ (1 << 63)
            at = biased - (1 << 64) if biased >= 1 << 63 else biased
            checkpoints.append((at, struct.unpack_from("<Q", value, 20)[0], value[0], len(value)))
        head = txn.stat(log_db)["entries"]

        def at_of(seq):
            return struct.unpack_from("<q", txn.get(struct.pack(">Q", seq), db=log_db), 4)[0]

        for text in sys.argv[2:]:
            t = nanoseconds(text)
            low, high = 1, head + 1
            while low < high:
                middle = (low + high) // 2
                if at_of(middle) <= t:
                    low = middle + 1
                else:
                    high = middle
            upto = low - 1
            before = [c for c in checkpoints if c[0] <= t]
            if before:
                _, events, version, size = max(before)
                print(f"{text}: {upto} events up to T; checkpoint of {events} events (version {version}, {size} bytes); folds {upto - events}")
            else:
                print(f"{text}: {upto} events up to T; no checkpoint; folds {upto}")
        print(f"{len(checkpoints)} checkpoints")


if __name__ == "__main__":
    main()
