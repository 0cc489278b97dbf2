#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Real arm64 programs from Debian under crossfree on qemu-user (suite aarch64,
# case aarch64-real): python3.11 with its stdlib and ctypes, the sqlite3
# shell, perl, bash, the C++ programs protoc (libprotobuf),
# source-highlight (Boost.Regex, ICU) and ninja, and ripgrep (Rust) and
# zstd with four threads each, as tools/setup.sh's
# cf_fetch_arm64_programs unpacks them (never installed: the amd64 python3
# and sqlite3 stay). Each command runs under qemu-aarch64 natively, then
# with the cross build's libcrossfree.so preloaded and
# CROSSFREE_OPTIONS=fast_unwind=2:verbosity=1, where crossfree takes every
# stack with both its cached unwinder and libunwind. Passes when, for every
# command: the same stdout, exit status and output files as the native run;
# crossfree loaded (its `checking this process` line); no crossfree error
# report; no `stacks differ` line; and, where the build has the cached
# unwinder, an exit line from every process that counts 0 differences and
# leaves at most --max-fallback-share of the stacks to libunwind.
# The cross build is run_aarch64.py's (WORK/build, under its lock).
# Exits 0 pass, 1 fail, 77 skip (no cross tool chain, or the arm64
# packages could not be had).
"""Usage: real_programs.py --source-root DIR --work DIR --meson MESON
                         [--programs DIR] [--only NAME]... [--keep]
  NAME: python3.11 sqlite3 protoc perl bash source-highlight rg zstd ninja
       real_programs.py --self-test   (the checks, on made-up runs; every
                                       real run does this first too)"""

import argparse
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import run_aarch64  # noqa: E402  (the cross build and its prerequisites)
from check_unwind import (CHECKING_RE, ERROR_RE, differ_lines, exit_lines,  # noqa: E402
                          unwinder_failures)

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
OPTIONS = "fast_unwind=2:verbosity=1"
DEPOT_RE = re.compile(r"^==(\d+)==crossfree: at exit: (\d+) records in .*depot: (\d+) stacks")
TIMEOUT = 300


def programs_dir(arg):
    """The directory cf_fetch_arm64_programs fills (same rule as setup.sh)."""
    if arg:
        return arg
    if os.environ.get("CF_ARM64_PROGRAMS"):
        return os.environ["CF_ARM64_PROGRAMS"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "crossfree", "arm64-programs")


# ---------------------------------------------------------------------------
# The programs: each a list of (label, argv relative to the unpacked root's
# usr/bin, files to create first, output files to compare after, the share
# of stacks it may leave to libunwind or None for --max-fallback-share).


