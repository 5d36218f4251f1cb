#!/usr/bin/python3
"""Helpers for the reliability campaigns (Tools/reliability/*.sh); Python's standard library
and `lmdb` (Debian's python3-lmdb) only. Run with /usr/bin/python3.

    audit.py verify LOG MANIFEST     check a ledger's `sledger log --format ndjson` against the calls made
    audit.py damage LEDGER KIND ...  damage a ledger on purpose (flip, flipname, unindex, swap, unlag,
                                     fliplag, fliplagat, truncate)
    audit.py readers LEDGER          print the number of reader slots held by dead processes

verify: MANIFEST has one line per call, `acked FILE` (the call exited 0) or `unacked FILE`
(killed, or failed). Every id of an acked call must be in the log exactly once; an unacked call
must be there entirely or not at all (never partly); ids are unique; seq runs 1..N with no gap;
each call's events are contiguous and in input order; no event comes from outside the
manifest. Prints one JSON object and exits 1 on any violation.
"""
import json
import os
import struct
import sys


def ids_of(path):
    out = []
    with open(path, 'rb') as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line)['id'])
    return out


def verify(log_path, manifest_path):
    seqs, ids = [], []
    with open(log_path, 'rb') as f:
        for line in f:
            o = json.loads(line)
            seqs.append(o['seq'])
            ids.append(o.get('id'))
    result = {'events': len(ids), 'calls': 0, 'acked': 0, 'present': 0, 'absent': 0,
              'lost': 0, 'partial': 0, 'duplicated': 0, 'gaps': 0, 'unordered': 0, 'strays': 0}
    result['gaps'] = sum(1 for i, s in enumerate(seqs) if s != i + 1)
    position = {}
    for i, e in enumerate(ids):
        if e in position:
            result['duplicated'] += 1
        position.setdefault(e, i)
    known = set()
    with open(manifest_path) as f:
        calls = [line.split(None, 1) for line in f if line.strip()]
    seen_files = {}
    for status, path in calls:
        path = path.strip()
        result['calls'] += 1
        if path not in seen_files:
            seen_files[path] = ids_of(path)
        call_ids = seen_files[path]
        known.update(call_ids)
        here = [position[e] for e in call_ids if e in position]
        if status == 'acked':
            result['acked'] += 1
            result['lost'] += len(call_ids) - len(here)
        elif 0 < len(here) < len(call_ids):
            result['partial'] += 1
        if len(here) == len(call_ids):
            result['present'] += 1
        elif not here:
            result['absent'] += 1
        # a call is one transaction: its new events are contiguous and in input order
        if here and here != list(range(here[0], here[0] + len(here))):
            result['unordered'] += 1
    result['strays'] = sum(1 for e in ids if e not in known)
    bad = any(result[k] for k in ('lost', 'partial', 'duplicated', 'gaps', 'unordered', 'strays'))
    result['ok'] = not bad
    print(json.dumps(result, sort_keys=True))
    return 1 if bad else 0


def open_env(path, readonly=False):
    import lmdb
    return lmdb.open(path, max_dbs=16, readonly=readonly, lock=True, subdir=True, create=False)


def seq_key(seq):
    return struct.pack('>Q', seq)


def block_bits(env):
    """meta/index_block_bits: by_user and by_session file an entry under its seq's block
    (seq >> bits) and then the number, both u32 big-endian (docs/FORMAT.md, format 6)."""
    meta = env.open_db(b'meta', create=False)
    with env.begin() as txn:
        return txn.get(b'index_block_bits', db=meta)[0]


def index_key(bits, number, seq):
    return struct.pack('>II', seq >> bits, number)


def filed(txn, db, number):
    """The seqs `db` (by_user or by_session) files under `number`, in order: block by block, up
    to the block of the tree's last key (an intact ledger's; this tool damages them)."""
    with txn.cursor(db=db) as cursor:
        if not cursor.last():
            return []
        last = struct.unpack('>I', cursor.key()[:4])[0]
        out = []
        for block in range(last + 1):
            if cursor.set_key(struct.pack('>II', block, number)):
                out += [struct.unpack('>Q', value)[0] for value in cursor.iternext_dup()]
        return out


def flip_stored(path, stored, offset):
    """Flips one bit of `stored` (bytes LMDB holds once) at `offset` in data.mdb itself."""
    with open(os.path.join(path, 'data.mdb'), 'r+b') as f:
        data = f.read()
        where = data.find(stored)
        assert where >= 0 and data.find(stored, where + 1) < 0, 'the bytes are stored once'
        at = where + offset % len(stored)
        f.seek(at)
        f.write(bytes([data[at] ^ 0x10]))


