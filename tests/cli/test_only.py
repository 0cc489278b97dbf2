#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `crossfree run --only APP -- launcher`, where the launcher runs a shell
# script, a compiler, a Python script and, through a helper process, the
# app: every process inherits the library, every helper has the app's bug,
# and exactly one report comes out, from the app. Exits 0 pass, 1 fail.
"""Usage: test_only.py CROSSFREE LAUNCHER SCRIPT CC SOURCE PYTHON PYSCRIPT HELPER APP [FORMAT]"""
import json
import os
import re
import sys
import tempfile

from clitest import check, expect_status, main, run, show

(crossfree, launcher, script, cc, source, python, pyscript, helper, app) = (
    a if a.find("/") < 0 else os.path.abspath(a) for a in sys.argv[1:10])
tmp = tempfile.mkdtemp(prefix="cf-only-")
logs = os.path.join(tmp, "logs")
obj = os.path.join(tmp, "compiled.o")
app_name = os.path.basename(app)
helper_name = os.path.basename(helper)


def body():
    p = run([crossfree, "run", "--only", app_name, "-o", "halt_on_error=0", "--log-dir", logs,
             "--", launcher, script, cc, source, obj, python, pyscript, helper, app])
    print(show(p))
    # The launcher exits with the app's status: the app reported an error
    # and halt_on_error=0 makes that exitcode 23. No helper was checked, so
    # each of them exited 0.
    expect_status(p, 23)
    check(re.search(r"^launcher: sh=0 cc=0 python=0 app=23$", p.stdout, re.M), show(p))

    # Every helper ran to completion with its normal output, with the
    # library mapped (LD_PRELOAD reached children and grandchildren).
    out = p.stdout
    check("shell helper: start" in out and "shell helper: libcrossfree mapped" in out,
          "the shell step did not run with the library")
    check(re.search(r"^shell helper: done, helper exited with 0$", out, re.M), out)
    check(re.search(r"^python helper: pid \d+, libcrossfree mapped: yes$", out, re.M), out)
    check(os.path.getsize(obj) > 0, "the compiler produced no object")
    helper_lines = re.findall(rf"^{helper_name}: pid (\d+), libcrossfree: (.*)$", out, re.M)
    check(len(helper_lines) == 2, f"expected the helper twice (shell step, app step):\n{out}")
    for pid, mapped in helper_lines:
        check(mapped.endswith("/libcrossfree.so"), f"helper {pid}: library not mapped: {mapped}")
    check(re.search(rf"^{helper_name}: mismatch done$", out, re.M), out)
    check(re.search(rf"^{helper_name}: child exited with 23$", out, re.M), out)
    m = re.search(rf"^{app_name}: pid (\d+), libcrossfree: (.*)$", out, re.M)
    check(m is not None, f"the app did not run:\n{out}")
    app_pid = m.group(1)
    check(m.group(2).endswith("/libcrossfree.so"), "the app (a grandchild) lacks the library")
    check(re.search(rf"^{app_name}: mismatch done$", out, re.M), out)

    # Exactly one report, in the app's log, about the app's own mismatch.
    files = sorted(os.listdir(logs))
    check(files == [f"crossfree.{app_pid}"], f"expected only crossfree.{app_pid}, found {files}")
    with open(os.path.join(logs, files[0])) as f:
        text = f.read()
    headers = re.findall(r"^==(\d+)==ERROR: crossfree: (\S+)", text, re.M)
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    if records:
        check(len(records) == 1, f"expected one JSON record:\n{text}")
        check(records[0]["pid"] == int(app_pid) and
              records[0]["kind"] == "alloc-dealloc-mismatch", text)
    else:
        check(headers == [(app_pid, "alloc-dealloc-mismatch")], f"expected one report:\n{text}")
        check("allocated by operator new[], freed by free()" in text, text)
    check("ERROR: crossfree" not in p.stderr, "a report went to stderr")
    print("ok")


main(body)
