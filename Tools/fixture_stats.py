#!/usr/bin/python3
"""Print the counts `sledger stats` must report after importing an NDJSON file into an empty ledger.

    fixture_stats.py Fixtures/team-quarter/events.ndjson > Fixtures/team-quarter/expected-stats.json

Deliberately independent of Tools/canonical.py: it reads the events with Python's own
`json` module and works the instants out with `datetime`. It assumes the file is valid
and has no repeated `id` (it says so and stops otherwise).

    events    non-blank lines (events stored)
    sessions  distinct `session` values named by any event
    users     distinct `user` values
    first_at  the earliest `at`, in canonical form
    last_at   the latest `at`, in canonical form
"""

import datetime
import json
import re
import sys

INSTANT = re.compile(r"(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)", re.ASCII)


def nanoseconds(text):
    m = INSTANT.fullmatch(text)
    if not m:
        sys.exit(f"not an instant: {text!r}")
    date, clock, fraction, offset = m.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    whole = datetime.datetime.fromisoformat(f"{date}T{clock}{offset}")
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    seconds = (whole - epoch) // datetime.timedelta(seconds=1)
    return seconds * 10**9 + int((fraction or "0").ljust(9, "0"))


def canonical(ns):
    seconds, nanos = divmod(ns, 10**9)
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += ("." + f"{nanos:09d}").rstrip("0")
    return text + "Z"


def main():
    path = sys.argv[1]
    events = 0
    ids, sessions, users, instants = set(), set(), set(), []
    with open(path, "rb") as fh:
        for raw in fh.read().split(b"\n"):
            if not raw.strip(b" \t\r"):
                continue
            event = json.loads(raw.decode("utf-8"))
            events += 1
            if "id" in event:
                if event["id"] in ids:
                    sys.exit(f"repeated id {event['id']!r}: this tool does not apply the idempotency rule")
                ids.add(event["id"])
            users.add(event["user"])
            if "session" in event:
                sessions.add(event["session"])
            instants.append(nanoseconds(event["at"]))
    stats = {
        "events": events,
        "sessions": len(sessions),
        "users": len(users),
        "first_at": canonical(min(instants)),
        "last_at": canonical(max(instants)),
    }
    json.dump(stats, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
