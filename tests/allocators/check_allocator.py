#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs ONE program natively and then with crossfree preloaded, beside another
# allocator (preloaded before or after crossfree, or linked into the
# program), and checks what crossfree did. Standard library only; exits 0
# pass, 1 fail, 77 skip.
"""Usage: check_allocator.py [flags] LIB -- PROGRAM [ARGS...]

  --before SONAME     preload SONAME ahead of crossfree (LD_PRELOAD=SONAME:LIB)
  --after SONAME      preload it after crossfree (LD_PRELOAD=LIB:SONAME); the
                      native run preloads SONAME alone in both cases
  --shadow REGEX      crossfree's start-up line about another allocator's
                      malloc coming first must be there, once, and match
                      REGEX; without it, no such line may be printed
  --report KIND       the run must end in one report of KIND (SIGABRT)
  --words TEXT        ... whose second line is TEXT
  --free-frame FUNC@FILE:MARKER
                      ... whose deallocation stack's frame #0 is FUNC at the
                      line of FILE holding /* @MARKER */ (FILE a path)
  --alloc-frame FUNC@FILE:MARKER
                      ... and some allocation-stack frame is FUNC at that line
  --skip REASON       skip (exit 77) saying REASON
  --cargo CARGO --manifest TOML --cargo-dir DIR
                      build PROGRAM first with cargo (`cargo build --release
                      --locked`, CARGO_HOME and the target directory under
                      DIR); a build that fails (no network, no crates.io)
                      skips, printing why

Without --report, the native run must succeed, and the run under crossfree
must print its stdout and exit with its status; crossfree may print nothing
but the start-up line. A signal or a report fails the test.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
SHADOW = re.compile(r"^==(\d+)==crossfree: (.*(ahead of crossfree's).*)$")


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(EXIT_SKIP)


def fail(why, out=None):
    print(f"FAIL: {why}")
    if out is not None:
        print("---- stdout ----\n" + out[0] + "---- stderr ----\n" + out[1])
    sys.exit(EXIT_FAIL)


def soname_found(soname):
    """Whether the loader can find SONAME: ldconfig's cache, or a path."""
    if "/" in soname:
        return os.path.exists(soname)
    try:
        cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        cache = ""
    if re.search(r"^\s*" + re.escape(soname) + r" ", cache, re.M):
        return True
    return any(os.path.exists(os.path.join(d, soname))
               for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib",
                         "/lib/x86_64-linux-gnu", "/usr/local/lib"))


def cargo_build(cargo, manifest, cargo_dir, program):
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "CROSSFREE_OPTIONS")}
    env["CARGO_HOME"] = os.path.join(cargo_dir, "home")
    env["CARGO_TARGET_DIR"] = os.path.join(cargo_dir, "target")
    cmd = [cargo, "build", "--release", "--locked", "--quiet", "--manifest-path", manifest]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        skip(f"`{' '.join(cmd)}` could not run: {e}")
    if p.returncode != 0:
        tail = " | ".join((p.stderr or p.stdout).strip().splitlines()[-4:])
        # Our own program not compiling is a failure, not a missing runtime.
        if "could not compile `rust_override`" in p.stderr:
            fail(f"`{' '.join(cmd)}`: {tail}")
        skip(f"`{' '.join(cmd)}` exited {p.returncode} (the crate comes from crates.io): {tail}")
    if not os.path.exists(program):
        fail(f"cargo built nothing at {program}")


def run(cmd, preload):
    env = dict(os.environ)
    env.pop("CROSSFREE_OPTIONS", None)
    if preload:
        env["LD_PRELOAD"] = preload
    else:
        env.pop("LD_PRELOAD", None)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    return p.stdout, p.stderr, p.returncode


def status(rc):
    return f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit {rc}"


def marker_line(path, marker):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if f"@{marker} */" in line or f"@{marker}\n" in line:
                return n
    fail(f"no marker @{marker} in {path}")


def frame_re(spec):
    func, _, where = spec.partition("@")
    path, _, marker = where.rpartition(":")
    line = marker_line(path, marker)
    return re.compile(r"#\d+ 0x[0-9a-f]+ in " + re.escape(func) + r" \S*" +
                      re.escape(os.path.basename(path)) + f":{line} ")


