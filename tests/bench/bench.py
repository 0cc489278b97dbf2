#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# crossfree's benchmark runner: runs each tests/bench workload natively, under
# crossfree, under an older crossfree (--base-lib) and under the peers (LLVM's
# Scudo and gcc's libasan preloaded, heaptrack, valgrind), alternating run by
# run; checks each run's exit status and output against native; prints median
# time, peak RSS, ratios, the options matrix, the owner-record cost and the
# targets. Never asserts timings.
#
#   tests/bench/bench.py                      native vs crossfree, 5 runs each
#   tests/bench/bench.py --full --markdown    what docs/performance.md shows
#   tests/bench/bench.py --quick              one tiny run of everything (CI)
#   tests/bench/bench.py --base-lib OLD/src/libcrossfree.so    before and after
import argparse
import datetime
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# This file sits in tests/bench/, beside the workloads it runs.
BENCH_SRC = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(BENCH_SRC))
DOC_BEGIN = "<!-- BEGIN tests/bench/bench.py --write-doc -->"
DOC_END = "<!-- END tests/bench/bench.py --write-doc -->"

# ---------------------------------------------------------------------------
# Workloads
#
# Each workload is a function (ctx, scale) -> Spec. SCALE 1.0 is the full
# size; --quick uses each workload's quick scale.


class Skip(Exception):
    """Raised by a workload that cannot run on this machine; says why."""


class Spec:
    def __init__(self, argv, env=None, cwd=None, before=None, output=None):
        self.argv = argv
        self.env = env or {}
        self.cwd = cwd
        self.before = before  # called before every run (fresh database, ...)
        self.output = output  # stdout text -> the text compared between runs


def _scale_arg(scale):
    return "%g" % scale


def wl_malloc_loop(threads):
    def make(ctx, scale):
        return Spec([ctx.bin("bench_malloc_loop"), str(threads), _scale_arg(scale)])
    return make


def wl_cpp_churn(ctx, scale):
    return Spec([ctx.bin("bench_cpp_churn"), _scale_arg(scale)])


def wl_live_allocs(ctx, scale):
    return Spec([ctx.bin("bench_live_allocs"), _scale_arg(scale)])


def wl_sqlite3(ctx, scale):
    work = ctx.workdir("sqlite3")
    script = os.path.join(work, "work.sql")
    with open(script, "w") as f:
        subprocess.run([sys.executable, os.path.join(BENCH_SRC, "sqlite_script.py"),
                        _scale_arg(scale)], stdout=f, check=True)
    db = os.path.join(work, "work.db")

    def fresh_db():
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
    return Spec(["sqlite3", db, ".read " + script], cwd=work, before=fresh_db)


def wl_python3(ctx, scale):
    return Spec(["/usr/bin/python3", os.path.join(BENCH_SRC, "py_work.py"), _scale_arg(scale)],
                env={"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0",
                     "PYTHONDONTWRITEBYTECODE": "1"})


def wl_gcc(ctx, scale):
    work = ctx.workdir("gcc")
    src = os.path.join(work, "work.c")
    with open(src, "w") as f:
        subprocess.run([sys.executable, os.path.join(BENCH_SRC, "gen_c_source.py"),
                        _scale_arg(scale)], stdout=f, check=True)
    asm = os.path.join(work, "work.s")
    cc1 = subprocess.run(["gcc", "-print-prog-name=cc1"], capture_output=True, text=True,
                         check=True).stdout.strip()

    def no_asm():
        if os.path.exists(asm):
            os.unlink(asm)

    def with_asm(stdout):
        with open(asm, "rb") as f:
            return stdout + "work.s sha256 " + hashlib.sha256(f.read()).hexdigest() + "\n"
    return Spec([cc1, "-quiet", "-O2", src, "-o", asm], cwd=work, before=no_asm,
                output=with_asm)


# sass-embedded from the npm registry, pinned so every run compiles with the
# same Dart VM and snapshot; installed into --sass-prefix on first use.
SASS_VERSION = "1.108.2"


