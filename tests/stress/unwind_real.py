#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# crossfree's cached unwinder against libunwind on real programs: each one
# runs natively, then with the library preloaded and
# CROSSFREE_OPTIONS=fast_unwind=2:verbosity=1:malloc_context_size=64, where
# every allocation stack is taken by both unwinders and compared. Passes
# when every run prints what the native run printed, exits the same way,
# writes no `stacks differ` line and no report, and every process's exit
# line says `0 differences from libunwind`. A program that is not installed
# is skipped with a message; exit 77 only when none is installed.
"""Usage: unwind_real.py LIB REPO_ROOT [NAME...]"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import check_unwind  # noqa: E402

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
OPTIONS = check_unwind.BASE_OPTIONS
TIMEOUT = 300

PY_SCRIPT = r"""
import threading, json, collections
words = ["w%05d" % (i * 7919 % 100000) for i in range(20000)]
index = collections.defaultdict(list)
for i, w in enumerate(words):
    index[w[:3]].append(i)
totals = {}
lock = threading.Lock()
def work(k):
    d = {}
    for i in range(3000):
        s = ("%d-%s" % (i, words[(i * k) % len(words)])) * 3
        d[s] = len(s)
    text = json.dumps(d)
    with lock:
        totals[k] = (len(d), len(text), sum(d.values()))
threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
for t in threads: t.start()
for t in threads: t.join()
print(len(index), sorted(totals.items()))
print(" ".join(sorted(set(w[-2:] for w in words)))[:200])
"""

SQL = ["create table t(a integer primary key, b text, c real);",
       "with recursive n(x) as (select 1 union all select x + 1 from n where x < 5000) "
       "insert into t select x, printf('row %d', x), x * 0.5 from n;",
       "create index tb on t(b);",
       "select count(*), sum(c), max(b) from t where a % 7 = 3;",
       "select group_concat(b, ',') from (select b from t order by b desc limit 5);"]

PERL = (r'my %h; for my $i (1..20000) { $h{"k$i"} = "v" x ($i % 50); } '
        r'my @k = sort keys %h; my $s = join(",", map { length $h{$_} } @k[0..99]); '
        r'print scalar(@k), " ", length($s), "\n"; my $t = "abc" x 1000; $t =~ s/b/xyz/g; '
        r'print length($t), "\n";')

NODE = (r'const m = new Map(); '
        r'for (let i = 0; i < 50000; i++) m.set("k" + i, {v: i, s: "x".repeat(i % 40)}); '
        r'let n = 0; for (const [k, o] of m) n += o.s.length; '
        r'console.log(m.size, n, JSON.stringify([...m.keys()].slice(0, 5)));')


def programs(repo, tmp):
    """[name, argv, extra env, stdin text, compare stderr too, files to compare]"""
    src = os.path.join(repo, "src", "core", "table.c")
    return [
        ["python3", [sys.executable, "-c", PY_SCRIPT], {"PYTHONMALLOC": "malloc"}, None, False,
         []],
        ["gcc", ["gcc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-I", os.path.join(repo, "src"),
                 "-I", os.path.join(repo, "include"), "-c", src, "-o", "%OUT/table.o"],
         {}, None, False, ["table.o"]],
        ["sqlite3", ["sqlite3", ":memory:"] + SQL, {}, None, False, []],
        ["git", ["git", "--no-pager", "-C", repo, "log", "--stat", "-n", "20", "--format=%H %s"],
         {"GIT_PAGER": "cat", "PAGER": "cat"}, None, False, []],
        ["perl", ["perl", "-e", PERL], {}, None, False, []],
        ["node", ["node", "-e", NODE], {}, None, False, []],
        ["java", ["java", "-version"], {}, None, True, []],
    ]


def strip_crossfree(err):
    keep = []
    for l in err.splitlines():
        if re.match(r"^==\d+==", l) or check_unwind.DIFFER_RE.search(l):
            continue
        keep.append(l)
    return keep


def run(argv, env, stdin, preload, lib):
    e = dict(os.environ)
    e.pop("CROSSFREE_OPTIONS", None)
    e.pop("LD_PRELOAD", None)
    e.update(env)
    if preload:
        e["LD_PRELOAD"] = lib
        e["CROSSFREE_OPTIONS"] = OPTIONS
    try:
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=e,
                           timeout=TIMEOUT, errors="replace")
    except subprocess.TimeoutExpired:
        return None, "", f"[unwind_real: timed out after {TIMEOUT} s]"
    return p.returncode, p.stdout, p.stderr


def check(name, argv, env, stdin, cmp_stderr, files, lib, tmp):
    native_dir = os.path.join(tmp, name + "-native")
    preload_dir = os.path.join(tmp, name + "-preload")
    os.makedirs(native_dir)
    os.makedirs(preload_dir)
    nat = run([a.replace("%OUT", native_dir) for a in argv], env, stdin, False, lib)
    pre = run([a.replace("%OUT", preload_dir) for a in argv], env, stdin, True, lib)
    bad = []
    if nat[0] != 0:
        bad.append(f"the native run failed ({check_unwind.status_name(nat[0])}); "
                   f"stderr: {nat[2][-500:]}")
    if pre[0] != nat[0]:
        bad.append(f"exit status {check_unwind.status_name(pre[0])} with crossfree, "
                   f"{check_unwind.status_name(nat[0])} natively")
    if pre[1] != nat[1]:
        bad.append("stdout differs from the native run")
    if cmp_stderr and strip_crossfree(pre[2]) != strip_crossfree(nat[2]):
        bad.append("stderr (crossfree's lines removed) differs from the native run")
    for f in files:
        a, b = os.path.join(native_dir, f), os.path.join(preload_dir, f)
        if not (os.path.exists(a) and os.path.exists(b)):
            bad.append(f"{f} was not written by both runs")
        else:
            with open(a, "rb") as fa, open(b, "rb") as fb:
                if fa.read() != fb.read():
                    bad.append(f"{f} differs between the runs")
    errors = [l for l in pre[2].splitlines() if check_unwind.ERROR_RE.match(l)]
    if errors:
        bad.append(f"crossfree reported an error: {errors[0]}")
    bad += check_unwind.unwinder_failures(pre[2], label=name)
    lines = check_unwind.exit_lines(pre[2])
    checked = {int(m.group(1)) for m in map(check_unwind.CHECKING_RE.match,
                                            pre[2].splitlines()) if m}
    summary = (f"{len(lines)} exit line(s) for {len(checked)} checked process(es); "
               f"chains {sum(l.chains for l in lines)}, rules {sum(l.rules for l in lines)}, "
               f"left to libunwind {sum(l.fallbacks for l in lines)}")
    shown = [a.replace("%OUT", preload_dir) for a in argv]
    cmd = f"CROSSFREE_OPTIONS={OPTIONS} LD_PRELOAD={lib} {shlex.join(shown)}"
    if not bad:
        print(f"PASS {name}: {summary}")
        return True
    print(f"FAIL {name}: {cmd}")
    for b in bad:
        print(f"  - {b}")
    print(f"  {summary}")
    if pre[1] != nat[1]:
        print("---- native stdout (end) ----")
        print(nat[1][-1500:])
        print("---- crossfree stdout (end) ----")
        print(pre[1][-1500:])
    print("---- crossfree stderr (first 40 lines) ----")
    print("\n".join(pre[2].splitlines()[:40]))
    return False


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return EXIT_FAIL
    lib, repo = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    only = set(argv[2:])
    if not os.path.exists(lib):
        print(f"unwind_real: {lib} does not exist")
        return EXIT_FAIL
    tmp = tempfile.mkdtemp(prefix="crossfree-unwind-real-")
    ran, failed = 0, []
    try:
        for name, args, env, stdin, cmp_stderr, files in programs(repo, tmp):
            if only and name not in only:
                continue
            exe = args[0] if os.path.isabs(args[0]) else shutil.which(args[0])
            if exe is None or not os.path.exists(exe):
                print(f"SKIP {name}: {args[0]} is not installed")
                continue
            ran += 1
            if not check(name, args, env, stdin, cmp_stderr, files, lib, tmp):
                failed.append(name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if ran == 0:
        print("unwind_real: none of the programs is installed")
        return EXIT_SKIP
    if failed:
        print(f"unwind_real: FAIL ({', '.join(failed)})")
        return EXIT_FAIL
    print(f"unwind_real: PASS ({ran} programs)")
    return EXIT_PASS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
