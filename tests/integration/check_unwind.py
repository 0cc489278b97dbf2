#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks crossfree's cached DWARF unwinder (fast_unwind) against libunwind on
# one run of a program. Standard library only; exits 0 pass, 1 fail, 77 skip.
"""Usage:
  check_unwind.py [flags] LIB PROGRAM [-- ARGS...]
      Runs PROGRAM with LIB preloaded and
      CROSSFREE_OPTIONS=fast_unwind=2:verbosity=1:malloc_context_size=64
      (plus --options), where crossfree takes every stack with both
      unwinders. Passes when the program exits 0, no `stacks differ` line
      was written, every process's exit line says `0 differences from
      libunwind`, and the unwinder's counters are as the flags ask.
      With --fast-unwind 1 it runs fast_unwind=1 instead: nothing is
      compared, the exit line has no differences count, and only the
      counters are checked (for stacks libunwind is known to get wrong).
  check_unwind.py --compare [flags] LIB PROGRAM [-- ARGS...]
      Runs PROGRAM, which must end with one alloc-dealloc-mismatch report,
      with fast_unwind=1, fast_unwind=0 and fast_unwind=2 (halt_on_error=1):
      the allocation and deallocation stacks must name the same frames in
      the same order every time, and start with --alloc-frames. --modes
      picks other fast_unwind values (e.g. `1` alone where libunwind is
      known to be wrong).
  check_unwind.py --self-test

The counters come from the exit line of verbosity=1:
  ==PID==crossfree: at exit: unwinder: C chains and R rules computed,
  F stacks left to libunwind, D differences from libunwind

In a cross build (meson sets MESON_EXE_WRAPPER, e.g. qemu-aarch64) the
program runs under the wrapper (preload.py). qemu-user runs the guest in
its own process, so the pid Popen returns is the one crossfree prints in
its exit line, RLIMIT_CORE=0 also keeps qemu from writing the guest's core,
and a guest killed by SIGABRT ends qemu with SIGABRT too. Emulation is
10-60 times slower: meson.build divides the iteration counts there.
"""

import argparse
import os
import re
import resource
import shlex
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402  (report parsing shared with the integration runner)

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
BASE_OPTIONS = "fast_unwind=2:verbosity=1:malloc_context_size=64"

EXIT_LINE_RE = re.compile(
    r"^==(\d+)==crossfree: at exit: unwinder: (\d+) chains and (\d+) rules computed, "
    r"(\d+) stacks left to libunwind(?:, (\d+) differences from libunwind)?$")
DIFFER_RE = re.compile(r"crossfree: fast_unwind=2: stacks differ")
CHECKING_RE = re.compile(r"^==(\d+)==crossfree: checking this process")
ERROR_RE = re.compile(r"^==\d+==ERROR: crossfree: ")
ITER_RE = re.compile(r"^scenario (\S+): (\d+) iterations$")


class ExitLine:
    def __init__(self, m):
        self.pid = int(m.group(1))
        self.chains, self.rules, self.fallbacks = (int(m.group(i)) for i in (2, 3, 4))
        self.differences = None if m.group(5) is None else int(m.group(5))

    def __repr__(self):
        return (f"pid {self.pid}: {self.chains} chains, {self.rules} rules, "
                f"{self.fallbacks} fallbacks, {self.differences} differences")


def exit_lines(err):
    return [ExitLine(m) for m in map(EXIT_LINE_RE.match, err.splitlines()) if m]


def differ_lines(err):
    return [l for l in err.splitlines() if DIFFER_RE.search(l)]


