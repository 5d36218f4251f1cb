#!/usr/bin/python3
"""Make a format 8 ledger format 7 again, in place, as format 7 stored it (docs/FORMAT.md):
each `lags` value cut to its first 16 bytes (the lag, then `at`; format 8 appends a CRC-32),
`meta/lagged` removed, `meta/format` set to `sledger-7`. The records are the same bytes in
both formats and stay as they are.

    /usr/bin/python3 Tools/downgrade_to_format7.py LEDGER

For testing `sledger upgrade` (UpgradeCommandTests, and at 100M events: docs/PERFORMANCE.md)
without a format 7 build. Prints how many `lags` entries it cut. Waits for sledger's writers
(`writer.lock`), as they wait for each other.
"""
import fcntl
import os
import sys

import lmdb

path = sys.argv[1]
if not os.path.exists(os.path.join(path, 'data.mdb')):
    raise SystemExit(f'{path}: no ledger there')
# sledger's writers take turns on writer.lock (docs/FORMAT.md): wait for them as they do.
lock = open(os.path.join(path, 'writer.lock'), 'a')
fcntl.flock(lock, fcntl.LOCK_EX)
# Room for the copy-on-write pages of `lags` beside the file's own (no write map: the file
# grows only by the pages written).
size = os.path.getsize(os.path.join(path, 'data.mdb'))
env = lmdb.open(path, max_dbs=16, subdir=True, create=False, map_size=size + size // 8 + (64 << 20))
lags, meta = env.open_db(b'lags', create=False), env.open_db(b'meta', create=False)
with env.begin(write=True) as txn:
    if txn.get(b'format', db=meta) != b'sledger-8':
        raise SystemExit(f'{path}: not a format 8 ledger')
    entries = list(txn.cursor(db=lags).iternext())
    for key, value in entries:
        if len(value) != 20:
            raise SystemExit(f'{path}: a lags entry of {len(value)} bytes, not 20; nothing changed')
        txn.put(key, value[:16], db=lags)
    txn.delete(b'lagged', db=meta)
    txn.put(b'format', b'sledger-7', db=meta)
print(len(entries))
