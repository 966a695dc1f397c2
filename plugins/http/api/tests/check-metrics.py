#!/usr/bin/python3
"""Reads Prometheus text exposition from stdin with the official client's
parser (python3-prometheus-client) and prints every sample as one JSON line
[name, labels, value]. Fails (exit 1, reason on stderr) when the text does
not parse, a family's samples are split, or a series appears twice: the
things a Prometheus server would reject at scrape time. Then Prometheus'
own linter (promtool check metrics, from the prometheus package) must find
nothing to say: names, units, HELP texts, counters ending in _total."""
import json
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    if not text.endswith("\n"):
        sys.exit("the exposition does not end with a newline")
    seen = set()
    families = []
    try:
        for family in text_string_to_metric_families(text):
            families.append(family.name)
            for s in family.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                if key in seen:
                    sys.exit("duplicate series: %r" % (key,))
                seen.add(key)
                print(json.dumps([s.name, s.labels, s.value]))
    except ValueError as e:
        sys.exit("does not parse: %s" % e)
    if len(families) != len(set(families)):
        sys.exit("a family's samples are split: %r" % families)
    lint = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                          capture_output=True)
    if lint.returncode != 0:
        sys.exit("promtool check metrics: %s%s" % (lint.stdout.decode(), lint.stderr.decode()))


main()
