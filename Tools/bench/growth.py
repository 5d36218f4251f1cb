#!/usr/bin/python3
"""How each cost grows with the log: the results of compare_sqlite.sh at 1M, 10M and 100M
events (whichever exist), side by side, as a markdown table.

    Tools/bench/growth.py [RESULTS_DIR_OR_FILE ...] [--plot FILE.png]

Reads every compare-EVENTS.json in the given directories (default: bench-out/results of the
repository) or the given files; when several hold the same EVENTS, the newest counts. Rows
are matched across sizes by their question (the same instants by position in the log: first
decile, middle, last event). For a time, each size's cell shows the median and, from the
second size on, the factor over the previous size (×10 for 10 times the events is linear
growth); for a rate (events/s), the rate and its factor (×1.0 is linear cost). --plot writes
a log-log plot with matplotlib when it is installed (it is not needed for the table).
"""

import glob
import json
import os
import sys


def load(paths):
    runs = {}
    for path in paths:
        files = glob.glob(os.path.join(path, "compare-*.json")) if os.path.isdir(path) else [path]
        for f in files:
            if "disagreement" in f:
                continue
            with open(f) as fh:
                r = json.load(fh)
            if r["events"] not in runs or r["date"] > runs[r["events"]]["date"]:
                runs[r["events"]] = r
    return [runs[k] for k in sorted(runs)]


def value(side, kind):
    if not side:
        return None
    return side["events_per_s"] if kind == "rate" else side["median_s"]


def cell(v, prev, kind):
    if v is None:
        return "–"
    text = f"{v:,.0f}/s" if kind == "rate" else (f"{v * 1000:,.0f} ms" if v >= 0.0995 else f"{v * 1000:.1f} ms")
    return text + (f" (×{v / prev:.1f})" if prev else "")


def short(n):
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def main(argv):
    plot = None
    if "--plot" in argv:
        i = argv.index("--plot")
        plot = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench-out", "results")
    runs = load(argv or [root])
    if not runs:
        sys.exit("growth.py: no compare-EVENTS.json found (run Tools/bench/compare_sqlite.sh first)")
    keys = []
    for r in runs:
        for x in r["rows"]:
            if x["key"] not in keys:
                keys.append(x["key"])
    sizes = [short(r["events"]) for r in runs]
    print("| question | " + " | ".join(f"sledger {s}" for s in sizes) + " | "
          + " | ".join(f"SQLite {s}" for s in sizes) + " |")
    print("|---|" + "---:|" * (2 * len(runs)))
    series = {}
    for key in keys:
        cells = []
        for side in ("sledger", "sqlite"):
            prev = None
            for r in runs:
                x = next((x for x in r["rows"] if x["key"] == key), None)
                v = value(x[side], x["kind"]) if x else None
                cells.append(cell(v, prev, x["kind"]) if x else "–")
                if v is not None:
                    series.setdefault((key, side), []).append((r["events"], v))
                prev = v
        print(f"| {key} | " + " | ".join(cells) + " |")
    print()
    for r in runs:
        print(f"- {short(r['events'])}: {r['date']}, sledger {r['commit']}, {r['machine']['nproc']} cores, "
              f"load "
              f"{' '.join(r['load_before'])} before / {' '.join(r['load_after'])} after; {r['input']}")
    if plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            sys.exit("growth.py: --plot needs matplotlib (apt-get install python3-matplotlib)")
        fig, ax = plt.subplots(figsize=(9, 6))
        for (key, side), pts in series.items():
            if "events/s" not in key and len(pts) > 1:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                        linestyle="-" if side == "sledger" else "--", label=f"{side}: {key}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("events in the log")
        ax.set_ylabel("seconds (median, warm)")
        ax.legend(fontsize=6)
        fig.savefig(plot, dpi=120)


if __name__ == "__main__":
    main(sys.argv[1:])
