#!/usr/bin/python3
"""Stand-in event generator for the benchmarks, used only when Tools/generate_events.py is absent.

    _gen_stub.py --events N [--seed S] [--users U] > events.ndjson

Deterministic canonical NDJSON shaped like the project's generator: 10,000 users, sessions
`s_` + 16 hex digits, ids `e_` + 16 hex digits, times rising from 2026-01-01T00:00:00Z with
millisecond fractions. About 10% `login` (with `client`, `method`, mostly an `agent`, often
an `ip`, sometimes `meta`), 84% `refresh`, 4% `logout`, 1% `logout_all` (a few without
`session`), 1% `token_deleted`. Lines average about 150 bytes. It does not follow the
session rules (a refresh may name a session that has ended): it exists to time ingest.
"""

import argparse
import random
import sys
import time

AGENTS = {
    "web": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "ios": "Ledgerly/5.13.0 (iPhone; iOS 18.2; Scale/3.00)",
    "android": "Ledgerly/5.13.0 (Android 15; SM-S921B)",
    "desktop": "Ledgerly-Desktop/2.4.0 (macOS 14.6; arm64)",
    "code": "ledgerly-cli/1.8.2",
}
CLIENTS = ("web", "web", "web", "ios", "android", "desktop", "code")
START = 1767225600  # 2026-01-01T00:00:00Z


def instant(ms):
    seconds, millis = divmod(ms, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(START + seconds))
    if millis:
        text += "." + ("%03d" % millis).rstrip("0")
    return text + "Z"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sessions = {}  # user -> list of sessions
    ms = 0
    out = []
    write = sys.stdout.write
    for n in range(args.events):
        ms += rng.randint(1, 600)
        user = "u_%05d" % rng.randrange(args.users)
        at = instant(ms)
        eid = "e_%016x" % ((n * 0x9E3779B97F4A7C15 + args.seed) & 0xFFFFFFFFFFFFFFFF)
        owned = sessions.get(user)
        r = rng.random()
        if not owned or r < 0.10:
            client = rng.choice(CLIENTS)
            session = "s_%016x" % rng.getrandbits(64)
            sessions.setdefault(user, []).append(session)
            if len(sessions[user]) > 4:
                sessions[user].pop(0)
            line = ('{"type":"login","at":"%s","user":"%s","session":"%s","client":"%s","method":"%s","id":"%s"'
                    % (at, user, session, client, "google" if rng.random() < 0.7 else "email_link", eid))
            if rng.random() < 0.6:
                line += ',"ip":"%d.%d.%d.%d"' % (rng.randint(1, 223), rng.randrange(256), rng.randrange(256), rng.randint(1, 254))
            if rng.random() < 0.8:
                line += ',"agent":"%s"' % AGENTS[client]
            if rng.random() < 0.2:
                line += ',"meta":{"app_version":"5.12.1"}'
            line += "}\n"
        else:
            session = rng.choice(owned)
            if r < 0.94:
                kind = "refresh"
            elif r < 0.98:
                kind = "logout"
            elif r < 0.99:
                kind = "logout_all"
            else:
                kind = "token_deleted"
            if kind == "logout_all" and rng.random() < 0.1:
                line = '{"type":"logout_all","at":"%s","user":"%s","id":"%s"}\n' % (at, user, eid)
            else:
                line = '{"type":"%s","at":"%s","user":"%s","session":"%s","id":"%s"' % (kind, at, user, session, eid)
                if rng.random() < 0.5:
                    line += ',"ip":"10.%d.%d.%d"' % (rng.randrange(256), rng.randrange(256), rng.randint(1, 254))
                line += "}\n"
        out.append(line)
        if len(out) >= 10_000:
            write("".join(out))
            out.clear()
    write("".join(out))


if __name__ == "__main__":
    main()