def wl_dart_sass(ctx, scale):
    npm = shutil.which("npm")
    if npm is None:
        raise Skip("npm is not installed: the Dart VM comes from the npm package "
                   "sass-embedded (apt-get install npm)")
    p = subprocess.run([sys.executable, os.path.join(BENCH_SRC, "install_sass.py"), npm,
                        ctx.args.sass_prefix, SASS_VERSION], capture_output=True, text=True)
    paths = p.stdout.splitlines()
    if p.returncode != 0 or len(paths) != 2:
        why = (p.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise Skip("sass-embedded %s is not installed in %s: %s" % (
            SASS_VERSION, ctx.args.sass_prefix, why.replace("install_sass: ", "")))
    dart, snapshot = paths
    work = ctx.workdir("dart_sass")
    src = os.path.join(work, "work.scss")
    with open(src, "w") as f:
        subprocess.run([sys.executable, os.path.join(BENCH_SRC, "gen_scss.py"),
                        _scale_arg(scale)], stdout=f, check=True)
    css = os.path.join(work, "work.css")

    def no_css():
        if os.path.exists(css):
            os.unlink(css)

    def with_css(stdout):
        with open(css, "rb") as f:
            return stdout + "work.css sha256 " + hashlib.sha256(f.read()).hexdigest() + "\n"
    # The AOT runtime with the compiler's snapshot, as sass-embedded's own
    # dart-sass/sass script starts it; node never runs.
    return Spec([dart, snapshot, "--no-source-map", "--no-color", src, css], cwd=work,
                before=no_css, output=with_css)


# name, kind, quick scale, needs, what it does (for --list and the doc)
WORKLOADS = [
    ("malloc_loop", "loop", 0.005, [], wl_malloc_loop(1),
     "1 thread, 20M malloc/free over 65536 slots (8 B-4 KiB, ~32K live)"),
    ("malloc_loop_t2", "threads", 0.005, [], wl_malloc_loop(2),
     "the same 20M operations over 2 threads, a quarter of frees handed to the next thread"),
    ("malloc_loop_t4", "threads", 0.005, [], wl_malloc_loop(4),
     "the same over 4 threads"),
    ("cpp_churn", "cpp", 0.02, [], wl_cpp_churn,
     "new/delete: std::map<std::string, std::vector<int>>, strings, vector growth"),
    ("sqlite3", "real", 0.02, ["sqlite3"], wl_sqlite3,
     "sqlite3 CLI: 7200 INSERTs (6600 in transactions, 600 autocommit), 800 queries"),
    ("python3", "real", 0.01, ["/usr/bin/python3"], wl_python3,
     "/usr/bin/python3, PYTHONMALLOC=malloc: dicts, lists, strings, objects"),
    ("gcc", "real", 0.05, ["gcc"], wl_gcc,
     "gcc 12's cc1 -O2 on a generated 108 KB C file (60 function groups)"),
    ("dart_sass", "real", 0.02, [], wl_dart_sass,
     "Dart VM (sass-embedded's dartaotruntime + sass.snapshot) compiling a generated "
     "1.5 MB .scss of 800 components"),
    ("live_allocs", "record", 0.01, [], wl_live_allocs,
     "1,000,000 live 32-byte malloc blocks at once (the owner-record cost)"),
]

# ---------------------------------------------------------------------------
# Tools and option configurations


class Config:
    """One way to run a workload: a tool, and for crossfree its options."""

    def __init__(self, key, label, tool, options=None, matrix=False):
        self.key, self.label, self.tool = key, label, tool
        self.options = options  # crossfree only: the option string added to the base
        self.matrix = matrix


MATRIX = [
    ("ctx0", "malloc_context_size=0"),
    ("ctx4", "malloc_context_size=4"),
    ("ctx30", "malloc_context_size=30"),
    ("sym0", "symbolize=0"),
    ("json", "report_format=json"),
    ("quar0", "quarantine_size_mb=0"),
    ("unw0", "fast_unwind=0"),
]

TOOLS = ("native", "crossfree", "crossfree-base", "scudo", "asan-preload", "heaptrack",
         "valgrind")
# Failures noted, not ours to fix here: the peers', and those of the older
# build that crossfree-base preloads (--base-lib) in place of this one.
PEERS = ("crossfree-base", "scudo", "asan-preload", "heaptrack", "valgrind")
# Both preload a libcrossfree.so, each with the same options: this build's
# (--lib) and an older one (--base-lib), for before-and-after in one run.
CROSSFREE_TOOLS = ("crossfree", "crossfree-base")
QUICK_TOOLS = "native,crossfree,scudo,asan-preload"

# The preloaded peers: the library, and the environment each run gets.
# Scudo checks that malloc/new/new[] match their frees, as crossfree does.
# libasan preloaded into an uninstrumented program checks the heap only
# (no shadow checks on loads and stores); leak checking is off because
# several workloads keep blocks live at exit on purpose.
PRELOAD_ENV = {
    "scudo": {"SCUDO_OPTIONS": "dealloc_type_mismatch=true"},
    "asan-preload": {"ASAN_OPTIONS": "detect_leaks=0"},
}


def _version_key(path):
    return [int(x) for x in re.findall(r"\d+", path)]


def find_scudo():
    arch = platform.machine()
    found = glob.glob("/usr/lib/llvm-*/lib/clang/*/lib/linux/"
                      "libclang_rt.scudo_standalone-%s.so" % arch)
    return max(found, key=_version_key) if found else None


def find_libasan():
    try:
        path = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    # gcc echoes the bare name back when it has no such file.
    return os.path.realpath(path) if os.path.isabs(path) and os.path.exists(path) else None


def preload_problem(lib, tool):
    """None if LIB preloads cleanly into /bin/true, else why not."""
    env = dict(os.environ, LD_PRELOAD=lib, **PRELOAD_ENV.get(tool, {}))
    env.pop("CROSSFREE_OPTIONS", None)
    try:
        p = subprocess.run(["/bin/true"], env=env, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    if p.returncode != 0 or p.stderr.strip():
        return "LD_PRELOAD=%s /bin/true: exit %d %s" % (lib, p.returncode,
                                                        p.stderr.strip()[:200])
    return None


def join_options(*parts):
    return ":".join(p for p in parts if p)


class Ctx:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp

    def bin(self, name):
        return os.path.join(self.args.bin_dir, name)

    def workdir(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        return d


def tool_argv(config, spec, ctx):
    if config.tool == "heaptrack":
        return ["heaptrack", "-o", os.path.join(ctx.tmp, "heaptrack-out")] + spec.argv
    if config.tool == "valgrind":
        # Children too, so a program that forks or execs is measured whole.
        return ["valgrind", "--tool=memcheck", "--quiet", "--trace-children=yes"] + spec.argv
    return list(spec.argv)


def tool_env(config, spec, ctx, extra_options=""):
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "CROSSFREE_OPTIONS", "SCUDO_OPTIONS", "ASAN_OPTIONS"):
        env.pop(k, None)
    env.update({"LC_ALL": "C", "TZ": "UTC"})
    env.update(spec.env)
    if config.tool in CROSSFREE_TOOLS:
        env["LD_PRELOAD"] = ctx.args.lib if config.tool == "crossfree" else ctx.args.base_lib
        opts = join_options(ctx.args.crossfree_options, config.options, extra_options)
        if opts:
            env["CROSSFREE_OPTIONS"] = opts
    elif config.tool in PRELOAD_ENV:
        env["LD_PRELOAD"] = ctx.args.preload[config.tool]
        env.update(PRELOAD_ENV[config.tool])
    return env


def strip_heaptrack(text):
    """heaptrack prints its own banner and epilogue on stdout."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("starting application, this might take some time"):
            lines = lines[i + 1:]
            break
    for i, line in enumerate(lines):
        if line.startswith("Heaptrack finished!"):
            lines = lines[:i]
            break
    return "".join(lines)


# ---------------------------------------------------------------------------
# Running one process


class Run:
    def __init__(self):
        self.wall = None
        self.maxrss_kib = None
        self.cpu = None  # user + system seconds of the program and its children
        self.status = None  # exit code, or -signal
        self.output_sha = None
        self.problem = None  # why this run does not count, or None
        self.warning = None  # first crossfree warning line, if any
        self.stderr = ""
        self.stderr_tail = ""
        self.output = ""


def run_once(config, spec, ctx, extra_options=""):
    r = Run()
    if spec.before:
        spec.before()
    out_path = os.path.join(ctx.tmp, "stdout")
    err_path = os.path.join(ctx.tmp, "stderr")
    rusage_path = os.path.join(ctx.tmp, "rusage")
    if os.path.exists(rusage_path):
        os.unlink(rusage_path)
    argv = [ctx.bin("bench_spawn"), rusage_path] + tool_argv(config, spec, ctx)
    env = tool_env(config, spec, ctx, extra_options)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=env, cwd=spec.cwd, start_new_session=True)
        timed_out = []

        def kill():
            timed_out.append(True)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        timer = threading.Timer(ctx.args.timeout, kill)
        timer.start()
        _, status, _ = os.wait4(proc.pid, 0)
        r.wall = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    r.status = proc.returncode
    # bench_spawn's wait4 rusage: ru_maxrss is the largest peak RSS (KiB) of
    # the program and every descendant it waited for. os.wait4 here would
    # count this Python process's own RSS, inherited by the forked child.
    r.maxrss_kib = 0
    try:
        with open(rusage_path) as f:
            fields = f.read().split()
        r.maxrss_kib, r.cpu = int(fields[1]), float(fields[3])
    except (OSError, IndexError, ValueError):
        r.problem = "bench_spawn wrote no rusage"
    with open(out_path, "rb") as f:
        stdout = f.read().decode("utf-8", "replace")
    with open(err_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    r.stderr_tail = stderr[-2000:]
    r.stderr = stderr
    if config.tool == "heaptrack":
        stdout = strip_heaptrack(stdout)
        for name in os.listdir(ctx.tmp):
            if name.startswith("heaptrack-out"):
                os.unlink(os.path.join(ctx.tmp, name))
    if timed_out:
        r.problem = "timed out after %d s" % ctx.args.timeout
    elif r.problem:
        pass
    elif r.status != 0:
        last = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        r.problem = "exit status %d%s" % (r.status, " (%s)" % last[-1][:80] if last else "")
    if r.problem is None and spec.output is not None:
        try:
            stdout = spec.output(stdout)
        except OSError as e:
            r.problem = "no output: %s" % e
    r.output = stdout
    r.output_sha = hashlib.sha256(stdout.encode()).hexdigest()[:16]
    if config.tool in CROSSFREE_TOOLS:
        if "ERROR: crossfree" in stderr:
            r.problem = r.problem or "crossfree reported an error"
        m = re.search(r"^.*crossfree: warning:.*$", stderr, re.M)
        if m:
            r.warning = m.group(0)
    return r


# ---------------------------------------------------------------------------
# Measuring a workload


def tool_problem(tool, args):
    """None if TOOL can run here, else why its columns are left out."""
    if tool in ("native", "crossfree"):
        return None
    if tool == "crossfree-base":
        if args.base_lib is None:
            return "crossfree-base needs --base-lib (an older build's libcrossfree.so)"
        why = preload_problem(args.base_lib, tool)
        return None if why is None else "crossfree-base cannot be preloaded: %s" % why
    if tool in PRELOAD_ENV:
        lib = args.preload.get(tool)
        if lib is None:
            return {"scudo": "scudo is not installed (no libclang_rt.scudo_standalone under "
                             "/usr/lib/llvm-*/lib/clang/*/lib/linux; apt-get install "
                             "libclang-rt-14-dev, or --scudo-lib)",
                    "asan-preload": "asan-preload: gcc -print-file-name=libasan.so finds no "
                                    "libasan (apt-get install gcc, or --asan-lib)"}[tool]
        why = preload_problem(lib, tool)
        return None if why is None else "%s cannot be preloaded: %s" % (tool, why)
    return None if shutil.which(tool) else "%s is not installed" % tool


def measure(name, make, scale, configs, runs_for, ctx, progress):
    """Runs every config runs_for(config) times, alternating; returns a dict."""
    spec = make(ctx, scale)
    results = {c.key: [] for c in configs}
    rounds = max(runs_for(c) for c in configs)
    for i in range(rounds):
        for c in configs:
            if i >= runs_for(c):
                continue
            r = run_once(c, spec, ctx)
            results[c.key].append(r)
            progress("%-15s run %d/%d %-22s %8.2f s %8.1f MiB%s" % (
                name, i + 1, runs_for(c), c.label, r.wall, r.maxrss_kib / 1024,
                "  [%s]" % r.problem if r.problem else ""))
    # The first native run's output is the reference for every other run.
    ref = results["native"][0].output if results["native"] else None
    for c in configs:
        for r in results[c.key]:
            if r.problem is None and ref is not None and r.output != ref:
                r.problem = "output differs from native"
    extra = {}
    if name == "live_allocs":
        extra = record_cost(spec, configs, results, ctx, progress)
    return spec, results, extra


def parse_delta(stderr):
    m = re.search(r"delta_kib=(-?\d+)", stderr)
    return int(m.group(1)) if m else None


def record_cost(spec, configs, results, ctx, progress):
    """live_allocs: bytes of crossfree bookkeeping per live allocation."""
    blocks = None
    m = re.search(r"blocks=(\d+)", results["native"][0].output) if results["native"] else None
    if m:
        blocks = int(m.group(1))
    out = {"blocks": blocks}

    def med(key, f):
        vals = [f(r) for r in results.get(key, []) if r.problem is None and f(r) is not None]
        return statistics.median(vals) if vals else None
    out["native_delta_kib"] = med("native", lambda r: parse_delta(r.stderr))
    out["crossfree_delta_kib"] = med("crossfree", lambda r: parse_delta(r.stderr))
    out["native_peak_kib"] = med("native", lambda r: r.maxrss_kib)
    out["crossfree_peak_kib"] = med("crossfree", lambda r: r.maxrss_kib)
    if blocks and out["native_delta_kib"] is not None and out["crossfree_delta_kib"] is not None:
        out["bytes_per_alloc_delta"] = (
            (out["crossfree_delta_kib"] - out["native_delta_kib"]) * 1024 / blocks)
        out["bytes_per_alloc_peak"] = (
            (out["crossfree_peak_kib"] - out["native_peak_kib"]) * 1024 / blocks)
    # One more run with verbosity=1 for the table's own account at exit.
    cf = [c for c in configs if c.key == "crossfree"]
    if cf:
        r = run_once(cf[0], spec, ctx, extra_options="verbosity=1")
        m = re.search(r"at exit: (\d+) records in (\d+) slots \((\d+) bytes[^)]*\)", r.stderr)
        if m:
            rec, slots, nbytes = (int(x) for x in m.groups())
            out.update(table_records=rec, table_slots=slots, table_bytes=nbytes,
                       table_bytes_per_record=nbytes / rec if rec else None)
            out["verbosity_line"] = m.group(0)
        progress("live_allocs     verbosity=1: %s" % (out.get("verbosity_line") or "no exit line"))
    return out


# ---------------------------------------------------------------------------
# Summaries


def summarize(results, configs):
    s = {}
    for c in configs:
        good = [r for r in results[c.key] if r.problem is None]
        if not results[c.key]:
            continue
        s[c.key] = {
            "runs": len(results[c.key]),
            "ok_runs": len(good),
            "wall_s": [round(r.wall, 4) for r in results[c.key]],
            "maxrss_kib": [r.maxrss_kib for r in results[c.key]],
            "cpu_s": [r.cpu for r in results[c.key]],
            "median_s": statistics.median([r.wall for r in good]) if good else None,
            "median_maxrss_kib": statistics.median([r.maxrss_kib for r in good]) if good else None,
            "median_cpu_s": statistics.median([r.cpu for r in good]) if good else None,
            "problems": sorted({r.problem for r in results[c.key] if r.problem}),
            "failed_stderr_tail": next((r.stderr_tail for r in results[c.key] if r.problem),
                                       None),
            "warning": next((r.warning for r in results[c.key] if r.warning), None),
            "output_sha256_16": results[c.key][0].output_sha,
        }
    nat = s.get("native")
    for key, v in s.items():
        if nat and nat["median_s"] and v["median_s"] is not None:
            v["ratio"] = v["median_s"] / nat["median_s"]
            v["rss_ratio"] = v["median_maxrss_kib"] / nat["median_maxrss_kib"]
            v["cpu_ratio"] = (v["median_cpu_s"] / nat["median_cpu_s"]
                              if nat["median_cpu_s"] else None)
        else:
            v["ratio"] = v["rss_ratio"] = v["cpu_ratio"] = None
    return s


def fmt_s(v):
    return "-" if v is None else ("%.2f" % v if v < 100 else "%.0f" % v)


def fmt_ratio(v):
    return "-" if v is None else ("%.2f×" % v if v < 10 else "%.1f×" % v)


def fmt_mib(kib):
    return "-" if kib is None else "%.1f" % (kib / 1024)


TEXT_COLUMNS = {"workload", "notes", "target", "measured", "status", "verbosity=1 exit line"}


def render(headers, rows, markdown):
    """A Markdown table, or plain columns; text columns left, numbers right."""
    left = [i == 0 or h in TEXT_COLUMNS for i, h in enumerate(headers)]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |",
                 "|" + "|".join("---" if lf else "--:" for lf in left) + "|"]
        lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(headers)]
    fmt = "  ".join(("%-" if lf else "%") + str(w) + "s" for lf, w in zip(left, widths))
    return "\n".join([fmt % tuple(headers), fmt % tuple("-" * w for w in widths)]
                     + [fmt % tuple(str(x) for x in r) for r in rows])


def main_table(report, markdown):
    tools = [t for t in report["tools"] if t != "native"]
    headers = ["workload", "native s", "crossfree s", "ratio", "CPU ratio", "native MiB",
               "crossfree MiB", "RSS ratio"]
    extra = [t for t in tools if t != "crossfree"]
    for t in extra:
        if t == "crossfree-base":  # before and after: the same columns as crossfree
            headers += [t + " s", t + " ratio", t + " CPU ratio", t + " MiB", t + " RSS ratio"]
        else:
            headers += [t + " s", t + " ratio", t + " MiB"]
    headers.append("notes")
    rows = []
    for w in report["workloads"]:
        s = w["summary"]
        n, cf = s.get("native", {}), s.get("crossfree", {})
        row = [w["name"], fmt_s(n.get("median_s")), fmt_s(cf.get("median_s")),
               fmt_ratio(cf.get("ratio")), fmt_ratio(cf.get("cpu_ratio")),
               fmt_mib(n.get("median_maxrss_kib")),
               fmt_mib(cf.get("median_maxrss_kib")), fmt_ratio(cf.get("rss_ratio"))]
        notes = list(w.get("notes", []))
        for t in extra:
            v = s.get(t) or {}
            if t == "crossfree-base":
                row += [fmt_s(v.get("median_s")), fmt_ratio(v.get("ratio")),
                        fmt_ratio(v.get("cpu_ratio")), fmt_mib(v.get("median_maxrss_kib")),
                        fmt_ratio(v.get("rss_ratio"))]
            else:
                row += [fmt_s(v.get("median_s")), fmt_ratio(v.get("ratio")),
                        fmt_mib(v.get("median_maxrss_kib"))]
        for key, v in s.items():
            for p in v["problems"]:
                notes.append("%s %s: %s" % (key, "failed" if key in PEERS else "FAILED", p))
        row.append("; ".join(notes))
        rows.append(row)
    return render(headers, rows, markdown)


def matrix_tables(report, markdown):
    cols = MATRIX[:2] + [("crossfree", "malloc_context_size=16 (default)")] + MATRIX[2:]
    headers = ["workload"] + [o.replace("malloc_context_size", "ctx") for _, o in cols]
    out = []
    for what, field in (("wall-time ratio to native", "ratio"),
                        ("CPU-time (user + system) ratio to native", "cpu_ratio"),
                        ("peak-RSS ratio to native", "rss_ratio")):
        rows = []
        for w in report["workloads"]:
            s = w["summary"]
            row = [w["name"]]
            for key, _ in cols:
                v = s.get(key)
                if v is None:
                    row.append("-")
                elif v["warning"]:
                    row.append("n/a")
                elif v["problems"]:
                    row.append("FAILED")
                else:
                    row.append(fmt_ratio(v[field]))
            rows.append(row)
        out.append((what, render(headers, rows, markdown)))
    warned = sorted({"%s: %s" % (k, w["summary"][k]["warning"]) for w in report["workloads"]
                     for k, _ in cols if w["summary"].get(k, {}).get("warning")})
    return out, warned


def record_table(report, markdown):
    rec = next((w.get("record") for w in report["workloads"] if w["name"] == "live_allocs"), None)
    if not rec or rec.get("blocks") is None:
        return None

    def num(v, f="%.1f"):
        return "-" if v is None else f % v
    headers = ["live blocks", "native RSS growth MiB", "crossfree RSS growth MiB",
               "B per live allocation (RSS growth)", "B per live allocation (peak RSS)",
               "verbosity=1 exit line", "table B per record"]
    row = [rec["blocks"], fmt_mib(rec.get("native_delta_kib")),
           fmt_mib(rec.get("crossfree_delta_kib")), num(rec.get("bytes_per_alloc_delta")),
           num(rec.get("bytes_per_alloc_peak")),
           ("`%s`" if markdown else "%s") % rec.get("verbosity_line", "-"),
           num(rec.get("table_bytes_per_record"))]
    return render(headers, [row], markdown)


REAL = ["sqlite3", "python3", "gcc", "dart_sass"]
LOOPS = ["malloc_loop", "malloc_loop_t2", "malloc_loop_t4", "cpp_churn"]


def evaluate_targets(report):
    """The issue's targets, met or missed, from what this invocation measured."""
    by = {w["name"]: w["summary"] for w in report["workloads"]}
    everything = [w["name"] for w in report["workloads"] if w["summary"]]

    def ratio(name, key="crossfree", field="ratio"):
        return by.get(name, {}).get(key, {}).get(field)

    def failed(name, key):
        return bool(by.get(name, {}).get(key, {}).get("problems"))
    rows = []

    def target(text, measured, ok):
        rows.append([text, measured, "-" if ok is None else ("met" if ok else "MISSED")])

    def limit(names, lim, key="crossfree", field="ratio"):
        vals = [(n, ratio(n, key, field)) for n in names]
        vals = [(n, v) for n, v in vals if v is not None]
        if not vals:
            return "not measured", None
        return ", ".join("%s %s" % (n, fmt_ratio(v)) for n, v in vals), \
            all(v <= lim for _, v in vals)

    def versus(text, names, peer, factor=None, key="crossfree"):
        """KEY's ratio against PEER's, workload by workload: at most FACTOR
        times it, or (FACTOR None) strictly lower. A workload the peer failed
        is named and does not count; one crossfree failed is a miss."""
        pairs, notes, ok = [], [], True
        for n in names:
            a, b = ratio(n, key), ratio(n, peer)
            if failed(n, peer) and b is None:
                notes.append("%s: %s failed" % (n, peer))
            elif failed(n, key) and a is None:
                notes.append("%s: crossfree failed" % n)
                ok = False
            elif a is not None and b is not None:
                pairs.append((n, a, b))
        if not pairs:
            missing = [what for k, what in ((key, "--options-matrix" if key != "crossfree"
                                             else "crossfree"), (peer, peer))
                       if not any(ratio(n, k) is not None for n in names)]
            target(text, "; ".join(notes) or "needs " + " and ".join(missing or [key]), None)
            return
        measured = ["%s %s vs %s" % (n, fmt_ratio(a), fmt_ratio(b)) for n, a, b in pairs]
        ok = ok and all((a < b) if factor is None else (a <= factor * b) for _, a, b in pairs)
        target(text, ", ".join(measured + notes), ok)

    versus("malloc_context_size=0 no slower than Scudo, every workload", everything,
           "scudo", 1.0, key="ctx0")
    versus("default options ≤1.25× Scudo's ratio on sqlite3, python3, gcc, dart_sass",
           REAL, "scudo", 1.25)
    versus("default options ≤1.5× Scudo's ratio on malloc_loop, _t2, _t4, cpp_churn",
           LOOPS, "scudo", 1.5)
    versus("default options faster than asan-preload, every workload", everything,
           "asan-preload")
    versus("default options faster than heaptrack, every workload", everything, "heaptrack")
    target("peak RSS ≤1.25× native on sqlite3, python3, gcc, dart_sass",
           *limit(REAL, 1.25, field="rss_ratio"))
    # The RSS growth counts the owner data wherever it lives (a table, or a
    # header in front of each block); the table's own figure at exit is shown
    # beside it but no longer counts everything.
    rec = next((w.get("record") for w in report["workloads"] if w["name"] == "live_allocs"), {})
    b1 = rec.get("bytes_per_alloc_delta")
    text = "≤24 B of owner data per live allocation (RSS growth)"
    if b1 is not None:
        table = "no verbosity=1 exit line"
        if rec.get("table_records") is not None:
            table = "the table at exit: %d B for %d records" % (rec["table_bytes"],
                                                                 rec["table_records"])
        target(text, "%.1f B (%s)" % (b1, table), b1 <= 24)
    else:
        target(text, "not measured", None)
    text = "malloc_loop_t4 ratio within 1.2× of malloc_loop's"
    r1, r4 = ratio("malloc_loop"), ratio("malloc_loop_t4")
    if r1 is not None and r4 is not None:
        target(text, "%s / %s = %.2f" % (fmt_ratio(r4), fmt_ratio(r1), r4 / r1), r4 <= 1.2 * r1)
    else:
        target(text, "not measured", None)
    return rows


def machine_info(args):
    info = {"nproc": os.cpu_count(), "kernel": platform.release(),
            "loadavg_start": os.getloadavg()[0],
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            info["cpu"] = m.group(1).strip() if m else "?"
        with open("/proc/meminfo") as f:
            m = re.search(r"^MemTotal:\s*(\d+) kB", f.read(), re.M)
            info["memory"] = "%.1f GiB" % (int(m.group(1)) / 1024 / 1024) if m else "?"
    except OSError:
        pass
    try:
        info["glibc"] = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        info["glibc"] = "?"

    def version(argv, pattern=r"(\d+(\.\d+)+)"):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            m = re.search(pattern, p.stdout + p.stderr)
            return m.group(1) if m else "?"
        except (OSError, subprocess.TimeoutExpired):
            return "not installed"
    info["gcc"] = version(["gcc", "-dumpfullversion"])
    info["python3"] = version(["/usr/bin/python3", "--version"])
    info["sqlite3"] = version(["sqlite3", "--version"])
    info["heaptrack"] = version(["heaptrack", "--version"])
    info["valgrind"] = version(["valgrind", "--version"])
    scudo = args.preload.get("scudo")
    m = re.search(r"/clang/([\d.]+)/", scudo or "")
    info["scudo"] = ("LLVM %s" % m.group(1) if m else scudo) if scudo else "not installed"
    asan = args.preload.get("asan-preload")
    info["libasan"] = os.path.basename(asan) if asan else "not installed"
    if args.base_lib and os.path.exists(args.base_lib):
        built = datetime.datetime.fromtimestamp(os.path.getmtime(args.base_lib),
                                                datetime.timezone.utc)
        info["base_lib_date"] = built.strftime("built %Y-%m-%d %H:%M UTC")
    for key, tool in (("scudo", "scudo"), ("libasan", "asan-preload")):
        if tool not in args.preload:
            info[key] = "not run"
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        info["commit"] = head + (" + uncommitted changes in src/" if dirty else "")
    except OSError:
        info["commit"] = "?"
    return info


def runs_text(runs):
    matrix_keys = {k for k, _ in MATRIX}
    parts = ["%s %d" % (k, n) for k, n in runs.items() if k not in matrix_keys]
    counts = sorted({n for k, n in runs.items() if k in matrix_keys})
    if len(counts) == 1:
        parts.append("each options-matrix column %d" % counts[0])
    else:
        parts += ["%s %d" % (k, n) for k, n in runs.items() if k in matrix_keys]
    return ", ".join(parts)


def full_report_text(report, markdown):
    a = report["settings"]
    m = report["machine"]
    parts = []
    h = "### " if markdown else "== "
    parts.append("%sMachine\n" % h)
    parts.append(
        "%s; %s CPUs (%s); %s RAM; kernel %s; %s; gcc %s; python3 %s; sqlite3 %s; "
        "sass-embedded %s; Scudo %s; libasan %s; heaptrack %s; valgrind %s; "
        "crossfree at %s." % (
            m["date"], m["nproc"], m.get("cpu", "?"), m.get("memory", "?"), m["kernel"],
            m["glibc"], m["gcc"], m["python3"], m["sqlite3"], m.get("sass", "?"),
            m.get("scudo", "?"), m.get("libasan", "?"), m["heaptrack"], m["valgrind"],
            m["commit"]))
    if "crossfree-base" in report["tools"]:
        parts[-1] += " crossfree-base preloads %s%s instead of %s, with the same options." % (
            a["base_lib"], " (%s)" % m["base_lib_date"] if m.get("base_lib_date") else "",
            a["lib"])
    parts.append("")
    parts.append("Command: `%s`" % a["command"] if markdown else "Command: %s" % a["command"])
    parts.append("Runs: %s. Times are medians of wall-clock seconds, RSS is the median of each "
                 "run's peak resident set (MiB), ratios are median / native median; CPU ratio "
                 "compares user + system time. Load average %.1f at the start, %.1f at the "
                 "end; %.0f s in all.%s" % (
                     runs_text(a["runs"]), m["loadavg_start"], m["loadavg_end"],
                     report["elapsed_s"],
                     " Quick mode: tiny inputs, the numbers mean nothing." if a["quick"] else ""))
    parts.append("")
    parts.append("%sWall time and peak RSS\n" % h)
    parts.append(main_table(report, markdown))
    if report["settings"]["options_matrix"]:
        tables, warned = matrix_tables(report, markdown)
        for what, t in tables:
            parts.append("")
            parts.append("%sOptions matrix: %s\n" % (h, what))
            parts.append(t)
        parts.append("")
        parts.append("symbolize and report_format only change how a report is printed, and "
                     "these workloads print none: their columns repeat the default "
                     "configuration and show the run-to-run noise.")
        if warned:
            parts.append("")
            parts.append("n/a: crossfree warned about the option, so it is not implemented in "
                         "this build: " + "; ".join(sorted(set(warned))))
    rt = record_table(report, markdown)
    if rt:
        parts.append("")
        parts.append("%sOwner record per live allocation\n" % h)
        parts.append(rt)
    parts.append("")
    parts.append("%sTargets\n" % h)
    parts.append(render(["target", "measured", "status"], evaluate_targets(report), markdown))
    return "\n".join(parts) + "\n"


def write_doc(path, text):
    with open(path) as f:
        doc = f.read()
    if DOC_BEGIN not in doc or DOC_END not in doc:
        sys.exit("bench: %s has no %s ... %s markers" % (path, DOC_BEGIN, DOC_END))
    head, rest = doc.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    with open(path, "w") as f:
        f.write(head + DOC_BEGIN + "\n" + text + DOC_END + tail)


# ---------------------------------------------------------------------------
# Command line


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run the crossfree benchmark workloads natively and under crossfree "
                    "(and Scudo, libasan, heaptrack, valgrind), alternating, and compare "
                    "time and peak RSS.")
    p.add_argument("--build", default=os.path.join(REPO, "build"),
                   help="meson build directory (default: %(default)s)")
    p.add_argument("--lib", help="libcrossfree.so (default: BUILD/src/libcrossfree.so)")
    p.add_argument("--base-lib", metavar="PATH",
                   help="an older build's libcrossfree.so: adds the crossfree-base column, "
                        "preloaded as crossfree preloads --lib, in the same alternating runs")
    p.add_argument("--bin-dir", help="the bench programs (default: BUILD/tests/bench)")
    p.add_argument("--tools", help="comma-separated, from %s (default: native,crossfree; "
                   "--quick: %s; --full: all but crossfree-base, which --base-lib adds; "
                   "those not installed are left out)"
                   % (",".join(TOOLS), QUICK_TOOLS))
    p.add_argument("--scudo-lib", help="Scudo to preload (default: the newest "
                   "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.scudo_standalone-ARCH.so)")
    p.add_argument("--asan-lib", help="libasan to preload (default: gcc -print-file-name="
                   "libasan.so)")
    p.add_argument("--sass-prefix", help="where dart_sass installs sass-embedded %s from npm "
                   "(default: BIN_DIR/sass-embedded)" % SASS_VERSION)
    p.add_argument("--runs", type=int, help="runs per tool and workload (default 5; --quick 1)")
    p.add_argument("--heaptrack-runs", type=int, help="runs under heaptrack (default: --runs)")
    p.add_argument("--valgrind-runs", type=int, default=1,
                   help="runs under valgrind, on the same work (default %(default)s)")
    p.add_argument("--valgrind-skip", default="",
                   help="comma-separated workloads not to run under valgrind (noted in the table)")
    p.add_argument("--options-matrix", action="store_true",
                   help="also run crossfree with each option of the matrix (%s)" %
                   ", ".join(o for _, o in MATRIX))
    p.add_argument("--matrix-runs", type=int, help="runs per matrix column (default: --runs)")
    p.add_argument("--crossfree-options", default="",
                   help="CROSSFREE_OPTIONS for every crossfree run (default: none)")
    p.add_argument("--workloads", help="comma-separated subset (see --list)")
    p.add_argument("--scale", type=float, help="input size for every workload (1.0 = full)")
    p.add_argument("--quick", action="store_true",
                   help="one run per tool on tiny inputs: checks that everything works (CI)")
    p.add_argument("--full", action="store_true",
                   help="what docs/performance.md shows: every installed tool, the options "
                        "matrix, 5 runs of native, crossfree, scudo and asan-preload "
                        "(heaptrack 1, valgrind 1, matrix 1)")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per run (default 3600)")
    p.add_argument("--json", metavar="FILE", help="write every run and summary as JSON")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--write-doc", metavar="FILE",
                   help="replace the generated section of FILE (docs/performance.md)")
    p.add_argument("--from-json", metavar="FILE",
                   help="run nothing: print (and --write-doc) the tables of a saved --json FILE")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    a = p.parse_args(argv)
    a.lib = os.path.abspath(a.lib or os.path.join(a.build, "src", "libcrossfree.so"))
    a.bin_dir = os.path.abspath(a.bin_dir or os.path.join(a.build, "tests", "bench"))
    a.sass_prefix = os.path.abspath(a.sass_prefix or os.path.join(a.bin_dir, "sass-embedded"))
    if a.full:
        a.tools = a.tools or ",".join(t for t in TOOLS if t != "crossfree-base")
        a.options_matrix = True
        a.runs = a.runs or 5
        a.heaptrack_runs = a.heaptrack_runs or 1
        a.matrix_runs = a.matrix_runs or 1
    if a.quick:
        a.tools = a.tools or QUICK_TOOLS
    a.tools = [t.strip() for t in (a.tools or "native,crossfree").split(",") if t.strip()]
    for t in a.tools:
        if t not in TOOLS:
            p.error("unknown tool %r (known: %s)" % (t, ", ".join(TOOLS)))
    if "native" not in a.tools:
        a.tools.insert(0, "native")  # the reference for outputs and ratios
    if a.options_matrix and "crossfree" not in a.tools:
        a.tools.insert(1, "crossfree")
    a.base_lib = os.path.abspath(a.base_lib) if a.base_lib else None
    if a.base_lib and "crossfree-base" not in a.tools:
        a.tools.insert(a.tools.index("crossfree") + 1 if "crossfree" in a.tools else 1,
                       "crossfree-base")
    if "crossfree-base" in a.tools and not a.base_lib:
        p.error("the crossfree-base tool needs --base-lib PATH")
    if a.quick:
        a.runs = a.runs or 1
    a.runs = a.runs or 5
    a.heaptrack_runs = a.heaptrack_runs or a.runs
    a.matrix_runs = a.matrix_runs or a.runs
    a.valgrind_runs = min(a.valgrind_runs, a.runs)
    if a.runs < 1 or a.heaptrack_runs < 1 or a.matrix_runs < 1 or a.valgrind_runs < 1:
        p.error("run counts must be at least 1")
    a.valgrind_skip = {w.strip() for w in a.valgrind_skip.split(",") if w.strip()}
    a.preload = {}
    if "scudo" in a.tools:
        a.preload["scudo"] = os.path.abspath(a.scudo_lib) if a.scudo_lib else find_scudo()
    if "asan-preload" in a.tools:
        a.preload["asan-preload"] = os.path.abspath(a.asan_lib) if a.asan_lib else find_libasan()
    return a


def main(argv):
    args = parse_args(argv)
    if args.list:
        for name, kind, quick, needs, _, what in WORKLOADS:
            print("%-15s %-8s quick scale %-6g %s" % (name, kind, quick, what))
        return 0
    if args.from_json:
        with open(args.from_json) as f:
            report = json.load(f)
        print(full_report_text(report, args.markdown), end="")
        if args.write_doc:
            write_doc(args.write_doc, full_report_text(report, True))
        return 0
    wanted = None
    if args.workloads:
        wanted = [w.strip() for w in args.workloads.split(",") if w.strip()]
        unknown = set(wanted) - {w[0] for w in WORKLOADS}
        if unknown:
            sys.exit("bench: unknown workload(s) %s; see --list" % ", ".join(sorted(unknown)))
    for path, what in ((args.lib, "libcrossfree.so"), (args.bin_dir, "bench programs")):
        if not os.path.exists(path):
            sys.exit("bench: %s not found at %s (build first: ninja -C build)" % (what, path))
    if args.base_lib and not os.path.exists(args.base_lib):
        sys.exit("bench: --base-lib %s not found" % args.base_lib)

    def progress(msg):
        if not args.quiet:
            print("bench: " + msg, file=sys.stderr, flush=True)

    if os.getloadavg()[0] > (os.cpu_count() or 1) / 2:
        progress("warning: load average %.1f on %d CPUs: other work will skew the timings"
                 % (os.getloadavg()[0], os.cpu_count() or 1))

    notes_global = []
    tools = []
    for t in args.tools:
        why = tool_problem(t, args)
        if why is None:
            tools.append(t)
        else:
            notes_global.append("%s: its columns are left out" % why)
            progress(notes_global[-1])

    configs = [Config(t, t, t) for t in tools]
    if args.options_matrix:
        configs += [Config(k, o, "crossfree", options=o, matrix=True) for k, o in MATRIX]

    def runs_for(c):
        if c.matrix:
            return args.matrix_runs
        return {"heaptrack": args.heaptrack_runs, "valgrind": args.valgrind_runs}.get(
            c.tool, args.runs)

    report = {
        "settings": {
            "command": "tests/bench/bench.py " + " ".join(argv),
            "quick": args.quick,
            "options_matrix": args.options_matrix,
            "crossfree_options": args.crossfree_options,
            "lib": args.lib,
            "base_lib": args.base_lib,
            "runs": {c.key: runs_for(c) for c in configs},
        },
        "tools": tools,
        "machine": machine_info(args),
        "notes": notes_global,
        "workloads": [],
    }

    failed = False
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="crossfree-bench.") as tmp:
        ctx = Ctx(args, tmp)
        for name, kind, quick_scale, needs, make, what in WORKLOADS:
            if wanted is not None and name not in wanted:
                continue
            entry = {"name": name, "kind": kind, "what": what, "notes": []}
            missing = [n for n in needs if shutil.which(n) is None]
            if missing:
                entry["notes"].append("skipped: %s not installed" % ", ".join(missing))
                entry["summary"] = {}
                report["workloads"].append(entry)
                progress("%s skipped: %s not installed" % (name, ", ".join(missing)))
                continue
            scale = args.scale if args.scale is not None else (quick_scale if args.quick else 1.0)
            entry["scale"] = scale
            wl_configs = [c for c in configs
                          if not (c.tool == "valgrind" and name in args.valgrind_skip)]
            if len(wl_configs) != len(configs):
                entry["notes"].append("valgrind skipped (--valgrind-skip)")
            try:
                spec, results, record = measure(name, make, scale, wl_configs, runs_for, ctx,
                                                progress)
            except Skip as e:
                # Never silent: in the table's notes, on stderr and after the tables.
                entry["notes"].append("skipped: %s" % e)
                entry["summary"] = {}
                report["workloads"].append(entry)
                notes_global.append("%s skipped: %s" % (name, e))
                progress(notes_global[-1])
                continue
            entry["argv"] = spec.argv
            entry["summary"] = summarize(results, wl_configs)
            if record:
                entry["record"] = record
            for key, v in entry["summary"].items():
                if v["problems"]:
                    failed = failed or key not in PEERS
                    for r in results[key]:
                        if r.problem:
                            progress("%s %s FAILED (%s); stderr ends:\n%s" % (
                                name, key, r.problem, r.stderr_tail))
                            break
            report["workloads"].append(entry)
    report["elapsed_s"] = round(time.time() - start, 1)
    report["machine"]["sass"] = next(
        (SASS_VERSION for w in report["workloads"] if w["name"] == "dart_sass" and w["summary"]),
        "not run")
    report["machine"]["loadavg_end"] = os.getloadavg()[0]

    text = full_report_text(report, args.markdown)
    print(text, end="")
    for n in notes_global:
        print("note: " + n)
    if args.write_doc:
        write_doc(args.write_doc, full_report_text(report, True))
        progress("wrote the tables into %s" % args.write_doc)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
        progress("wrote %s" % args.json)
    progress("done in %.0f s%s" % (report["elapsed_s"], "; FAILURES above" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
