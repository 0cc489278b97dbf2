#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs ONE Windows test case under Wine, from the Linux test suite. The first
# case to run cross-builds this source tree with MinGW-w64 and creates the
# Wine prefix (both kept in the build directory, shared under a lock); each
# case then runs its program through crossfree.exe and checks the report
# against EXPECT lines in the program's source. Exits 0 pass, 1 fail, 77 skip.
"""Usage: run_wine_tests.py --source-root DIR --work DIR --case NAME -- MODE PROGRAM [ARGS...]

Directives, in `//` comments of tests/windows/PROGRAM.c(c); `[mode]` after
the keyword limits a line to the case run with that MODE:

  EXPECT: clean | alloc-dealloc-mismatch | double-free | invalid-free |
          new-delete-size-mismatch | new-delete-alignment-mismatch
  EXPECT-WORDS: TEXT           the first report's second line equals TEXT
  EXPECT-TEXT: TEXT            a line of stderr contains TEXT
  EXPECT-FREE-FRAME: [#N] FUNC a frame of the first report's free stack
  EXPECT-ALLOC-FRAME: [#N] FUNC   ... of its allocation stack
  EXPECT-ALLOC-MODULE: [#N] REGEX a frame's module matches REGEX
  EXPECT-EXIT: N               exit status (default 134 with a report, 0 clean)
  EXPECT-REPORTS: N            number of reports (default 1)
  EXPECT-STDOUT: TEXT          a line of stdout equals TEXT
  EXPECT-NO-IMPORT: DLL        the program's import table does not name DLL
  OPTIONS: k=v:k=v             passed as crossfree.exe -o k=v ...
"""

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
ABORT_STATUS = 134  # crossfree.dll's exit status after a report (docs/windows.md)
KINDS = ("alloc-dealloc-mismatch", "double-free", "invalid-free", "new-delete-size-mismatch",
         "new-delete-alignment-mismatch")
TOOLS = ("x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-g++", "wine", "wineserver", "meson",
         "ninja")


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# Shared set-up: the cross build and the Wine prefix, once per build dir


class Locked:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.f = open(self.path, "a+")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def run_logged(cmd, env=None, cwd=None, timeout=900):
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout)
    if r.returncode != 0:
        log("$ " + " ".join(cmd))
        log(r.stdout)
    return r.returncode == 0


def wine_env(prefix, extra_paths=()):
    env = dict(os.environ)
    env["WINEPREFIX"] = prefix
    env["WINEDEBUG"] = "-all"
    env["WINEDLLOVERRIDES"] = "mscoree,mshtml="  # no Mono/Gecko install prompts
    env["WINEARCH"] = "win64"
    env.pop("CROSSFREE_OPTIONS", None)
    env.pop("DISPLAY", None)
    if extra_paths:
        env["WINEPATH"] = ";".join(extra_paths)
    return env


def win_path(p):
    return "Z:" + os.path.abspath(p).replace("/", "\\")


