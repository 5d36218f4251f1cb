#!/usr/bin/python3
"""Write Fixtures/bad-input/ and Fixtures/good-input/ (run from the repository root).

    make_input_fixtures.py

bad-input: for every case, `NN-name.ndjson` (valid lines, one bad line at a known line
number, maybe valid lines after it) and `NN-name.expected`, the one error line that
`sledger append < NN-name.ndjson` must print. The expected lines are written out by hand
in the table below from docs/INPUT.md, not computed: Tools/check_fixtures.py then checks
them against Tools/canonical.py, an independent implementation. Files are written as
bytes, so raw invalid UTF-8, raw control characters and CRLF line ends are exact.

good-input: small files that must be accepted; their `.expected` (the canonical export)
is made by Tools/canonical.py --dedupe, as the brief for these fixtures asks.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAD = os.path.join(ROOT, "Fixtures", "bad-input")
GOOD = os.path.join(ROOT, "Fixtures", "good-input")

USER = '"u_00042"'
SESSION = '"s_3f9a0c1d2e4b5a67"'


def b(x):
    return x if isinstance(x, bytes) else x.encode("utf-8")


def obj(*pairs):
    """A JSON object line from (key, raw JSON value) pairs, in the order given. The key is
    written between quotes as given (so it may hold escapes or raw bytes)."""
    return b"{" + b",".join(b'"' + b(k) + b'":' + b(v) for k, v in pairs) + b"}"


def login(**changes):
    return event([("type", '"login"'), ("at", '"2026-03-01T09:00:00Z"'), ("user", USER),
                  ("session", SESSION), ("client", '"web"'), ("method", '"google"')], changes)


def refresh(**changes):
    return event([("type", '"refresh"'), ("at", '"2026-03-01T10:05:00Z"'), ("user", USER),
                  ("session", SESSION)], changes)


def event(pairs, changes):
    """pairs with values replaced (None removes the key); new keys go at the end."""
    out = []
    for k, v in pairs:
        if k in changes:
            v = changes.pop(k)
            if v is None:
                continue
        out.append((k, v))
    out.extend((k, v) for k, v in changes.items() if v is not None)
    return obj(*out)


def s(text):
    """A raw JSON string value for plain text."""
    return '"' + text + '"'


# Valid lines to put around the bad one: one user's web session and phone session.
FILLER = [
    login(id=s("e_0001"), ip=s("203.0.113.7")),
    refresh(id=s("e_0002")),
    login(at=s("2026-03-01T09:30:00Z"), session=s("s_9b2e64f0c1a7d385"), client=s("ios"),
          method=s("email_link"), id=s("e_0003"), meta='{"app_version":"5.12.1"}'),
    refresh(at=s("2026-03-01T11:10:00Z"), id=s("e_0004")),
    obj(("type", '"logout"'), ("at", '"2026-03-01T12:00:00Z"'), ("user", USER),
        ("session", '"s_9b2e64f0c1a7d385"'), ("id", '"e_0005"')),
    refresh(at=s("2026-03-01T13:20:00Z"), id=s("e_0006")),
]
AFTER = [
    refresh(at=s("2026-03-01T15:00:00Z"), id=s("e_0091")),
    obj(("type", '"logout"'), ("at", '"2026-03-01T18:00:00Z"'), ("user", USER), ("session", SESSION),
        ("id", '"e_0092"')),
]

LONG_KEY = "x" * 70
META_33 = "{" + ",".join(f'"k{i:02d}":"v"' for i in range(33)) + "}"


def padded(line, size):
    """line with spaces after its first `{` so that it is exactly size bytes long."""
    assert len(line) <= size
    return line[:1] + b" " * (size - len(line)) + line[1:]


# (name, line number of the bad line, the bad line, the expected error, options), under
# section titles. "at: X" stands for the message of an invalid `at`.
# Options: after=N valid lines after it (default 1), blanks=[lines] blank lines put first,
# crlf=True for \r\n line ends, final_newline=False.
BAD_CASES = [
    "The line as a whole: length first, then JSON syntax.",
    ("line-70000-bytes", 3, refresh(agent=s("A" * (70_000 - len(refresh(agent=s("")))))),
     "line 3: longer than 65536 bytes", {}),
    ("line-65537-bytes-of-valid-event", 2, padded(refresh(id=s("e_0100")), 65_537),
     "line 2: longer than 65536 bytes", {}),
    ("not-an-object-array", 3, b"[1,2]", "line 3: invalid JSON: expected an object", {}),
    ("not-an-object-string", 2, b'"login"', "line 2: invalid JSON: expected an object", {}),
    ("missing-closing-brace", 3, refresh()[:-1], "line 3: invalid JSON: expected ',' or '}'", {}),
    ("trailing-garbage", 3, refresh() + b" x", "line 3: invalid JSON: expected end of line after the object", {}),
    ("two-objects-on-a-line", 2, refresh() + refresh(at=s("2026-03-01T11:05:00Z")),
     "line 2: invalid JSON: expected end of line after the object", {}),
    "Keys.",
    ("unknown-key", 3, refresh(device=s("Pixel 8")), "line 3: device: unknown key", {}),
    ("unknown-key-long-name", 2, refresh(**{LONG_KEY: s("x")}), f"line 2: {'x' * 64}: unknown key", {}),
    ("unknown-key-seq", 4, refresh(seq=s("12")), "line 4: seq: unknown key", {}),
    ("duplicated-key-user", 3, obj(("type", '"refresh"'), ("at", '"2026-03-01T10:05:00Z"'), ("user", USER),
                                   ("user", '"u_00043"'), ("session", SESSION)),
     "line 3: user: duplicated key", {}),
    ("duplicated-key-type-same-value", 2, obj(("type", '"refresh"'), ("type", '"refresh"'),
                                              ("at", '"2026-03-01T10:05:00Z"'), ("user", USER), ("session", SESSION)),
     "line 2: type: duplicated key", {}),
    "Wrong JSON types.",
    ("type-number", 3, refresh(type="1"), "line 3: type: expected a string, found a number", {}),
    ("at-number", 2, refresh(at="1772359500"), "line 2: at: expected a string, found a number", {}),
    ("at-object", 3, refresh(at='{"s":1}'), "line 3: at: expected a string, found an object", {}),
    ("user-array", 3, refresh(user='["u_00042"]'), "line 3: user: expected a string, found an array", {}),
    ("session-true", 3, refresh(session="true"), "line 3: session: expected a string, found true", {}),
    ("client-false", 3, login(client="false"), "line 3: client: expected a string, found false", {}),
    ("method-null", 3, login(method="null"), "line 3: method: expected a string, found null", {}),
    ("id-number", 3, refresh(id="-1.5e3"), "line 3: id: expected a string, found a number", {}),
    ("ip-array", 3, refresh(ip='[203,0,113,7]'), "line 3: ip: expected a string, found an array", {}),
    ("agent-object", 3, refresh(agent='{"name":"x"}'), "line 3: agent: expected a string, found an object", {}),
    ("agent-null", 3, refresh(agent="null"), "line 3: agent: expected a string, found null", {}),
    ("meta-string", 3, refresh(meta=s("k=v")), "line 3: meta: expected an object, found a string", {}),
    ("meta-array", 3, refresh(meta='[["k","v"]]'), "line 3: meta: expected an object, found an array", {}),
    ("meta-null", 3, refresh(meta="null"), "line 3: meta: expected an object, found null", {}),
    ("meta-value-number", 3, refresh(meta='{"build":42}'), "line 3: meta.build: expected a string, found a number", {}),
    ("meta-value-null", 3, refresh(meta='{"a":"x","b":null}'), "line 3: meta.b: expected a string, found null", {}),
    ("meta-value-object", 3, refresh(meta='{"nested":{"k":"v"}}'),
     "line 3: meta.nested: expected a string, found an object", {}),
    "Missing keys, and keys not allowed for the type.",
    ("empty-object", 3, b"{}", "line 3: type: missing required key", {}),
    ("missing-type", 3, refresh(type=None), "line 3: type: missing required key", {}),
    ("missing-at", 3, refresh(at=None), "line 3: at: missing required key", {}),
    ("missing-user", 3, refresh(user=None), "line 3: user: missing required key", {}),
    ("missing-session-on-refresh", 3, refresh(session=None), "line 3: session: missing required key", {}),
    ("missing-session-on-logout", 3, obj(("type", '"logout"'), ("at", '"2026-03-01T10:05:00Z"'), ("user", USER)),
     "line 3: session: missing required key", {}),
    ("missing-session-on-token-deleted", 2, obj(("type", '"token_deleted"'), ("at", '"2026-03-01T10:05:00Z"'),
                                                ("user", USER)),
     "line 2: session: missing required key", {}),
    ("login-missing-client", 3, login(client=None), "line 3: client: missing required key", {}),
    ("login-missing-method", 3, login(method=None), "line 3: method: missing required key", {}),
    ("client-on-refresh", 3, refresh(client=s("web")), "line 3: client: only allowed on login", {}),
    ("method-on-refresh", 3, refresh(method=s("google")), "line 3: method: only allowed on login", {}),
    ("method-on-logout", 3, obj(("type", '"logout"'), ("at", '"2026-03-01T10:05:00Z"'), ("user", USER),
                                ("session", SESSION), ("method", '"google"')),
     "line 3: method: only allowed on login", {}),
    ("client-on-logout-all", 3, obj(("type", '"logout_all"'), ("at", '"2026-03-01T10:05:00Z"'), ("user", USER),
                                    ("client", '"web"')),
     "line 3: client: only allowed on login", {}),
    ("unknown-type", 3, refresh(type=s("signin")), "line 3: type: unknown event type", {}),
    ("type-capitalised", 2, login(type=s("Login")), "line 2: type: unknown event type", {}),
    ("type-empty", 2, refresh(type=s("")), "line 2: type: unknown event type", {}),
    "Instants.",
    ("at-no-offset", 3, refresh(at=s("2026-03-01T10:05:00")), "line 3: at: " + "X", {}),
    ("at-bad-month", 3, refresh(at=s("2026-13-01T10:05:00Z")), "line 3: at: X", {}),
    ("at-february-30", 3, refresh(at=s("2026-02-30T10:05:00Z")), "line 3: at: X", {}),
    ("at-february-29-not-leap", 3, refresh(at=s("2100-02-29T10:05:00Z")), "line 3: at: X", {}),
    ("at-10-fraction-digits", 3, refresh(at=s("2026-03-01T10:05:00.1234567890Z")), "line 3: at: X", {}),
    ("at-empty-fraction", 3, refresh(at=s("2026-03-01T10:05:00.Z")), "line 3: at: X", {}),
    ("at-hour-24", 3, refresh(at=s("2026-03-01T24:00:00Z")), "line 3: at: X", {}),
    ("at-minute-60", 3, refresh(at=s("2026-03-01T10:60:00Z")), "line 3: at: X", {}),
    ("at-year-1677", 3, refresh(at=s("1677-12-31T23:59:59Z")), "line 3: at: X", {}),
    ("at-year-2262", 3, refresh(at=s("2262-01-01T00:00:00Z")), "line 3: at: X", {}),
    ("at-space-not-t", 3, refresh(at=s("2026-03-01 10:05:00Z")), "line 3: at: X", {}),
    ("at-offset-without-colon", 3, refresh(at=s("2026-03-01T10:05:00+0200")), "line 3: at: X", {}),
    ("at-offset-hour-24", 3, refresh(at=s("2026-03-01T10:05:00+24:00")), "line 3: at: X", {}),
    ("at-date-only", 3, refresh(at=s("2026-03-01")), "line 3: at: X", {}),
    ("at-empty", 3, refresh(at=s("")), "line 3: at: X", {}),
    ("at-leap-second", 3, refresh(at=s("2016-12-31T23:59:60Z")), "line 3: at: leap second (:60) is not accepted", {}),
    ("at-leap-second-with-fraction", 2, refresh(at=s("2016-12-31T23:59:60.5Z")),
     "line 2: at: leap second (:60) is not accepted", {}),
    "Lengths and identifiers.",
    ("user-empty", 3, refresh(user=s("")), "line 3: user: must be 1 to 256 bytes", {}),
    ("user-257-bytes", 3, refresh(user=s("u" * 257)), "line 3: user: must be 1 to 256 bytes", {}),
    ("user-257-bytes-87-characters", 3, refresh(user=s("\u20ac" * 85 + "ab")), "line 3: user: must be 1 to 256 bytes", {}),
    ("session-257-bytes", 3, refresh(session=s("s" * 257)), "line 3: session: must be 1 to 256 bytes", {}),
    ("session-empty-on-logout-all", 3, obj(("type", '"logout_all"'), ("at", '"2026-03-01T10:05:00Z"'),
                                           ("user", USER), ("session", '""')),
     "line 3: session: must be 1 to 256 bytes", {}),
    ("client-capitals", 3, login(client=s("Web")), "line 3: client: must match [a-z0-9_-]{1,32}", {}),
    ("client-empty", 3, login(client=s("")), "line 3: client: must match [a-z0-9_-]{1,32}", {}),
    ("client-33-characters", 3, login(client=s("c" * 33)), "line 3: client: must match [a-z0-9_-]{1,32}", {}),
    ("method-33-characters", 3, login(method=s("email_link_" + "x" * 22)),
     "line 3: method: must match [a-z0-9_-]{1,32}", {}),
    ("method-with-a-dot", 3, login(method=s("email.link")), "line 3: method: must match [a-z0-9_-]{1,32}", {}),
    ("id-129-bytes", 3, refresh(id=s("e" * 129)), "line 3: id: must be 1 to 128 bytes", {}),
    ("id-empty", 3, refresh(id=s("")), "line 3: id: must be 1 to 128 bytes", {}),
    ("ip-999", 3, refresh(ip=s("999.1.1.1")), "line 3: ip: not a textual IPv4 or IPv6 address", {}),
    ("ip-not-an-ip", 3, refresh(ip=s("not-an-ip")), "line 3: ip: not a textual IPv4 or IPv6 address", {}),
    ("ip-zone-id", 3, refresh(ip=s("fe80::1%eth0")), "line 3: ip: not a textual IPv4 or IPv6 address", {}),
    ("ip-with-port", 3, refresh(ip=s("203.0.113.7:443")), "line 3: ip: not a textual IPv4 or IPv6 address", {}),
    ("ip-empty", 3, refresh(ip=s("")), "line 3: ip: not a textual IPv4 or IPv6 address", {}),
    ("agent-1025-bytes", 3, refresh(agent=s("a" * 1025)), "line 3: agent: longer than 1024 bytes", {}),
    ("agent-1025-bytes-343-characters", 3, refresh(agent=s("\u20ac" * 341 + "ab")),
     "line 3: agent: longer than 1024 bytes", {}),
    ("meta-33-pairs", 3, refresh(meta=META_33), "line 3: meta: more than 32 pairs", {}),
    ("meta-key-with-space", 3, refresh(meta='{"bad key":"v"}'), "line 3: meta: key must match [A-Za-z0-9_.-]{1,64}", {}),
    ("meta-key-65-characters", 3, refresh(meta='{"' + "k" * 65 + '":"v"}'),
     "line 3: meta: key must match [A-Za-z0-9_.-]{1,64}", {}),
    ("meta-key-empty", 3, refresh(meta='{"":"v"}'), "line 3: meta: key must match [A-Za-z0-9_.-]{1,64}", {}),
    ("meta-duplicated-key", 3, refresh(meta='{"device":"a","os":"b","device":"c"}'),
     "line 3: meta.device: duplicated key", {}),
    ("meta-value-1025-bytes", 3, refresh(meta='{"note":"' + "n" * 1025 + '"}'),
     "line 3: meta.note: longer than 1024 bytes", {}),
    "UTF-8, escapes and control characters.",
    ("utf8-byte-ff-in-agent", 3, refresh(agent=b'"Mozilla \xff"'), "line 3: agent: invalid UTF-8", {}),
    ("utf8-overlong-slash-in-user", 3, refresh(user=b'"u_\xc0\xaf42"'), "line 3: user: invalid UTF-8", {}),
    ("utf8-encoded-surrogate", 3, refresh(agent=b'"x\xed\xa0\x80x"'), "line 3: agent: invalid UTF-8", {}),
    ("utf8-above-u10ffff", 3, refresh(meta=b'{"device":"\xf4\x90\x80\x80"}'), "line 3: meta.device: invalid UTF-8", {}),
    ("utf8-truncated-sequence", 3, refresh(session=b'"s_\xe2\x82"'), "line 3: session: invalid UTF-8", {}),
    ("utf8-stray-continuation-byte", 3, refresh(id=b'"e_\x80"'), "line 3: id: invalid UTF-8", {}),
    ("utf8-invalid-in-key", 3, obj(("type", '"refresh"'), ("at", '"2026-03-01T10:05:00Z"'), (b"us\xffer", USER),
                                   ("session", SESSION)),
     "line 3: invalid UTF-8 in a key", {}),
    ("lone-surrogate-high", 3, refresh(agent=s("x\\ud800x")), "line 3: agent: invalid \\u escape (lone surrogate)", {}),
    ("lone-surrogate-low", 3, refresh(user=s("\\ude00")), "line 3: user: invalid \\u escape (lone surrogate)", {}),
    ("surrogate-high-then-not-low", 3, refresh(agent=s("\\ud83d\\u0041")),
     "line 3: agent: invalid \\u escape (lone surrogate)", {}),
    ("escaped-bell-u0007", 3, refresh(agent=s("beep\\u0007")), "line 3: agent: contains a control character", {}),
    ("escaped-nul-u0000", 3, refresh(session=s("s_\\u0000")), "line 3: session: contains a control character", {}),
    ("escaped-newline", 3, refresh(user=s("u_00042\\n")), "line 3: user: contains a control character", {}),
    ("escaped-tab-in-meta-value", 3, refresh(meta='{"note":"a\\tb"}'),
     "line 3: meta.note: contains a control character", {}),
    ("raw-tab-in-agent", 3, refresh(agent=b'"Mozilla/5.0\t(X11)"'), "line 3: agent: contains a control character", {}),
    ("escaped-del-u007f", 3, refresh(agent=s("x\\u007f")), "line 3: agent: contains a control character", {}),
    ("raw-del-in-user", 3, refresh(user=b'"u_\x7f42"'), "line 3: user: contains a control character", {}),
    "Which failure wins: length, then the JSON text left to right, then keys in table order.",
    ("order-unknown-key-before-wrong-type", 3,
     obj(("type", '"refresh"'), ("colour", '"blue"'), ("at", "17"), ("user", USER), ("session", SESSION)),
     "line 3: colour: unknown key", {}),
    ("order-wrong-type-before-unknown-key", 3,
     obj(("type", '"refresh"'), ("at", "17"), ("colour", '"blue"'), ("user", USER), ("session", SESSION)),
     "line 3: at: expected a string, found a number", {}),
    ("order-control-char-before-missing-session", 3, refresh(session=None, agent=s("a\\u0001")),
     "line 3: agent: contains a control character", {}),
    ("order-duplicated-key-before-bad-at", 3,
     obj(("type", '"refresh"'), ("at", '"yesterday"'), ("user", USER), ("session", SESSION), ("user", USER)),
     "line 3: user: duplicated key", {}),
    ("order-bad-at-before-missing-user", 3, refresh(at=s("2026-02-30T10:05:00Z"), user=None),
     "line 3: at: X", {}),
    ("order-unknown-type-before-client", 3, refresh(type=s("sign_in"), client=s("web")),
     "line 3: type: unknown event type", {}),
    ("order-client-before-bad-ip", 3, refresh(ip=s("999.1.1.1"), client=s("web")),
     "line 3: client: only allowed on login", {}),
    ("order-missing-session-before-bad-id", 3,
     obj(("id", '""'), ("type", '"refresh"'), ("at", '"2026-03-01T10:05:00Z"'), ("user", USER)),
     "line 3: session: missing required key", {}),
    ("order-unknown-key-before-invalid-utf8", 3, refresh(zone=s("eu"), agent=b'"\xff"'), "line 3: zone: unknown key", {}),
    ("order-invalid-utf8-before-wrong-type", 3, refresh(agent=b'"\xc3\x28"', meta="7"),
     "line 3: agent: invalid UTF-8", {}),
    "Line numbers count blank lines; CRLF line ends; no newline at the end.",
    ("line-numbers-count-blank-lines", 6, refresh(ip=s("not-an-ip")),
     "line 6: ip: not a textual IPv4 or IPv6 address", {"blanks": [b"", b"   ", b"\t\r"]}),
    ("crlf-line-ends", 3, refresh(user=s("")), "line 3: user: must be 1 to 256 bytes", {"crlf": True}),
    ("last-line-without-newline", 4, refresh(type=s("expire")), "line 4: type: unknown event type",
     {"after": 0, "final_newline": False}),
]

AT_INVALID = "not an RFC 3339 instant (years 1678-2261, 0-9 fractional digits, Z or +HH:MM)"
BAD_CASES = [case if isinstance(case, str) else
             (case[0], case[1], case[2], case[3].replace("at: X", "at: " + AT_INVALID), case[4])
             for case in BAD_CASES]

# An id repeated with other content in one file: line 4 reuses the id of line 2.
IN_FILE_CONFLICT = ("id-conflict-in-one-file", [
    FILLER[0],
    refresh(id=s("e_7c1f")),
    FILLER[2],
    refresh(at=s("2026-03-01T10:05:01Z"), id=s("e_7c1f")),
    AFTER[0],
], "line 4: id: id conflict with line 2")

# Across calls: first.ndjson is imported, then second.ndjson reuses one of its ids.
FIRST = [
    login(id=s("e_a001"), ip=s("203.0.113.7")),
    b"",
    refresh(id=s("e_a002")),
    login(at=s("2026-03-01T09:30:00Z"), session=s("s_9b2e64f0c1a7d385"), client=s("ios"),
          method=s("email_link"), id=s("e_a003")),
    refresh(at=s("2026-03-01T11:10:00Z"), id=s("e_a004")),
    refresh(at=s("2026-03-01T12:15:00Z"), id=s("e_a005")),
]
SECOND = [
    refresh(at=s("2026-03-02T08:00:00Z"), id=s("e_b001")),
    # The same event as e_a002, written differently: a duplicate, skipped, not a conflict.
    obj(("id", '"e_a002"'), ("session", SESSION), ("user", USER), ("at", '"2026-03-01T11:05:00+01:00"'),
        ("type", '"refresh"')),
    refresh(at=s("2026-03-02T09:05:00Z"), id=s("e_b002")),
    # e_a004 with another instant: a conflict with seq 4 (first.ndjson's 5th line, its 4th event).
    refresh(at=s("2026-03-01T11:10:30Z"), id=s("e_a004")),
    refresh(at=s("2026-03-02T10:10:00Z"), id=s("e_b003")),
]
SECOND_EXPECTED = "line 4: id: id conflict with seq 4"

# ---------------------------------------------------------------- good input

def good_cases():
    u256 = "\u00e9" * 128  # 256 bytes, 128 characters
    cases = {
        "escapes": [
            login(user=s("ren\\u00e9e@example.com"), agent=s('Mozilla\\/5.0 \\"quoted\\" back\\\\slash'),
                  meta='{"emoji":"\\ud83d\\ude00","upper":"\\u00C9","ascii":"\\u0041\\u0020B",'
                       '"raw":"\u00e9\u20ac\U0001F600","separators":"\u2028\u2029\u00a0"}'),
            # Escapes inside key names decode to the names themselves.
            obj(("t\\u0079pe", '"refresh"'), ("\\u0061t", '"2026-03-01T10:05:00Z"'), ("user", USER),
                ("session", SESSION), ("m\\u0065ta", '{"k\\u0065y":"v"}')),
        ],
        "offsets-and-case": [
            login(at=s("2026-03-01T23:30:00+14:00")),
            refresh(at=s("2026-03-01T10:05:00-00:00")),
            refresh(at=s("2026-03-01t11:10:00z")),
            refresh(at=s("2026-03-01T06:45:00-05:30")),
            refresh(at=s("2026-03-01T13:20:00+00:00")),
            refresh(at=s("2026-03-01T02:30:00-12:00")),
        ],
        "fractions": [
            login(at=s("2026-03-01T09:00:00.000000000Z")),
            refresh(at=s("2026-03-01T10:05:00.250Z")),
            refresh(at=s("2026-03-01T11:05:00.123456789Z")),
            refresh(at=s("2026-03-01T12:05:00.100000000Z")),
            refresh(at=s("2026-03-01T13:05:00.000000001+01:00")),
            refresh(at=s("2026-03-01T14:05:00.5Z")),
            refresh(at=s("2026-03-01T15:05:00.0Z")),
        ],
        "year-range-ends": [
            login(at=s("1678-01-01T00:00:00Z"), session=s("s_old")),
            refresh(at=s("1678-01-01T01:00:00.000000001Z"), session=s("s_old")),
            login(at=s("2261-12-31T00:00:00Z"), session=s("s_late")),
            refresh(at=s("2261-12-31T23:59:59.999999999Z"), session=s("s_late")),
            refresh(at=s("2000-02-29T12:00:00Z"), session=s("s_old")),
        ],
        "logout-all-with-and-without-session": [
            login(),
            obj(("type", '"logout_all"'), ("at", '"2026-03-01T10:00:00Z"'), ("user", USER), ("session", SESSION)),
            login(at=s("2026-03-01T10:05:00Z"), session=s("s_0d1e2f3a4b5c6d7e")),
            obj(("type", '"logout_all"'), ("at", '"2026-03-01T11:00:00Z"'), ("user", USER),
                ("meta", '{"by":"support"}')),
        ],
        "meta-empty-and-sorted": [
            login(meta="{}"),
            refresh(meta='{"b":"2","a":"1","B":"3","_":"4","0":"5",".":"6","-":"7"}'),
            refresh(at=s("2026-03-01T11:10:00Z"), meta=META_33.replace(',"k32":"v"', "")),
        ],
        "ip-forms": [
            login(ip=s("2001:db8::1")),
            refresh(ip=s("::ffff:192.0.2.1")),
            refresh(at=s("2026-03-01T11:10:00Z"), ip=s("2001:DB8:0:0:0:0:0:1")),
            refresh(at=s("2026-03-01T12:15:00Z"), ip=s("::")),
            refresh(at=s("2026-03-01T13:20:00Z"), ip=s("192.0.2.255")),
        ],
        "length-limits": [
            login(user=s("u" * 256), session=s("s" * 256), client=s("c" * 32), method=s("m" * 32),
                  id=s("e" * 128), agent=s("a" * 1024)),
            login(user=s(u256), session=s("\u20ac" * 85 + "s"), id=s("\u00e9" * 64),
                  agent=s("\u20ac" * 341 + "a"), at=s("2026-03-01T09:01:00Z")),
            refresh(meta="{" + ",".join(f'"{"k" * 62}{i:02d}":"{"v" * 1024}"' for i in range(32)) + "}"),
            padded(refresh(at=s("2026-03-01T11:10:00Z"), id=s("e_exactly_65536")), 65_536),
        ],
        "identifiers": [
            login(client=s("vr-headset_2"), method=s("passkey")),
            login(session=s("s_other"), client=s("0"), method=s("a-b_c")),
            obj(("type", '"token_deleted"'), ("at", '"2026-03-01T10:00:00Z"'), ("user", USER), ("session", SESSION)),
        ],
        "whitespace-and-order": [
            b' \t{ "session" : "s_1" ,\t"user":"u_1" , "method":"google","client":"web","at":"2026-03-01T09:00:00Z",'
            b'"type":"login" } \t',
            b"",
            b"   ",
            b"\t\r",
            obj(("meta", '{"z":"1","a":"2"}'), ("agent", '"x"'), ("ip", '"192.0.2.1"'), ("id", '"e_1"'),
                ("session", '"s_1"'), ("user", '"u_1"'), ("at", '"2026-03-01T10:05:00Z"'), ("type", '"refresh"')),
        ],
        "crlf-line-ends": [login(), refresh()],
        "same-id-same-content-is-a-duplicate": [
            login(id=s("e_dup")),
            obj(("id", '"e_dup"'), ("method", '"google"'), ("client", '"web"'), ("session", SESSION),
                ("user", USER), ("at", '"2026-03-01T10:00:00+01:00"'), ("type", '"login"')),
            refresh(id=s("e_next"), meta='{"b":"1","a":"2"}'),
            refresh(id=s("e_next"), meta='{"a":"2","b":"1"}', at=s("2026-03-01T10:05:00.000Z")),
        ],
        "unusual-but-valid-characters": [
            login(user=s("\U0001F600@example.com"), agent=s("\ufeffBOM at the start, U+FFFF \uffff, noncharacter"),
                  meta='{"c1":"\u0080\u009f","nbsp":"a\u00a0b","zero-width":"\u200b"}'),
        ],
    }
    return cases


GOOD_OPTIONS = {"crlf-line-ends": {"crlf": True}}


def write_lines(path, lines, crlf=False, final_newline=True):
    end = b"\r\n" if crlf else b"\n"
    data = end.join(lines) + (end if final_newline else b"")
    with open(path, "wb") as fh:
        fh.write(data)


GOOD_NOTES = {
    "escapes": "every escape form that decodes to an allowed character: `\\/`, `\\\"`, `\\\\`, `\\u00e9`, "
               "`\\u00C9`, `\\u0041`, a surrogate pair, raw UTF-8, U+2028/U+2029; escapes inside key names "
               "(`\"t\\u0079pe\"` is `type`)",
    "offsets-and-case": "`+14:00`, `-00:00`, `-05:30`, `+00:00`, `-12:00`, lower-case `t` and `z`",
    "fractions": "0 and 9 fractional digits, trailing zeros (`.250`, `.100000000`), `.0`, a nanosecond with an offset",
    "year-range-ends": "years 1678 and 2261 written with `Z` (to the nanosecond at the end of 2261), 2000-02-29",
    "logout-all-with-and-without-session": "`logout_all` with `session`, and without (support did it)",
    "meta-empty-and-sorted": "`meta: {}` (kept), meta keys sorted by bytes (`-` `.` `0` `B` `_` `a`), 32 pairs",
    "ip-forms": "IPv6 compressed, IPv4-mapped, upper case, `::`; stored as written",
    "length-limits": "every limit exactly: 256-byte user and session (ASCII and multi-byte), 32-character "
                     "client and method, 128-byte id, 1024-byte agent, 32 meta pairs of 64-byte keys and "
                     "1024-byte values, a line of exactly 65,536 bytes",
    "identifiers": "clients and methods that are not in the default policy (input is not policy), `token_deleted` "
                   "on any session",
    "whitespace-and-order": "whitespace around and inside the object, reversed key order, blank lines of "
                            "nothing, spaces, and a tab and `\\r`",
    "crlf-line-ends": "`\\r\\n` line ends",
    "same-id-same-content-is-a-duplicate": "an `id` repeated with the same canonical content written differently: "
                                           "skipped as a duplicate, so the export has one line fewer each time",
    "unusual-but-valid-characters": "an emoji user, a BOM and U+FFFF inside an agent, C1 controls U+0080-U+009F "
                                    "(SPEC.md refuses only U+0000-U+001F and U+007F), NBSP, zero-width space",
}


def bad_readme(rows):
    out = [
        "# bad-input: one refusal per rule",
        "",
        "Every `NNN-name.ndjson` here must be refused by `sledger append < NNN-name.ndjson` with exit",
        "status 2, nothing stored, and exactly the one line of `NNN-name.expected` on standard error",
        "(`line N: KEY: WHAT`, docs/INPUT.md's format for standard input, no file prefix). Each file",
        "has valid lines, the one bad line at line N, and usually a valid line after it (the first",
        "bad line is the one reported). The files are bytes: some hold raw invalid UTF-8, a raw TAB or",
        "DEL, `\\r\\n` line ends; read them in binary.",
        "",
        "Made by `Tools/make_input_fixtures.py`, which holds every bad line and, written out by hand",
        "from docs/INPUT.md, every expected message. `Tools/check_fixtures.py` checks each one against",
        "`Tools/canonical.py`, a separate implementation of SPEC.md section 2 and docs/INPUT.md.",
        "",
        "The order rules of docs/INPUT.md decide which message a line with two faults gets: the",
        "length first; then the JSON text from left to right (syntax, UTF-8, escapes, control",
        "characters, unknown and duplicated keys, JSON types, meta's duplicated keys and value types",
        "included); then, once the object is whole, each key in the order `type, at, user, session,",
        "client, method, id, ip, agent, meta`. The `order-*` cases test that.",
        "",
        "## Choices made where docs/INPUT.md leaves the text open",
        "",
        "- `invalid JSON: <what was expected>` is written `invalid JSON: expected X`, with X one of",
        "  `an object` (the line is not an object), `a key`, `':'`, `a value`, `',' or '}'` (for",
        "  instance a missing closing brace), `end of line after the object` (trailing garbage),",
        "  `end of string`. Only the cases 003 to 007 depend on this wording.",
        "- In a `meta` value, KEY is `meta.NAME` (as for docs/INPUT.md's meta rows): invalid UTF-8 in",
        "  `meta.device`, a control character in `meta.note`.",
        "- A key name in a message is cut to its first 64 bytes (`unknown-key-long-name`).",
        "- `:60` is a leap second wherever it is, fraction or not; any other bad part makes the",
        "  instant simply invalid.",
        "- A raw TAB in a string is a control character (`KEY: contains a control character`), not",
        "  broken JSON, as docs/INPUT.md's table says (\"raw or escaped\").",
        "",
        "## Cases",
        "",
        "| file | bad line | expected |",
        "|---|---|---|",
    ]
    for row in rows:
        if isinstance(row, str):
            out.append(f"| **{row}** | | |")
        else:
            name, n, expected = row
            shown = expected.replace("|", "\\|")
            out.append(f"| `{name}.ndjson` | {n} | `{shown}` |")
    out += [
        "",
        "## id conflicts",
        "",
        "- `NNN-id-conflict-in-one-file`: line 4 reuses the `id` of line 2 with another `at`:",
        "  `line 4: id: id conflict with line 2`.",
        "- `id-conflict/`: import `first.ndjson` into an empty ledger (6 lines, one blank, so 5",
        "  events, seq 1 to 5), then `sledger append < second.ndjson` must fail with",
        "  `second.expected`: `line 4: id: id conflict with seq 4`. Line 4 reuses `e_a004`",
        "  (first.ndjson's line 5, its 4th event, so seq 4) with another `at`. Line 2 of",
        "  second.ndjson repeats `e_a002` with the same canonical content written differently (key",
        "  order, `+01:00` offset): a duplicate, skipped, not a conflict. After the refusal the",
        "  ledger still holds exactly first.ndjson's 5 events.",
        "",
    ]
    return "\n".join(out)


def good_readme(names):
    out = [
        "# good-input: valid but tricky",
        "",
        "Every `name.ndjson` here must be accepted by `sledger import` (or `append`) into an empty",
        "ledger, and `sledger export` must then print exactly `name.expected`. The inputs are made by",
        "`Tools/make_input_fixtures.py`; each `.expected` by `Tools/canonical.py --dedupe name.ndjson`",
        "(canonical form, blank lines dropped, an `id` seen before with the same content skipped).",
        "",
        "| file | what it tests |",
        "|---|---|",
    ]
    out += [f"| `{name}.ndjson` | {GOOD_NOTES[name]} |" for name in names]
    out += [
        "",
        "Left out on purpose: an instant at the edge of the year range with an offset that moves",
        "it across the edge (`1678-01-01T00:30:00+01:00` is 1677-12-31T23:30:00Z in UTC). docs/INPUT.md",
        "checks the year as written, so it is accepted, but its canonical export has the year 1677,",
        "which a re-import would refuse: the round trip of SPEC.md section 2 cannot hold for it.",
        "",
    ]
    return "\n".join(out)


def main():
    import argparse
    ap = argparse.ArgumentParser(description="Write the bad-input and good-input fixtures.")
    ap.add_argument("--out", default=os.path.join(ROOT, "Fixtures"),
                    help="the folder to write bad-input/ and good-input/ into (default: Fixtures)")
    out = ap.parse_args().out
    bad, good = os.path.join(out, "bad-input"), os.path.join(out, "good-input")
    conflict = os.path.join(bad, "id-conflict")
    for folder in (bad, good, conflict):
        os.makedirs(folder, exist_ok=True)
        for f in os.listdir(folder):
            if f.endswith((".ndjson", ".expected")):
                os.remove(os.path.join(folder, f))

    rows = []
    number = 0
    for case in BAD_CASES:
        if isinstance(case, str):
            rows.append(case)
            continue
        name, n, bad_line, expected, opts = case
        assert expected.startswith(f"line {n}: "), name
        blanks = opts.get("blanks", [])
        before = blanks + FILLER[: n - 1 - len(blanks)]
        assert len(before) == n - 1, name
        lines = before + [bad_line] + AFTER[: opts.get("after", 1)]
        number += 1
        stem = f"{number:03d}-{name}"
        write_lines(os.path.join(bad, stem + ".ndjson"), lines, opts.get("crlf", False),
                    opts.get("final_newline", True))
        with open(os.path.join(bad, stem + ".expected"), "w") as fh:
            fh.write(expected + "\n")
        rows.append((stem, n, expected))

    number += 1
    name, lines, expected = IN_FILE_CONFLICT
    stem = f"{number:03d}-{name}"
    rows.append("id conflicts")
    rows.append((stem, 4, expected))
    write_lines(os.path.join(bad, stem + ".ndjson"), lines)
    with open(os.path.join(bad, stem + ".expected"), "w") as fh:
        fh.write(expected + "\n")
    rows.append(("id-conflict/second", 4, SECOND_EXPECTED))

    write_lines(os.path.join(conflict, "first.ndjson"), FIRST)
    write_lines(os.path.join(conflict, "second.ndjson"), SECOND)
    with open(os.path.join(conflict, "second.expected"), "w") as fh:
        fh.write(SECOND_EXPECTED + "\n")
    with open(os.path.join(bad, "README.md"), "w") as fh:
        fh.write(bad_readme(rows))

    canonical = os.path.join(ROOT, "Tools", "canonical.py")
    cases = good_cases()
    for name, lines in cases.items():
        path = os.path.join(good, name + ".ndjson")
        write_lines(path, lines, **GOOD_OPTIONS.get(name, {}))
        result = subprocess.run([canonical, "--dedupe", path], capture_output=True)
        if result.returncode != 0:
            sys.exit(f"good-input/{name}.ndjson refused: {result.stderr.decode()}")
        with open(os.path.join(good, name + ".expected"), "wb") as fh:
            fh.write(result.stdout)
    with open(os.path.join(good, "README.md"), "w") as fh:
        fh.write(good_readme(cases))
    print(f"{number} bad-input cases, 1 id-conflict pair, {len(cases)} good-input files")


if __name__ == "__main__":
    main()
