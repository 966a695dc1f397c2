#!/usr/bin/env python3
"""Turns a plugin's sample.ini into a C header defining `sample_ini`, so the
file users read and the plugin's sample_config are one and the same."""
import sys

src, dst = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    text = f.read()
lines = []
for line in text.splitlines(keepends=True):
    esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    lines.append('  "%s"' % esc)
with open(dst, "w", encoding="utf-8") as f:
    f.write("/* Generated from %s by embed-ini.py: edit that file. */\n" % src.split("/")[-1])
    f.write("#pragma once\n\nstatic const char sample_ini[] =\n")
    f.write("\n".join(lines) if lines else '  ""')
    f.write(";\n")
