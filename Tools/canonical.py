#!/usr/bin/python3
"""Check NDJSON session events and write them in canonical form.

An independent implementation of SPEC.md section 2 (events and their canonical
form) and of docs/INPUT.md (which input is refused, and with which message),
written from those two texts alone, for making and checking fixtures. It does not
share code with the Swift package.

    canonical.py [FILE]                  check FILE (default: stdin), write canonical NDJSON
    canonical.py --check [FILE]          check only, write nothing
    canonical.py --dedupe [FILE]         as a ledger import does: an id seen before with the
                                         same canonical content is skipped, with other content
                                         it is bad input ("id conflict with line M")
    canonical.py --prior A --dedupe B    as if A had been imported into an empty ledger first
                                         (conflicts with A are "id conflict with seq S")

Bad input: one line `line N: KEY: WHAT` on stderr and exit status 2 (lines before it
may already have been written). Blank lines (empty, or only spaces, tabs and \\r) are
skipped but counted. Lines are split on \\n only, never on other line separators.
"""

import argparse
import datetime
import re
import socket
import sys

MAX_LINE = 65536
KEY_ORDER = ("type", "at", "user", "session", "client", "method", "id", "ip", "agent", "meta")
KNOWN_KEYS = frozenset(KEY_ORDER)
TYPES = frozenset(("login", "refresh", "logout", "logout_all", "token_deleted"))
IDENTIFIER = re.compile(r"[a-z0-9_-]{1,32}")
META_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
AT = re.compile(
    rb"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    rb"(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
AT_INVALID = "not an RFC 3339 instant (years 1678-2261, 0-9 fractional digits, Z or +HH:MM)"
# A run of bytes that stand for themselves inside a JSON string.
PLAIN = re.compile(rb'[^"\\\x00-\x1f\x7f-\xff]+')
NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")
WHITESPACE = b" \t\r"
SIMPLE_ESCAPES = {0x22: '"', 0x5C: "\\", 0x2F: "/", 0x62: "\b", 0x66: "\f", 0x6E: "\n", 0x72: "\r", 0x74: "\t"}
EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
NS = 1_000_000_000


class BadInput(Exception):
    """One refusal: `key` is None for line-level errors."""

    def __init__(self, key, what):
        super().__init__(what)
        self.key = key
        self.what = what

    def message(self, line_number):
        if self.key is None:
            return f"line {line_number}: {self.what}"
        return f"line {line_number}: {self.key}: {self.what}"


def invalid_json(expected):
    return BadInput(None, f"invalid JSON: expected {expected}")


def key_for_message(key):
    """A key name as errors show it: control characters, `"` and `\\` escaped, cut to 64 bytes."""
    out = []
    for ch in key:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    raw = "".join(out).encode("utf-8")[:64]
    return raw.decode("utf-8", "ignore")


# ---------------------------------------------------------------- the JSON text


class Parser:
    """Reads one line's JSON object from left to right, refusing at the first problem."""

    def __init__(self, data):
        self.b = data
        self.n = len(data)
        self.i = 0

    def ws(self):
        b, n, i = self.b, self.n, self.i
        while i < n and b[i] in WHITESPACE:
            i += 1
        self.i = i

    def peek(self):
        return self.b[self.i] if self.i < self.n else None

    def expect(self, byte, expected):
        self.ws()
        if self.peek() != byte:
            raise invalid_json(expected)
        self.i += 1

    def string(self, owner):
        """Decodes the string at self.i. `owner` is the key the value belongs to, or None for a key."""
        b, n = self.b, self.n
        i = self.i + 1  # past the opening quote
        parts = []
        while True:
            m = PLAIN.match(b, i)
            if m:
                parts.append(m.group().decode("ascii"))
                i = m.end()
            if i >= n:
                raise invalid_json("end of string")
            c = b[i]
            if c == 0x22:
                self.i = i + 1
                return "".join(parts)
            if c == 0x5C:
                if i + 1 >= n:
                    raise invalid_json("end of string")
                e = b[i + 1]
                if e in SIMPLE_ESCAPES:
                    parts.append(SIMPLE_ESCAPES[e])
                    i += 2
                elif e == 0x75:
                    if not HEX4.fullmatch(b, i + 2, i + 6):
                        raise invalid_json("4 hex digits after \\u")
                    cp = int(b[i + 2:i + 6], 16)
                    i += 6
                    if 0xD800 <= cp <= 0xDBFF:
                        if b[i:i + 2] == b"\\u" and HEX4.fullmatch(b, i + 2, i + 6):
                            low = int(b[i + 2:i + 6], 16)
                            if 0xDC00 <= low <= 0xDFFF:
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                                i += 6
                            else:
                                raise self.lone_surrogate(owner)
                        else:
                            raise self.lone_surrogate(owner)
                    elif 0xDC00 <= cp <= 0xDFFF:
                        raise self.lone_surrogate(owner)
                    parts.append(chr(cp))
                else:
                    raise invalid_json("an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\u")
                if owner is not None and (ord(parts[-1]) < 0x20 or ord(parts[-1]) == 0x7F):
                    raise BadInput(owner, "contains a control character")
                continue
            if c < 0x20 or c == 0x7F:
                if owner is None:
                    parts.append(chr(c))  # makes an unknown key
                    i += 1
                    continue
                raise BadInput(owner, "contains a control character")
            # A byte >= 0x80: one UTF-8 sequence, decoded strictly (no overlong forms,
            # no encoded surrogates, nothing above U+10FFFF).
            length = 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF else 4 if 0xF0 <= c <= 0xF4 else 0
            try:
                if length == 0:
                    raise UnicodeDecodeError("utf-8", b, i, i + 1, "invalid lead byte")
                parts.append(b[i:i + length].decode("utf-8", "strict"))
                i += length
            except UnicodeDecodeError:
                if owner is None:
                    raise BadInput(None, "invalid UTF-8 in a key") from None
                raise BadInput(owner, "invalid UTF-8") from None

    @staticmethod
    def lone_surrogate(owner):
        return BadInput(owner, "invalid \\u escape (lone surrogate)")

    def found(self):
        """Names the JSON value that starts at self.i (a valid one, or it is invalid JSON)."""
        b, i = self.b, self.i
        c = self.peek()
        if c == 0x22:
            return "a string"
        if c == 0x7B:
            return "an object"
        if c == 0x5B:
            return "an array"
        if b.startswith(b"true", i):
            return "true"
        if b.startswith(b"false", i):
            return "false"
        if b.startswith(b"null", i):
            return "null"
        if c is not None and NUMBER.match(b, i):
            return "a number"
        raise invalid_json("a value")

    def string_value(self, owner, shown):
        self.ws()
        if self.peek() == 0x22:
            return self.string(owner)
        raise BadInput(shown, f"expected a string, found {self.found()}")

    def event(self):
        """The line's object as a dict; `meta` as a list of (key, value) in order of appearance."""
        self.ws()
        if self.peek() != 0x7B:
            raise invalid_json("an object")
        self.i += 1
        fields = {}
        self.ws()
        if self.peek() == 0x7D:
            self.i += 1
        else:
            while True:
                self.ws()
                if self.peek() != 0x22:
                    raise invalid_json("a key")
                key = self.string(None)
                if key not in KNOWN_KEYS:
                    raise BadInput(key_for_message(key), "unknown key")
                if key in fields:
                    raise BadInput(key, "duplicated key")
                self.expect(0x3A, "':'")
                if key == "meta":
                    fields[key] = self.meta()
                else:
                    fields[key] = self.string_value(key, key)
                self.ws()
                c = self.peek()
                self.i += 1
                if c == 0x2C:
                    continue
                if c == 0x7D:
                    break
                raise invalid_json("',' or '}'")
        self.ws()
        if self.i != self.n:
            raise invalid_json("end of line after the object")
        return fields

    def meta(self):
        self.ws()
        if self.peek() != 0x7B:
            raise BadInput("meta", f"expected an object, found {self.found()}")
        self.i += 1
        pairs = []
        seen = set()
        self.ws()
        if self.peek() == 0x7D:
            self.i += 1
            return pairs
        while True:
            self.ws()
            if self.peek() != 0x22:
                raise invalid_json("a key")
            key = self.string(None)
            shown = "meta." + key_for_message(key)
            if key in seen:
                raise BadInput(shown, "duplicated key")
            seen.add(key)
            self.expect(0x3A, "':'")
            pairs.append((key, self.string_value(shown, shown)))
            self.ws()
            c = self.peek()
            self.i += 1
            if c == 0x2C:
                continue
            if c == 0x7D:
                return pairs
            raise invalid_json("',' or '}'")


# ---------------------------------------------------------------- instants


def parse_at(text):
    """Nanoseconds since the epoch for an RFC 3339 instant as SPEC.md section 2 allows it."""
    m = AT.fullmatch(text.encode("utf-8"))
    if not m:
        raise BadInput("at", AT_INVALID)
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, offset = m.group(7), m.group(8)
    if fraction is not None and len(fraction) > 9:
        raise BadInput("at", AT_INVALID)
    if not 1678 <= year <= 2261 or not 1 <= month <= 12:
        raise BadInput("at", AT_INVALID)
    try:
        days = datetime.date(year, month, day).toordinal() - EPOCH_ORDINAL
    except ValueError:
        raise BadInput("at", AT_INVALID) from None
    if hour > 23 or minute > 59 or second > 60:
        raise BadInput("at", AT_INVALID)
    offset_seconds = 0
    if offset not in (b"Z", b"z"):
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            raise BadInput("at", AT_INVALID)
        offset_seconds = (oh * 3600 + om * 60) * (-1 if offset[:1] == b"-" else 1)
    if second == 60:
        raise BadInput("at", "leap second (:60) is not accepted")
    nanos = int((fraction or b"0").ljust(9, b"0"))
    return (days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds) * NS + nanos


def format_at(ns):
    """The canonical text: UTC, `Z`, fraction only when non-zero and without trailing zeros."""
    seconds, nanos = divmod(ns, NS)
    days, second_of_day = divmod(seconds, 86400)
    date = datetime.date.fromordinal(days + EPOCH_ORDINAL)
    hh, rest = divmod(second_of_day, 3600)
    mm, ss = divmod(rest, 60)
    text = f"{date.year:04d}-{date.month:02d}-{date.day:02d}T{hh:02d}:{mm:02d}:{ss:02d}"
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"


# ---------------------------------------------------------------- the per-key rules


def nbytes(s):
    return len(s.encode("utf-8"))


def is_ip(text):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
            return True
        except (OSError, ValueError, UnicodeError):
            pass
    return False


def check_fields(f):
    """The checks made once the object is whole, key by key in SPEC.md's table order."""
    def required(key):
        if key not in f:
            raise BadInput(key, "missing required key")

    required("type")
    kind = f["type"]
    if kind not in TYPES:
        raise BadInput("type", "unknown event type")
    required("at")
    at_ns = parse_at(f["at"])
    required("user")
    if not 1 <= nbytes(f["user"]) <= 256:
        raise BadInput("user", "must be 1 to 256 bytes")
    if kind != "logout_all":
        required("session")
    if "session" in f and not 1 <= nbytes(f["session"]) <= 256:
        raise BadInput("session", "must be 1 to 256 bytes")
    for key in ("client", "method"):
        if kind == "login":
            required(key)
            if not IDENTIFIER.fullmatch(f[key]):
                raise BadInput(key, "must match [a-z0-9_-]{1,32}")
        elif key in f:
            raise BadInput(key, "only allowed on login")
    if "id" in f and not 1 <= nbytes(f["id"]) <= 128:
        raise BadInput("id", "must be 1 to 128 bytes")
    if "ip" in f and not is_ip(f["ip"]):
        raise BadInput("ip", "not a textual IPv4 or IPv6 address")
    if "agent" in f and nbytes(f["agent"]) > 1024:
        raise BadInput("agent", "longer than 1024 bytes")
    if "meta" in f:
        pairs = f["meta"]
        if len(pairs) > 32:
            raise BadInput("meta", "more than 32 pairs")
        for key, value in pairs:
            if not META_KEY.fullmatch(key):
                raise BadInput("meta", "key must match [A-Za-z0-9_.-]{1,64}")
            if nbytes(value) > 1024:
                raise BadInput("meta." + key, "longer than 1024 bytes")
    return at_ns


# ---------------------------------------------------------------- canonical form


def quote(s):
    """A JSON string with only `"` and `\\` escaped; every other character as itself in UTF-8."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def canonical(f, at_ns):
    out = []
    for key in KEY_ORDER:
        if key not in f:
            continue
        if key == "at":
            value = quote(format_at(at_ns))
        elif key == "meta":
            pairs = sorted(f["meta"], key=lambda kv: kv[0].encode("utf-8"))
            value = "{" + ",".join(quote(k) + ":" + quote(v) for k, v in pairs) + "}"
        else:
            value = quote(f[key])
        out.append(quote(key) + ":" + value)
    return ("{" + ",".join(out) + "}").encode("utf-8")


def is_blank(line):
    return not line.strip(b" \t\r")


def read_event(line):
    """Returns (fields, at_ns, canonical bytes) for one non-blank line, or raises BadInput."""
    if len(line) > MAX_LINE:
        raise BadInput(None, f"longer than {MAX_LINE} bytes")
    fields = Parser(line).event()
    at_ns = check_fields(fields)
    return fields, at_ns, canonical(fields, at_ns)


def lines_of(data):
    """(line number, bytes) for every line, split on \\n only; a final \\n ends the last line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return enumerate(lines, start=1)


def events_of(data):
    """(line number, fields, at_ns, canonical bytes) for every non-blank line; raises on bad input
    with the line number attached as .line."""
    for number, line in lines_of(data):
        if is_blank(line):
            continue
        try:
            fields, at_ns, canon = read_event(line)
        except BadInput as e:
            e.line = number
            raise
        yield number, fields, at_ns, canon


class Ledger:
    """Just enough of a ledger to apply SPEC.md section 3's idempotency rule."""

    def __init__(self):
        self.ids = {}  # id -> (canonical bytes, seq)
        self.seq = 0

    def store(self, source, dedupe=True):
        """Appends one call's events (all or nothing); returns the canonical lines stored."""
        seen_in_call = {}  # id -> (canonical bytes, line)
        stored = []
        for number, fields, _, canon in events_of(source):
            event_id = fields.get("id")
            if dedupe and event_id is not None:
                if event_id in self.ids:
                    earlier, seq = self.ids[event_id]
                    if earlier == canon:
                        continue
                    e = BadInput("id", f"id conflict with seq {seq}")
                    e.line = number
                    raise e
                if event_id in seen_in_call:
                    earlier, line = seen_in_call[event_id]
                    if earlier == canon:
                        continue
                    e = BadInput("id", f"id conflict with line {line}")
                    e.line = number
                    raise e
                seen_in_call[event_id] = (canon, number)
            stored.append((event_id, canon))
        for event_id, canon in stored:
            self.seq += 1
            if event_id is not None:
                self.ids[event_id] = (canon, self.seq)
        return [canon for _, canon in stored]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", nargs="?", default="-", help="NDJSON input (default: standard input)")
    ap.add_argument("--check", action="store_true", help="check only, write nothing")
    ap.add_argument("--dedupe", action="store_true",
                    help="apply the ledger's idempotency rule (skip same-content ids, refuse conflicts)")
    ap.add_argument("--prior", action="append", default=[], metavar="FILE",
                    help="a file imported into the (empty) ledger before FILE; implies --dedupe")
    args = ap.parse_args(argv)

    def read(path):
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as fh:
            return fh.read()

    out = sys.stdout.buffer
    try:
        if args.dedupe or args.prior:
            ledger = Ledger()
            for path in args.prior:
                try:
                    ledger.store(read(path))
                except BadInput as e:
                    print(f"{path}: {e.message(e.line)}", file=sys.stderr)
                    return 2
            lines = ledger.store(read(args.file))
            if not args.check:
                out.write(b"".join(line + b"\n" for line in lines))
        else:
            chunk = []
            for _, _, _, canon in events_of(read(args.file)):
                if not args.check:
                    chunk.append(canon + b"\n")
                    if len(chunk) >= 4096:
                        out.write(b"".join(chunk))
                        chunk.clear()
            out.write(b"".join(chunk))
    except BadInput as e:
        out.flush()
        print(e.message(e.line), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
