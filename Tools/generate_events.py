#!/usr/bin/python3
"""Generate a realistic, deterministic stream of session events (SPEC.md section 2) as NDJSON.

    generate_events.py --events 1000000 --seed 1 --users 10000 --start 2026-01-01T00:00:00Z > events.ndjson

The output is a function of the arguments alone (same arguments, same bytes), is
written in canonical form (so `sledger export` of an import gives it back), and is
streamed: memory depends on --users, never on --events.

The model. Every user owns a few devices ("slots"): a web browser (most users), a
phone (`ios` or `android`), sometimes a `desktop` app, rarely a coding tool (`code`).
A slot signs in (`login` by `google` or `email_link`), is used on some days in the
user's waking hours, refreshing at most once an hour while in use (hourly or slower,
never early), and its session then ends one of these ways:

- `logout`;
- nothing at all: the session is abandoned and expires 28 days after its last refresh
  (churn), and the slot signs in again weeks or months after that;
- `logout_all` from a web session (occasionally), which also ends the user's phone and
  desktop sessions (not their tokens); those sign in again later;
- rarely a `logout_all` with no `session` (done by support);
- for a `code` token: no refreshes, and `token_deleted` weeks later (or never).

The log follows those rules, so replaying it under the default policy should give no
error findings. Events come out in time order, except that about 1 in 100 refreshes
is stamped 1 to 4 seconds early, as a client clock would. Every event has a unique
`id` (`e_` + 16 hex digits), sessions are `s_` + 16 hex digits, users `u_00042`
(or e-mail addresses in the team profile).

`--profile team` is the model behind Fixtures/team-quarter (see Tools/make_team_fixture.py):
about 50 people named by e-mail over one quarter, stopping at --end.
"""

import argparse
import datetime
import heapq
import math
import random
import sys

MS_PER_S = 1000
HOUR = 3600 * MS_PER_S
DAY = 24 * HOUR
LIFETIME = 28 * DAY

MASK64 = (1 << 64) - 1
MIX1, MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def scramble(counter, key):
    """A bijection of 64-bit integers (splitmix64's finalizer after adding a key): distinct
    counters give distinct, random-looking numbers, so ids never repeat."""
    z = (counter + key) & MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)

REFRESH_LINE = '{"type":"refresh","at":"%sZ","user":"%s","session":"%s","id":"e_%016x"}\n'

# Action codes for the event queue.
LOGIN, REFRESH, LOGOUT, LOGOUT_ALL, SUPPORT_LOGOUT_ALL, TOKEN_DELETED, EXPIRE = range(7)

AGENTS = {
    "web": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
    "ios": ("Ledgerly/5.12.1 (iPhone; iOS 18.1; Scale/3.00)", "Ledgerly/5.13.0 (iPhone; iOS 18.2; Scale/3.00)"),
    "android": ("Ledgerly/5.12.0 (Android 14; Pixel 8)", "Ledgerly/5.13.0 (Android 15; SM-S921B)"),
    "desktop": ("Ledgerly-Desktop/2.4.0 (macOS 14.6; arm64)", "Ledgerly-Desktop/2.4.1 (Windows 11; x64)"),
    "code": ("ledgerly-code/0.9.3 (linux; x86_64)", "ledgerly-code/0.9.4 (darwin; arm64)"),
}
# First octets of ordinary public unicast ranges (no loopback, private or reserved ones).
PUBLIC_FIRST_OCTETS = (24, 31, 37, 46, 50, 62, 66, 71, 73, 77, 81, 82, 86, 89, 91, 93, 94, 98, 104,
                       109, 145, 151, 176, 178, 185, 188, 193, 195, 212, 213, 217)
COUNTRIES = ("DE", "FR", "US", "GB", "IN", "BR", "JP", "NL", "ES", "CA")
APP_VERSIONS = ("5.12.0", "5.12.1", "5.13.0")

FIRST_NAMES = (
    "ana", "ben", "chloe", "dmitri", "elif", "farid", "greta", "hiro", "ines", "jonas",
    "kavya", "liam", "mei", "noah", "olga", "pablo", "quinn", "rosa", "sami", "tariq",
    "uma", "victor", "wen", "ximena", "yusuf", "zoe", "amara", "bruno", "carla", "dev",
)
LAST_NAMES = (
    "garcia", "mueller", "dubois", "ivanova", "yilmaz", "haddad", "larsen", "tanaka", "silva",
    "berg", "iyer", "obrien", "chen", "kim", "petrova", "ruiz", "walsh", "costa", "nakamura",
    "osei", "novak", "rossi", "singh", "lopez", "kaya", "wright",
)

