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
# The python3.11 workload is Debian's arm64 interpreter running
# real_workload.py (tests/aarch64/real_programs.py runs it too), from the
# directory tools/setup.sh's cf_fetch_arm64_programs unpacks it into; left
# out, with a note on stderr, when that is not there.
"""Usage: bench_qemu.py CROSS_BUILD_DIR [--runs N] [--options CROSSFREE_OPTIONS]
                    [--programs DIR]"""

import argparse
import os
import resource
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (where argv[0] is: "build" or "programs", argv)
WORKLOADS = {
    "malloc_loop": ("build", ["tests/bench/bench_malloc_loop", "1", "0.02"]),
    "cpp_churn": ("build", ["tests/bench/bench_cpp_churn", "0.05"]),
    "python3.11": ("programs", ["usr/bin/python3.11", "-s", "-B",
                                os.path.join(HERE, "real_workload.py"), "4000"]),
}


def programs_root(arg):
    """cf_fetch_arm64_programs's unpacked root (the rule real_programs.py
    and tools/setup.sh share), or None."""
    sys.path.insert(0, HERE)
    from real_programs import programs_dir  # noqa: E402
    root = os.path.join(programs_dir(arg), "root")
    return root if os.path.exists(os.path.join(root, "PACKAGES")) else None


def once(build, root, where, argv, lib, options):
    cmd = ["qemu-aarch64"]
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("CROSSFREE_OPTIONS", None)
    if where == "programs":
        cmd += ["-E", f"LD_LIBRARY_PATH={root}/usr/lib/aarch64-linux-gnu:"
                f"{root}/lib/aarch64-linux-gnu"]
        env["PYTHONHASHSEED"] = "0"
    if lib:
        cmd += ["-E", f"LD_PRELOAD={lib}"]
        if options:
            env["CROSSFREE_OPTIONS"] = options
    cmd += [os.path.join(build if where == "build" else root, argv[0])] + argv[1:]
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
    ap.add_argument("--programs", help="cf_fetch_arm64_programs's directory")
    args = ap.parse_args()
    root = programs_root(args.programs)
    lib = os.path.abspath(os.path.join(args.build, "src", "libcrossfree.so"))
    print("| workload (qemu-aarch64, emulated) | native | crossfree | ratio |")
    print("|---|---|---|---|")
    for name, (where, argv) in WORKLOADS.items():
        if where == "programs" and root is None:
            print(f"{name}: left out, the arm64 programs are not unpacked "
                  "(tools/setup.sh: cf_fetch_arm64_programs)", file=sys.stderr)
            continue
        native, cf = [], []
        for _ in range(args.runs):
            dt, out_n = once(args.build, root, where, argv, None, None)
            native.append(dt)
            dt, out_c = once(args.build, root, where, argv, lib, args.options)
            cf.append(dt)
            if out_n != out_c:
                raise SystemExit(f"{name}: outputs differ:\n{out_n}\n{out_c}")
        n, c = statistics.median(native), statistics.median(cf)
        shown = " ".join(os.path.basename(a) for a in argv[1:] if not a.startswith("-"))
        print(f"| {name} {shown} | {n:.2f} s | {c:.2f} s | {c / n:.2f}x |")


if __name__ == "__main__":
    main()