def sqlite_script(rows):
    """A few thousand rows: inserts in a transaction, index builds, joins,
    grouping, a recursive CTE, an update and a delete."""
    s = ["PRAGMA foreign_keys=ON;",
         "CREATE TABLE author(id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
         "CREATE TABLE book(id INTEGER PRIMARY KEY, author INTEGER REFERENCES author(id),"
         " title TEXT, year INTEGER, pages INTEGER);",
         "BEGIN;"]
    for a in range(rows // 20):
        s.append(f"INSERT INTO author(name) VALUES ('author {a:04d} {'xyz' * (a % 7)}');")
    for b in range(rows):
        s.append(f"INSERT INTO book(author, title, year, pages) VALUES ({b % (rows // 20) + 1},"
                 f" 'title {(b * 7919) % rows:05d} {'abc' * (b % 5)}', {1900 + b % 123},"
                 f" {50 + (b * 31) % 900});")
    s += ["COMMIT;",
          "CREATE INDEX book_year ON book(year);",
          "CREATE INDEX book_title ON book(title);",
          "CREATE UNIQUE INDEX author_name ON author(name);",
          "SELECT count(*), sum(pages), min(title), max(title) FROM book;",
          "SELECT year, count(*), avg(pages) FROM book WHERE year BETWEEN 1950 AND 1960"
          " GROUP BY year ORDER BY year;",
          "SELECT a.name, count(b.id) n, sum(b.pages) FROM author a JOIN book b ON b.author = a.id"
          " GROUP BY a.id ORDER BY n DESC, a.name LIMIT 5;",
          "SELECT title FROM book WHERE title LIKE 'title 0012%' ORDER BY title;",
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
          " SELECT count(*), sum(i * i) FROM n;",
          "UPDATE book SET pages = pages + 1 WHERE year % 3 = 0;",
          "DELETE FROM book WHERE pages > 900;",
          "REINDEX;",
          "SELECT count(*), sum(pages), group_concat(DISTINCT year % 10) FROM book;",
          "PRAGMA integrity_check;"]
    return "\n".join(s) + "\n"


def proto_file(messages):
    """A .proto with enums, nested messages, oneofs, maps and services."""
    s = ['syntax = "proto3";', "package crossfree.real;", ""]
    for m in range(messages):
        s.append(f"enum Kind{m} {{ KIND{m}_NONE = 0; KIND{m}_A = 1; KIND{m}_B = 2; }}")
        s.append(f"message Msg{m} {{")
        s.append("  message Inner { string name = 1; repeated int64 values = 2; }")
        s.append("  string title = 1;")
        s.append("  repeated Inner inner = 2;")
        s.append("  map<string, int32> counts = 3;")
        s.append(f"  Kind{m} kind = 4;")
        s.append("  oneof choice { string text = 5; bytes data = 6; double number = 7; }")
        if m:
            s.append(f"  Msg{m - 1} previous = 8;")
            s.append(f"  repeated Msg{m // 2}.Inner shared = 9;")
        s.append("}")
    for v in range(messages // 10):
        s.append(f"service Svc{v} {{")
        for r in range(5):
            m = (v * 10 + r) % messages
            s.append(f"  rpc Call{r}(Msg{m}) returns (Msg{(m + 1) % messages});")
        s.append("}")
    return "\n".join(s) + "\n"


def ninja_file(sources):
    """A build graph: sources compiled, grouped into libraries, linked."""
    s = ["ninja_required_version = 1.5",
         "cflags = -O2 -Wall",
         "rule cc",
         "  command = cc $cflags -MD -MF $out.d -c $in -o $out",
         "  description = CC $out",
         "  depfile = $out.d",
         "rule ar",
         "  command = ar rcs $out $in",
         "  description = AR $out",
         "rule link",
         "  command = cc -o $out $in $libs",
         "  description = LINK $out",
         "pool link_pool",
         "  depth = 1",
         ""]
    libs = []
    for lib in range(sources // 50):
        objs = []
        for i in range(lib * 50, lib * 50 + 50):
            s.append(f"build obj/lib{lib}/src{i}.o: cc src/lib{lib}/src{i}.c | src/common.h")
            s.append(f"  cflags = $cflags -DUNIT={i}")
            objs.append(f"obj/lib{lib}/src{i}.o")
        s.append(f"build lib/lib{lib}.a: ar {' '.join(objs)}")
        libs.append(f"lib/lib{lib}.a")
    for p in range(10):
        s.append(f"build bin/prog{p}: link {' '.join(libs[p % len(libs):])}")
        s.append("  pool = link_pool")
        s.append(f"  libs = -lm -lprog{p}")
    s.append(f"build all: phony {' '.join(f'bin/prog{p}' for p in range(10))}")
    s.append("default all")
    files = {"build.ninja": "\n".join(s) + "\n", "src/common.h": "#define COMMON 1\n"}
    for lib in range(sources // 50):
        for i in range(lib * 50, lib * 50 + 50):
            files[f"src/lib{lib}/src{i}.c"] = f"int f{i}(void) {{ return {i}; }}\n"
    return files


PERL_WORK = r"""
use strict;
use warnings;
use List::Util qw(sum max first shuffle);
srand(18);
my (%h, @all);
for my $i (1 .. 30000) {
    my $k = join("", map { chr(97 + ($i * $_) % 26) } 1 .. 8);
    $h{$k} .= "x$i";
    push @all, { id => $i, key => $k, len => length($h{$k}) };
}
my @s = sort { length($h{$a}) <=> length($h{$b}) || $a cmp $b } keys %h;
my $t = join(",", @s);
my @m = ($t =~ /(a\w+?e)/g);
(my $u = $t) =~ s/([aeiou])/uc($1) x 2/ge;
my %by = ();
push @{ $by{ substr($_->{key}, 0, 1) } }, $_ for @all;
my @parts = map { scalar(@{ $by{$_} }) } sort keys %by;
my $text = sprintf("%s|%d|%d|%d|%s", scalar(@s), scalar(@m), length($u), sum(@parts),
                   join(":", @parts[0 .. 4]));
print "$text\n";
print join(" ", map { sprintf("%08x", unpack("%32C*", $_)) } @s[0 .. 7]), "\n";
print max(map { $_->{len} } @all), " ", (first { $_->{len} > 40 } @all)->{key}, "\n";
"""

BASH_WORK = r"""
declare -A a
s=
for ((i = 0; i < 4000; i++)); do
    a[k$i]="v$((i * 7))"
    s+="${a[k$i]:0:2}"
done
keys=("${!a[@]}")
printf '%d %d\n' "${#keys[@]}" "${#s}"
f() { local x=$1 acc=$2; if ((x > 0)); then f $((x - 1)) "$acc$x"; else echo "${#acc}"; fi; }
f 300 ""
words=()
for ((i = 0; i < 2000; i++)); do words+=("w$((i * 37 % 1009))"); done
declare -A seen
for w in "${words[@]}"; do seen[$w]=$((${seen[$w]:-0} + 1)); done
echo "${#seen[@]} ${seen[w0]} ${seen[w1008]}"
str="${words[*]}"
sub=$(printf '%s' "${str//w1/W}")
echo "${#str} ${sub:0:60}"
printf '%s\n' "${words[@]}" | { n=0; while read -r w; do ((n += ${#w})); done; echo "$n"; }
"""


def commands(workload_py):
    with open(workload_py) as f:
        workload = f.read()
    sources = {}
    for rel in ("src/platform/linux/unwind.c", "src/stack/cfi.c", "src/runtime/hooks.c"):
        with open(os.path.join(HERE, "..", "..", rel)) as f:
            sources[os.path.basename(rel)] = f.read()
    highlight = ["source-highlight", "--data-dir=@ROOT@/usr/share/source-highlight",
                 "--src-lang=cpp", "--line-number", "--output-dir=out"]
    return {
        "python3.11": [
            ("python3.11 real_workload.py", ["python3.11", "-s", "-B", "real_workload.py", "4000"],
             {"real_workload.py": workload}, [], None),
        ],
        "sqlite3": [
            ("sqlite3 books.db < books.sql", ["sqlite3", "-batch", "books.db"],
             {"books.sql": sqlite_script(3000)}, [], None),
        ],
        "protoc": [
            ("protoc --cpp_out --python_out --descriptor_set_out real.proto",
             ["protoc", "--cpp_out=out", "--python_out=out", "--descriptor_set_out=out/real.pb",
              "--include_imports", "real.proto"],
             {"real.proto": proto_file(100), "out/.keep": ""},
             ["out/real.pb.h", "out/real.pb.cc", "out/real_pb2.py", "out/real.pb"], None),
        ],
        "perl": [
            ("perl work.pl", ["perl", "-I@ROOT@/usr/lib/aarch64-linux-gnu/perl-base", "work.pl"],
             {"work.pl": PERL_WORK}, [], None),
        ],
        # Builtins only, in the shell and its forked subshells (a command
        # substitution, a pipeline): a program it ran would be the host's
        # amd64 one, since qemu-user leaves execve to the host kernel.
        "bash": [
            ("bash work.sh", ["bin/bash", "--norc", "--noprofile", "work.sh"],
             {"work.sh": BASH_WORK}, [], None),
        ],
        "source-highlight": [
            ("source-highlight -f html", highlight + ["-f", "html"] + sorted(sources),
             dict(sources, **{"out/.keep": ""}), [f"out/{n}.html" for n in sorted(sources)],
             None),
            ("source-highlight -f esc", highlight + ["-f", "esc"] + sorted(sources),
             dict(sources, **{"out/.keep": ""}), [f"out/{n}.txt" for n in sorted(sources)],
             None),
        ],
        # Rust, four threads walking crossfree's own tree: lines in any order.
        "rg": [
            # Sources only (-t): never a file another test writes meanwhile.
            ("rg -j4 --count-matches", ["rg", "-j4", "-tc", "-tcpp", "-tpy", "-tmd",
                                        "--count-matches", r"cf_[a-z_]+\(", "@SRC@/src",
                                        "@SRC@/tests", "@SRC@/docs"], {}, [], None),
        ],
        # Four compression threads on 512 KiB jobs; the frame is the same
        # whatever the threads.
        "zstd": [
            ("zstd -T4 -12 -B512KiB", ["zstd", "-q", "-T4", "-12", "-B524288", "-f", "in.txt", "-o",
                                        "in.txt.zst"],
             {"in.txt": "".join(sources.values()) * 40}, ["in.txt.zst"], None),
        ],
        "ninja": [
            # Each edge's depfile is read by ninja's ReadFile, whose 64 KiB
            # buffer puts its saved x29/x30 65,744 bytes below the CFA: the
            # malloc in its fopen, once per edge, was left to libunwind
            # (2,006 stacks of this run) while rules held byte offsets in 16
            # bits. Still left, once each: the frames of 262,464 and 524,496
            # bytes that read .ninja_log and .ninja_deps (256 and 512 KiB
            # buffers), past the 256 KiB that 8-byte units reach.
            ("ninja -n -j1", ["ninja", "-n", "-j1"], ninja_file(2000), [], None),
            ("ninja -t targets all", ["ninja", "-t", "targets", "all"], ninja_file(2000), [],
             None),
            ("ninja -t commands all", ["ninja", "-t", "commands", "all"], ninja_file(2000), [],
             None),
        ],
    }


STDIN = {"sqlite3": "books.sql"}
UNORDERED_STDOUT = {"rg"}  # compared as sorted lines


# ---------------------------------------------------------------------------


class Run:
    def __init__(self, status, out, err, files, seconds):
        self.status, self.out, self.err, self.files, self.seconds = status, out, err, files, seconds


def run_one(root, cwd, name, argv, inputs, outputs, lib):
    """Runs argv (under root/usr/bin) in a fresh cwd holding inputs; the
    same path every time, so the two runs print the same paths."""
    shutil.rmtree(cwd, ignore_errors=True)
    os.makedirs(cwd)
    for rel, text in inputs.items():
        path = os.path.join(cwd, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    libpath = f"{root}/usr/lib/aarch64-linux-gnu:{root}/lib/aarch64-linux-gnu"
    cmd = ["qemu-aarch64", "-E", f"LD_LIBRARY_PATH={libpath}"]
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "LD_LIBRARY_PATH", "CROSSFREE_OPTIONS", "MESON_EXE_WRAPPER"):
        env.pop(k, None)
    env["PYTHONHASHSEED"] = "0"
    env["LC_ALL"] = "C"
    if lib:
        cmd += ["-E", f"LD_PRELOAD={lib}"]
        env["CROSSFREE_OPTIONS"] = OPTIONS
    exe = os.path.join(root, argv[0]) if "/" in argv[0] else os.path.join(root, "usr/bin", argv[0])
    src = os.path.abspath(os.path.join(HERE, "..", ".."))
    cmd += [exe] + [a.replace("@ROOT@", root).replace("@SRC@", src) for a in argv[1:]]
    stdin = subprocess.DEVNULL
    if name in STDIN:
        stdin = open(os.path.join(cwd, STDIN[name]))
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        status, out, err = p.returncode, p.stdout, p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        status, out = "timeout", e.stdout or b""
        err = (e.stderr or b"").decode(errors="replace") + f"\n[killed after {TIMEOUT} s]"
    finally:
        if stdin is not subprocess.DEVNULL:
            stdin.close()
    seconds = time.monotonic() - t0
    files = {}
    for rel in outputs:
        try:
            with open(os.path.join(cwd, rel), "rb") as f:
                files[rel] = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            files[rel] = None
    return cmd, env, Run(status, out, err, files, seconds)


def has_fast_unwinder(lib):
    """Whether this libcrossfree.so was built with the cached unwinder
    (CF_FAST_UNWIND): its symbol table has the unwinder's statistics."""
    nm = shutil.which("aarch64-linux-gnu-nm")
    if not nm:
        return None
    p = subprocess.run([nm, lib], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return any(l.endswith(" cf_fast_unwind_get_stats") for l in p.stdout.splitlines())


def judge(native, cf, fast, max_share):
    """What is wrong with the preloaded run, and its counters."""
    bad = []
    if cf.status != native.status:
        bad.append(f"exit status {cf.status}, natively under qemu {native.status}")
    if cf.out != native.out:
        bad.append("stdout differs from the native run (native %d bytes, preloaded %d)"
                   % (len(native.out), len(cf.out)))
    for rel, h in native.files.items():
        if h is None:
            bad.append(f"the native run wrote no {rel}")
        elif cf.files.get(rel) != h:
            bad.append(f"{rel} differs from the native run's")
    lines = cf.err.splitlines()
    if not any(CHECKING_RE.match(l) for l in lines):
        bad.append("no `crossfree: checking this process` line: was libcrossfree.so loaded?")
    errors = [l for l in lines if ERROR_RE.match(l)]
    if errors:
        bad.append(f"crossfree reported {len(errors)} error(s); the first: {errors[0]}")
    depots = {int(m.group(1)): (int(m.group(2)), int(m.group(3)))
              for m in map(DEPOT_RE.match, lines) if m}
    unw = exit_lines(cf.err)
    if not depots:
        bad.append("no `at exit:` line (verbosity=1 prints one per process)")
    if fast is None:
        fast = bool(unw)
    if fast:
        bad += unwinder_failures(cf.err, need_pids=list(depots), label="preloaded")
        for l in unw:
            # The exit line does not count the stacks taken, but each is in
            # the depot, and walks that missed the chain cache (chains) and
            # walks that gave up (left to libunwind) are counted apart: the
            # larger of the two sums is a floor, so the share is a ceiling.
            taken = max(depots.get(l.pid, (0, 0))[1], l.chains + l.fallbacks, 1)
            if l.fallbacks > max_share * taken:
                bad.append(f"pid {l.pid} left {l.fallbacks} stacks to libunwind, "
                           f"{l.fallbacks / taken:.1%} of at least {taken} taken "
                           f"(allowed: {max_share:.0%})")
    else:
        differ = differ_lines(cf.err)
        if differ:
            bad.append(f"{len(differ)} `stacks differ` line(s); the first: {differ[0][:600]}")
        if unw:
            bad.append("an `at exit: unwinder:` line from a build without the cached unwinder")
    counters = []
    for pid, (records, stacks) in depots.items():
        c = f"pid {pid}: {records} records, {stacks} distinct stacks"
        for l in unw:
            if l.pid == pid:
                c += (f", {l.chains} chains and {l.rules} rules computed, {l.fallbacks} left to "
                      f"libunwind, {l.differences} differences")
        counters.append(c)
    return bad, counters


def self_test():
    """judge() must fail each way a preloaded run can go wrong; returns the
    failures of that (empty when all is well)."""
    ok_err = ("==7==crossfree: checking this process\n"
              "==7==crossfree: at exit: 3 records in 4096 slots (65536 bytes; 16 per compact "
              "slot, 24 per full one), depot: 500 stacks in 9000 bytes\n"
              "==7==crossfree: at exit: unwinder: 900 chains and 300 rules computed, "
              "2 stacks left to libunwind, 0 differences from libunwind\n")
    native = Run(0, b"out\n", "", {"f": "h"}, 0)

    def cf(**kw):
        r = Run(0, b"out\n", ok_err, {"f": "h"}, 0)
        for k, v in kw.items():
            setattr(r, k, v)
        return r

    cases = {
        "clean": (cf(), True, []),
        "exit status": (cf(status=1), True, ["exit status"]),
        "stdout": (cf(out=b"other\n"), True, ["stdout differs"]),
        "output file": (cf(files={"f": "x"}), True, ["f differs"]),
        "not loaded": (cf(err=""), True, ["checking this process", "no `at exit:`"]),
        "report": (cf(err=ok_err + "==7==ERROR: crossfree: alloc-dealloc-mismatch\n"), True,
                   ["reported 1 error"]),
        "stacks differ": (cf(err=ok_err + "==7==crossfree: fast_unwind=2: stacks differ; "
                             "fast: a; libunwind: b\n"), True, ["stacks differ"]),
        "differences": (cf(err=ok_err.replace(", 0 differences", ", 2 differences")), True,
                        ["counted 2 differences"]),
        "no count": (cf(err=ok_err.replace(", 0 differences from libunwind", "")), True,
                     ["no differences count"]),
        "no unwinder line": (cf(err="\n".join(ok_err.splitlines()[:2])), True,
                             ["no `at exit: unwinder:` line"]),
        "fallbacks": (cf(err=ok_err.replace("2 stacks left", "90 stacks left")), True,
                      ["left 90 stacks"]),
        "unwinder line without unwinder": (cf(), False, ["without the cached unwinder"]),
    }
    wrong = []
    for name, (run, fast, want) in cases.items():
        bad, _ = judge(native, run, fast, 0.05)
        if not want and bad:
            wrong.append(f"{name}: judged bad: {bad}")
        for w in want:
            if not any(w in b for b in bad):
                wrong.append(f"{name}: no complaint containing `{w}` in {bad}")
    return wrong


def main(argv):
    if argv == ["--self-test"]:
        wrong = self_test()
        print("\n".join(wrong) or "self-test: judge() fails every bad run it is shown")
        return EXIT_FAIL if wrong else EXIT_PASS
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--meson", required=True)
    ap.add_argument("--programs", help="cf_fetch_arm64_programs's directory")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--max-fallback-share", type=float, default=0.01,
                    help="stacks left to libunwind, at most this share of the distinct stacks")
    ap.add_argument("--keep", action="store_true", help="keep WORK/real (inputs and outputs)")
    args = ap.parse_args(argv)
    args.work = os.path.abspath(args.work)

    wrong = self_test()
    if wrong:
        print("FAIL: the checks themselves: " + "; ".join(wrong))
        return EXIT_FAIL
    need = run_aarch64.missing_tools()
    if need:
        print("SKIP: the aarch64 cross build needs " + ", ".join(need) +
              " (tools/setup.sh: cf_setup_aarch64)")
        return EXIT_SKIP
    pdir = programs_dir(args.programs)
    root = os.path.join(pdir, "root")
    if not os.path.exists(os.path.join(root, "PACKAGES")):
        why = ""
        try:
            with open(os.path.join(pdir, "UNAVAILABLE")) as f:
                why = ": " + f.read().strip()
        except OSError:
            why = " (run tools/setup.sh's cf_setup_aarch64, which calls cf_fetch_arm64_programs)"
        print(f"SKIP: the arm64 programs are not unpacked in {root}{why}")
        return EXIT_SKIP
    err = run_aarch64.build(args)
    if err:
        print("FAIL: " + err)
        return EXIT_FAIL
    lib = os.path.join(args.work, "build", "src", "libcrossfree.so")
    fast = has_fast_unwinder(lib)
    print(f"libcrossfree.so: {lib}; cached unwinder: "
          f"{'yes' if fast else 'no' if fast is not None else 'unknown (no aarch64-linux-gnu-nm)'}")
    with open(os.path.join(root, "PACKAGES")) as f:
        print("arm64 packages: " + " ".join(f.read().split()))

    progs = commands(os.path.join(HERE, "real_workload.py"))
    failed = passed = 0
    for name, cmds in progs.items():
        if args.only and name not in args.only:
            continue
        for label, argv_, inputs, outputs, share in cmds:
            cwd = os.path.join(args.work, "real", name)
            _, _, native = run_one(root, cwd, name, argv_, inputs, outputs, None)
            cmd, env, cf = run_one(root, cwd, name, argv_, inputs, outputs, lib)
            shown = (f"cd {cwd} && CROSSFREE_OPTIONS={OPTIONS} PYTHONHASHSEED=0 LC_ALL=C "
                     f"{shlex.join(cmd)}" + (f" < {STDIN[name]}" if name in STDIN else ""))
            if name in UNORDERED_STDOUT:
                native.out, cf.out = (b"".join(sorted(r.out.splitlines(True)))
                                      for r in (native, cf))
            if native.status != 0:
                bad = [f"the native run under qemu exited {native.status}: "
                       f"{native.err.strip()[-1500:]}"]
                counters = []
            else:
                bad, counters = judge(native, cf, fast,
                                      args.max_fallback_share if share is None else share)
            verdict = "FAIL" if bad else "PASS"
            print(f"{verdict}: {name}: {label}: native {native.seconds:.1f} s, "
                  f"crossfree {cf.seconds:.1f} s, stdout {len(cf.out)} bytes, "
                  f"exit {cf.status}")
            print(f"  $ {shown}")
            for c in counters:
                print(f"  {c}")
            for b in bad:
                print(f"  - {b}")
            if bad:
                failed += 1
                errl = cf.err.splitlines()
                print("  ---- stderr (first 80 lines) ----")
                print("\n".join("  " + l for l in errl[:80]))
                if len(errl) > 80:
                    print(f"  [... {len(errl) - 80} more lines]")
            else:
                passed += 1
    if not args.keep:
        shutil.rmtree(os.path.join(args.work, "real"), ignore_errors=True)
    print(f"aarch64 real programs: {passed} passed, {failed} failed")
    return EXIT_FAIL if failed or not passed else EXIT_PASS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
