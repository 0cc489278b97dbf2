#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs the host commands of docs/ffi-hosts.md and checks the report excerpt
# under each against what the command really prints, so that a line number,
# a host name or a HINT on the page cannot drift from the tests. What is run:
# each ```sh block with a line starting LD_PRELOAD=, from that line on, one
# line at a time, in a directory where `build` and `tests` stand for this
# build and the source tree (the page's commands run from the top of a
# checkout built into build/). Its excerpt is the next plain ``` block that
# starts with ==PID==ERROR. `npm install ... koffi@V` lines are not run (the
# build installs koffi), but V must be the version the tests install. A host
# not installed here (exit status 127, 77 from the script, or a --skip
# PROGRAM=WHY from meson) is skipped.
#
# The excerpt must be a subsequence of the real lines, each line equal once
# PIDs, thread ids, addresses and program counters are blanked and the page's
# /work/main and /work/main/build are read as this source tree and build
# directory; a line "..." marks lines left out, and frames may be left out
# without it. In the lines after the LD_PRELOAD= one (node's perf map
# clean-up) the excerpt's PID is replaced by the real one.
"""Usage: check_doc_excerpts.py SOURCE_ROOT BUILD_ROOT FFI_HOSTS_MD KOFFI_VERSION
                             [--skip PROGRAM=WHY]..."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

source_root, build_root, doc_path = (os.path.realpath(a) for a in sys.argv[1:4])
koffi_version = sys.argv[4]
# Hosts meson found unusable: program name -> why.
extra = sys.argv[5:]
skips = dict(extra[i + 1].split("=", 1) for i in range(0, len(extra) - 1, 2)
             if extra[i] == "--skip")
# Where the page's runs were made.
DOC_SOURCE, DOC_BUILD = "/work/main", "/work/main/build"


def blocks(text):
    """(language, first line number, lines) of every fenced block."""
    out, lang, start, body = [], None, 0, None
    for n, line in enumerate(text.splitlines(), 1):
        if body is None and line.startswith("```"):
            lang, start, body = line[3:].strip(), n + 1, []
        elif body is not None and line.startswith("```"):
            out.append((lang, start, body))
            body = None
        elif body is not None:
            body.append(line)
    return out


def normalize(line, paths):
    line = re.sub(r"==\d+==", "==PID==", line)
    line = re.sub(r"\btid \d+\)", "tid TID)", line)  # a thread's OS id, as PIDs
    line = re.sub(r"(on address |^)0x[0-9a-f]+(?= in thread| is a| was )", r"\g<1>ADDR", line)
    line = re.sub(r"^(\s*#\d+) 0x[0-9a-f]+", r"\1 PC", line)
    line = re.sub(r"\[jit\] 0x[0-9a-f]+", "[jit] PC", line)
    for path, name in paths:
        line = line.replace(path + "/", name + "/")
    return line


def compare(excerpt, real):
    """None when excerpt is a subsequence of real (with "..." skipped), else
    the first excerpt line not found in order."""
    i = 0
    for line in excerpt:
        if line.strip() == "...":
            continue
        while i < len(real) and real[i] != line:
            i += 1
        if i == len(real):
            return line
        i += 1
    return None


def run_case(start, commands, excerpt, work):
    first = commands[0]
    doc_pid = re.match(r"==(\d+)==", excerpt[0]).group(1)
    program = os.path.basename(first.split()[1])
    if program in skips:
        print(f"SKIP: line {start}: {skips[program]}")
        return "skip"
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "CROSSFREE_OPTIONS")}
    p = subprocess.run(["bash", "-c", first], cwd=work, env=env, capture_output=True,
                       text=True, errors="replace", timeout=120)
    if p.returncode in (127, 77):
        why = (p.stderr.strip().splitlines() or ["?"])[-1]
        print(f"SKIP: line {start}: exit {p.returncode} ({why})")
        return "skip"
    m = re.search(r"^==(\d+)==ERROR", p.stderr, re.M)
    if m is None:
        print(f"FAIL: line {start}: no report from\n  {first}\n"
              f"exit {p.returncode}\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}")
        return "fail"
    pid = m.group(1)
    for line in commands[1:]:
        subprocess.run(["bash", "-c", line.replace(doc_pid, pid)], cwd=work, env=env, check=True)
    for stale in [f"/tmp/perf-{pid}.map"] + glob.glob(os.path.join(work, f"isolate-*-{pid}-v8.log")):
        if os.path.exists(stale):
            os.unlink(stale)

    page_paths = [(DOC_BUILD, "BUILD"), (DOC_SOURCE, "SOURCE")]
    run_paths = [(os.path.join(work, "build"), "BUILD"), (build_root, "BUILD"),
                 (os.path.join(work, "tests"), "SOURCE/tests"), (source_root, "SOURCE")]
    want = [normalize(line, page_paths) for line in excerpt]
    real = [normalize(line, run_paths) for line in p.stderr.splitlines()]
    missing = compare(want, real)
    if missing is not None:
        print(f"FAIL: line {start}: the excerpt under\n  {first}\nis not what it prints. "
              f"First line of the page not found (in order):\n  {missing}\n"
              f"The real report, normalized as the check reads it:\n" + "\n".join(real))
        return "fail"
    print(f"ok: line {start}: {len(excerpt)} lines of {program}'s report")
    return "ok"


def main():
    with open(doc_path) as f:
        found = blocks(f.read())
    cases = []
    for k, (lang, start, body) in enumerate(found):
        if lang != "sh" or not any(line.startswith("LD_PRELOAD=") for line in body):
            continue
        commands = []
        for line in body:
            m = re.match(r"npm install .*\bkoffi@(\S+)", line)
            if m and m.group(1) != koffi_version:
                print(f"FAIL: line {start}: the page installs koffi@{m.group(1)}, "
                      f"the tests koffi@{koffi_version}")
                return 1
            if not m:
                commands.append(line)
        # npm's line comes first in the koffi block: the report's command
        # is the first one left.
        commands = [c for c in commands if c.strip()]
        if not commands[0].startswith("LD_PRELOAD="):
            print(f"FAIL: line {start}: the block runs `{commands[0]}` before its LD_PRELOAD= "
                  "command (only npm install may come first)")
            return 1
        excerpt = next((b for lang2, _, b in found[k + 1:]
                        if lang2 == "" and b and re.match(r"==\d+==ERROR", b[0])), None)
        if excerpt is None:
            print(f"FAIL: line {start}: no report excerpt after the command")
            return 1
        cases.append((start, commands, excerpt))
    if not cases:
        print(f"FAIL: no LD_PRELOAD= command with an excerpt in {doc_path}")
        return 1

    work = tempfile.mkdtemp(prefix="cf-ffi-doc-")
    try:
        os.symlink(build_root, os.path.join(work, "build"))
        os.symlink(os.path.join(source_root, "tests"), os.path.join(work, "tests"))
        results = [run_case(*case, work) for case in cases]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "fail" in results:
        return 1
    return 77 if all(r == "skip" for r in results) else 0


sys.exit(main())
