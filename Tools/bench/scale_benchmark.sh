#!/usr/bin/env bash
# sledger's own figures on one ledger, each command as its own process (warm, median of
# REPEAT runs) with its peak anonymous memory: the rows issue 4 sets targets for that the
# SQLite comparison (compare_sqlite.sh) does not have: replay on one and on two jobs, one
# session, a later `who`, the size on disk against the NDJSON it came from.
#
#     Tools/bench/scale_benchmark.sh LEDGER NDJSON...      (REPEAT=3)
#
# NDJSON is the file the ledger was loaded from, or the files of its calls in order.
#
# Uses .build-release/release/sledger (SLEDGER=path for another). Prints a markdown table,
# then (SERVE=1, the default) the same queries' latency inside one process: `sledger serve`
# on loopback, the median of SERVE_REPEAT (20) requests each over one keep-alive connection,
# which leaves out the process start-up and the ledger's opening that every CLI row pays (the
# first request of each, timed apart, may also fold what the server then keeps: `who` past the
# last checkpoint folds the tail once per head, LiveTail).
# REPLAY=0 leaves out the two whole replays (minutes at 100M events).
# The server holds the ledger's writer lock: nothing may be appending to LEDGER meanwhile.
# The size row compares the ledger with the first N lines of NDJSON (across its files), N its
# event count (all of them, unless a load stopped part way).
set -euo pipefail
LEDGER=$1
shift
REPEAT=${REPEAT:-3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLEDGER=${SLEDGER:-$ROOT/.build-release/release/sledger}
PY=/usr/bin/python3
exec "$PY" - "$SLEDGER" "$LEDGER" "$REPEAT" "$ROOT/Tools/bench" "$@" <<'PY'
import datetime, json, os, statistics, subprocess, sys, time
sledger, ledger, repeat, bench, ndjsons = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
sys.path.insert(0, bench)
from _measure import measure

def run(args, times=repeat):
    walls, rss, out = [], 0, "/tmp/scale_benchmark.out"
    for _ in range(times):
        m = measure([sledger] + args + ["--ledger", ledger], out)
        if m["status"] not in (0, 1):
            sys.exit(f"scale_benchmark: {' '.join(args)} exited {m['status']}")
        walls.append(m["wall_s"]); rss = max(rss, m["peak_rss_anon_kb"])
    return statistics.median(walls), rss, open(out).read()

load_before = open("/proc/loadavg").read().split()[:3]
stats = json.loads(subprocess.run([sledger, "stats", "--ledger", ledger, "--format", "json"], capture_output=True, text=True, check=True).stdout)[0]
events = int(stats["events"])
first = datetime.datetime.fromisoformat(stats["first_at"].replace("Z", "+00:00"))
last = datetime.datetime.fromisoformat(stats["last_at"].replace("Z", "+00:00"))
# The NDJSON lines the ledger holds, counted before anything is timed, and then dropped from
# the page cache, so that reading the files does not push the ledger's pages out of memory.
size, lines = 0, 0
for ndjson in ndjsons:
    with open(ndjson, "rb") as f:  # all of them, normally
        for line in f:
            if lines == events: break
            size += len(line)
            lines += 1
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
def at(frac):
    return (first + (last - first) * frac).strftime("%Y-%m-%dT%H:%M:%SZ")
rows = []
def row(name, wall, rss, rate=None):
    rows.append((name, f"{rate:,.0f} events/s" if rate else f"{wall * 1000:,.0f} ms", f"{rss / 1024:,.1f} MiB"))
routes = []  # (label, path) for the in-process latencies
for jobs in ((1, 2) if os.environ.get("REPLAY", "1") == "1" else ()):
    wall, rss, _ = run(["replay", "--jobs", str(jobs), "--format", "json"], times=1)
    row(f"replay --jobs {jobs} (whole log)", wall, rss, events / wall)
for label, frac in (("first decile", 0.1), ("middle", 0.5), ("three quarters", 0.75), ("last event", 1.0)):
    t = at(frac) if frac < 1 else stats["last_at"]
    wall, rss, text = run(["who", "--at", t, "--format", "csv"])
    row(f"who --at {t} ({label}): {text.count(chr(10)) - 1:,} users", wall, rss)
    routes.append((f"who --at {t} ({label})", f"/v1/who?at={t}&format=csv"))
    wall, rss, text = run(["sessions", "--at", t, "--format", "csv"])
    row(f"sessions --at {t} ({label}): {text.count(chr(10)) - 1:,} sessions", wall, rss)
    routes.append((f"sessions --at {t} ({label})", f"/v1/sessions?at={t}&format=csv"))
    if frac == 0.5:
        line = text.splitlines()[1].split(",")  # session,user,...
        wall, rss, out = run(["user", line[1], "--at", t, "--format", "csv"])
        row(f"user {line[1]} --at {t}: {out.count(chr(10)) - 1} sessions", wall, rss)
        routes.append((f"user {line[1]} --at {t}", f"/v1/users/{line[1]}?at={t}&format=csv"))
        wall, rss, out = run(["session", line[0], "--at", t, "--format", "json"])
        row(f"session {line[0]} --at {t}", wall, rss)
        routes.append((f"session {line[0]} --at {t}", f"/v1/sessions/{line[0]}?at={t}"))
# "Who is signed in now": --at defaults to now, past the last event and every checkpoint.
wall, rss, text = run(["who", "--format", "csv"])
row(f"who (now, past the last event): {text.count(chr(10)) - 1:,} users", wall, rss)
routes.append(("who (now, past the last event)", "/v1/who?format=csv"))
wall, rss, text = run(["sessions", "--format", "csv"])
row(f"sessions (now, past the last event): {text.count(chr(10)) - 1:,} sessions", wall, rss)
routes.append(("sessions (now, past the last event)", "/v1/sessions?format=csv"))
used = int(stats["used_bytes"])
print(f"| {events:,} events | median wall (or rate) | peak RssAnon |\n|---|---:|---:|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} |")
print(f"\n- size on disk: {used / 2**30:,.2f} GiB of pages for {size / 2**30:,.2f} GiB of NDJSON ({used / size:.2f}x; the first {events:,} lines of {len(ndjsons)} file(s))")
print(f"- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%MZ}, {os.cpu_count()} cores, load before {' '.join(load_before)}, after {' '.join(open('/proc/loadavg').read().split()[:3])}; queries: median of {repeat} warm runs")

if os.environ.get("SERVE", "1") == "1":
    import http.client, re
    n = int(os.environ.get("SERVE_REPEAT", "20"))
    server = subprocess.Popen([sledger, "serve", "--ledger", ledger, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)", server.stdout.readline()).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port)
        print(f"\n| in one process (`sledger serve`, keep-alive) | first request | median | p95 | answer bytes |\n|---|---:|---:|---:|---:|")
        for label, path in routes:
            times = []
            for i in range(n + 1):
                start = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    sys.exit(f"scale_benchmark: GET {path}: {response.status} {body[:200]!r}")
                if i: times.append(time.perf_counter() - start)  # the first one warms up
                else: first_request = time.perf_counter() - start
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"| {label} | {first_request * 1000:,.1f} ms | {statistics.median(times) * 1000:,.1f} ms | {p95 * 1000:,.1f} ms | {len(body):,} |")
        status = open(f"/proc/{server.pid}/status").read()
        rss_anon = int(re.search(r"RssAnon:\s+(\d+)", status).group(1))
        print(f"\n- {n} requests each after one to warm up (its time: first request); the server's RssAnon after them: {rss_anon / 1024:,.1f} MiB; load after {' '.join(open('/proc/loadavg').read().split()[:3])}")
    finally:
        server.terminate()
        server.wait()
PY