def stacks(err):
    """The deallocation stack (first) and the allocation stack of a report."""
    blocks, cur = [], None
    for line in err.splitlines():
        if re.match(r"^\s+#\d+ ", line):
            if cur is None:
                cur = []
                blocks.append(cur)
            cur.append(line.strip())
        else:
            cur = None
    return blocks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before")
    ap.add_argument("--after")
    ap.add_argument("--shadow")
    ap.add_argument("--report")
    ap.add_argument("--words")
    ap.add_argument("--free-frame")
    ap.add_argument("--alloc-frame")
    ap.add_argument("--skip", default="")
    ap.add_argument("--cargo")
    ap.add_argument("--manifest")
    ap.add_argument("--cargo-dir")
    ap.add_argument("lib")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if a.skip:
        skip(a.skip)
    if not cmd:
        fail("no program given")
    other = a.before or a.after
    if other and not soname_found(other):
        skip(f"{other} is not installed (see CF_TEST_PACKAGES in tools/setup.sh)")
    if a.cargo is not None:
        if not a.cargo:
            a.cargo = shutil.which("cargo") or os.path.expanduser("~/.cargo/bin/cargo")
        if not os.path.exists(a.cargo):
            skip("cargo is not installed (rustup, or apt-get install cargo): the Rust program "
                 "cannot be built")
        cargo_build(a.cargo, a.manifest, a.cargo_dir, cmd[0])

    native = run(cmd, other)
    if native[2] != 0 and a.report is None:
        fail(f"the native run ({'LD_PRELOAD=' + other + ' ' if other else ''}"
             f"{' '.join(cmd)}) ended with {status(native[2])}", native)
    preload = f"{a.before}:{a.lib}" if a.before else f"{a.lib}:{a.after}" if a.after else a.lib
    out = run(cmd, preload)
    print(f"LD_PRELOAD={preload} {' '.join(cmd)}: {status(out[2])}")
    lines = out[1].splitlines()
    mine = [l for l in lines if re.match(r"^==\d+==", l)]
    shadow = [l for l in lines if SHADOW.match(l)]
    for l in shadow:
        print(l)
    if a.shadow:
        if len(shadow) != 1:
            fail(f"expected one start-up line about another allocator, got {len(shadow)}", out)
        if not re.search(a.shadow, shadow[0]):
            fail(f"the start-up line does not match /{a.shadow}/", out)
    elif shadow:
        fail("crossfree said another allocator shadows its malloc, but none does", out)

    if a.report is None:
        others = [l for l in mine if l not in shadow]
        if others:
            fail(f"crossfree printed more than its start-up line: {others[0]}", out)
        if out[2] != native[2]:
            fail(f"{status(out[2])} under crossfree, {status(native[2])} natively", out)
        if out[0] != native[0]:
            fail("stdout differs from the native run's", out)
        print(f"same stdout and status as natively ({status(native[2])})")
        return EXIT_PASS

    if out[2] != -signal.SIGABRT:
        fail(f"expected a report and SIGABRT, got {status(out[2])}", out)
    errors = [l for l in lines if re.match(r"^==\d+==ERROR: crossfree: ", l)]
    if len(errors) != 1 or f"crossfree: {a.report} on address" not in errors[0]:
        fail(f"expected one {a.report} report, got {errors}", out)
    i = lines.index(errors[0])
    if a.words and (i + 1 >= len(lines) or lines[i + 1] != a.words):
        fail(f"the report's second line is not '{a.words}'", out)
    st = stacks(out[1])
    if len(st) < 2:
        fail("the report lacks a deallocation or an allocation stack", out)
    if a.free_frame and not frame_re(a.free_frame).search(st[0][0]):
        fail(f"deallocation frame #0 is not {a.free_frame}: {st[0][0]}", out)
    if a.alloc_frame and not any(frame_re(a.alloc_frame).search(f) for f in st[1]):
        fail(f"no allocation frame is {a.alloc_frame}", out)
    print(errors[0])
    return EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
