#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Rust names outside the live report: the Rust-via-Python mismatch
# (ffi_rust.py) logged with symbolize=0, then `crossfree symbolize` on the
# text and JSON logs, and `crossfree report` in every format on a
# symbolized JSON log, must all show the Rust frames demangled, with
# either mangling. Exits 0 pass, 1 fail, 77 when rustc built no library.
"""Usage: rust_cli.py CROSSFREE LIBCROSSFREE PYTHON SCRIPT LIBBUFFERS LIBRSFREE LIBRSFREE_V0"""
import glob
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

crossfree, lib, python, script, buffers, rs_legacy, rs_v0 = sys.argv[1:8]
if not (os.path.exists(rs_legacy) and os.path.exists(rs_v0)):
    print("SKIP: rustc is not installed (rustup: https://rustup.rs, or apt-get install rustc)")
    sys.exit(77)

failures = []
tmp = tempfile.mkdtemp(prefix="cf-rust-cli-")
MANGLED = re.compile(r"\$LT\$|\$u7b\$|\$u20\$|::h[0-9a-f]{16}\b|\b_ZN\d|\b_R[A-Z]")
WANT = {
    "legacy": ["<rsfree::Buffer as core::ops::drop::Drop>::drop", "rsfree::consume::{{closure}}",
               "rsfree::consume"],
    "v0": ["<rsfree::Buffer as core::ops::drop::Drop>::drop", "rsfree::consume::{closure#0}",
           "core::ptr::drop_in_place::<rsfree::Buffer>"],
}


def check(ok, what, text=""):
    if not ok:
        failures.append(f"{what}\n{text[-3000:]}")


def logged(mangling, rs, fmt):
    d = os.path.join(tmp, f"{mangling}-{fmt}")
    os.makedirs(d)
    env = dict(os.environ, LD_PRELOAD=lib,
               CROSSFREE_OPTIONS=f"symbolize=0:halt_on_error=0:report_format={fmt}:"
                                 f"log_path={d}/cf")
    mode = "legacy-new" if mangling == "legacy" else "v0-new"
    p = subprocess.run([python, script, mode, buffers, rs], env=env, capture_output=True,
                       text=True, timeout=60)
    logs = glob.glob(os.path.join(d, "cf.*"))
    check(p.returncode == 23 and len(logs) == 1,
          f"{mangling} {fmt}: exit {p.returncode}, logs {logs}", p.stderr)
    return logs[0] if logs else None


def names_ok(text, mangling, what):
    for name in WANT[mangling]:
        check(name in text, f"{what}: no '{name}'", text)
    bad = [l for l in text.splitlines() if MANGLED.search(l)]
    check(not bad, f"{what}: names left mangled: {bad[:3]}", text)


for mangling, rs in (("legacy", rs_legacy), ("v0", rs_v0)):
    for fmt in ("text", "json"):
        log = logged(mangling, rs, fmt)
        if log is None:
            continue
        with open(log) as f:
            raw = f.read()
        check("<rsfree::Buffer" not in raw, f"{mangling} {fmt}: the log was symbolized already",
              raw)
        p = subprocess.run([crossfree, "symbolize", "-i", log], capture_output=True, text=True)
        check(p.returncode == 0, f"{mangling} {fmt}: crossfree symbolize exit {p.returncode}",
              p.stderr)
        with open(log) as f:
            names_ok(f.read(), mangling, f"{mangling} {fmt}: crossfree symbolize")
        if fmt != "json":
            continue
        for out in ("text", "junit", "sarif", "github"):
            p = subprocess.run([crossfree, "report", "--format", out, log], capture_output=True,
                               text=True)
            check(p.returncode == 1, f"{mangling}: crossfree report --format {out} exit "
                  f"{p.returncode}", p.stderr)
            text = html.unescape(p.stdout) if out == "junit" else p.stdout
            # Every format names the freeing function (the SUMMARY frame).
            check("<rsfree::Buffer as core::ops::drop::Drop>::drop" in text,
                  f"{mangling}: crossfree report --format {out} lacks the Rust frame", p.stdout)
            bad = [l for l in text.splitlines() if MANGLED.search(l)]
            check(not bad, f"{mangling}: report --format {out}: names left mangled: {bad[:3]}",
                  p.stdout)

shutil.rmtree(tmp, ignore_errors=True)
for f in failures:
    print("FAIL:", f)
print("ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
