#!/usr/bin/python3
"""The server's anonymous memory while it answers queries (docs/PERFORMANCE.md).

    serve_memory.py [--concurrent N] [--probe PATH] [--serve-args 'ARGS'] SLEDGER LEDGER PATH [PATH ...]

Starts `SLEDGER serve --ledger LEDGER` on a free loopback port, waits for it to listen and
settle, then sends each PATH (a path with its query string, e.g.
'/v1/sessions?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&format=csv') as a GET, one at
a time, reading each answer to its end; with --concurrent N, each PATH is then also sent N
times at once. Prints one Markdown table row per query: its wall time, the answer's bytes, and
the server's peak RssAnon while it was answered (sampled every 20 ms from /proc/PID/status:
the server's own allocations; LMDB's map and the page cache do not count), beside the peak
before the first query. With --probe PATH, a second client sends PATH one request after
another (0.2 s apart) while each batch runs, and the row gives how many it sent and their
median and longest wall time: how long a small query waits beside the batch.
"""

import argparse
import http.client
import shlex
import subprocess
import sys
import threading
import time


def rss_anon_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class Sampler:
    def __init__(self, pid):
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.done.is_set():
            try:
                self.peak = max(self.peak, rss_anon_kb(self.pid))
            except (FileNotFoundError, ProcessLookupError, ValueError):
                return
            self.done.wait(0.02)

    def take(self):
        """The peak since the last take, and starts again from the current value."""
        peak, self.peak = self.peak, rss_anon_kb(self.pid)
        return max(peak, self.peak)


def get(port, path):
    """Sends one GET and reads the answer to its end; returns (status, bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    connection.request("GET", path)
    response = connection.getresponse()
    total = 0
    while chunk := response.read(1 << 20):
        total += len(chunk)
    connection.close()
    return response.status, total


def main():
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--probe")
    parser.add_argument("--serve-args", default="", help="more arguments for `sledger serve`, e.g. '--long-queries 2'")
    parser.add_argument("sledger")
    parser.add_argument("ledger")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    server = subprocess.Popen([args.sledger, "serve", "--ledger", args.ledger, "--listen", "127.0.0.1:0"]
                              + shlex.split(args.serve_args),
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("listening on "):
            sys.exit(f"the server did not start: {line!r}")
        port = int(line.rsplit(":", 1)[1])
        sampler = Sampler(server.pid)
        time.sleep(2)  # let a fold the server starts with finish
        print(f"server started: peak RssAnon {sampler.take() / 1024:.0f} MiB; "
              f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, load {open('/proc/loadavg').read().split()[0]}")
        print()
        probing = " probe: sent, median / longest s |" if args.probe else ""
        print("| query | at once | wall s | answer bytes (each) | server peak RssAnon |" + probing)
        print("|---|---:|---:|---:|---:|" + ("---:|" if args.probe else ""))
        for path in args.paths:
            for n in [1] + ([args.concurrent] if args.concurrent > 1 else []):
                sampler.take()
                results = [None] * n
                def one(i):
                    results[i] = get(port, path)
                start = time.monotonic()
                threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
                for t in threads:
                    t.start()
                probes, stop = [], threading.Event()
                def probe():
                    while not stop.wait(0.2):
                        began = time.monotonic()
                        status, _ = get(port, args.probe)
                        probes.append(time.monotonic() - began if status == 200 else float("nan"))
                prober = threading.Thread(target=probe)
                if args.probe:
                    prober.start()
                for t in threads:
                    t.join()
                wall = time.monotonic() - start
                stop.set()
                if args.probe:
                    prober.join()
                peak = sampler.take()
                statuses = {status for status, _ in results}
                sizes = {size for _, size in results}
                status = "" if statuses == {200} else f" (status {sorted(statuses)})"
                probed = ""
                if args.probe:
                    ordered = sorted(probes)
                    probed = (f" {len(probes)}, {ordered[len(ordered) // 2]:.3f} / {ordered[-1]:.3f} |" if probes
                              else " none |")
                print(f"| `{path}`{status} | {n} | {wall:.2f} | {'/'.join(f'{s:,}' for s in sorted(sizes))} | "
                      f"{peak / 1024:.0f} MiB |{probed}", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
