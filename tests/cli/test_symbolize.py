#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `crossfree symbolize` on logs of a stripped program whose debug info was
# split off: found through .gnu_debuglink beside the binary, or only
# through its build ID under --debug-dir. Text and JSON logs written with
# symbolize=0 get function names and file:line. Exits 0 pass, 1 fail.
"""Usage: test_symbolize.py CROSSFREE BUGGY BUGGY_SOURCE OBJCOPY STRIP READELF"""
import json
import os
import re
import shutil
import sys
import tempfile

from clitest import check, expect_status, main, markers, run, show

crossfree, buggy, source = (os.path.abspath(a) for a in sys.argv[1:4])
objcopy, strip, readelf = sys.argv[4:7]
marks = markers(source)
tmp = tempfile.mkdtemp(prefix="cf-symbolize-")
FRAME_RE = re.compile(r"^\s+#(\d+) 0x[0-9a-f]+(?: in (.*?))? \((\S+)\+(0x[0-9a-f]+)\)$")


def tool(*args):
    p = run(list(args))
    check(p.returncode == 0, f"{args[0]} failed\n{show(p)}")
    return p


def prepare(name):
    """A copy of the program at tmp/name/prog, and its directory."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    prog = os.path.join(d, "cf_buggy")
    shutil.copy(buggy, prog)
    return d, prog


def run_logged(prog, log_dir, fmt="text"):
    """Runs the program with symbolize=0; returns the one log's path."""
    p = run([crossfree, "run", "-o", "symbolize=0", "-o", "halt_on_error=0", "-o",
             f"report_format={fmt}", "--log-dir", log_dir, "--", prog, "all"])
    expect_status(p, 23)
    logs = os.listdir(log_dir)
    check(len(logs) == 1, f"expected one log in {log_dir}: {logs}")
    return os.path.join(log_dir, logs[0])


def frames_of(text, prog):
    """The frame lines of text that are in prog: [(n, function-part)]."""
    out = []
    for line in text.splitlines():
        m = FRAME_RE.match(line)
        if m and m.group(3) == prog:
            out.append((int(m.group(1)), m.group(2)))
    return out


def expect_symbolized(text, prog):
    """Each planted bug's frames read FUNCTION SOURCE:LINE, at the markers."""
    for function, mark in [("mismatch()", "free-mismatch"),
                           ("make_array(unsigned long)", "alloc-array"),
                           ("double_free()", "free-second"), ("double_free()", "free-first"),
                           ("double_free()", "alloc-double"),
                           ("invalid_free()", "free-interior")]:
        want = f" in {function} {source}:{marks[mark]} ({prog}+0x"
        check(want in text, f"no frame '{want}' in:\n{text}")
    check(f"SUMMARY: crossfree: alloc-dealloc-mismatch {source}:{marks['free-mismatch']} "
          f"in mismatch()" in text, f"SUMMARY not symbolized:\n{text}")
    # Every frame in the program has a name now.
    unnamed = [f for f in frames_of(text, prog) if f[1] is None]
    check(not unnamed, f"frames left without a name: {unnamed}\n{text}")


def same_except_frames(before, after):
    """Lines other than frames and SUMMARY are copied unchanged."""
    b = [l for l in before.splitlines() if not FRAME_RE.match(l) and "SUMMARY" not in l]
    a = [l for l in after.splitlines() if not FRAME_RE.match(l) and "SUMMARY" not in l]
    check(a == b, "lines other than frames changed")
    check(len(before.splitlines()) == len(after.splitlines()), "the number of lines changed")


