#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The emulated benchmark of docs/performance.md: each workload of an aarch64
# cross build (cross/aarch64-linux-gnu.txt) under qemu-aarch64, natively and
# with libcrossfree.so preloaded, in alternating runs; prints the median CPU
# time (user + system, of qemu and the guest it runs: wall time on a shared
# machine is mostly waiting for a core) of each and their ratio as a
# Markdown table. The ratio is to
# native-under-qemu: qemu's own cost is in both columns, so it is not the
# ratio on hardware (emulated code runs ~10-60x slower, and unevenly).
"""Usage: bench_qemu.py CROSS_BUILD_DIR [--runs N] [--options CROSSFREE_OPTIONS]"""

import argparse
import os
import resource
import statistics
import subprocess

WORKLOADS = {
    "malloc_loop": ["tests/bench/bench_malloc_loop", "1", "0.02"],
    "cpp_churn": ["tests/bench/bench_cpp_churn", "0.05"],
}


def once(build, argv, lib, options):
    cmd = ["qemu-aarch64"]
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("CROSSFREE_OPTIONS", None)
    if lib:
        cmd += ["-E", f"LD_PRELOAD={lib}"]
        if options:
            env["CROSSFREE_OPTIONS"] = options
    cmd += [os.path.join(build, argv[0])] + argv[1:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-2000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return cpu, p.stdout


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--options", default="")
    args = ap.parse_args()
    lib = os.path.abspath(os.path.join(args.build, "src", "libcrossfree.so"))
    print("| workload (qemu-aarch64, emulated) | native | crossfree | ratio |")
    print("|---|---|---|---|")
    for name, argv in WORKLOADS.items():
        native, cf = [], []
        for _ in range(args.runs):
            dt, out_n = once(args.build, argv, None, None)
            native.append(dt)
            dt, out_c = once(args.build, argv, lib, args.options)
            cf.append(dt)
            if out_n != out_c:
                raise SystemExit(f"{name}: outputs differ:\n{out_n}\n{out_c}")
        n, c = statistics.median(native), statistics.median(cf)
        print(f"| {name} {' '.join(argv[1:])} | {n:.2f} s | {c:.2f} s | {c / n:.2f}x |")


if __name__ == "__main__":
    main()
