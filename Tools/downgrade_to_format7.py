#!/usr/bin/python3
"""Make a format 8 ledger format 7 again, in place, as format 7 stored it (docs/FORMAT.md):
each `lags` value cut to its first 16 bytes (the lag, then `at`; format 8 appends a CRC-32),
`meta/lagged` removed, `meta/format` set to `sledger-7`. The records are the same bytes in
both formats and stay as they are.

    /usr/bin/python3 Tools/downgrade_to_format7.py LEDGER

For testing `sledger upgrade` (UpgradeCommandTests, and at 100M events: docs/PERFORMANCE.md)
without a format 7 build. Prints how many `lags` entries it cut. Stop every sledger using the
ledger first: this takes no writer lock of sledger's.
"""
import sys

import lmdb

path = sys.argv[1]
env = lmdb.open(path, max_dbs=16, subdir=True, map_size=0)
lags, meta = env.open_db(b'lags', create=False), env.open_db(b'meta', create=False)
with env.begin(write=True) as txn:
    if txn.get(b'format', db=meta) != b'sledger-8':
        raise SystemExit(f'{path}: not a format 8 ledger')
    entries = list(txn.cursor(db=lags).iternext())
    for key, value in entries:
        assert len(value) == 20, f'a lags entry of {len(value)} bytes'
        txn.put(key, value[:16], db=lags)
    count = len(entries)
    txn.delete(b'lagged', db=meta)
    txn.put(b'format', b'sledger-7', db=meta)
print(count)
