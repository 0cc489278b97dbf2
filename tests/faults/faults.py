#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fault injection: one real program run with libcrossfree.so preloaded per case.

usage: faults.py CASE LIBCROSSFREE BUILD_DIR

Each case injects one fault (the real allocator fails, crossfree's own
mmap fails, a low RLIMIT_AS, the log unwritable, full or removed, a
thread cancelled during a report, a signal handler allocating inside
crossfree's bookkeeping, the process killed right after a report, the
perf map rewritten while crossfree reads it) and
checks what the program and crossfree did. docs/reliability.md lists them.
"""
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

ERROR = "ERROR: crossfree:"


def run(cmd, preload, options="", env_extra=None, timeout=120, limit_as=None):
    env = dict(os.environ)
    env.pop("CROSSFREE_OPTIONS", None)
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    if options:
        env["CROSSFREE_OPTIONS"] = options
    env.update(env_extra or {})

    def limit():
        if limit_as is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))

    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, errors="replace",
                           timeout=timeout, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(cmd)} did not end within {timeout} s (a deadlock or a hang)")
    return p


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def expect(cond, msg, p=None):
    if not cond:
        if p is not None:
            print(f"--- exit {p.returncode}\n--- stdout\n{p.stdout[-3000:]}\n--- stderr\n{p.stderr[-5000:]}")
        fail(msg)


def no_report(p):
    expect(ERROR not in p.stderr, "crossfree reported an error that is not there", p)


def main():
    case, lib, build = sys.argv[1:4]
    here = build  # the programs are built beside this script's meson.build
    prog = lambda name: os.path.join(here, name)
    failalloc = prog("libfailalloc.so")
    failmmap = prog("libfailmmap.so")

    if case == "oom":
        # The real allocator fails: what the program sees is what it sees natively.
        native = run([prog("oom")], [failalloc])
        expect(native.returncode == 0, "the OOM program fails natively", native)
        under = run([prog("oom")], [lib, failalloc])
        expect(under.returncode == 0, "the OOM program failed under crossfree", under)
        no_report(under)
        expect(under.stdout == native.stdout,
               f"results differ from native:\n{native.stdout}\n--- under crossfree:\n{under.stdout}")
        for line in ("malloc                       NULL errno=ENOMEM", "new                          std::bad_alloc",
                     "new(nothrow)                 returned nullptr", "handler unchanged            yes",
                     "new, handler succeeds        returned ptr handler_calls=3"):
            expect(line in under.stdout, f"missing: {line}", under)
        print(under.stdout, end="")

    elif case == "table-grow":
        p = run([prog("table_grow")], [failmmap, lib])
        expect(p.returncode == 0, "the program did not end normally", p)
        no_report(p)
        n = p.stderr.count("cannot map memory to grow its table")
        expect(n == 1, f"the table's growth failure was said {n} times, not once", p)
        m = re.search(r"(\d+) mmap calls failed", p.stdout)
        expect(m and int(m.group(1)) > 0, "no mmap call of crossfree failed: nothing was tested", p)
        print(p.stdout, end="")

    elif case == "map-at-start":
        native = run([prog("log_faults"), "plain"], [])
        p = run([prog("log_faults"), "plain"], [failmmap, lib], options="verbosity=1",
                env_extra={"FAILMMAP_AT_START": "1"})
        expect(p.returncode == 0 and p.stdout == native.stdout, "the program did not run as natively", p)
        no_report(p)
        expect(p.stderr.count("cannot map memory for its tables; checking is off") == 1,
               "start-up's map failure was not said once", p)
        expect("not checking this process: no memory for its tables" in p.stderr,
               "verbosity=1 gives the wrong reason for not checking", p)
        expect("only=" not in p.stderr, "the note blames only=, which is not set", p)

    elif case == "low-rlimit":
        # From where crossfree's tables do not fit to where they do (below about
        # 5 MB the loader cannot map libcrossfree's own dependencies: exit 127).
        for kb in (6000, 7000, 8000, 12000, 50000):
            native = run([prog("low_memory")], [], limit_as=kb * 1024)
            p = run([prog("low_memory")], [lib], limit_as=kb * 1024)
            expect(p.returncode == 0 or p.returncode == native.returncode,
                   f"RLIMIT_AS {kb} KiB: exit {p.returncode}, natively {native.returncode}", p)
            no_report(p)
            expect(p.returncode != 0 or "low_memory: done" in p.stdout or "no room" in p.stdout,
                   f"RLIMIT_AS {kb} KiB: the program did not finish", p)
            print(f"RLIMIT_AS {kb} KiB: exit {p.returncode}: {p.stdout.strip().splitlines()[-1:]}")

    elif case == "signal-in-bookkeeping":
        # Deterministic: gdb stops the thread inside a quarantine shard's lock
        # (crossfree's bookkeeping, not the real allocator) and delivers
        # SIGUSR1 there; the handler mallocs and frees, whose free goes to
        # the same shard. It must not wait for its own thread.
        gdb = shutil.which("gdb")
        if gdb is None:
            print("SKIP: gdb is not installed")
            sys.exit(77)
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "core",
                           "quarantine.c")
        with open(src) as f:
            line = next(i + 1 for i, l in enumerate(f) if "q->ring[(q->head + q->count) % RING] = *e;" in l)
        script = "\n".join([
            "set pagination off", "set breakpoint pending on", f"set environment LD_PRELOAD={lib}",
            "handle SIGUSR1 nostop noprint pass", "break pthread_create", "run 1 quiet", "delete",
            f"break quarantine.c:{line}", "continue", "delete", "signal SIGUSR1", ""])
        with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
            f.write(script)
        try:
            p = run([gdb, "-q", "-batch", "-x", f.name, prog("signal_malloc")], [], timeout=60)
        finally:
            os.unlink(f.name)
        expect(f"quarantine.c:{line}" in p.stdout, "gdb did not stop inside the shard's lock", p)
        m = re.search(r"signal_malloc: \d+ operations, (\d+) handlers ran", p.stdout)
        expect(m and int(m.group(1)) >= 1, "the handler did not run, or the program did not end", p)
        expect("exited normally" in p.stdout, "the program did not end normally", p)
        no_report(p)
        print(m.group(0))

    elif case == "fork-loader-lock":
        p = run([prog("fork_loader_lock")], [lib], timeout=60)
        expect(p.returncode == 0, "the child forked while the loader's lock was held hung or failed", p)
        no_report(p)
        print(p.stdout, end="")

    elif case == "perf-map-race":
        # A thread rewrites /tmp/perf-PID.map (truncated, garbage and long
        # lines appended, renamed over, deleted) while the main thread makes
        # N mismatched frees from JIT code named in it.
        if platform.machine() != "x86_64":
            print(f"SKIP: the JIT stub is x86_64 code, this is {platform.machine()}")
            sys.exit(77)
        n = 300
        tmp = tempfile.mkdtemp(prefix="cf-faults-")
        try:
            p = run([prog("perf_map_race"), str(n)], [lib],
                    options=f"halt_on_error=0:log_path={os.path.join(tmp, 'cf')}", timeout=150)
            expect(p.returncode == 23, f"exit {p.returncode}, not exitcode (23)", p)
            m = re.search(r"perf_map_race: stub ([0-9a-f]+), (\d+) bad frees, (\d+) rewrites", p.stdout)
            expect(m and int(m.group(2)) == n, "the program did not finish", p)
            stub = int(m.group(1), 16)
            logs = ""
            for name in sorted(os.listdir(tmp)):
                with open(os.path.join(tmp, name), errors="replace") as f:
                    logs += f.read()
            reports = logs.split("SUMMARY: crossfree:")[:-1]
            got = logs.count("SUMMARY: crossfree: alloc-dealloc-mismatch")
            expect(got == n and len(reports) == n, f"{got} reports in the log for {n} bad frees", p)
            named = 0
            for r in reports:
                f0 = re.search(r"^ +#0 (0x[0-9a-f]+)(.*)$", r, re.M)
                expect(f0, f"a report without frame #0:\n{r[-2000:]}", p)
                pc = int(f0.group(1), 16)
                expect(stub <= pc < stub + 11, f"frame #0 is not in the stub:\n{f0.group(0)}", p)
                # "#0 PC in NAME ([jit] PC) [host boundary: JIT code]", or no name.
                shape = re.fullmatch(rf"(?: in (.*))? \(\[jit\] {f0.group(1)}\)(?: \[host boundary: JIT code\])?",
                                     f0.group(2))
                expect(shape, f"frame #0 is not a JIT frame:\n{f0.group(0)}", p)
                expect(shape.group(1) in (None, "jit_stub_free_victim"),
                       f"frame #0 is misnamed:\n{f0.group(0)}", p)
                named += shape.group(1) is not None
            expect(named > 0, "the stub was never named from the map: nothing was tested", p)
            print(f"{n} bad frees, {got} reports, {named} named from the map, {n - named} [jit] only, "
                  f"{m.group(3)} rewrites of the map")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    elif case == "cancel":
        p = run([prog("cancel")], [lib], options="halt_on_error=0", timeout=60)
        expect(p.returncode == 23, "exit status is not exitcode (23)", p)
        expect("cancel: worker cancelled" in p.stdout, "the worker was not cancelled after its report", p)
        expect("cancel: done" in p.stdout, "the program did not finish", p)
        for f in ("cancelled_thread_mismatch", "main_thread_mismatch"):
            expect(re.search(rf"SUMMARY: crossfree: alloc-dealloc-mismatch .* in {f}", p.stderr),
                   f"no whole report from {f}", p)

    elif case.startswith("log-") or case.startswith("lost-"):
        tmp = tempfile.mkdtemp(prefix="cf-faults-")
        try:
            logdir = os.path.join(tmp, "logs")
            os.mkdir(logdir)
            mode = {"log-full": "full", "log-removed": "removed", "log-unwritable": "plain",
                    "lost-kill": "kill", "lost-exit": "exit", "lost-crash": "crash"}[case]
            log_path = os.path.join(logdir, "cf")
            if case == "log-unwritable":
                # A path below a regular file: no directory can be made there,
                # whoever runs the test (root ignores permission bits).
                blocker = os.path.join(tmp, "file")
                open(blocker, "w").close()
                log_path = os.path.join(blocker, "cf")
            p = run([prog("log_faults"), mode], [lib], options=f"halt_on_error=0:log_path={log_path}",
                    env_extra={"CF_TEST_LOG_DIR": logdir})
            logs = ""
            if os.path.isdir(logdir):
                for n in os.listdir(logdir):
                    with open(os.path.join(logdir, n), errors="replace") as f:
                        logs += f.read()
            everything = logs + p.stderr
            # "removed": the program itself removed the log with the first report.
            want = (["first_mismatch"] if mode != "removed" else []) + \
                (["second_mismatch"] if mode in ("full", "removed") else [])
            for f in want:
                whole = re.search(rf"SUMMARY: crossfree: alloc-dealloc-mismatch .* in {f}\(\)\nHINT: ",
                                  everything)
                expect(whole, f"the report from {f} is not whole in the log or on stderr", p)
            if case.startswith("lost-"):
                expect(re.search(r"SUMMARY: .* in first_mismatch\(\)\nHINT: ", logs),
                       "the report is not in the log", p)
                sig = {"lost-kill": -signal.SIGKILL, "lost-crash": -signal.SIGSEGV, "lost-exit": 3}[case]
                expect(p.returncode == sig, f"exit {p.returncode}, expected {sig}", p)
            else:
                where = "stderr"
                expect(re.search(r"SUMMARY: .* in (first|second)_mismatch\(\)\nHINT: ", p.stderr),
                       f"no report on {where}", p)
                expect(p.stderr.count("crossfree: warning: cannot") == 1,
                       "the log's failure was not said once", p)
                expect("log_faults: done" in p.stderr, "the program did not finish", p)
            print(f"{case}: exit {p.returncode}, log {len(logs)} bytes, stderr {len(p.stderr)} bytes")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        fail(f"unknown case {case}")
    print(f"{case}: ok")


if __name__ == "__main__":
    main()