def unwinder_failures(err, need_pids=(), label="run", compared=True):
    """What is wrong with the unwinder's own output in one run's stderr:
    a `stacks differ` line, a process whose exit line counts a difference
    or lacks the count (compared: fast_unwind=2; with fast_unwind=1 there
    is no count), or (for need_pids) a process without exit line."""
    bad = []
    diffs = differ_lines(err)
    if diffs:
        bad.append(f"{label}: {len(diffs)} `stacks differ` line(s); the first: {diffs[0][:600]}")
    lines = exit_lines(err)
    if not lines:
        bad.append(f"{label}: no `at exit: unwinder:` line (verbosity=1 and fast_unwind "
                   "should print one per process)")
    for l in lines:
        if l.differences is None and not compared:
            continue
        if l.differences is None:
            bad.append(f"{label}: the exit line of pid {l.pid} has no differences count")
        elif l.differences != 0:
            bad.append(f"{label}: pid {l.pid} counted {l.differences} differences from libunwind")
    have = {l.pid for l in lines}
    for pid in need_pids:
        if pid not in have:
            bad.append(f"{label}: no `at exit: unwinder:` line from pid {pid}")
    return bad


def child_setup():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()


def run_child(lib, cmd, options, timeout):
    env = dict(os.environ)
    env["CROSSFREE_OPTIONS"] = options
    proc = subprocess.Popen(runner.preload.command(cmd, env, lib), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            stdin=subprocess.DEVNULL, preexec_fn=child_setup)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n[check_unwind: killed after {timeout} s]".encode()
        return proc.pid, None, out.decode(errors="replace"), err.decode(errors="replace")
    return proc.pid, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def status_name(st):
    return runner.status_name(st)


def show(label, out, err):
    print(f"---- {label}: stdout ----")
    print(out.rstrip("\n"))
    print(f"---- {label}: stderr (first 60 lines) ----")
    lines = err.splitlines()
    print("\n".join(lines[:60]))
    if len(lines) > 60:
        print(f"[... {len(lines) - 60} more lines]")


# ---------------------------------------------------------------------------
# Default mode: one run with fast_unwind=2


def counter_failures(lines, iterations, fallbacks, max_chain_ratio, max_rule_ratio):
    bad = []
    total = ExitLine.__new__(ExitLine)
    total.chains = sum(l.chains for l in lines)
    total.rules = sum(l.rules for l in lines)
    total.fallbacks = sum(l.fallbacks for l in lines)
    if fallbacks == "yes" and total.fallbacks == 0:
        bad.append("no stack was left to libunwind, yet this scenario has frames the fast "
                   "unwinder must give up on (signal frames, a CFA expression): did the "
                   "compiler stop emitting them, or does the unwinder no longer give up?")
    if fallbacks == "no" and total.fallbacks != 0:
        bad.append(f"{total.fallbacks} stacks were left to libunwind; none should be")
    if iterations is not None:
        if max_chain_ratio is not None and total.chains > iterations * max_chain_ratio:
            bad.append(f"{total.chains} chains computed for {iterations} iterations (allowed: "
                       f"{max_chain_ratio:g} per iteration): the chain cache does not hit")
        if max_rule_ratio is not None and total.rules > iterations * max_rule_ratio:
            bad.append(f"{total.rules} rules computed for {iterations} iterations (allowed: "
                       f"{max_rule_ratio:g} per iteration): the rule cache does not hit")
    return bad


def check_one(args, lib, cmd):
    options = (BASE_OPTIONS.replace("fast_unwind=2", f"fast_unwind={args.fast_unwind}")
               + (":" + args.options if args.options else ""))
    pid, st, out, err = run_child(lib, cmd, options, args.timeout)
    bad = []
    if st != 0:
        bad.append(f"exit status {status_name(st)}, expected exit 0")
    if st == EXIT_SKIP and args.skip_exit:
        print(f"SKIP: {shlex.join(cmd)} exited 77")
        show("run", out, err)
        return EXIT_SKIP
    errors = [l for l in err.splitlines() if ERROR_RE.match(l)]
    if errors:
        bad.append(f"crossfree reported an error: {errors[0]}")
    bad += unwinder_failures(err, need_pids=[pid], compared=args.fast_unwind == 2)
    iterations = None
    for l in out.splitlines():
        m = ITER_RE.match(l)
        if m:
            iterations = int(m.group(2))
    if args.iterations_line and iterations is None:
        bad.append("no `scenario NAME: N iterations` line on stdout")
    for want in args.stdout_line:
        if want not in out.splitlines():
            bad.append(f"stdout has no line `{want}`")
    lines = [l for l in exit_lines(err) if l.pid == pid] or exit_lines(err)
    bad += counter_failures(lines, iterations, args.fallbacks, args.max_chain_ratio,
                            args.max_rule_ratio)
    line = f"CROSSFREE_OPTIONS={options} LD_PRELOAD={lib} {shlex.join(cmd)}"
    counters = "; ".join(repr(l) for l in exit_lines(err))
    if not bad:
        print(f"PASS: {line}")
        print(f"  iterations: {iterations}; {counters}")
        return EXIT_PASS
    print(f"FAIL: {line}")
    for b in bad:
        print(f"  - {b}")
    print(f"  iterations: {iterations}; {counters}")
    show("run", out, err)
    return EXIT_FAIL


