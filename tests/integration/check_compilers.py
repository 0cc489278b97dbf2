#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Builds compilers_main.cc and compilers_lib.cc with each compiler at each
# debug setting and checks that every symbolizer path names the frames with
# function and file:line. Standard library only; exits 0 pass, 1 fail, 77
# skip (clang++ missing: the g++ cases still ran).
"""Usage: check_compilers.py LIB CROSSFREE MAIN_SOURCE LIB_SOURCE

For g++ and clang++, at -O0 and -O2, with -gdwarf-4 and -gdwarf-5, each
with and without -gsplit-dwarf (16 builds):
  live     runner.py runs the program with LIB preloaded; the expectations
           in MAIN_SOURCE hold (free stack in the running program, the
           allocation stack in a library dlclose'd before the report).
  offline  the program runs with symbolize=0 and `crossfree symbolize`
           names the logged frames; the same frame expectations hold.
clang emits no .debug_aranges (unless -gdwarf-aranges), so these cases
also check that compile units are found by their own address ranges.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runner  # noqa: E402  (expectations and report parsing)

EXIT_FAIL = 1


def find_clang():
    for name in ("clang++", "clang++-14"):
        path = shutil.which(name)
        if path:
            return path
    return None


def compile_case(cxx, flags, main_src, lib_src, d):
    """Builds d/prog and d/libcc.so; returns None or the compiler's complaint."""
    steps = [[cxx] + flags + ["-fPIC", "-shared", lib_src, "-o", "libcc.so"],
             [cxx] + flags + [main_src, "-o", "prog", "-ldl"]]
    for cmd in steps:
        # cwd=d: -gsplit-dwarf writes its .dwo files beside the objects.
        p = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
        if p.returncode != 0:
            return f"$ {' '.join(cmd)}\n{p.stdout}{p.stderr}"
    return None


def has_aranges(path):
    readelf = shutil.which("readelf")
    if readelf is None:
        return None
    p = subprocess.run([readelf, "-S", "-W", path], capture_output=True, text=True)
    return ".debug_aranges" in p.stdout


def check_live(lib, d, sources):
    cmd = [sys.executable, os.path.join(HERE, "runner.py"), lib, os.path.join(d, "prog")]
    cmd += sources + ["--", os.path.join(d, "libcc.so")]
    p = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
    return None if p.returncode == 0 else p.stdout + p.stderr


def check_offline(lib, crossfree, d, sources):
    env = dict(os.environ, LD_PRELOAD=lib, CROSSFREE_OPTIONS="symbolize=0")
    p = subprocess.run([os.path.join(d, "prog"), os.path.join(d, "libcc.so")], cwd=d, env=env,
                       capture_output=True, text=True, timeout=120)
    raw = runner.split_reports(p.stderr)
    if len(raw) != 1:
        return f"symbolize=0 run: expected one report, got {len(raw)}\n{p.stderr}"
    if any(f.file for frames in raw[0].stacks.values() for f in frames):
        return f"symbolize=0 run already has file:line\n{p.stderr}"
    log = os.path.join(d, "report.log")
    with open(log, "w") as f:
        f.write(p.stderr)
    s = subprocess.run([crossfree, "symbolize", log], capture_output=True, text=True,
                       timeout=120)
    if s.returncode != 0:
        return f"crossfree symbolize exited {s.returncode}\n{s.stdout}{s.stderr}"
    reps = runner.split_reports(s.stdout)
    if len(reps) != 1:
        return f"crossfree symbolize: expected one report\n{s.stdout}{s.stderr}"
    exp = runner.Expect()
    markers = runner.read_sources(sources, None, exp)
    c = runner.Checker()
    runner.check_first_report(c, exp, markers, reps[0])
    if not c.failures:
        return None
    lines = [f"  {what}\n    expected: {want}\n    actual:\n{got}"
             for what, want, got in c.failures]
    return "\n".join(lines) + "\n" + s.stdout


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return EXIT_FAIL
    lib, crossfree = (os.path.abspath(a) for a in argv[:2])
    sources = [os.path.abspath(a) for a in argv[2:]]
    compilers = [("g++", shutil.which("g++")), ("clang++", find_clang())]
    failures, passed, skipped = [], 0, []
    tmp = tempfile.mkdtemp(prefix="cf-compilers-")
    try:
        for cname, cxx in compilers:
            if cxx is None:
                skipped.append(f"{cname}: not installed, its 8 builds were not tested")
                continue
            for opt in ("-O0", "-O2"):
                for dwarf in ("-gdwarf-4", "-gdwarf-5"):
                    for split in ([], ["-gsplit-dwarf"]):
                        name = "_".join([cname, opt[1:], dwarf[2:]] + [s[2:] for s in split])
                        d = os.path.join(tmp, name)
                        os.makedirs(d)
                        flags = ["-g", dwarf, opt] + split
                        err = compile_case(cxx, flags, sources[0], sources[1], d)
                        if err is not None:
                            if split:
                                # Said out loud: a skipped split case is a gap.
                                skipped.append(f"{name}: {cname} cannot build split DWARF "
                                               f"here:\n{err}")
                                continue
                            failures.append(f"{name}: build failed\n{err}")
                            continue
                        aranges = has_aranges(os.path.join(d, "prog"))
                        note = {None: "", True: " (has .debug_aranges)",
                                False: " (no .debug_aranges)"}[aranges]
                        for path, check in (("live", lambda: check_live(lib, d, sources)),
                                            ("offline", lambda: check_offline(
                                                lib, crossfree, d, sources))):
                            msg = check()
                            if msg is None:
                                passed += 1
                                print(f"ok: {name} {path}{note}")
                            else:
                                failures.append(f"{name} {path}{note}:\n{msg}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return runner.outcome(passed, failures, skipped)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
