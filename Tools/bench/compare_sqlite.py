#!/usr/bin/python3
"""The driver of Tools/bench/compare_sqlite.sh: asks sledger and SQLite the same questions of
the same events, checks that they give the same answers, and times both.

    compare_sqlite.py --sledger BIN --bin DIR --out DIR --input FILE [--batches DIR]

BIN is sledger, DIR holds the C baselines (sqlite_import, sqlite_query, sqlite_scan,
raw_lmdb_append, raw_lmdb_scan), --out the bench directory (stores, results). --batches
holds the NDJSON files of the durable-append case (fresh events continuing the input); without
it that case is skipped. Settings come from the environment, as compare_sqlite.sh documents
them (REPEAT, SQLITE_REPEAT, SCAN_REPEAT, IMPORT, SQLITE_INDEXED, KEEP).

Every question runs as its own process, timed from start to exit by _measure.py, with its
store in the page cache (warm): sledger asks all its questions first, then SQLite, each after
reading its own store (at 100M events the two do not fit in memory together). Prints a markdown table and the machine; writes
OUT/results/compare-EVENTS.json (read by growth.py); while it runs, each row is written to
OUT/results/compare-EVENTS.json.partial as soon as it is measured (so a run that stops keeps
what it measured), removed at the end. Exits 1, after the table, with one line
naming the first disagreement when any answer differs between sledger and SQLite.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _measure import measure  # noqa: E402

LIFE_NS = 28 * 86400 * 10**9


def say(*a):
    print("==", *a, file=sys.stderr, flush=True)


def env_int(name, default):
    return int(os.environ.get(name, default))


def ns_of(text):
    """Nanoseconds since the epoch of a canonical instant (Z, up to 9 fractional digits)."""
    main, _, frac = text.rstrip("Z").partition(".")
    d = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def text_of(ns):
    """The canonical text (SPEC.md section 2) of an instant in nanoseconds."""
    s, f = divmod(int(ns), 10**9)
    text = datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("." + f"{f:09d}".rstrip("0") if f else "") + "Z"


class Runner:
    def __init__(self, out):
        self.out = out
        self.scratch = os.path.join(out, "results", "compare-last.out")

    def run(self, args, repeat=1, stdin=None, keep_output=True):
        """Runs args `repeat` times; returns (timings, stdout text of the last run)."""
        walls, rss = [], 0
        for _ in range(repeat):
            m = measure(args, self.scratch, stdin_path=stdin)
            if m["status"] != 0:
                err = open(self.scratch, errors="replace").read()[:500]
                sys.exit(f"compare_sqlite: {' '.join(args)} failed with status {m['status']}: {err}")
            walls.append(m["wall_s"])
            rss = max(rss, m["peak_rss_anon_kb"])
        text = open(self.scratch).read() if keep_output else ""
        return timing(walls, rss), text


def timing(walls, rss=0):
    walls = sorted(walls)
    p95 = walls[min(len(walls) - 1, int(round(0.95 * (len(walls) - 1))))]
    return {"runs": len(walls), "median_s": statistics.median(walls), "min_s": walls[0], "p95_s": p95,
            "total_s": sum(walls), "peak_rss_anon_kb": rss}


def rows_of(text):
    return [[None if v == "\\N" else v for v in line.split("\t")] for line in text.splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sledger", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--origin", default="")
    ap.add_argument("--events", type=int, help="the input's number of events (counted when not given)")
    ap.add_argument("--batches")
    args = ap.parse_args()
    repeat, scan_repeat = env_int("REPEAT", 5), env_int("SCAN_REPEAT", 3)
    sql_repeat = env_int("SQLITE_REPEAT", repeat)
    out, binp, sledger = args.out, args.bin, args.sledger
    os.makedirs(os.path.join(out, "results"), exist_ok=True)
    r = Runner(out)
    load_before, io_before = open("/proc/loadavg").read().split()[:3], io_pressure()
    events = args.events or sum(1 for line in open(args.input, "rb") if line.strip())
    ledger = os.path.join(out, f"cmp-ledger-{events}")
    sqldir = os.path.join(out, f"cmp-sqlite-{events}")
    db = os.path.join(sqldir, "sqlite-indexed-after.db")
    rawdir = os.path.join(out, f"cmp-raw-{events}")
    # The raw LMDB store serves the import and append rows only, and is the largest: made
    # when the append case runs or RAW=1, deleted at the end unless KEEP=1.
    raw_lmdb = os.environ.get("RAW", "1" if args.batches else "0") == "1"
    result = {"events": events, "input": args.input, "origin": args.origin, "rows": [], "checks": [],
              "disagreements": []}
    rows = result["rows"]
    partial = os.path.join(out, "results", f"compare-{events}.json.partial")

    def row(key, question, kind, s, q, raw=None, note=""):
        """key names the question the same way at every size (growth.py matches rows by it)."""
        rows.append({"key": key, "question": question, "kind": kind, "sledger": s, "sqlite": q, "raw_lmdb": raw,
                     "note": note})
        with open(partial + ".tmp", "w") as f:
            json.dump({**result, "partial": True, "repeat": repeat, "sqlite_repeat": sql_repeat,
                       "commit": commit(), "date": now()}, f, indent=1)
        os.replace(partial + ".tmp", partial)

    def warm(*paths):
        for p in paths:
            subprocess.run(["sh", "-c", 'cat "$1"/* "$1" > /dev/null 2>&1', "-", p])

    # --- import -------------------------------------------------------------------------
    if os.environ.get("IMPORT", "1") == "1" or not os.path.exists(os.path.join(ledger, "data.mdb")) \
            or not os.path.exists(db):
        for p in (ledger, sqldir, rawdir):
            shutil.rmtree(p, ignore_errors=True)
        os.makedirs(sqldir)

        def settle():
            subprocess.run(["sync"])
            warm(args.input)

        settle()
        say(f"sledger import of {events:,} events")
        t_s, text = r.run([sledger, "import", "--ledger", ledger, args.input])
        if not text.startswith(f"imported {events}, "):
            sys.exit(f"compare_sqlite: sledger import stored something else than {events} events: {text}")
        sizes = {}
        if os.environ.get("SQLITE_INDEXED", "1") == "1":
            settle()
            say("SQLite import, indexes in place")
            t_qi, text = r.run([f"{binp}/sqlite_import", "--mode", "indexed", "--dir", sqldir, args.input])
            if json.loads(text)["events"] != events:
                sys.exit(f"compare_sqlite: SQLite stored {text}")
            remove_db(os.path.join(sqldir, "sqlite-indexed.db"))
        else:
            t_qi = None
        settle()
        say("SQLite import, indexes built after")
        t_qa, text = r.run([f"{binp}/sqlite_import", "--mode", "indexed-after", "--dir", sqldir, args.input])
        if json.loads(text)["events"] != events:
            sys.exit(f"compare_sqlite: SQLite stored {text}")
        sizes["sqlite_db_bytes"] = json.loads(text)["indexed-after"]["db_bytes"]
        t_raw = None
        if raw_lmdb:
            settle()
            say("raw LMDB import with 3 string-keyed indexes")
            os.makedirs(rawdir)
            t_raw, text = r.run([f"{binp}/raw_lmdb_append", "--mode", "indexed", "--dir", rawdir, args.input])
            if json.loads(text)["events"] != events:
                sys.exit(f"compare_sqlite: raw LMDB stored {text}")
        row("import, indexes in place (events/s)", "import, indexes in place (events/s)", "rate", rate(events, t_s),
            rate(events, t_qi) if t_qi else None, rate(events, t_raw) if t_raw else None)
        row("import, SQLite's indexes built after (events/s)",
            "import, SQLite's indexes built after the rows (events/s)", "rate", rate(events, t_s),
            rate(events, t_qa))
        result["sizes"] = sizes
    else:
        say("stores exist and IMPORT=0: import not measured")

    # --- queries at several instants ----------------------------------------------------
    stats = stats_of(sledger, ledger)
    first, last = ns_of(stats["first_at"]), ns_of(stats["last_at"])
    instants = []
    for label, frac in (("first decile", 0.1), ("middle", 0.5), ("last event", 1.0)):
        t = first + int((last - first) * frac)
        t -= t % 10**9 if frac < 1 else 0
        instants.append((label, text_of(t), t))
    result["instants"] = [{"label": lbl, "at": txt} for lbl, txt, _ in instants]
    warm(ledger)

    def disagree(what, sled, sql):
        number = len(result["disagreements"]) + 1
        diff_path = os.path.join(out, "results", f"compare-{events}-disagreement-{number}.json")
        with open(diff_path, "w") as f:
            json.dump({"question": what, "sledger": sled, "sqlite": sql}, f, indent=1)
        result["disagreements"].append({"question": what, "detail": diff_path})
        say(f"DISAGREEMENT: {what} (both answers in {diff_path})")

    def check(what, sled, sql):
        same = sled == sql
        result["checks"].append({"question": what, "same": same, "size": len(sled)})
        if not same:
            only_s = [x for x in sled if x not in sql][:20]
            only_q = [x for x in sql if x not in sled][:20]
            disagree(what, only_s, only_q)

    # Each side asks all its questions with its own store warm, sledger's first: at 100M
    # events the two stores do not fit in the page cache together, and alternating would
    # time each side reading the disk after the other's pages pushed its own out.
    fields = ("session", "client", "method", "login_at", "last_extended_at", "expires_at", "refresh_count",
              "status", "ended_at", "end_reason")

    def sledger_records(text):
        return sorted(tuple(str(x.get(k)) if x.get(k) is not None else None for k in fields)
                      for x in json.loads(text))

    def sqlite_records(text):
        recs = []
        for v in rows_of(text):
            for i in (3, 4, 5, 8):
                v[i] = text_of(v[i]) if v[i] is not None else None
            recs.append(tuple(v))
        return sorted(recs)

    asked = []  # per instant: (label, at, t, user, {question: (timing, answer)})
    for label, at, t in instants:
        say(f"sledger: who / sessions / one user --at {at} ({label})")
        got = {}
        s_who, text = r.run([sledger, "who", "--ledger", ledger, "--at", at, "--format", "json"], repeat)
        who = sorted((x["user"], int(x["sessions"])) for x in json.loads(text))
        got["who"] = (s_who, who)
        s_ses, text = r.run([sledger, "sessions", "--ledger", ledger, "--at", at, "--format", "json"], repeat)
        got["sessions"] = (s_ses, sorted((x["user"], x["session"]) for x in json.loads(text)))
        # One user: the one with the most sessions active at T (ties: the first name).
        user = min(who, key=lambda x: (-x[1], x[0]))[0] if who else "u_00001"
        s_ua, text = r.run([sledger, "sessions", "--ledger", ledger, "--at", at, "--user", user, "--format", "json"],
                           repeat)
        got["user-active"] = (s_ua, sledger_records(text))
        s_u, text = r.run([sledger, "user", user, "--ledger", ledger, "--at", at, "--format", "json"], repeat)
        got["user"] = (s_u, sledger_records(text))
        asked.append((label, at, t, user, got))

    warm(db)
    for label, at, t, user, got in asked:
        say(f"SQLite: who / sessions / one user --at {at} ({label})")
        s_who, who = got["who"]
        q_who, text = r.run([f"{binp}/sqlite_query", db, "who", str(t)], sql_repeat)
        check(f"who --at {at}", who, sorted((u, int(n)) for u, n in rows_of(text)))
        row(f"who --at T ({label})", f"who --at {at} ({label}): {len(who):,} users", "time", s_who, q_who)

        s_ses, ses = got["sessions"]
        q_ses, text = r.run([f"{binp}/sqlite_query", db, "sessions", str(t)], sql_repeat)
        check(f"sessions --at {at}", ses, sorted(tuple(x) for x in rows_of(text)))
        row(f"sessions --at T ({label})", f"sessions --at {at} ({label}): {len(ses):,} sessions", "time",
            s_ses, q_ses)

        s_ua, mine = got["user-active"]
        q_ua, text = r.run([f"{binp}/sqlite_query", db, "user-active", str(t), user], sql_repeat)
        check(f"sessions --at {at} --user {user}", mine, sqlite_records(text))
        row(f"sessions --at T --user U ({label})", f"sessions --at {at} --user {user}: {len(mine)} sessions",
            "time", s_ua, q_ua)

        s_u, mine = got["user"]
        q_u, text = r.run([f"{binp}/sqlite_query", db, "user", str(t), user], sql_repeat)
        check(f"user {user} --at {at}", mine, sqlite_records(text))
        row(f"user U --at T ({label})", f"user {user} --at {at}: {len(mine)} sessions", "time", s_u, q_u)

    # --- the whole replay ---------------------------------------------------------------
    help_text = subprocess.run([sledger, "replay", "--help"], capture_output=True, text=True).stdout
    replay = [sledger, "replay", "--ledger", ledger, "--format", "json"]
    if "--jobs" in help_text:
        replay[2:2] = ["--jobs", "2"]
        replay_used = "replay --jobs 2"
    else:
        replay_used = "replay (no --jobs on this build)"
    say(f"sledger {replay_used}; raw LMDB scan; SQLite ordered scan + fold")
    warm(ledger)
    s_rep, text = r.run(replay, scan_repeat)
    findings = json.loads(text)
    if findings["events"] != events:
        sys.exit(f"compare_sqlite: sledger replay read {findings['events']} events, not {events}")
    raw_rep, text = r.run([f"{binp}/raw_lmdb_scan", ledger], scan_repeat)
    warm(db)
    q_rep, text = r.run([f"{binp}/sqlite_scan", db], scan_repeat)
    if json.loads(text)["events"] != events:
        sys.exit(f"compare_sqlite: the SQLite scan read {text}")
    row("whole replay (events/s)",
        f"whole replay: sledger {replay_used} / SQLite ordered scan + expiry fold (events/s)", "rate",
        rate(events, s_rep), rate(events, q_rep), rate(events, raw_rep),
        note=f"sledger replay found {len(findings['findings'])} findings")
    result["replay_used"] = replay_used

    # --- durable appends to the large stores --------------------------------------------
    if args.batches and raw_lmdb:
        batches = sorted(os.path.join(args.batches, f) for f in os.listdir(args.batches))
        n = sum(1 for b in batches for line in open(b, "rb") if line.strip())
        say(f"durable appends: {len(batches)} batches, {n:,} events, into copies of the stores")
        led_copy, db_copy = os.path.join(out, "cmp-append-ledger"), os.path.join(out, "cmp-append.db")
        shutil.rmtree(led_copy, ignore_errors=True)
        subprocess.run(["cp", "-r", "--sparse=always", ledger, led_copy], check=True)
        subprocess.run(["cp", "--sparse=always", db, db_copy], check=True)
        if not os.path.exists(os.path.join(rawdir, "raw-indexed", "data.mdb")):  # IMPORT=0: made, not timed
            os.makedirs(rawdir, exist_ok=True)
            subprocess.run([f"{binp}/raw_lmdb_append", "--mode", "indexed", "--dir", rawdir, args.input], check=True,
                           stdout=subprocess.DEVNULL)
        warm(led_copy, db_copy, os.path.join(rawdir, "raw-indexed"))
        walls = {"sledger": [], "sqlite": [], "raw": []}
        stored = {"sqlite": 0, "raw": 0}
        for b in batches:
            t, _ = r.run([sledger, "append", "--ledger", led_copy], stdin=b)
            walls["sledger"].append(t["total_s"])
            t, text = r.run([f"{binp}/sqlite_import", "--append", db_copy, b])
            walls["sqlite"].append(t["total_s"])
            stored["sqlite"] += json.loads(text)["events"]
            t, text = r.run([f"{binp}/raw_lmdb_append", "--append", os.path.join(rawdir, "raw-indexed"), b])
            walls["raw"].append(t["total_s"])
            stored["raw"] += json.loads(text)["events"]
        if stored != {"sqlite": n, "raw": n}:
            sys.exit(f"compare_sqlite: the baselines appended {stored}, not {n} events each")
        got = stats_of(sledger, led_copy)["events"]
        if got != events + n:
            sys.exit(f"compare_sqlite: the ledger copy holds {got} events after the appends, not {events + n}")
        per = n / len(batches)
        row("durable appends (events/s)",
            f"durable appends: {len(batches)} calls of {per:,.0f} events to a {events:,}-event store (events/s)",
            "rate", *(rate(per, timing(walls[k])) for k in ("sledger", "sqlite", "raw")),
            note="one process and one durable commit per batch, indexes in place")
        if os.environ.get("KEEP", "0") != "1":
            shutil.rmtree(led_copy, ignore_errors=True)
            remove_db(db_copy)

    if os.environ.get("KEEP", "0") != "1":
        shutil.rmtree(rawdir, ignore_errors=True)

    # --- report -------------------------------------------------------------------------
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    result.update({
        "date": now(),
        "machine": {"nproc": os.cpu_count(), "cpu": cpu},
        "load_before": load_before, "load_after": open("/proc/loadavg").read().split()[:3],
        "io_pressure_before": io_before, "io_pressure_after": io_pressure(),
        "commit": commit(),
        "repeat": repeat, "sqlite_repeat": sql_repeat, "scan_repeat": scan_repeat})
    for x in rows:
        x["ratio"] = ratio(x)
    with open(os.path.join(out, "results", f"compare-{events}.json"), "w") as f:
        json.dump(result, f, indent=1)
    if os.path.exists(partial):
        os.unlink(partial)
    print(table(result))
    if result["disagreements"]:
        d = result["disagreements"]
        sys.exit(f"compare_sqlite: sledger and SQLite disagree on {len(d)} question(s), first: {d[0]['question']} "
                 f"(answers in {d[0]['detail']})")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def commit():
    """The last commit of sledger's code (Sources/, Package.swift) in this checkout, marked when
    they have uncommitted changes; or the binary given as SLEDGER."""
    if os.environ.get("SLEDGER"):
        return "binary " + os.environ["SLEDGER"]
    def git(*a):
        return subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), *a], capture_output=True,
                              text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--", "../../Sources", "../../Package.swift")
    return "code at " + git("log", "-1", "--format=%h", "--", "../../Sources", "../../Package.swift") + \
        (" (with uncommitted changes)" if dirty else "")


def io_pressure():
    """The share of the last 60 s in which some task waited for I/O (/proc/pressure/io), or None."""
    try:
        return float(open("/proc/pressure/io").readline().split()[2].split("=")[1])
    except (OSError, IndexError, ValueError):
        return None


def remove_db(path):
    """Deletes a SQLite database with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