PROFILES = {
    # Many users, each with a few devices: the shape of a big service.
    "default": dict(
        web=0.95, phone=0.55, ios_share=0.55, desktop=0.20, code=0.04,
        web_steps=30.0, phone_steps=2.5, desktop_steps=50.0, same_day=0.55,
        web_end=(0.48, 0.46, 0.05, 0.01),  # logout, abandon, logout_all, support logout_all
        phone_logout=0.55, desktop_logout=0.30,
        token_delete=0.35, token_again=0.5, away=0.08,
        first_days=3.0, email=False,
    ),
    # A team of people who all work most days: Fixtures/team-quarter.
    "team": dict(
        web=1.0, phone=0.7, ios_share=0.5, desktop=0.25, code=0.10,
        web_steps=60.0, phone_steps=3.0, desktop_steps=80.0, same_day=0.75,
        web_end=(0.55, 0.33, 0.10, 0.02),
        phone_logout=0.5, desktop_logout=0.3,
        token_delete=0.45, token_again=0.5, away=0.02,
        first_days=2.0, email=True,
    ),
}


def parse_start(text):
    """Milliseconds since the epoch for an RFC 3339 instant with Z or an offset."""
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if t.tzinfo is None:
        raise argparse.ArgumentTypeError("the instant needs Z or an offset")
    return int(t.timestamp() * 1000)


FRACTIONS = [("." + f"{ms:03d}".rstrip("0")) if ms else "" for ms in range(1000)]
SECONDS = [f"{s:02d}" for s in range(60)]


def minute_text(minute):
    """RFC 3339 text of a whole minute (ms // 60000) in UTC, up to and including the second's colon."""
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(minutes=minute)
    if d.year > 2261:
        sys.exit("generate_events.py: the log would run past the year 2261 (SPEC.md's range): "
                 "give more --users for this many --events")
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:"


