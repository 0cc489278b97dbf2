#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Builds inlined_main.cc with g++ and clang++ at -O2 and checks that the
# functions inlined into main come out as frames of their own: in the text
# report, to suppressions, in the JSON report. Standard library only; exits
# 0 pass, 1 fail, 77 skip (clang++ missing: the g++ cases still ran).
"""Usage: check_inlined.py LIB SOURCE

For g++ and clang++ at -O2:
  text      runner.py checks the EXPECT lines of SOURCE
  suppress  a suppressions file naming only the inlined function silences
            the report (exit 0, nothing on stderr)
  json      check_json.py checks the JSON- lines of SOURCE
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runner  # noqa: E402  (the outcome line)
EXIT_FAIL = 1


def find_compiler(names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    return p.returncode, p.stdout + p.stderr


def check_text(lib, prog, src):
    rc, out = run([sys.executable, os.path.join(HERE, "runner.py"), lib, prog, src])
    return None if rc == 0 else out


def check_suppress(lib, prog, d):
    supp = os.path.join(d, "inlined.supp")
    with open(supp, "w") as f:
        f.write("alloc-dealloc-mismatch:inl_release\n")
    env = dict(os.environ, LD_PRELOAD=lib, CROSSFREE_OPTIONS="suppressions=" + supp)
    p = subprocess.run([prog], env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != 0 or "ERROR: crossfree" in p.stderr:
        return f"suppressed run exited {p.returncode}\n{p.stderr}"
    return None


def check_json(lib, prog, src):
    rc, out = run([sys.executable, os.path.join(HERE, "check_json.py"), lib, prog, src])
    return None if rc == 0 else out


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return EXIT_FAIL
    lib, src = (os.path.abspath(a) for a in argv)
    compilers = [("g++", find_compiler(["g++"])),
                 ("clang++", find_compiler(["clang++", "clang++-14"]))]
    failures, passed, skipped = [], 0, []
    tmp = tempfile.mkdtemp(prefix="cf-inlined-")
    try:
        for cname, cxx in compilers:
            if cxx is None:
                skipped.append(f"{cname}: not installed")
                continue
            d = os.path.join(tmp, cname)
            os.makedirs(d)
            prog = os.path.join(d, "inlined")
            rc, out = run([cxx, "-g", "-O2", src, "-o", prog])
            if rc != 0:
                failures.append(f"{cname}: build failed\n{out}")
                continue
            for name, check in (("text", lambda: check_text(lib, prog, src)),
                                ("suppress", lambda: check_suppress(lib, prog, d)),
                                ("json", lambda: check_json(lib, prog, src))):
                msg = check()
                if msg is None:
                    passed += 1
                    print(f"ok: {cname} -O2 {name}")
                else:
                    failures.append(f"{cname} -O2 {name}:\n{msg}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return runner.outcome(passed, failures, skipped)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
