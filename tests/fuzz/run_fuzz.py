#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs one libFuzzer target for a fixed time from its seed corpus.

usage: run_fuzz.py TARGET SEED_DIR WORK_DIR SECONDS

New inputs libFuzzer finds go to WORK_DIR (kept between runs, so longer
runs build on shorter ones); the seeds in the repository are only read.
CF_FUZZ_SECONDS overrides SECONDS (the long run of docs/reliability.md).
Prints one line of figures; on a crash, the input that crashed (saved in
WORK_DIR/../../artifacts/TARGET, its
output in WORK_DIR/../../TARGET.log) and the end of the fuzzer's output, and fails.
"""
import os
import re
import subprocess
import sys
import time


def main():
    target, seeds, work, seconds = sys.argv[1:5]
    seconds = int(os.environ.get("CF_FUZZ_SECONDS", seconds))
    name = os.path.basename(target)
    top = os.path.dirname(os.path.dirname(os.path.abspath(work)))
    artifacts = os.path.join(top, "artifacts", name)
    os.makedirs(work, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    log_path = os.path.join(top, name + ".log")
    cmd = [target, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
           "-max_len=65536", "-print_final_stats=1",
           f"-artifact_prefix={os.path.abspath(artifacts)}/", work, seeds]
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:allocator_may_return_null=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    start = time.monotonic()
    with open(log_path, "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env).returncode
    took = time.monotonic() - start
    with open(log_path, errors="replace") as f:
        out = f.read()
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    corpus = re.findall(r"(?:cov|ft): \d+.*?corp: (\d+)/", out)
    seeds_n = len([n for n in os.listdir(seeds) if not n.startswith(".")])
    print(f"{name}: {runs.group(1) if runs else '?'} inputs in {took:.0f} s, "
          f"{seeds_n} seeds, corpus {corpus[-1] if corpus else '?'}, exit {rc}")
    if rc != 0:
        crashes = [os.path.join(artifacts, n) for n in sorted(os.listdir(artifacts))]
        print(f"{name}: FAILED; inputs kept: {' '.join(crashes) or 'none'}")
        print("".join(out.splitlines(keepends=True)[-80:]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