def simulate(seed, users, start, profile, end=None):
    """Yields events in the order they happen, as tuples
    (t_ms, type, user, session, client, method, ip, agent, meta), meta a tuple of pairs or None.
    The stream is endless unless `end` (ms) is given. Memory: O(users)."""
    p = PROFILES[profile]
    rnd = random.Random(seed).random
    heap = []
    push = heapq.heappush
    tick = 0  # tie-breaker, so the heap never compares slots
    session_counter = [0]
    session_key = scramble(seed, 0x5E55)

    def new_session_id():
        session_counter[0] += 1
        return "s_%016x" % scramble(session_counter[0], session_key)

    # A user: [name, tz_offset_ms, ip4, ip6_or_None, slots]
    # A slot: [user, client, session, expires, generation, steps_left, end_kind, agent,
    #          chance that a day's use goes on for another hour or more]
    used_emails = set()
    for k in range(users):
        if p["email"]:
            name = FIRST_NAMES[int(rnd() * len(FIRST_NAMES))] + "." + LAST_NAMES[int(rnd() * len(LAST_NAMES))]
            if name in used_emails:
                name += str(k + 1)  # the second Ana Garcia gets a number, as mail admins do
            used_emails.add(name)
            name += "@acme.example"
        else:
            name = "u_%05d" % (k + 1)
        tz = int((rnd() * 15 - 7) * HOUR)  # waking hours follow the user's time zone
        ip4 = "%d.%d.%d.%d" % (PUBLIC_FIRST_OCTETS[int(rnd() * len(PUBLIC_FIRST_OCTETS))],
                               int(rnd() * 256), int(rnd() * 256), int(1 + rnd() * 253))
        ip6 = "2001:db8:%x:%x::%x" % (int(rnd() * 65536), int(rnd() * 65536), int(1 + rnd() * 65534)) if rnd() < 0.2 else None
        user = [name, tz, ip4, ip6, []]
        clients = []
        if rnd() < p["web"]:
            clients.append("web")
        if rnd() < p["phone"]:
            clients.append("ios" if rnd() < p["ios_share"] else "android")
        if rnd() < p["desktop"]:
            clients.append("desktop")
        if rnd() < p["code"]:
            clients.append("code")
        if not clients:
            clients.append("web")
        for client in clients:
            agents = AGENTS[client]
            slot = [user, client, None, 0, 0, 0, LOGOUT, agents[int(rnd() * len(agents))], p["same_day"]]
            user[4].append(slot)
            first = start + int(rnd() * p["first_days"] * DAY)
            tick += 1
            push(heap, (waking(first, tz, rnd), tick, LOGIN, 0, slot))

    web_logout, web_abandon, web_logout_all, _ = p["web_end"]
    while heap:
        t, _, action, generation, slot = heapq.heappop(heap)
        if end is not None and t >= end:
            return
        if generation != slot[4]:
            continue  # planned before a logout_all ended the session
        user, client = slot[0], slot[1]
        name, tz, ip4, ip6 = user[0], user[1], user[2], user[3]
        if action == LOGIN:
            sid = new_session_id()
            slot[2] = sid
            slot[3] = t + LIFETIME
            method = "google" if rnd() < 0.6 else "email_link"
            ip = (ip6 if ip6 and rnd() < 0.5 else ip4) if rnd() < 0.85 else None
            agent = slot[7] if rnd() < 0.9 else None
            meta = None
            r = rnd()
            if client in ("ios", "android"):
                if r < 0.6:
                    meta = (("app_version", APP_VERSIONS[int(rnd() * 3)]),)
            elif client == "code":
                meta = (("token_name", "laptop" if r < 0.5 else "ci-runner"),)
            elif r < 0.25:
                meta = (("country", COUNTRIES[int(rnd() * len(COUNTRIES))]),)
            yield (t, "login", name, sid, client, method, ip, agent, meta)
            # How this session will be used and how it will end.
            if client == "code":
                if rnd() < p["token_delete"]:
                    nxt, act = t + int((10 + rnd() * 50) * DAY), TOKEN_DELETED
                else:
                    slot[4] += 1
                    continue  # a token that lives on, silent
            else:
                if client == "web":
                    slot[5] = int(-p["web_steps"] * _log(rnd()))
                    r = rnd()
                    slot[6] = (LOGOUT if r < web_logout else EXPIRE if r < web_logout + web_abandon
                               else LOGOUT_ALL if r < web_logout + web_abandon + web_logout_all
                               else SUPPORT_LOGOUT_ALL)
                elif client == "desktop":
                    slot[5] = int(-p["desktop_steps"] * _log(rnd()))
                    slot[6] = LOGOUT if rnd() < p["desktop_logout"] else EXPIRE
                else:
                    slot[5] = int(-p["phone_steps"] * _log(rnd()))
                    slot[6] = LOGOUT if rnd() < p["phone_logout"] else EXPIRE
                nxt, act = next_step(slot, t, rnd)
            tick += 1
            push(heap, (nxt, tick, act, slot[4], slot))
        elif action == REFRESH:
            slot[3] = t + LIFETIME
            stamped = t - int((1 + rnd() * 3) * MS_PER_S) if rnd() < 0.01 else t
            ip = ip4 if rnd() < 0.08 else None
            yield (stamped, "refresh", name, slot[2], None, None, ip, None, None)
            nxt, act = next_step(slot, t, rnd)
            tick += 1
            push(heap, (nxt, tick, act, slot[4], slot))
        elif action == EXPIRE:
            # Nothing is written: the session lapses at slot[3]. The device signs in again
            # within weeks, or (a user who left and came back) months later.
            slot[2] = None
            slot[4] += 1
            away = 20 if rnd() >= p["away"] else 365
            tick += 1
            push(heap, (waking(slot[3] + int(rnd() * away * DAY), tz, rnd), tick, LOGIN, slot[4], slot))
        else:
            if action == LOGOUT:
                yield (t, "logout", name, slot[2], None, None, None, slot[7] if rnd() < 0.3 else None, None)
                ended = [slot]
            elif action == TOKEN_DELETED:
                yield (t, "token_deleted", name, slot[2], None, None, ip4, None, (("by", "settings"),))
                ended = [slot]
            else:
                # logout_all ends every session of the user active at t, tokens excepted.
                sid = slot[2] if action == LOGOUT_ALL else None
                agent = slot[7] if action == LOGOUT_ALL else None
                meta = None if action == LOGOUT_ALL else (("by", "support"),)
                yield (t, "logout_all", name, sid, None, None, ip4 if sid else None, agent, meta)
                ended = [s for s in user[4] if s[1] != "code" and s[2] is not None and s[3] > t]
            for s in ended:
                s[2] = None
                s[4] += 1
                if s[1] == "code":
                    if rnd() >= p["token_again"]:
                        continue
                    again = t + int(rnd() * 10 * DAY)
                elif s is slot and action == LOGOUT_ALL:
                    again = t + int((2 + rnd() * 30) * 60 * MS_PER_S)  # signs in again on the web at once
                elif s[1] == "web":
                    again = t + int(rnd() * 5 * DAY)
                else:
                    again = t + int((0.2 + rnd() * 3) * DAY)
                tick += 1
                push(heap, (waking(again, tz, rnd), tick, LOGIN, s[4], s))


