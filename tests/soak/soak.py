#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The soak test: soak.c's load under crossfree for SECONDS, with a watchdog.

usage: soak.py SOAK PLUGIN LIBCROSSFREE SECONDS

Runs `soak child` natively for the output every exec'd child must match,
then the load with libcrossfree.so preloaded. Fails on any crossfree
report, a non-zero exit (a child's output differed from native, RSS grew
after warm-up, the in-process watchdog fired), or no end within SECONDS +
180 s (a hang). Prints soak.c's one-line figures. CF_SOAK_SECONDS
overrides SECONDS (docs/reliability.md: the hour-long run).
"""
import os
import subprocess
import sys


def main():
    soak, plugin, lib, seconds = sys.argv[1:5]
    seconds = int(os.environ.get("CF_SOAK_SECONDS", seconds))
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("CROSSFREE_OPTIONS", None)
    expected = subprocess.run([soak, "child"], env=env, capture_output=True, text=True,
                              check=True).stdout
    env["LD_PRELOAD"] = lib
    try:
        p = subprocess.run([soak, str(seconds), plugin, expected], env=env, capture_output=True,
                           text=True, errors="replace", timeout=seconds + 180)
    except subprocess.TimeoutExpired:
        print(f"FAIL: the soak did not end within {seconds + 180} s (a hang)")
        return 1
    print(p.stdout, end="")
    bad = []
    if "ERROR: crossfree" in p.stderr:
        bad.append("crossfree reported an error")
    if p.returncode != 0:
        bad.append(f"exit status {p.returncode}")
    if bad:
        print("FAIL: " + "; ".join(bad))
        print(p.stderr[-5000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
