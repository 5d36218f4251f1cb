#!/usr/bin/python3
"""Write Fixtures/team-quarter/events.ndjson: a team's quarter, valid but written untidily.

    make_team_fixture.py > Fixtures/team-quarter/events.ndjson

The events come from generate_events.py's team profile (about 50 people named by
e-mail, 2026-01-01 to 2026-03-31). A few are given extra details (device names with
accents and an emoji, a Windows path, an agent with quotes in it). Then each line is
written in one of many harmless non-canonical ways, so that importing it and comparing
`sledger export` with expected-export.ndjson tests the canonical form for real:

- keys in the canonical order, shuffled, or id first as a server might log them;
  `meta` keys unsorted;
- spaces (sometimes tabs) after `:` and `,`, and inside the braces;
- `at` with a numeric offset (`+02:00`, `-05:30`, `+05:45`, `-00:00`, ...) and 0 to 9
  fractional digits, trailing zeros included (`.250`), lower-case `t`/`z` now and then,
  and some instants with nanosecond digits;
- JSON escapes that decode to ordinary characters: `\\/`, `\\u00e9`, `\\u00E9`,
  `\\u0061`, `\\"` and `\\\\` inside values, a surrogate pair `\\ud83d\\ude00`;
- two blank lines (one empty, one of spaces and a tab).

Everything stays valid under SPEC.md section 2, and no id repeats. Same output every run.
"""

import random
import sys

import generate_events as gen

SEED = 4  # 50 people, ~8k events, 5 code tokens of which one is deleted, 12 logout_all
RENDER_SEED = 20260331
OFFSETS = ("+02:00", "+01:00", "-05:30", "+05:45", "-08:00", "+09:00", "-00:00", "+00:00", "-03:30", "+14:00",
           "-11:00", "+05:30")
CANONICAL_ORDER = ("type", "at", "user", "session", "client", "method", "id", "ip", "agent", "meta")
LOGGED_ORDER = ("id", "at", "type", "user", "session", "client", "method", "ip", "agent", "meta")
PHONE_NAMES = ("Zoë's iPhone", "Renée's Pixel", "iPhone de José", "Ólafur's phone", "Work phone")
DESKTOP_DIRS = ("C:\\Program Files\\Ledgerly", "C:\\Users\\me\\AppData\\Local\\Ledgerly")
QUOTED_AGENT = 'Ledgerly-Desktop/2.5.0-beta (Windows 11; x64; channel "insider")'


def enrich(events, rnd):
    """Adds the details a real log has here and there. Yields (ns, fields) pairs."""
    emoji_left = 2
    for n, (t, kind, user, session, client, method, ip, agent, meta) in enumerate(events, start=1):
        ns = t * 1_000_000
        if rnd() < 0.05:
            ns += int(rnd() * 1_000_000)  # a client that stamps with nanoseconds
        f = {"type": kind, "user": user}
        if session is not None:
            f["session"] = session
        if client is not None:
            f["client"], f["method"] = client, method
        f["id"] = "e_%016x" % gen.scramble(n, 0x7E4A)
        if ip is not None:
            f["ip"] = ip
        if agent is not None:
            f["agent"] = agent
        m = dict(meta) if meta else {}
        if kind == "login" and client in ("ios", "android") and rnd() < 0.3:
            m["device"] = PHONE_NAMES[int(rnd() * len(PHONE_NAMES))]
        if kind == "login" and client == "desktop":
            if rnd() < 0.4:
                m["install_dir"] = DESKTOP_DIRS[int(rnd() * len(DESKTOP_DIRS))]
            if rnd() < 0.2:
                f["agent"] = QUOTED_AGENT
        if kind == "logout_all" and "session" in f and emoji_left:
            emoji_left -= 1
            m["note"] = "lost my phone \U0001F600"
        if m or meta is not None:
            f["meta"] = m
        yield ns, f


def render_at(ns, rnd):
    """The instant in one of the many RFC 3339 spellings SPEC.md accepts."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    r = rnd()
    offset = "Z" if r < 0.6 else OFFSETS[int(rnd() * len(OFFSETS))]
    if offset in ("Z", "+00:00", "-00:00"):
        shift = 0
    else:
        sign = -1 if offset[0] == "-" else 1
        shift = sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
    local = seconds + shift
    days, sod = divmod(local, 86400)
    date = gen.datetime.date.fromordinal(days + gen.datetime.date(1970, 1, 1).toordinal())
    fraction = f"{nanos:09d}"
    needed = len(fraction.rstrip("0")) if nanos else 0
    digits = needed if rnd() < 0.5 else needed + int(rnd() * (10 - needed))
    text = (f"{date.year:04d}-{date.month:02d}-{date.day:02d}T{sod // 3600:02d}:{sod // 60 % 60:02d}:"
            f"{sod % 60:02d}")
    if digits:
        text += "." + fraction[:digits]
    text += offset
    if rnd() < 0.02:
        text = text.replace("T", "t").replace("Z", "z")
    return text


def escape(value, rnd, fancy):
    """A JSON string for value: always valid, sometimes with escapes that are not needed."""
    out = []
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "/" and fancy and rnd() < 0.5:
            out.append("\\/")
        elif ord(ch) > 0xFFFF and fancy:
            v = ord(ch) - 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)))
        elif ord(ch) > 0x7F and fancy and rnd() < 0.6:
            out.append(("\\u%04x" if rnd() < 0.5 else "\\u%04X") % ord(ch))
        elif ch.isalpha() and ord(ch) < 0x80 and fancy and rnd() < 0.02:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def render(ns, f, rnd):
    r = rnd()
    if r < 0.55:
        order = [k for k in CANONICAL_ORDER if k in f or k == "at"]
    elif r < 0.8:
        order = [k for k in f]
        order.append("at")
        random.Random(int(rnd() * 2**32)).shuffle(order)
    else:
        order = [k for k in LOGGED_ORDER if k in f or k == "at"]
    r = rnd()
    colon, comma, inside = (":", ",", "") if r < 0.7 else (": ", ", ", "") if r < 0.9 else \
        (":\t", ",  ", " ") if r < 0.95 else (" : ", " , ", "  ")
    fancy = rnd() < 0.25
    parts = []
    for key in order:
        if key == "at":
            value = '"' + render_at(ns, rnd) + '"'
        elif key == "meta":
            pairs = list(f["meta"].items())
            random.Random(int(rnd() * 2**32)).shuffle(pairs)
            # Values with characters worth escaping are always written with escapes.
            value = "{" + comma.join(escape(k, rnd, False) + colon + escape(v, rnd, fancy or v != v.encode(
                "ascii", "ignore").decode()) for k, v in pairs) + "}"
        else:
            value = escape(f[key], rnd, fancy and key in ("user", "session", "agent", "ip"))
        parts.append('"' + key + '"' + colon + value)
    return "{" + inside + comma.join(parts) + inside + "}"


def main():
    rnd = random.Random(RENDER_SEED).random
    events = gen.simulate(SEED, 50, gen.parse_start("2026-01-01T00:00:00Z"), "team",
                          end=gen.parse_start("2026-04-01T00:00:00Z"))
    lines = [render(ns, f, rnd) for ns, f in enrich(events, rnd)]
    lines.insert(len(lines) // 3, "")
    lines.insert(2 * len(lines) // 3, "   \t ")
    sys.stdout.buffer.write(("\n".join(lines) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
