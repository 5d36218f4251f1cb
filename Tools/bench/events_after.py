#!/usr/bin/env python3
"""Batches of events that come after a generated stream, for calls into a ledger that already
holds it (import or durable appends at 100M events, docs/PERFORMANCE.md).

Takes the last N lines of an NDJSON file (in the stream's order) and writes them again as batch
k = FIRST..LAST: every `at` moved on by `--gap` days plus k times the span of those N lines (so,
the lines spanning less than the gap, each batch comes after the stream and after the batch
before, and none is late), and every `session`
and `id` value given the suffix "k<k>" (new sessions, new ids). Users are kept: a batch meets
the ledger's existing users, as the service's next month would.

    python3 Tools/bench/events_after.py bench-out/c100/part_6 --lines 1000000 --first 1 --last 8 \
        --out bench-out/next/k
    # writes bench-out/next/k1.ndjson ... k8.ndjson
"""
import argparse
import datetime
import json
from collections import deque


def parse(text):
    text = text.rstrip('Z')
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%f' if '.' in text else '%Y-%m-%dT%H:%M:%S')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('source', help='NDJSON events, in the order they were stored')
    parser.add_argument('--lines', type=int, default=1000000, help='how many lines from its end make a batch')
    parser.add_argument('--first', type=int, default=1)
    parser.add_argument('--last', type=int, default=1)
    parser.add_argument('--gap', type=int, default=60, help='days between the stream and batch 0')
    parser.add_argument('--out', required=True, help='path prefix: batch k goes to PREFIX<k>.ndjson')
    args = parser.parse_args()

    events = [json.loads(line) for line in deque(open(args.source), maxlen=args.lines)]
    ats = [parse(e['at']) for e in events]
    span = max(ats) - min(ats) + datetime.timedelta(seconds=1)
    if span >= datetime.timedelta(days=args.gap):
        parser.error(f'the lines span {span}, not less than --gap {args.gap} days: a batch would overlap the stream')
    for k in range(args.first, args.last + 1):
        shift = datetime.timedelta(days=args.gap) + span * k
        with open(f'{args.out}{k}.ndjson', 'w') as out:
            for event, at in zip(events, ats):
                event = dict(event)
                at = at + shift
                event['at'] = at.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (at.microsecond // 1000)
                for key in ('session', 'id'):
                    if key in event:
                        event[key] += f'k{k}'
                out.write(json.dumps(event, separators=(',', ':')) + '\n')


if __name__ == '__main__':
    main()