# ---------------------------------------------------------------------------
# --compare: the same report with each unwinder


def frame_name(f):
    """A frame without its address: the function (arguments included), or
    module+offset when it has no name. Both are the same in every run."""
    if f.func:
        return f.func
    if f.module:
        return f"{os.path.basename(f.module)}+{hex(f.offset or 0)}"
    return "?"


def short_name(name):
    """`mm_inner(unsigned long)` -> `mm_inner`, `unsigned long f<1>(int)`
    (a template's return type is printed) -> `f<1>`, `lib_b_alloc+0xa` (a
    symbol without debug information) -> `lib_b_alloc`."""
    head = re.sub(r"\+0x[0-9a-f]+$", "", name.split("(", 1)[0].strip())
    cut = len(head)  # where the trailing template arguments start
    if head.endswith(">"):
        depth = 0
        for i in range(len(head) - 1, -1, -1):
            depth += {">": 1, "<": -1}.get(head[i], 0)
            if depth == 0:
                cut = i
                break
    m = re.search(r"[\w:~.]+$", head[:cut])
    return (m.group(0) if m else head[:cut]) + head[cut:]


def compare_failures(runs, alloc_prefix, free_prefix):
    """runs: [(label, status, out, err)]; every run must hold exactly one
    alloc-dealloc-mismatch report and all must agree frame by frame."""
    bad = []
    stacks = {}
    for label, st, out, err in runs:
        if st != -signal.SIGABRT:
            bad.append(f"{label}: exit status {status_name(st)}, expected SIGABRT "
                       "(halt_on_error=1)")
        reports = runner.split_reports(err)
        if len(reports) != 1 or reports[0].kind != "alloc-dealloc-mismatch":
            kinds = [r.kind for r in reports]
            bad.append(f"{label}: expected one alloc-dealloc-mismatch report, got {kinds}")
            continue
        rep = reports[0]
        stacks[label] = {k: [frame_name(f) for f in rep.stacks.get(k, [])]
                         for k in ("alloc", "free")}
        for kind, prefix in (("alloc", alloc_prefix), ("free", free_prefix)):
            got = [short_name(n) for n in stacks[label][kind][:len(prefix)]]
            if got != prefix:
                bad.append(f"{label}: the {kind} stack starts {got}, expected {prefix}; "
                           f"whole stack: {stacks[label][kind]}")
    labels = list(stacks)
    for other in labels[1:]:
        for kind in ("alloc", "free"):
            a, b = stacks[labels[0]][kind], stacks[other][kind]
            if a != b:
                bad.append(f"the {kind} stacks differ between {labels[0]} and {other}:\n"
                           f"      {labels[0]}: {a}\n      {other}: {b}")
    return bad, stacks


def check_compare(args, lib, cmd):
    runs = []
    for mode in args.modes:
        options = (f"fast_unwind={mode}:malloc_context_size=64:halt_on_error=1"
                   + (":" + args.options if args.options else ""))
        pid, st, out, err = run_child(lib, cmd, options, args.timeout)
        runs.append((f"fast_unwind={mode}", st, out, err))
    bad, stacks = compare_failures(runs, args.alloc_frames, args.free_frames)
    # A fast_unwind=2 run also compared every stack it took on the way.
    diffs = [d for label, st, out, err in runs if label == "fast_unwind=2"
             for d in differ_lines(err)]
    if diffs:
        bad.append(f"fast_unwind=2: {len(diffs)} `stacks differ` line(s); the first: "
                   f"{diffs[0][:600]}")
    line = f"LD_PRELOAD={lib} {shlex.join(cmd)}"
    if not bad:
        modes = ", ".join(str(m) for m in args.modes)
        print(f"PASS: {line} (fast_unwind={modes} agree)")
        for kind in ("alloc", "free"):
            print(f"  {kind} stack: {stacks[runs[0][0]][kind]}")
        return EXIT_PASS
    print(f"FAIL: {line}")
    for b in bad:
        print(f"  - {b}")
    for label, st, out, err in runs:
        show(label, out, err)
    return EXIT_FAIL