def _log(x):
    return math.log(max(x, 1e-12))


def waking(t, tz, rnd):
    """t, or the next instant in the user's waking hours (07:00-23:00 local) after it."""
    local_hour = ((t + tz) % DAY) / HOUR
    if 7 <= local_hour < 23:
        return t
    wait = ((7 - local_hour) % 24) * HOUR
    return int(t + wait + rnd() * 2 * HOUR)


def next_step(slot, t, rnd):
    """The next action of a session in use after an event at t: a refresh an hour or more
    later (the same day, or on a later day well before it would expire), or its end."""
    if slot[5] <= 0:
        kind = slot[6]
        if kind == EXPIRE:
            return slot[3], EXPIRE
        return t + int((60 + rnd() * 7200) * MS_PER_S), kind
    slot[5] -= 1
    tz = slot[0][1]
    if rnd() < slot[8]:
        nxt = t + HOUR + int((10 + rnd() * 7200) * MS_PER_S)
        local_hour = ((nxt + tz) % DAY) / HOUR
        if 7 <= local_hour < 23:
            return nxt, REFRESH
    # Another day: usually the next one, sometimes after a weekend or a holiday.
    r = rnd()
    days = 1 if r < 0.7 else 2 + int(rnd() * 2) if r < 0.92 else 4 + int(rnd() * 17)
    local_midnight = t - (t + tz) % DAY
    nxt = local_midnight + days * DAY + int((7 + rnd() * 4) * HOUR)
    if nxt - t < HOUR + 10 * MS_PER_S:
        nxt = t + HOUR + 10 * MS_PER_S
    return nxt, REFRESH


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=None,
                    help="how many events (default 1000, or all up to --end when --end is given)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--users", type=int, default=None,
                    help="how many users (default: 10000, or 50 for --profile team)")
    ap.add_argument("--start", type=parse_start, default=parse_start("2026-01-01T00:00:00Z"),
                    help="the instant the log starts (default 2026-01-01T00:00:00Z)")
    ap.add_argument("--end", type=parse_start, default=None,
                    help="stop before this instant instead of after --events (the team profile's default "
                         "is 2026-04-01T00:00:00Z)")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="default")
    args = ap.parse_args(argv)
    users = args.users if args.users is not None else (50 if args.profile == "team" else 10000)
    end = args.end
    if args.profile == "team" and end is None:
        end = parse_start("2026-04-01T00:00:00Z")
    limit = args.events if args.events is not None or end is not None else 1000

    out = sys.stdout.buffer
    # Event ids: scramble(id_counter, id_key), inlined for speed.
    id_key = scramble(args.seed, 0x1D5)
    id_counter = 0
    last_second = last_minute = None
    second_text = minute_prefix = ""
    buf = []
    limit = -1 if limit is None else limit
    for t, kind, user, session, client, method, ip, agent, meta in simulate(args.seed, users, args.start,
                                                                               args.profile, end):
        if id_counter == limit:
            break
        id_counter += 1
        z = (id_counter + id_key) & MASK64
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        event_id = z ^ (z >> 31)
        second = t // 1000
        if second != last_second:
            minute = second // 60
            if minute != last_minute:
                minute_prefix = minute_text(minute)
                last_minute = minute
            second_text = minute_prefix + SECONDS[second % 60]
            last_second = second
        at = second_text + FRACTIONS[t % 1000]
        if kind == "refresh" and ip is None:
            buf.append(REFRESH_LINE % (at, user, session, event_id))
        else:
            line = '{"type":"' + kind + '","at":"' + at + 'Z","user":"' + user + '"'
            if session is not None:
                line += ',"session":"' + session + '"'
            if client is not None:
                line += ',"client":"' + client + '","method":"' + method + '"'
            line += ',"id":"e_%016x"' % event_id
            if ip is not None:
                line += ',"ip":"' + ip + '"'
            if agent is not None:
                line += ',"agent":"' + agent + '"'
            if meta is not None:
                line += ',"meta":{' + ",".join('"' + k + '":"' + v + '"' for k, v in sorted(meta)) + "}"
            buf.append(line + "}\n")
        if len(buf) >= 8192:
            out.write("".join(buf).encode("utf-8"))
            buf.clear()
    out.write("".join(buf).encode("utf-8"))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