def stats_of(sledger, ledger):
    out = subprocess.run([sledger, "stats", "--ledger", ledger, "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)[0]


def rate(n, t):
    """Events/s of runs of n events each: n over the mean wall time (best: over the fastest)."""
    return {"events": n, "events_per_s": n * t["runs"] / t["total_s"], "best_events_per_s": n / t["min_s"], **t}


def ratio(x):
    s, q = x["sledger"], x["sqlite"]
    if not s or not q:
        return None
    if x["kind"] == "rate":
        return s["events_per_s"] / q["events_per_s"]
    return q["median_s"] / s["median_s"]


def cell(x, kind):
    if not x:
        return "–"
    if kind == "rate":
        return f"{x['events_per_s']:,.0f}"
    ms = x["median_s"] * 1000
    text = f"{ms:,.0f} ms" if ms >= 99.5 else f"{ms:.1f} ms"
    return text + (f" (p95 {x['p95_s'] * 1000:,.0f})" if x["runs"] > 1 else "")


def table(res):
    lines = [f"| {res['events']:,} events | sledger | SQLite | ratio (>1: sledger ahead) | raw LMDB |",
             "|---|---:|---:|---:|---:|"]
    for x in res["rows"]:
        rt = f"{x['ratio']:.2f}" if x["ratio"] else "–"
        lines.append(f"| {x['question']} | {cell(x['sledger'], x['kind'])} | {cell(x['sqlite'], x['kind'])} | {rt} "
                     f"| {cell(x['raw_lmdb'], x['kind'])} |")
    ok = sum(c["same"] for c in res["checks"])
    m = res["machine"]
    lines += ["",
              f"- answers cross-checked: {ok} of {len(res['checks'])} identical"
              + (f"; DISAGREEMENTS: {', '.join(d['question'] for d in res['disagreements'])}"
                 if res["disagreements"] else ""),
              f"- queries: wall time of one process from start to exit, median of {res['repeat']} warm runs "
              + (f"({res['sqlite_repeat']} of SQLite's) " if res.get("sqlite_repeat", res["repeat"]) != res["repeat"]
                 else "")
              +
              f"(p95 in brackets: the slowest run when there are fewer than 20); replay and scans: "
              f"{res['scan_repeat']} runs, events/s from their mean",
              f"- machine: {m['nproc']} cores, {m['cpu']}; load average before {' '.join(res['load_before'])}, "
              f"after {' '.join(res['load_after'])}; I/O pressure (some, avg60) before {res['io_pressure_before']}%, "
              f"after {res['io_pressure_after']}%",
              f"- date {res['date']}, sledger {res['commit']}, {res.get('replay_used', '')}; "
              f"input {res['input']}"
              + (f" ({res['origin']})" if res["origin"] else "")]
    for x in res["rows"]:
        if x["note"]:
            lines.append(f"- {x['question'].split(':')[0]}: {x['note']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
