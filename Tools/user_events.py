#!/usr/bin/python3
"""Print one user's events from a sledger ledger, reading LMDB directly (docs/FORMAT.md).

    Tools/user_events.py --ledger DIR --user U [--time-order]
    Tools/user_events.py --ledger DIR --verify-chain

A worked example of the on-disk format that needs nothing but Python's `lmdb` module
(Debian's python3-lmdb: run it with /usr/bin/python3). It never writes: the environment
is opened read-only, so it can run beside a writer.

--user looks the user up in `users`, reads their `seq`s from `by_user`,
fetches each record from `log`, checks its CRC-32 and layout, takes the session names the
record gives by number only from `session_names`, and prints it as
`sledger log --format ndjson` does: `{"seq":N,"recorded":"...","type":...}` in canonical
form, one line per event, in `seq` order (the lines of `sledger log` that name the user,
byte for byte). --time-order prints them in (`at`, `seq`) order instead.
A user the ledger has never seen prints nothing.

--verify-chain walks the whole `log`, checking every record's checksum, that `seq` runs
1, 2, 3 ... with no gap, every stored `chain` value and the `head`, and prints the
recomputed head as `SEQ:HEX`: the same line as `sledger digest`.

Any damage (checksum, layout, an index naming a missing record) is reported on standard
error with the `seq` concerned, and the exit status is 1.
"""

import argparse
import datetime
import hashlib
import struct
import sys
import zlib

import lmdb

FORMAT = b"sledger-8"

KINDS = {1: b"login", 2: b"refresh", 3: b"logout", 4: b"logout_all", 5: b"token_deleted"}

# Presence flags, in the order the strings follow the carried names in the record.
FLAG_SESSION = 1 << 0
FLAG_FIELDS = ((1, b"client"), (2, b"method"), (3, b"id"), (4, b"ip"), (5, b"agent"))
FLAG_META = 1 << 6
FLAG_ALL = 0x7F
# Byte 3: which names the record carries as strings (the first record naming each).
CARRIES_USER = 1 << 0
CARRIES_SESSION = 1 << 1

HEADER = struct.Struct("<BBBBqqII")  # version, kind, flags, carried, at, recorded, user_no, session_no
HEADER_SIZE = HEADER.size  # 28
NS_PER_S = 1_000_000_000
EPOCH = datetime.date(1970, 1, 1)
CHAIN_STORED_EVERY = 1024


class Damage(Exception):
    """The ledger does not hold what docs/FORMAT.md says it should."""

    def __init__(self, seq, problem):
        super().__init__(f"damage at seq {seq}: {problem}" if seq is not None else f"damage: {problem}")


def seq_key(seq):
    return struct.pack(">Q", seq)


