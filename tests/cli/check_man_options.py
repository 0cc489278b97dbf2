#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks docs/man/crossfree-options.7 against src/runtime/options.inc: every
# option has a ".TP / .B name" entry whose Default (and, for integers,
# Range) agrees with the list, and the page names no vanished option.
"""Usage: check_man_options.py OPTIONS_INC MAN_PAGE"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit"))
from check_options_doc import options_from_inc  # noqa: E402

with open(sys.argv[1]) as f:
    options = options_from_inc(f.read())
with open(sys.argv[2]) as f:
    page = f.read()

# ".TP\n.B name\nType. Default: \fBX\fR. Range: \fBlo\fR to \fBhi\fR."
entries = {}
for m in re.finditer(r"^\.TP\n\.B (\w+)\n(\w+)\. Default: (?:\\fB(.*?)\\fR|(empty))"
                     r"(?:\. Range: \\fB(-?\d+)\\fR to \\fB(-?\d+)\\fR)?", page, re.M):
    name, _, default, empty, lo, hi = m.groups()
    entries[name] = ("" if empty else default, (int(lo), int(hi)) if lo else None)

problems = []
for kind, name, default, bounds in options:
    if name not in entries:
        problems.append(f"{name}: no entry in {sys.argv[2]}")
        continue
    doc_default, doc_bounds = entries.pop(name)
    if doc_default != default:
        problems.append(f"{name}: the page says default {doc_default!r}, options.inc {default!r}")
    if doc_bounds != bounds:
        problems.append(f"{name}: the page says range {doc_bounds}, options.inc {bounds}")
for name in entries:
    problems.append(f"{name}: on the page but not in options.inc")
if not options:
    problems.append("no options read from options.inc")
for p in problems:
    print(p)
print("ok" if not problems else f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)