# ---------------------------------------------------------------------------
# Self test: the checks must reject what they are there to catch.

CANNED_OK = """\
==100==crossfree: checking this process
==100==crossfree: at exit: 3 records in 4096 slots
==100==crossfree: at exit: unwinder: 12 chains and 40 rules computed, 7 stacks left to libunwind, 0 differences from libunwind
"""

CANNED_REPORT = """\
==200==ERROR: crossfree: alloc-dealloc-mismatch on address 0x5555555592a0 in thread T0
allocated by operator new[], freed by free()
    #0 0x55555555521c in main /abs/m.cc:12 (/abs/m+0x121c)
    #1 0x7ffff7829d8f in __libc_start_call_main x.h:58 (/lib/libc.so.6+0x271ca)
0x5555555592a0 is a 48-byte region allocated by operator new[] in thread T0 here:
    #0 0x7ffff7fb9139 in inner(unsigned long) /abs/m.cc:8 (/abs/m+0x1139)
    #1 0x7ffff7fb9200 (/abs/libopt.so+0x1200)
    #2 0x555555555200 in main /abs/m.cc:10 (/abs/m+0x1200)
SUMMARY: crossfree: alloc-dealloc-mismatch /abs/m.cc:12 in main
"""


def self_test():
    ok = True

    def expect(cond, what):
        nonlocal ok
        if not cond:
            ok = False
            print(f"self-test: {what}")

    expect(unwinder_failures(CANNED_OK, need_pids=[100]) == [], "a clean exit line failed")
    expect(unwinder_failures(CANNED_OK, need_pids=[101]),
           "a process without exit line passed")
    expect(unwinder_failures(CANNED_OK.replace(", 0 differences", ", 2 differences")),
           "an exit line counting differences passed")
    expect(unwinder_failures(CANNED_OK.replace(", 0 differences from libunwind", "")),
           "an exit line without the differences count passed")
    expect(unwinder_failures(CANNED_OK + "crossfree: fast_unwind=2: stacks differ; fast: 0x1; "
                             "libunwind: 0x2\n"), "a `stacks differ` line passed")
    expect(unwinder_failures("hello\n"), "a run without exit line passed")
    no_count = CANNED_OK.replace(", 0 differences from libunwind", "")
    expect(unwinder_failures(no_count, need_pids=[100], compared=False) == [],
           "a fast_unwind=1 exit line (no differences count) failed")
    expect(unwinder_failures(CANNED_OK.replace(", 0 diff", ", 3 diff"), compared=False),
           "fast_unwind=1: an exit line counting differences passed")
    expect(unwinder_failures("hello\n", compared=False),
           "fast_unwind=1: a run without exit line passed")
    two = CANNED_OK + CANNED_OK.replace("==100==", "==101==").replace(", 0 diff", ", 1 diff")
    expect(unwinder_failures(two, need_pids=[100]),
           "a second process counting differences passed")
    lines = exit_lines(CANNED_OK)
    expect(counter_failures(lines, 1000, "yes", 0.1, 0.1) == [], "good counters failed")
    expect(counter_failures(lines, 1000, "no", None, None), "fallbacks=no passed with 7")
    expect(counter_failures(exit_lines(CANNED_OK.replace(" 7 stacks", " 0 stacks")), 1000,
                            "yes", None, None), "fallbacks=yes passed with 0")
    expect(counter_failures(lines, 100, "any", 0.1, None), "12 chains for 100 iterations passed")
    expect(counter_failures(lines, 100, "any", None, 0.1), "40 rules for 100 iterations passed")

    abrt = -signal.SIGABRT
    same = [("a", abrt, "", CANNED_REPORT), ("b", abrt, "", CANNED_REPORT)]
    bad, _ = compare_failures(same, ["inner", "libopt.so", "main"], ["main"])
    expect(bad == [], f"identical reports failed: {bad}")
    missing = CANNED_REPORT.replace("    #1 0x7ffff7fb9200 (/abs/libopt.so+0x1200)\n", "")
    bad, _ = compare_failures([("a", abrt, "", CANNED_REPORT), ("b", abrt, "", missing)], [], [])
    expect(bad, "reports with a frame missing in one passed")
    for full, short in (("mm_inner(unsigned long)", "mm_inner"), ("lib_b_alloc+0xa", "lib_b_alloc"),
                        ("unsigned long collide_caller<1>(int, unsigned long)",
                         "collide_caller<1>"), ("std::pair<int, int> f<2>()", "f<2>"),
                        ("main", "main"), ("libx.so+0x1200", "libx.so")):
        expect(short_name(full) == short, f"short_name({full!r}) is {short_name(full)!r}")
    bad, _ = compare_failures(same, ["inner", "main"], [])
    expect(bad, "a wrong expected allocation prefix passed")
    bad, _ = compare_failures([("a", 0, "", CANNED_REPORT)], [], [])
    expect(bad, "a run that did not abort passed")
    bad, _ = compare_failures([("a", abrt, "", "no report\n")], [], [])
    expect(bad, "a run without report passed")
    print("self-test:", "PASS" if ok else "FAIL")
    return EXIT_PASS if ok else EXIT_FAIL


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--compare", action="store_true", help="the report-comparison mode")
    ap.add_argument("--options", help="more CROSSFREE_OPTIONS, appended")
    ap.add_argument("--fallbacks", choices=("yes", "no", "any"), default="any",
                    help="yes: some stack must go to libunwind; no: none may")
    ap.add_argument("--max-chain-ratio", type=float,
                    help="chains computed per iteration, at most")
    ap.add_argument("--max-rule-ratio", type=float, help="rules computed per iteration, at most")
    ap.add_argument("--stdout-line", action="append", default=[],
                    help="a line stdout must hold")
    ap.add_argument("--no-iterations-line", dest="iterations_line", action="store_false",
                    help="the program prints no `scenario NAME: N iterations` line")
    ap.add_argument("--skip-exit", action="store_true", help="exit 77 from the program skips")
    ap.add_argument("--alloc-frames", default="",
                    help="--compare: comma-separated functions the allocation stack starts with")
    ap.add_argument("--free-frames", default="",
                    help="--compare: the same for the deallocation stack")
    ap.add_argument("--fast-unwind", type=int, choices=(1, 2), default=2,
                    help="the fast_unwind value of the default mode (1: compare nothing)")
    ap.add_argument("--modes", default="1,0,2",
                    help="--compare: the fast_unwind values to run, in order")
    ap.add_argument("--timeout", type=float, default=240.0)
    ap.add_argument("lib", nargs="?")
    ap.add_argument("program", nargs="?")
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.lib or not args.program:
        ap.error("need LIB and PROGRAM")
    for p in (args.lib, args.program):
        if not os.path.exists(p):
            print(f"check_unwind: {p} does not exist")
            return EXIT_FAIL
    args.alloc_frames = [f for f in args.alloc_frames.split(",") if f]
    args.free_frames = [f for f in args.free_frames.split(",") if f]
    try:
        args.modes = [int(m) for m in args.modes.split(",")]
    except ValueError:
        ap.error("--modes takes comma-separated numbers, e.g. 1,0,2")
    if not args.modes or any(m not in (0, 1, 2) for m in args.modes):
        ap.error("--modes takes fast_unwind values 0, 1 and 2")
    lib = os.path.abspath(args.lib)
    cmd = [os.path.abspath(args.program)] + extra
    if args.compare:
        return check_compare(args, lib, cmd)
    return check_one(args, lib, cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
