#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets from Fixtures/ (docs/FUZZING.md).

    make_seeds.py FIXTURES OUT     OUT/FuzzEventParser: every distinct line of good-input,
                                   bad-input, team-quarter and rules (one file a line);
                                   OUT/FuzzPolicy: every policy in rules, the default policy
                                   of SPEC.md section 4, and a few hand-made variants.
"""
import hashlib
import pathlib
import sys

fixtures, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])


def write(directory, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


events = out / "FuzzEventParser"
lines = set()
for pattern in ("good-input/*.ndjson", "bad-input/*.ndjson", "team-quarter/*.ndjson", "rules/*.ndjson"):
    for path in sorted(fixtures.glob(pattern)):
        for line in path.read_bytes().split(b"\n"):
            lines.add(line[:8192])
for line in lines:
    write(events, line)

DEFAULT = b"""{
  "name": "web-28d",
  "clients": {
    "web":     {"lifetime": "28d", "refresh_interval": "1h"},
    "ios":     {"lifetime": "28d", "refresh_interval": "1h"},
    "android": {"lifetime": "28d", "refresh_interval": "1h"},
    "desktop": {"lifetime": "28d", "refresh_interval": "1h"},
    "code":    {"lifetime": null,  "refresh_interval": null, "token": true}
  },
  "default_client": {"lifetime": "28d", "refresh_interval": "1h"},
  "login_methods": ["google", "email_link"],
  "logout_all_from": ["web"],
  "logout_all_revokes_tokens": false,
  "max_skew": "5m"
}
"""
policies = out / "FuzzPolicy"
write(policies, DEFAULT)
for path in sorted(fixtures.glob("rules/*.policy.json")):
    write(policies, path.read_bytes())
for old, new in [
    (b'"web-28d"', b'"w\\u00e9b \\ud83d\\ude00 \\u0001"'),
    (b'"5m"', b'null'),
    (b'"28d"', b'"106751d"'),
    (b'"1h"', b'"0s"'),
    (b'false', b'true'),
    (b'["web"]', b'[]'),
    (b'"clients": {', b'"clients": {"a-1_": {"lifetime": "90m", "refresh_interval": "3600s"},'),
]:
    write(policies, DEFAULT.replace(old, new, 1))
write(policies, b"\xef\xbb\xbf" + DEFAULT)
print(f"seeds: {len(lines)} lines, {len(list(policies.iterdir()))} policies")
