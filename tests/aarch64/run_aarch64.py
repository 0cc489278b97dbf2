#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The aarch64 suite, driven from the native build: cross-builds this source
# tree for aarch64 Linux once (cross/aarch64-linux-gnu.txt, in WORK/build,
# shared by every case under a lock; ninja brings it up to date each time)
# and runs one suite of that build with its own `meson test`, where every
# program runs under qemu-user (the cross file's exe_wrapper; runner.py puts
# LD_PRELOAD in the guest's environment alone). Prints the cross build's
# test log; exits 0 pass, 1 fail, 77 skip (no cross compiler, qemu or arm64
# libraries: tools/setup.sh's cf_setup_aarch64 installs them).
"""Usage: run_aarch64.py --source-root DIR --work DIR --meson MESON
                      --suite SUITE [--no-suite SUITE]... [-- TESTNAME...]"""

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
TRIPLET = "aarch64-linux-gnu"
PKGDIR = f"/usr/lib/{TRIPLET}/pkgconfig"


def missing_tools():
    need = []
    for tool in (f"{TRIPLET}-gcc", f"{TRIPLET}-g++", "qemu-aarch64", "pkg-config"):
        if not shutil.which(tool):
            need.append(tool)
    for pc in ("libunwind", "libdw", "cmocka"):
        if not os.path.exists(f"{PKGDIR}/{pc}.pc"):
            need.append(f"{PKGDIR}/{pc}.pc")
    # qemu-aarch64 runs without -L: the arm64 loader comes from libc6:arm64.
    if not os.path.exists(f"/lib/ld-linux-aarch64.so.1"):
        need.append("/lib/ld-linux-aarch64.so.1 (libc6:arm64)")
    return need


class Lock:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.f = open(self.path, "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def run(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    return p.returncode, p.stdout


def build(args):
    """Configures (once) and builds the cross tree; None or an error text."""
    build_dir = os.path.join(args.work, "build")
    os.makedirs(args.work, exist_ok=True)
    with Lock(os.path.join(args.work, "build.lock")):
        if not os.path.exists(os.path.join(build_dir, "build.ninja")):
            cross = os.path.join(args.source_root, "cross", f"{TRIPLET}.txt")
            rc, out = run([args.meson, "setup", "--cross-file", cross, build_dir,
                           args.source_root])
            if rc != 0:
                shutil.rmtree(build_dir, ignore_errors=True)
                return "meson setup failed:\n" + out
        rc, out = run(["ninja", "-C", build_dir])
        if rc != 0:
            return "ninja failed:\n" + out[-20000:]
    return None


def summary(log_path):
    counts = {}
    with open(log_path) as f:
        for line in f:
            r = json.loads(line)
            counts.setdefault(r["result"], []).append(r["name"])
    return counts


def main(argv):
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--meson", required=True)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--no-suite", action="append", default=[])
    ap.add_argument("--processes", default="2")
    args = ap.parse_args(argv)

    need = missing_tools()
    if need:
        print("SKIP: the aarch64 cross build needs " + ", ".join(need) +
              " (tools/setup.sh: cf_setup_aarch64)")
        return EXIT_SKIP
    err = build(args)
    if err:
        print("FAIL: " + err)
        return EXIT_FAIL

    build_dir = os.path.join(args.work, "build")
    # Each suite keeps its own log: cases run in parallel from the native build.
    logbase = "aarch64-" + args.suite
    cmd = [args.meson, "test", "-C", build_dir, "--no-rebuild", "--print-errorlogs",
           "--num-processes", args.processes, "--suite", args.suite, "--logbase", logbase]
    for s in args.no_suite:
        cmd += ["--no-suite", s]
    cmd += extra
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("MESON_EXE_WRAPPER", None)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print("+ " + " ".join(cmd))
    print(p.stdout)
    log = os.path.join(build_dir, "meson-logs", logbase + ".json")
    if os.path.exists(log):
        counts = summary(log)
        print("aarch64 %s: %s" % (args.suite, ", ".join(
            f"{len(v)} {k.lower()}" for k, v in sorted(counts.items()))))
        ok = {"OK", "EXPECTEDFAIL", "SKIP"}
        if p.returncode == 0 and not any(k not in ok for k in counts) and "OK" in counts:
            return EXIT_PASS
        return EXIT_FAIL
    return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
