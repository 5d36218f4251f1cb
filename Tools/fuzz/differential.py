#!/usr/bin/python3
"""Compares EventParser with Tools/canonical.py, an independent reading of SPEC.md section 2
and docs/INPUT.md, on the fuzz corpus (docs/FUZZING.md).

    differential.py PARSELINES OUT DIR...

Every file of every DIR that holds no newline is one line. PARSELINES (the ParseLines
executable) and canonical.py each answer every line (BLANK, OK <canonical form>, ERR <message>);
the answers are compared on three levels: accepted or refused, the canonical form of what
both accept, and the key that both name in a refusal (`invalid JSON` and the length counting
as keys). Writes OUT/lines.ndjson, OUT/swift.txt, OUT/python.txt and OUT/differences.txt, and
prints a summary with one example of each kind of difference.
"""
import pathlib
import re
import subprocess
import sys

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent))
import canonical  # noqa: E402  (Tools/canonical.py)

parselines, out = sys.argv[1], pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
inputs = set()
for d in sys.argv[3:]:
    for f in pathlib.Path(d).iterdir():
        data = f.read_bytes()
        if b"\n" not in data:
            inputs.add(data)
lines = sorted(inputs)
(out / "lines.ndjson").write_bytes(b"".join(line + b"\n" for line in lines))

swift = subprocess.run([parselines, str(out / "lines.ndjson")], capture_output=True, check=True).stdout.split(b"\n")[:-1]
python = []
for number, line in enumerate(lines, start=1):
    if canonical.is_blank(line):
        python.append(b"BLANK")
        continue
    try:
        _, _, canon = canonical.read_event(line)
        python.append(b"OK " + canon)
    except canonical.BadInput as e:
        python.append(b"ERR " + e.message(number).encode("utf-8", "surrogateescape"))
    except Exception as e:  # a fault of the reference itself
        python.append(b"PYERROR " + repr(e).encode())
(out / "swift.txt").write_bytes(b"".join(a + b"\n" for a in swift))
(out / "python.txt").write_bytes(b"".join(a + b"\n" for a in python))
assert len(swift) == len(python) == len(lines), (len(swift), len(python), len(lines))


def key(answer):
    """What a refusal names: `invalid JSON`, `length`, or the key before the message."""
    text = answer.split(b": ", 1)[1] if answer.startswith(b"ERR line ") else answer
    if text.startswith(b"invalid JSON"):
        return b"invalid JSON"
    if text.startswith(b"longer than"):
        return b"length"
    if text.startswith(b"invalid UTF-8 in a key"):
        return b"invalid UTF-8 in a key"
    return text.split(b": ", 1)[0]


kinds = {}
same_message = 0
for line, s, p in zip(lines, swift, python):
    sk, pk = s.split(b" ", 1)[0], p.split(b" ", 1)[0]
    if sk != pk:
        kind = f"swift {sk.decode()} / python {pk.decode()}"
    elif sk == b"OK" and s != p:
        kind = "canonical forms differ"
    elif sk == b"ERR" and key(s) != key(p):
        kind = "different key named"
    else:
        same_message += s == p
        continue
    kinds.setdefault(kind, []).append((line, s, p))

with open(out / "differences.txt", "wb") as f:
    for kind, cases in sorted(kinds.items()):
        for line, s, p in cases:
            f.write(f"{kind}\n".encode() + b"  line:   " + line + b"\n  swift:  " + s + b"\n  python: " + p + b"\n")
accepted = sum(a.startswith(b"OK") for a in swift)
print(f"differential: {len(lines)} lines, {accepted} accepted by EventParser, "
      f"{len(lines) - sum(len(c) for c in kinds.values())} agree ({same_message} word for word), "
      + (", ".join(f"{len(c)} {k}" for k, c in sorted(kinds.items())) or "no differences"))
for kind, cases in sorted(kinds.items()):
    line, s, p = min(cases, key=lambda c: len(c[0]))
    print(f"  {kind}: e.g. {line!r}\n    swift:  {s!r}\n    python: {p!r}")