def damage(path, kind, args):
    """Damages LEDGER; prints the seq `check` should name (or `-` when it cannot be known)."""
    if kind == 'truncate':
        # keep the first `fraction` of the pages in use (at least the two meta pages)
        env = open_env(path, readonly=True)
        used = (env.info()['last_pgno'] + 1) * env.stat()['psize']
        env.close()
        keep = max(2 * 4096, int(used * float(args[0])) // 4096 * 4096)
        os.truncate(os.path.join(path, 'data.mdb'), keep)
        print('-')
        return 0
    env = open_env(path)
    log = env.open_db(b'log', create=False)
    if kind == 'flip':
        # flip one bit of the record's stored bytes in data.mdb itself (not through LMDB)
        seq, offset = int(args[0]), int(args[1])
        with env.begin() as txn:
            record = bytes(txn.get(seq_key(seq), db=log))
        env.close()
        flip_stored(path, record, offset)
        print(seq)
    elif kind == 'flipname':
        # flip one bit of a name in user_names or session_names (format 4: most records give
        # their names by number); `check` should name the record that first named it
        seq, table = int(args[0]), args[1]
        index = b'by_user' if table == 'user_names' else b'by_session'
        names = env.open_db(table.encode(), create=False)
        by = env.open_db(index, create=False, dupsort=True, dupfixed=True)
        by_user = env.open_db(b'by_user', create=False, dupsort=True, dupfixed=True)
        sessions = env.open_db(b'sessions', create=False)
        with env.begin() as txn:
            record = bytes(txn.get(seq_key(seq), db=log))
            number = struct.unpack_from('<I', record, 20 if table == 'user_names' else 24)[0]
            assert number != 0, 'the event names a ' + table[:-6]
            entry = bytes(txn.get(struct.pack('>I', number), db=names))
            seqs = filed(txn, by, number)
            assert seqs, 'the index files the name'
            first = seqs[0]  # the smallest seq naming it
            if table == 'session_names':
                # format 5: by_session leaves out the session's refreshes by its home user (the
                # user that first names it), which may come first
                home = struct.unpack('<II', bytes(txn.get(entry[:-4], db=sessions)))[1]
                for held in filed(txn, by_user, home):
                    if held >= first:
                        break
                    if struct.unpack_from('<I', bytes(txn.get(seq_key(held), db=log)), 24)[0] == number:
                        first = held
                        break
        env.close()
        flip_stored(path, entry, 0)
        print(first)
    elif kind == 'unindex':
        # remove one event's by_user (or by_session / ids) entry; for by_session, the first
        # event from `seq` on that it files (format 5 leaves out a session's refreshes by its
        # home user)
        seq, index = int(args[0]), args[1]
        bits = block_bits(env)
        db = env.open_db(index.encode(), create=False, dupsort=True)
        with env.begin(write=True) as txn:
            record = bytes(txn.get(seq_key(seq), db=log))
            while index == 'by_session':
                number = struct.unpack_from('<I', record, 24)[0]
                if number != 0 and txn.cursor(db=db).set_key_dup(index_key(bits, number, seq), seq_key(seq)):
                    break
                seq += 1
                found = txn.get(seq_key(seq), db=log)
                assert found is not None, 'no event from the seq given on is filed in by_session'
                record = bytes(found)
            if index in ('by_user', 'by_session'):
                number = struct.unpack_from('<I', record, 20 if index == 'by_user' else 24)[0]
                ok = txn.delete(index_key(bits, number, seq), seq_key(seq), db=db)
            elif index == 'ids':
                ok = False
                for key, value in txn.cursor(db=db):
                    if value[4:] == seq.to_bytes(6, 'big'):  # 4 bytes of the id's hash, then the seq
                        ok = txn.delete(key, value, db=db)
                        break
            else:
                raise SystemExit('unknown index ' + index)
            assert ok, 'the entry existed'
        print(seq)
    elif kind == 'swap':
        a, b = sorted((int(args[0]), int(args[1])))
        with env.begin(write=True) as txn:
            ra, rb = bytes(txn.get(seq_key(a), db=log)), bytes(txn.get(seq_key(b), db=log))
            txn.put(seq_key(a), rb, db=log)
            txn.put(seq_key(b), ra, db=log)
        print(a)
    elif kind in ('unlag', 'fliplag', 'fliplagat'):
        # the first lagged event from `seq` on: remove its `lags` entry, or flip one bit (`bit`,
        # 0-63) of its lag or of the `at` the entry gives (format 8: lag u64 LE, at i64 LE, then a
        # CRC-32 of the key, lag and at, which the flip leaves as it was: readers must find it)
        seq = int(args[0])
        lags = env.open_db(b'lags', create=False)
        with env.begin(write=True) as txn:
            cursor = txn.cursor(db=lags)
            assert cursor.set_range(seq_key(seq)), 'a lagged event from the seq given on'
            seq = struct.unpack('>Q', cursor.key())[0]
            value = bytearray(cursor.value())
            if kind == 'unlag':
                assert txn.delete(seq_key(seq), db=lags)
            else:
                bit = int(args[1])
                value[(0 if kind == 'fliplag' else 8) + bit // 8] ^= 1 << (bit % 8)
                txn.put(seq_key(seq), bytes(value), db=lags)
        print(seq)
    else:
        raise SystemExit('unknown damage ' + kind)
    env.close()
    return 0


def stale_readers(path):
    """Reader slots whose process is gone (LMDB's reader table, without clearing them)."""
    env = open_env(path, readonly=True)
    table = env.readers()
    env.close()
    dead = 0
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3 and fields[2] != '-':
            try:
                os.kill(int(fields[0]), 0)
            except ProcessLookupError:
                dead += 1
            except PermissionError:
                pass
    print(dead)
    return 0


if __name__ == '__main__':
    command = sys.argv[1]
    if command == 'verify':
        sys.exit(verify(sys.argv[2], sys.argv[3]))
    if command == 'damage':
        sys.exit(damage(sys.argv[2], sys.argv[3], sys.argv[4:]))
    if command == 'readers':
        sys.exit(stale_readers(sys.argv[2]))
    raise SystemExit(__doc__)
