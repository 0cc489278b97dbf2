#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Named threads in reports, end to end: runs a program whose threads print
# their OS ids (`NAME tid N` on stdout) with crossfree preloaded, once with
# text reports and once with report_format=json, then reads the JSON log
# back through `crossfree report`. Each rendering must name every thread by
# its number, name and that OS id, and say which thread created which, with
# the creating call's frames. Standard library only; exits 0 pass, 1 fail.
"""Usage: check_thread_names.py LIB CROSSFREE PROGRAM SPEC
       check_thread_names.py LIB CROSSFREE --rust SOURCE.rs SPEC

SPEC is a JSON object: {"free": [number, name], "alloc": [number, name],
"created": {"2": [creator, [functions]]}}: the functions appear in that
order in the creation stack of thread 2, each as part of a frame's
function name. Names are the keys of the program's `NAME tid N` lines.
With --rust, the program is built from SOURCE.rs with rustc first (linked
with the C++ runtime); without rustc the test skips (77) saying so."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile


def run(cmd, env):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def in_order(wanted, functions):
    """Each wanted name is part of a function, in order."""
    it = iter(functions)
    return all(any(w in (f or "") for f in it) for w in wanted)


def build_rust(source, tmp):
    rustc = shutil.which("rustc") or ("/root/.cargo/bin/rustc"
                                      if os.access("/root/.cargo/bin/rustc", os.X_OK) else None)
    if rustc is None:
        print("SKIP: rustc is not installed (https://rustup.rs, or apt-get install rustc)")
        sys.exit(77)
    out = os.path.join(tmp, "thread_names_rs")
    p = subprocess.run([rustc, "-g", "-C", "opt-level=0", "-l", "stdc++", "-o", out, source],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        print(f"FAIL: rustc could not build {source}:\n{p.stderr}", file=sys.stderr)
        sys.exit(1)
    return out


def main():
    args = sys.argv[1:]
    lib, cli = args[0], args[1]
    rust = args[2] == "--rust"
    prog, spec = (args[3], args[4]) if rust else (args[2], args[3])
    spec = json.loads(spec)
    with tempfile.TemporaryDirectory() as tmp:
        if rust:
            prog = build_rust(prog, tmp)
        return check_program(lib, cli, prog, spec)


def check_program(lib, cli, prog, spec):
    fails = []

    def check(cond, what, want=None, got=None):
        if not cond:
            fails.append(f"FAIL: {what}\n  want: {want}\n  got:  {got}")
        return cond

    def desc(number, name, tids):
        return f"T{number} ({name}, tid {tids[name]})"

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LD_PRELOAD=os.path.abspath(lib))
        env.pop("RUST_BACKTRACE", None)
        # --- text ---
        env["CROSSFREE_OPTIONS"] = "log_path=stderr"
        rc, out, err = run([prog], env)
        tids = dict((m.group(1), int(m.group(2)))
                    for m in re.finditer(r"^(\S+) tid (\d+)$", out, re.M))
        check(rc == -signal.SIGABRT, "text run: the report aborts", -signal.SIGABRT, rc)
        fnum, fname = spec["free"]
        anum, aname = spec["alloc"]
        if not check(fname in tids and aname in tids, "the program printed both tids",
                     [fname, aname], out):
            print("\n".join(fails), file=sys.stderr)
            return 1
        lines = err.splitlines()
        check(any(re.match(r"^==\d+==ERROR: crossfree: \S+ on address 0x[0-9a-f]+ in thread "
                           + re.escape(desc(fnum, fname, tids)) + "$", l) for l in lines),
              "text: the ERROR line names the freeing thread", desc(fnum, fname, tids), err)
        check(any(l.endswith(" in thread " + desc(anum, aname, tids) + " here:") for l in lines),
              "text: the region line names the allocating thread", desc(anum, aname, tids), err)
        for num, (creator, funcs) in spec["created"].items():
            head = [i for i, l in enumerate(lines)
                    if re.match(rf"^Thread T{num} \(.*\) created by T{creator}( \(.*\))? here:$",
                                l)]
            if check(len(head) == 1, f"text: one `Thread T{num} ... created by T{creator} "
                     "here:` line", 1, err):
                frames = []
                for f in lines[head[0] + 1:]:
                    m = re.match(r"^\s+#\d+ 0x[0-9a-f]+ in (\S+)", f)
                    if not re.match(r"^\s+#\d+ ", f):
                        break
                    frames.append(m.group(1) if m else "")
                check(in_order(funcs, frames), f"text: T{num}'s creation stack", funcs, frames)

        # --- JSON ---
        prefix = os.path.join(tmp, "cf")
        env["CROSSFREE_OPTIONS"] = "report_format=json:log_path=" + prefix
        rc, out, err = run([prog], env)
        tids = dict((m.group(1), int(m.group(2)))
                    for m in re.finditer(r"^(\S+) tid (\d+)$", out, re.M))
        logs = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("cf.")]
        if check(len(logs) == 1, "json: one log file", 1, logs):
            rec = json.loads(open(logs[0]).readline())
            ts = {t["id"]: t for t in rec.get("threads") or []}
            check(rec["thread"] == fnum and rec["allocated_by"]["thread"] == anum,
                  "json: thread numbers", (fnum, anum),
                  (rec["thread"], rec["allocated_by"]["thread"]))
            for num, name in (spec["free"], spec["alloc"]):
                t = ts.get(num, {})
                check(t.get("name") == name and t.get("os_tid") == tids.get(name)
                      and t.get("main") is False, f"json: threads entry of T{num}",
                      {"name": name, "os_tid": tids.get(name), "main": False}, t)
            for num, (creator, funcs) in spec["created"].items():
                t = ts.get(int(num), {})
                got = [f["function"] for f in (t.get("creation_stack") or [])]
                check(t.get("created_by") == creator and in_order(funcs, got),
                      f"json: T{num} created_by and creation_stack", (creator, funcs),
                      (t.get("created_by"), got))
            mains = [t for t in rec.get("threads") or [] if t["main"]]
            check(all(t["os_tid"] == rec["pid"] for t in mains),
                  "json: the main thread's OS id is the pid", rec["pid"], mains)
            # --- crossfree report reads the names back ---
            rc, text, err = run([cli, "report", logs[0]], dict(os.environ))
            check(f"in thread {desc(fnum, fname, tids)}\n" in text,
                  "crossfree report: the ERROR line names the freeing thread",
                  desc(fnum, fname, tids), text)
            check(f"in thread {desc(anum, aname, tids)} here:" in text,
                  "crossfree report: the allocating thread", desc(anum, aname, tids), text)
            for num, (creator, _) in spec["created"].items():
                check(re.search(rf"^Thread T{num} \(.*\) created by T{creator}\b", text, re.M),
                      f"crossfree report: T{num}'s creation", f"Thread T{num} ...", text)
            # ... and from a text log too.
            log = os.path.join(tmp, "text.log")
            env["CROSSFREE_OPTIONS"] = "log_path=" + log
            rc, out, _ = run([prog], env)
            tids = dict((m.group(1), int(m.group(2)))
                        for m in re.finditer(r"^(\S+) tid (\d+)$", out, re.M))
            texts = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("text.log.")]
            rc, text, err = run([cli, "report"] + texts, dict(os.environ))
            check("skipped" not in err, "crossfree report reads the text log without "
                  "skipping lines", "", err)
            check(f"in thread {desc(fnum, fname, tids)}\n" in text,
                  "crossfree report of the text log: the ERROR line names the freeing thread",
                  desc(fnum, fname, tids), text)
            for num, (creator, funcs) in spec["created"].items():
                m = re.search(rf"^Thread T{num} \(.*\) created by T{creator}\b.*\n"
                              rf"(\s+#\d+ .*\n)*\s+#\d+ 0x[0-9a-f]+ in \S*{funcs[0]}", text,
                              re.M)
                check(m, f"crossfree report of the text log: T{num}'s creation and its #0",
                      funcs[0], text)
    if fails:
        print("\n".join(fails), file=sys.stderr)
        return 1
    print("ok: names, tids and creation stacks in text, JSON and crossfree report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
