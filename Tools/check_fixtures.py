#!/usr/bin/python3
"""Sanity checks of Fixtures/ and of the tools that make them (run from anywhere).

    check_fixtures.py [-v]

It checks the fixtures against Tools/canonical.py (an independent implementation of
SPEC.md section 2 and docs/INPUT.md), that every made file is made again byte for byte
by its command, and the generator's promises (deterministic, canonical, unique ids;
its speed and constant memory are not measured here). It does not need the Swift package. Ends with
'N passed, M failed' and exits 1 when anything failed.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "Tools")
FIXTURES = os.path.join(ROOT, "Fixtures")
BAD = os.path.join(FIXTURES, "bad-input")
GOOD = os.path.join(FIXTURES, "good-input")
TEAM = os.path.join(FIXTURES, "team-quarter")
ERROR_LINE = re.compile(r"line [1-9][0-9]*: \S.*")

sys.path.insert(0, TOOLS)
import canonical  # noqa: E402  (Tools/canonical.py, imported to call it without a process per file)

passed = failed = 0
verbose = "-v" in sys.argv


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        if verbose:
            print(f"ok    {what}")
    else:
        failed += 1
        print(f"FAIL  {what}" + (f": {detail}" if detail else ""))


def run(*args, stdin=None):
    return subprocess.run([os.path.join(TOOLS, args[0]), *args[1:]], input=stdin, capture_output=True)


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def refusal(data, prior=()):
    """canonical.py's first error for data (after importing the prior files), or None."""
    ledger = canonical.Ledger()
    for p in prior:
        ledger.store(p)
    try:
        ledger.store(data)
    except canonical.BadInput as e:
        return e.message(e.line)
    return None


def check_bad_input():
    names = sorted(f for f in os.listdir(BAD) if f.endswith((".ndjson", ".expected")))
    stems = {os.path.splitext(f)[0] for f in names}
    check(len(stems) >= 30, "bad-input has at least 30 cases", f"{len(stems)}")
    for stem in sorted(stems):
        case = os.path.join(BAD, stem)
        if not os.path.exists(case + ".ndjson") or not os.path.exists(case + ".expected"):
            check(False, f"bad-input/{stem} has both .ndjson and .expected")
            continue
        check(re.fullmatch(r"[0-9]{3}-[a-z0-9-]+", stem) is not None, f"bad-input/{stem}: name is NNN-short-name")
        expected = read(case + ".expected").decode("utf-8")
        check(expected.endswith("\n") and expected.count("\n") == 1 and ERROR_LINE.fullmatch(expected[:-1]),
              f"bad-input/{stem}.expected is one line 'line N: ...'", repr(expected))
        expected = expected.rstrip("\n")
        data = read(case + ".ndjson")
        got = refusal(data)
        check(got == expected, f"bad-input/{stem}: canonical.py refuses it with the expected line",
              f"expected {expected!r}, got {got!r}")
        # The bad line is where the message says, and there is only one bad line.
        n = int(expected.split(":")[0].split()[1])
        lines = data.split(b"\n")
        check(n <= len(lines) and not canonical.is_blank(lines[n - 1]), f"bad-input/{stem}: line {n} is its bad line")
        rest = b"\n".join(lines[n:])
        check(refusal(rest) is None, f"bad-input/{stem}: the lines after the bad one are valid")

    conflict = os.path.join(BAD, "id-conflict")
    first, second = read(os.path.join(conflict, "first.ndjson")), read(os.path.join(conflict, "second.ndjson"))
    expected = read(os.path.join(conflict, "second.expected")).decode().rstrip("\n")
    check(refusal(first) is None, "id-conflict/first.ndjson is valid on its own")
    check(refusal(second) is None, "id-conflict/second.ndjson is valid on its own (the conflict is with first)")
    check(refusal(second, prior=[first]) == expected, "id-conflict/second.ndjson after first.ndjson gives second.expected",
          f"got {refusal(second, prior=[first])!r}")
    seqs = [line for line in first.split(b"\n") if not canonical.is_blank(line)]
    m = re.fullmatch(r"line (\d+): id: id conflict with seq (\d+)", expected)
    if m:
        reused = json.loads(second.split(b"\n")[int(m.group(1)) - 1])["id"]
        holder = [json.loads(line)["id"] for line in seqs].index(reused) + 1
        check(holder == int(m.group(2)), "id-conflict: seq S is the place of the id among first.ndjson's events")
    else:
        check(False, "id-conflict/second.expected has the 'with seq S' form", expected)


def check_good_input():
    stems = sorted({os.path.splitext(f)[0] for f in os.listdir(GOOD) if f.endswith((".ndjson", ".expected"))})
    check(len(stems) >= 10, "good-input has its cases", f"{len(stems)}")
    for stem in stems:
        case = os.path.join(GOOD, stem)
        data = read(case + ".ndjson")
        expected = read(case + ".expected")
        check(refusal(data) is None, f"good-input/{stem} is accepted", refusal(data) or "")
        got = run("canonical.py", "--dedupe", case + ".ndjson").stdout
        check(got == expected, f"good-input/{stem}.expected is its canonical export")
        check(run("canonical.py", "--dedupe", case + ".expected").stdout == expected,
              f"good-input/{stem}: the export imported again exports the same bytes")