def canonical_instant(ns):
    """RFC 3339 in UTC with `Z`; the fraction only when non-zero, without trailing zeros."""
    seconds, fraction = divmod(ns, NS_PER_S)  # floor division: fraction is never negative
    days, second_of_day = divmod(seconds, 86_400)
    date = EPOCH + datetime.timedelta(days=days)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (
        date.year, date.month, date.day, second_of_day // 3600, second_of_day // 60 % 60, second_of_day % 60)
    if fraction:
        text += "." + ("%09d" % fraction).rstrip("0")
    return (text + "Z").encode("ascii")


def json_string(raw):
    """A JSON string with only `"` and `\\` escaped; every other byte is written as itself."""
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def decode_record(seq, value):
    """Checks and decodes one stored record into a dict of raw byte strings (plus the header).

    `user` and `session` are None when the record gives them by number only."""
    value = bytes(value)
    if len(value) < HEADER_SIZE + 4:
        raise Damage(seq, f"record too short ({len(value)} bytes)")
    body, stored_crc = value[:-4], struct.unpack_from("<I", value, len(value) - 4)[0]
    crc = zlib.crc32(body) & 0xFFFFFFFF
    if crc != stored_crc:
        raise Damage(seq, f"checksum mismatch (stored {stored_crc:08x}, computed {crc:08x})")
    version, kind, flags, carried, at, recorded, user_no, session_no = HEADER.unpack_from(value)
    if version != 2:
        raise Damage(seq, f"unknown record version {version}")
    if kind not in KINDS:
        raise Damage(seq, f"unknown event type {kind}")
    if flags & ~FLAG_ALL or carried & ~(CARRIES_USER | CARRIES_SESSION):
        raise Damage(seq, "unknown flags")
    if carried & CARRIES_SESSION and not flags & FLAG_SESSION:
        raise Damage(seq, "a session name on an event without a session")
    end = len(body)
    pos = HEADER_SIZE

    def string():
        nonlocal pos
        if pos + 2 > end:
            raise Damage(seq, "string runs past the record")
        (n,) = struct.unpack_from("<H", body, pos)
        pos += 2
        if pos + n > end:
            raise Damage(seq, "string runs past the record")
        pos += n
        return body[pos - n:pos]

    event = {"kind": kind, "at": at, "recorded": recorded, "user_no": user_no, "session_no": session_no,
             "user": string() if carried & CARRIES_USER else None}
    if flags & FLAG_SESSION:
        event[b"session"] = string() if carried & CARRIES_SESSION else None
    for bit, name in FLAG_FIELDS:
        if flags & (1 << bit):
            event[name] = string()
    if flags & FLAG_META:
        if pos >= end:
            raise Damage(seq, "meta runs past the record")
        count = body[pos]
        pos += 1
        event["meta"] = [(string(), string()) for _ in range(count)]
    if pos != end:
        raise Damage(seq, f"{end - pos} unexpected bytes before the checksum")
    if (session_no != 0) != (b"session" in event):
        raise Damage(seq, "session number and session flag disagree")
    return event


def table_name(txn, table, number, seq):
    """The name `user_names`/`session_names` files under `number`: the entry's bytes but its
    last 4, which are the CRC-32 (LE) of the key (the number, u32 big-endian) and the name."""
    key = struct.pack(">I", number)
    value = txn.get(key, db=table)
    if value is None:
        raise Damage(seq, f"number {number} has no name in the names table")
    value = bytes(value)
    name, stored = value[:-4], value[-4:]
    if len(value) < 4 or struct.pack("<I", zlib.crc32(key + name) & 0xFFFFFFFF) != stored:
        raise Damage(seq, f"the name of number {number} in the names table is damaged (checksum mismatch)")
    return name


def log_line(seq, event):
    """The line `sledger log --format ndjson` prints for a stored event (without newline)."""
    out = [b'{"seq":', str(seq).encode("ascii"), b',"recorded":"', canonical_instant(event["recorded"]),
           b'","type":"', KINDS[event["kind"]], b'","at":"', canonical_instant(event["at"]), b'"',
           b',"user":', json_string(event["user"])]
    for name in [b"session"] + [name for _, name in FLAG_FIELDS]:
        if name in event:
            out += [b',"', name, b'":', json_string(event[name])]
    if "meta" in event:
        pairs = [json_string(k) + b":" + json_string(v) for k, v in event["meta"]]
        out += [b',"meta":{', b",".join(pairs), b"}"]
    out.append(b"}")
    return b"".join(out)


def open_ledger(path):
    try:
        env = lmdb.open(path, readonly=True, lock=True, max_dbs=16, subdir=True)
    except lmdb.Error as error:
        sys.exit(f"user_events.py: cannot open the ledger at {path}: {error}")
    # This reads format 8 (docs/FORMAT.md); another format's indexes would read as empty.
    meta = open_db(env, b"meta")
    with env.begin() as txn:
        fmt = txn.get(b"format", db=meta)
    if fmt != FORMAT:
        env.close()
        found = "none" if fmt is None else fmt.decode("utf-8", "replace")
        sys.exit(f"user_events.py: the ledger at {path} has format {found}, this script reads {FORMAT.decode()}")
    return env


def open_db(env, name, **flags):
    try:
        return env.open_db(name, create=False, **flags)
    except lmdb.NotFoundError:
        sys.exit(f"user_events.py: the ledger has no `{name.decode()}` database (not a sledger ledger?)")


def print_user(env, user, time_order):
    users = open_db(env, b"users")
    session_names = open_db(env, b"session_names")
    by_user = open_db(env, b"by_user", dupsort=True, dupfixed=True)
    log = open_db(env, b"log")
    meta = open_db(env, b"meta")
    out = sys.stdout.buffer
    if not 1 <= len(user) <= env.max_key_size():
        return 0  # never stored: users must be 1 to 256 bytes
    with env.begin(buffers=False) as txn:
        number = txn.get(user, db=users)
        if number is None:
            return 0
        if len(number) != 4:
            raise Damage(None, f"users holds a {len(number)}-byte number for this user")
        (user_no,) = struct.unpack("<I", number)
        seqs = []
        bits = txn.get(b"index_block_bits", db=meta)
        head = txn.get(b"head", db=meta)
        if bits is None or len(bits) != 1 or head is None or len(head) != 40:
            raise Damage(None, "meta holds no index_block_bits or no head")
        last_block = struct.unpack("<Q", head[:8])[0] >> bits[0]
        with txn.cursor(db=by_user) as cursor:
            # Format 6: keyed by the block of the log (seq >> meta/index_block_bits) and then
            # the user number, both u32 big-endian; the user's entries are under each block's key.
            if cursor.last() and struct.unpack(">I", cursor.key()[:4])[0] > last_block:
                raise Damage(None, "by_user holds a key past the last block of the log")
            for block in range(last_block + 1):
                if cursor.set_key(struct.pack(">II", block, user_no)):
                    for value in cursor.iternext_dup(keys=False):
                        if len(value) != 8:
                            raise Damage(None, f"by_user holds a {len(value)}-byte entry")
                        seqs.append(struct.unpack(">Q", value)[0])
        events = []
        for seq in seqs:
            value = txn.get(seq_key(seq), db=log)
            if value is None:
                raise Damage(seq, f"by_user names seq {seq}, which the log does not hold")
            event = decode_record(seq, value)
            if event["user"] not in (None, user) or event["user_no"] != user_no:
                raise Damage(seq, "by_user names this seq for a user the record does not hold")
            event["user"] = user
            if event.get(b"session", b"") is None:
                event[b"session"] = table_name(txn, session_names, event["session_no"], seq)
            events.append((event["at"], seq, event))
        if time_order:
            events.sort(key=lambda entry: entry[:2])
        lines = []
        for _, seq, event in events:
            lines.append(log_line(seq, event))
            lines.append(b"\n")
            if len(lines) >= 8192:
                out.write(b"".join(lines))
                lines.clear()
        out.write(b"".join(lines))
    out.flush()
    return len(events)


def verify_chain(env):
    log = open_db(env, b"log")
    chain_db = open_db(env, b"chain")
    meta = open_db(env, b"meta")
    value = bytes(32)
    seq = 0
    with env.begin(buffers=True) as txn:
        with txn.cursor(db=log) as cursor:
            for key, record in cursor:
                if len(key) != 8:
                    raise Damage(None, f"a log key of {len(key)} bytes")
                (key_seq,) = struct.unpack(">Q", key)
                if key_seq != seq + 1:
                    raise Damage(seq + 1, f"the log holds seq {key_seq} after seq {seq}")
                seq = key_seq
                decode_record(seq, record)  # checksum and layout
                value = hashlib.sha256(value + bytes(record)).digest()
                if seq % CHAIN_STORED_EVERY == 0:
                    stored = txn.get(key, db=chain_db)
                    if stored is None:
                        raise Damage(seq, "no chain value stored")
                    if bytes(stored) != value:
                        raise Damage(seq, "the stored chain value differs from the recomputed one")
        head = txn.get(b"head", db=meta)
        if head is None:
            if seq != 0:
                raise Damage(seq, "the log holds events but meta has no head")
        else:
            head = bytes(head)
            if len(head) != 40:
                raise Damage(None, f"the head record has {len(head)} bytes, not 40")
            (head_seq,) = struct.unpack_from("<Q", head)
            if head_seq != seq:
                raise Damage(seq, f"head names seq {head_seq}, the log ends at seq {seq}")
            if head[8:] != value:
                raise Damage(seq, "the head's chain value differs from the recomputed one")
    print(f"{seq}:{value.hex()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ledger", required=True, help="the ledger directory")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--user", help="print this user's events as `sledger log --format ndjson` does")
    what.add_argument("--verify-chain", action="store_true",
                      help="recompute the hash chain over the whole log and print SEQ:HEX (as `sledger digest`)")
    parser.add_argument("--time-order", action="store_true",
                        help="with --user: print in (at, seq) order, not seq order")
    args = parser.parse_args()
    env = open_ledger(args.ledger)
    try:
        if args.verify_chain:
            verify_chain(env)
        else:
            print_user(env, args.user.encode("utf-8", "surrogateescape"), args.time_order)
    except Damage as damage:
        sys.exit(f"user_events.py: {damage}; run `sledger check` for details")
    except lmdb.Error as error:
        sys.exit(f"user_events.py: LMDB error: {error}")
    finally:
        env.close()


if __name__ == "__main__":
    main()