def body():
    # 1. strip -g plus .gnu_debuglink: the debug file sits beside the binary.
    d, prog = prepare("debuglink")
    tool(objcopy, "--only-keep-debug", prog, prog + ".debug")
    tool(strip, "-g", prog)
    tool(objcopy, f"--add-gnu-debuglink={prog}.debug", prog)
    sections = tool(readelf, "-S", prog).stdout
    check(".debug_info" not in sections and ".gnu_debuglink" in sections, sections)
    log = run_logged(prog, os.path.join(d, "logs"))
    with open(log) as f:
        before = f.read()
    check(frames_of(before, prog) and all(fn is None for _, fn in frames_of(before, prog)),
          f"symbolize=0 should leave frames unnamed:\n{before}")
    p = run([crossfree, "symbolize", log])
    expect_status(p, 0)
    expect_symbolized(p.stdout, prog)
    same_except_frames(before, p.stdout)
    # -i rewrites the file with the same text.
    p_in = run([crossfree, "symbolize", "-i", log])
    expect_status(p_in, 0)
    check(p_in.stdout == "", show(p_in))
    with open(log) as f:
        check(f.read() == p.stdout, "-i wrote something else than stdout showed")
    # Without the debug file there are names (.symtab) but no file:line.
    os.rename(prog + ".debug", prog + ".gone")
    with open(os.path.join(d, "unsymbolized.log"), "w") as f:
        f.write(before)
    p = run([crossfree, "symbolize", os.path.join(d, "unsymbolized.log")])
    expect_status(p, 0)
    check(f"{source}:" not in p.stdout and " in mismatch()+0x" in p.stdout, show(p))
    check("SUMMARY: crossfree: alloc-dealloc-mismatch (cf_buggy+0x" in p.stdout and
          ") in mismatch()\n" in p.stdout, show(p))

    # 2. strip --strip-all, no debuglink: only the build ID leads to the
    # debug file, under --debug-dir DIR/.build-id/xx/yyyy.debug.
    d, prog = prepare("buildid")
    note = tool(readelf, "-n", prog).stdout
    build_id = re.search(r"Build ID: ([0-9a-f]+)", note).group(1)
    debug_dir = os.path.join(d, "debug")
    os.makedirs(os.path.join(debug_dir, ".build-id", build_id[:2]))
    tool(objcopy, "--only-keep-debug", prog,
         os.path.join(debug_dir, ".build-id", build_id[:2], build_id[2:] + ".debug"))
    tool(strip, "--strip-all", prog)
    check(".symtab" not in tool(readelf, "-S", prog).stdout, "strip --strip-all left .symtab")
    log = run_logged(prog, os.path.join(d, "logs"))
    p = run([crossfree, "symbolize", log])
    expect_status(p, 0)
    check(f"{source}:" not in p.stdout, f"found debug info without --debug-dir?\n{show(p)}")
    check(re.search(rf"{re.escape(prog)}: no symbols or debug info found", p.stderr), show(p))
    p = run([crossfree, "symbolize", "--debug-dir", debug_dir, log])
    expect_status(p, 0)
    expect_symbolized(p.stdout, prog)

    # 3. A JSON log: null function/file/line filled in, the rest unchanged.
    d, prog = prepare("json")
    tool(objcopy, "--only-keep-debug", prog, prog + ".debug")
    tool(strip, "-g", prog)
    tool(objcopy, f"--add-gnu-debuglink={prog}.debug", prog)
    log = run_logged(prog, os.path.join(d, "logs"), fmt="json")
    with open(log) as f:
        before = [json.loads(line) for line in f]
    check(len(before) == 3, f"expected 3 JSON records in {log}")
    p = run([crossfree, "symbolize", log])
    expect_status(p, 0)
    after = [json.loads(line) for line in p.stdout.splitlines()]
    check(len(after) == 3, show(p))
    for b, a in zip(before, after):
        for key in ("deallocation_stack", "allocation_stack"):
            for fb, fa in zip(b[key], a[key]):
                check(fb["function"] is None, f"symbolize=0 named a frame: {fb}")
                for k in fb:
                    if k not in ("function", "file", "line"):
                        check(fa[k] == fb[k], f"{k} changed: {fb} -> {fa}")
        stripped = {k: v for k, v in a.items() if k not in ("deallocation_stack",
                                                           "allocation_stack", "first_free")}
        check(all(b[k] == v for k, v in stripped.items()), "top-level fields changed")
    top = after[0]["deallocation_stack"][0]
    check(top["module"] == prog and top["function"] == "mismatch()" and
          top["file"] == source and top["line"] == marks["free-mismatch"], f"frame 0: {top}")
    first = after[1]["first_free"]["stack"][0]
    check(first["function"] == "double_free()" and first["line"] == marks["free-first"], first)

    # A log that cannot be read: exit 2, the others still written.
    p = run([crossfree, "symbolize", os.path.join(tmp, "missing.log"), log])
    expect_status(p, 2)
    check(len(p.stdout.splitlines()) == 3, show(p))
    print("ok")


main(body)