def check_team_quarter():
    events = os.path.join(TEAM, "events.ndjson")
    export = os.path.join(TEAM, "expected-export.ndjson")
    data, expected = read(events), read(export)
    check(run("make_team_fixture.py").stdout == data, "team-quarter/events.ndjson is what make_team_fixture.py makes")
    check(run("canonical.py", events).stdout == expected, "team-quarter/expected-export.ndjson is canonical.py's output")
    check(run("canonical.py", export).stdout == expected, "canonical.py is idempotent on the expected export")
    check(run("fixture_stats.py", events).stdout == read(os.path.join(TEAM, "expected-stats.json")),
          "team-quarter/expected-stats.json is fixture_stats.py's output")
    lines = data.split(b"\n")[:-1]
    blank = sum(1 for line in lines if canonical.is_blank(line))
    parsed = [json.loads(line) for line in lines if not canonical.is_blank(line)]
    ids = [e.get("id") for e in parsed]
    check(None not in ids and len(set(ids)) == len(ids), "team-quarter: every event has an id, no id repeats")
    check(blank >= 2, "team-quarter: has blank lines", f"{blank}")
    check(len(parsed) == expected.count(b"\n"), "team-quarter: one exported line per event")
    noncanonical = sum(1 for a, b in zip((x for x in lines if not canonical.is_blank(x)), expected.split(b"\n"))
                       if a != b)
    check(noncanonical > len(parsed) // 3, "team-quarter: many lines are not canonical as written", f"{noncanonical}")
    for needle in (rb"\/", rb"\u00e9", rb"\ud83d\ude00", rb'\"', b"+02:00", b"-05:30", b".250", b": ", b", "):
        check(needle in data, f"team-quarter/events.ndjson contains {needle.decode()}")
    kinds = {}
    for e in parsed:
        kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    check(set(kinds) == set(canonical.TYPES), "team-quarter: every event type occurs", str(kinds))
    check(any(e["type"] == "logout_all" and "session" in e for e in parsed), "team-quarter: a logout_all from a session")
    check(1 <= kinds.get("token_deleted", 0) <= 2, "team-quarter: one or two token_deleted")
    check(3_000 <= len(parsed) <= 20_000, "team-quarter: a few thousand to 20k events", str(len(parsed)))
    users = {e["user"] for e in parsed}
    check(40 <= len(users) <= 60, "team-quarter: about 50 people", str(len(users)))


def check_generator():
    args = ("generate_events.py", "--events", "20000", "--seed", "11", "--users", "300")
    a, b = run(*args), run(*args)
    check(a.returncode == 0 and a.stdout == b.stdout, "generate_events.py is deterministic")
    check(a.stdout.count(b"\n") == 20000, "generate_events.py writes --events lines")
    check(run("canonical.py", "-", stdin=a.stdout).stdout == a.stdout, "generate_events.py writes canonical NDJSON")
    ids = re.findall(rb'"id":"([^"]*)"', a.stdout)
    check(len(ids) == 20000 and len(set(ids)) == 20000, "generate_events.py: every event has a unique id")
    sessions = re.findall(rb'"type":"login","at":"[^"]*","user":"[^"]*","session":"(s_[0-9a-f]{16})"', a.stdout)
    check(len(sessions) == len(set(sessions)) > 0, "generate_events.py: a session id is never logged in twice")
    other = run("generate_events.py", "--events", "20000", "--seed", "12", "--users", "300").stdout
    check(other != a.stdout, "generate_events.py: another seed gives another log")


def check_made_again():
    with tempfile.TemporaryDirectory() as tmp:
        result = run("make_input_fixtures.py", "--out", tmp)
        check(result.returncode == 0, "make_input_fixtures.py runs", result.stderr.decode())
        for sub in ("bad-input", "good-input", os.path.join("bad-input", "id-conflict")):
            made = sorted(f for f in os.listdir(os.path.join(tmp, sub)) if os.path.isfile(os.path.join(tmp, sub, f)))
            have = sorted(f for f in os.listdir(os.path.join(FIXTURES, sub))
                          if os.path.isfile(os.path.join(FIXTURES, sub, f)))
            check(made == have, f"Fixtures/{sub}: the same files as make_input_fixtures.py makes",
                  str(set(made) ^ set(have)))
            for f in made:
                if f in have:
                    check(read(os.path.join(tmp, sub, f)) == read(os.path.join(FIXTURES, sub, f)),
                          f"Fixtures/{sub}/{f} is made again byte for byte")


def main():
    check_bad_input()
    check_good_input()
    check_team_quarter()
    check_generator()
    check_made_again()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