def set_up(src, work):
    """Builds build-win and creates the prefix if needed; returns their paths."""
    os.makedirs(work, exist_ok=True)
    build = os.path.join(work, "build-win")
    prefix = os.path.join(work, "wineprefix")
    with Locked(os.path.join(work, "setup.lock")):
        if not os.path.exists(os.path.join(build, "build.ninja")):
            shutil.rmtree(build, ignore_errors=True)
            if not run_logged(["meson", "setup", "-Dwerror=true", "--cross-file",
                               os.path.join(src, "cross", "mingw-w64.txt"), build, src]):
                return None
        if not run_logged(["ninja", "-C", build]):
            return None
        marker = os.path.join(prefix, ".crossfree-ready")
        if not os.path.exists(marker):
            shutil.rmtree(prefix, ignore_errors=True)
            env = wine_env(prefix)
            # The first start of a prefix takes seconds; the server must be
            # done writing the registry before the prefix is used.
            subprocess.run(["wine", "wineboot", "--init"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=300)
            subprocess.run(["wineserver", "-w"], env=env, timeout=300)
            if not os.path.isdir(os.path.join(prefix, "drive_c")):
                log("cannot create a Wine prefix in " + prefix)
                return None
            open(marker, "w").close()
    return build, prefix


def enter_run(work, delta):
    """Counts the cases running now; the last one out stops the wineserver."""
    with Locked(os.path.join(work, "active.lock")):
        path = os.path.join(work, "active-cases")
        try:
            n = int(open(path).read().strip() or "0")
        except (OSError, ValueError):
            n = 0
        n = max(0, n + delta)
        with open(path, "w") as f:
            f.write(str(n))
        return n


# ---------------------------------------------------------------------------
# Expectations


def directives(path, mode):
    out = []
    pat = re.compile(r"//\s*([A-Z][A-Z-]*)(?:\[([\w,]+)\])?:\s?(.*)$")
    for line in open(path, encoding="utf-8"):
        m = pat.search(line)
        if not m:
            continue
        key, modes, value = m.group(1), m.group(2), m.group(3).strip()
        if modes and mode not in modes.split(","):
            continue
        out.append((key, value))
    return out


FRAME = re.compile(r"^\s+#(\d+) 0x[0-9a-f]+(?: in (.*?))? \((.*)\+0x[0-9a-f]+\)( \[unloaded\])?$")


def parse_reports(lines):
    """Each report: kind, words, and its stacks by role (free, alloc, first-free)."""
    reports = []
    cur = None
    role = None
    for i, line in enumerate(lines):
        m = re.match(r"^==\d+==ERROR: crossfree: (\S+) on address", line)
        if m:
            cur = {"kind": m.group(1), "words": lines[i + 1] if i + 1 < len(lines) else "",
                   "stacks": {"free": [], "alloc": [], "first-free": []}}
            reports.append(cur)
            role = "free"
            continue
        if cur is None:
            continue
        if line.endswith(" here:"):
            role = "alloc" if "allocated by" in line else "first-free"
            continue
        fm = FRAME.match(line)
        if fm and role:
            func = (fm.group(2) or "").split(" ")[0]
            func = re.sub(r"\+0x[0-9a-f]+$", "", func)
            cur["stacks"][role].append((int(fm.group(1)), func, fm.group(3)))
        elif line.startswith("SUMMARY:"):
            role = None
    return reports


def frame_spec(value):
    m = re.match(r"^#(\d+)\s+(.*)$", value)
    return (int(m.group(1)), m.group(2).strip()) if m else (None, value.strip())


def check(name, dirs, code, out, err, imports):
    errs = []
    out_lines = out.splitlines()
    err_lines = [l.rstrip("\r") for l in err.splitlines()]
    reports = parse_reports(err_lines)
    expect = [v for k, v in dirs if k == "EXPECT"]
    kind = expect[0] if expect else "clean"
    want_reports = int(next((v for k, v in dirs if k == "EXPECT-REPORTS"), "0" if kind == "clean"
                            else "1"))
    want_exit = int(next((v for k, v in dirs if k == "EXPECT-EXIT"),
                         "0" if kind == "clean" else str(ABORT_STATUS)))
    if code != want_exit:
        errs.append(f"exit status {code}, expected {want_exit}")
    if len(reports) != want_reports:
        errs.append(f"{len(reports)} report(s), expected {want_reports}")
    if kind == "clean":
        noisy = [l for l in err_lines if "crossfree" in l]
        if noisy:
            errs.append("crossfree printed in a clean run: " + noisy[0])
    elif reports:
        first = reports[0]
        if first["kind"] != kind:
            errs.append(f"kind {first['kind']}, expected {kind}")
        if not any(l.startswith("SUMMARY: crossfree: " + kind) for l in err_lines):
            errs.append("no SUMMARY line for " + kind)
    for key, value in dirs:
        if key == "EXPECT-WORDS":
            if not reports or reports[0]["words"] != value:
                got = reports[0]["words"] if reports else "(no report)"
                errs.append(f"words {got!r}, expected {value!r}")
        elif key == "EXPECT-TEXT":
            if not any(value in l for l in err_lines):
                errs.append(f"no stderr line contains {value!r}")
        elif key == "EXPECT-STDOUT":
            if value not in [l.rstrip("\r") for l in out_lines]:
                errs.append(f"stdout lacks the line {value!r}")
        elif key in ("EXPECT-FREE-FRAME", "EXPECT-ALLOC-FRAME", "EXPECT-ALLOC-MODULE"):
            role = "free" if key == "EXPECT-FREE-FRAME" else "alloc"
            stack = reports[0]["stacks"][role] if reports else []
            idx, want = frame_spec(value)
            if key == "EXPECT-ALLOC-MODULE":
                ok = any((idx is None or n == idx) and re.search(want, mod) for n, _, mod in stack)
            else:
                ok = any((idx is None or n == idx) and f == want for n, f, _ in stack)
            if not ok:
                errs.append(f"{key} {value!r} not found in the {role} stack: " +
                            ", ".join(f"#{n} {f or '?'} ({m})" for n, f, m in stack))
        elif key == "EXPECT-NO-IMPORT":
            if value.lower() in imports:
                errs.append(f"the program imports {value}; the case would not test what it says")
    return errs


def imports_of(exe):
    objdump = shutil.which("x86_64-w64-mingw32-objdump")
    if objdump is None:
        return set()
    r = subprocess.run([objdump, "-p", exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    return {m.group(1).lower() for m in re.finditer(r"DLL Name: (\S+)", r.stdout)}


# ---------------------------------------------------------------------------
# One case's run, shared with run_wine_dotnet.py


def parse_args():
    """--source-root, --work, --case and the words after `--`."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    return a, a.rest[1:] if a.rest and a.rest[0] == "--" else a.rest


def missing_tools(extra=(), packages="mingw-w64 wine wine64"):
    """A skip message when a tool is missing, else None."""
    missing = [t for t in TOOLS + tuple(extra) if shutil.which(t) is None]
    if not missing:
        return None
    return "skip: missing " + ", ".join(missing) + f" (apt-get install {packages})"


def counted_run(work, body):
    """body(), counted as a run from before the set-up, so that no other
    case stops the wineserver while this one creates the prefix; the last
    run to end stops it."""
    enter_run(work, +1)
    try:
        return body()
    finally:
        if enter_run(work, -1) == 0:
            env = wine_env(os.path.join(work, "wineprefix"))
            subprocess.run(["wineserver", "-k"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


def mingw_env(prefix):
    """Wine's environment with the MinGW toolchain's libstdc++-6.dll and
    libgcc_s_seh-1.dll on its PATH."""
    runtime_dir = os.path.dirname(subprocess.run(
        ["x86_64-w64-mingw32-g++", "-print-file-name=libstdc++-6.dll"], stdout=subprocess.PIPE,
        text=True).stdout.strip())
    return wine_env(prefix, [win_path(runtime_dir)])


def run_launched(launcher, dirs, argv, env, cwd):
    """`wine crossfree.exe run [-o OPTION]... -- argv`: (exit code or
    "timeout", stdout, stderr)."""
    cmd = ["wine", launcher, "run"]
    for k, v in dirs:
        if k == "OPTIONS":
            for opt in v.split(":"):
                cmd += ["-o", opt]
    cmd += ["--"] + argv
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        # Files, not pipes: a wineserver started by this run would hold a
        # pipe open long after the program ended.
        try:
            code = subprocess.run(cmd, env=env, cwd=cwd, stdout=fo, stderr=fe,
                                  timeout=240).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        fo.seek(0)
        fe.seek(0)
        return code, fo.read(), fe.read()


def verdict(case, title, dirs, code, out, err, imports):
    """Logs the run and checks it against the directives: an exit status."""
    log(f"case {case}: {title}")
    log("--- stdout ---\n" + out + "--- stderr ---\n" + err + "---")
    if code == "timeout":
        log("FAIL: timed out")
        return EXIT_FAIL
    if code == 77:
        log("skip: the program says this Wine lacks what it tests")
        return EXIT_SKIP
    errs = check(case, dirs, code, out, err, imports)
    for e in errs:
        log("FAIL: " + e)
    if not errs:
        log(f"PASS: {case}")
    return EXIT_FAIL if errs else EXIT_PASS


def main():
    a, rest = parse_args()
    mode, program, args = rest[0], rest[1], rest[2:]
    skip = missing_tools()
    if skip:
        log(skip)
        return EXIT_SKIP
    here = os.path.join(a.source_root, "tests", "windows")
    source = next((os.path.join(here, program + ext) for ext in (".c", ".cc")
                   if os.path.exists(os.path.join(here, program + ext))), None)
    if source is None:
        log("no source for " + program)
        return EXIT_FAIL
    dirs = directives(source, mode)
    return counted_run(a.work, lambda: run_case(a, mode, program, args, dirs))


def run_case(a, mode, program, args, dirs):
    paths = set_up(a.source_root, a.work)
    if paths is None:
        log("FAIL: could not build the Windows tree or create the Wine prefix")
        return EXIT_FAIL
    build, prefix = paths
    tests_dir = os.path.join(build, "tests", "windows")
    exe = os.path.join(tests_dir, program + ".exe")
    launcher = os.path.join(build, "src", "crossfree.exe")
    code, out, err = run_launched(launcher, dirs, [win_path(exe)] + args, mingw_env(prefix),
                                  tests_dir)
    title = f"wine crossfree.exe run -- {program}.exe {' '.join(args)} (mode {mode or '-'})"
    return verdict(a.case, title, dirs, code, out, err, imports_of(exe))


if __name__ == "__main__":
    sys.exit(main())
