#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `crossfree run`: the library it finds, what it does to LD_PRELOAD and
# CROSSFREE_OPTIONS, the exit status it passes through, and its one-line
# errors with their own exit statuses (122-127). Exits 0 pass, 1 fail.
"""Usage: test_run.py CROSSFREE LIBRARY BUGGY VERSION"""
import os
import re
import shutil
import sys
import tempfile

from clitest import check, expect_status, main, run, show

crossfree, library, buggy = (os.path.abspath(a) for a in sys.argv[1:4])
version = sys.argv[4]
library = os.path.realpath(library)
tmp = tempfile.mkdtemp(prefix="cf-run-")


def env_of(p):
    """The environment `env` printed, as a dict."""
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def one_error_line(p, status, pattern):
    """The command failed before starting: one stderr line matching pattern."""
    expect_status(p, status)
    lines = p.stderr.splitlines()
    check(len(lines) == 1, f"expected exactly one line on stderr\n{show(p)}")
    check(re.search(pattern, lines[0]), f"stderr does not match {pattern!r}\n{show(p)}")
    check(lines[0].startswith("crossfree run: "), f"no 'crossfree run: ' prefix\n{show(p)}")


def body():
    # --version, --help.
    p = run([crossfree, "--version"])
    expect_status(p, 0)
    check(p.stdout == f"crossfree {version}\n", show(p))
    for args in (["--help"], ["run", "--help"], ["report", "--help"], ["symbolize", "--help"]):
        p = run([crossfree] + args)
        expect_status(p, 0)
        check("usage: crossfree" in p.stdout, show(p))
    expect_status(run([crossfree]), 125)
    expect_status(run([crossfree, "frobnicate"]), 125)

    # Usage errors: nothing to run, unknown flag, flag without its value.
    one_error_line(run([crossfree, "run"]), 125, r"no command given after --")
    one_error_line(run([crossfree, "run", "-o", "halt_on_error=0", "--"]), 125, r"no command")
    one_error_line(run([crossfree, "run", "--bogus", "--", "true"]), 125, r"unknown flag '--bogus'")
    one_error_line(run([crossfree, "run", "--log-dir"]), 125, r"--log-dir needs a value")
    one_error_line(run([crossfree, "run", "-o"]), 125, r"-o needs a value")
    # Long flags only by their whole name, and no value for one that takes none.
    one_error_line(run([crossfree, "run", "--log", tmp, "true"]), 125, r"unknown flag '--log'")
    one_error_line(run([crossfree, "run", "--print-library=x"]), 125,
                   r"--print-library takes no value")
    one_error_line(run([crossfree, "run", "-x", "true"]), 125, r"unknown flag '-x'")
    # Everything after the command's name is the command's, flags included;
    # -okey=value and --option=key=value are -o key=value.
    p = run([crossfree, "run", "-ohalt_on_error=0", "--option=verbosity=0", "/bin/sh", "-c",
             'echo "$CROSSFREE_OPTIONS|$*"', "sh", "-o", "--bogus", "--", "-h"])
    expect_status(p, 0)
    check(p.stdout == "halt_on_error=0:verbosity=0|-o --bogus -- -h\n", show(p))

    # Bad -o: each is one line, exit 124, and the command never starts.
    marker = os.path.join(tmp, "ran")
    for opt, pattern in [
        ("halt_on_error", r"'halt_on_error' is not KEY=VALUE"),
        ("=1", r"'=1' is not KEY=VALUE"),
        ("halt_on_eror=0", r"unknown option 'halt_on_eror'; valid options: halt_on_error, "
                           r"exitcode, log_path, .*only"),
        ("exitcode=300", r"exitcode.*300.*expected an integer from 0 to 255"),
        ("halt_on_error=maybe", r"halt_on_error.*maybe"),
        ("log_path=a:b", r"cannot contain ':' or whitespace"),
    ]:
        p = run([crossfree, "run", "-o", opt, "--", "touch", marker])
        one_error_line(p, 124, pattern)
        check(not os.path.exists(marker), f"-o {opt}: the command ran anyway")

    # Command not found (127, as a shell says it) or not executable (126).
    one_error_line(run([crossfree, "run", "--", "cf-no-such-command"]), 127,
                   r"cf-no-such-command: command not found")
    one_error_line(run([crossfree, "run", "--", "/nonexistent/prog"]), 127,
                   r"/nonexistent/prog: no such file")
    plain = os.path.join(tmp, "not-executable")
    open(plain, "w").close()
    one_error_line(run([crossfree, "run", "--", plain]), 126, r"cannot execute")

    # The library: found beside the command in the build tree...
    p = run([crossfree, "run", "--print-library"])
    expect_status(p, 0)
    check(p.stdout.strip() == library, f"expected {library}\n{show(p)}")
    # ... and a copy of the command with no library near it says where it
    # looked, before starting anything.
    lonely = os.path.join(tmp, "bin", "crossfree")
    os.makedirs(os.path.dirname(lonely))
    shutil.copy(crossfree, lonely)
    p = run([lonely, "run", "--", "touch", marker])
    one_error_line(p, 123, r"cannot find libcrossfree\.so \(looked for .*/bin/\.\./lib.*"
                           r"/libcrossfree\.so, .*/bin/\.\./src/libcrossfree\.so\)")
    check(not os.path.exists(marker), "the command ran without the library")
    expect_status(run([lonely, "run", "--print-library"]), 123)

    # The command's exit status is returned, with or without "--".
    expect_status(run([crossfree, "run", "--", "/bin/sh", "-c", "exit 42"]), 42)
    expect_status(run([crossfree, "run", "/bin/sh", "-c", "exit 3"]), 3)

    # LD_PRELOAD: the library first, what was there kept, no duplicate.
    p = run([crossfree, "run", "--", "env"])
    expect_status(p, 0)
    check(env_of(p).get("LD_PRELOAD") == library, show(p))
    check("CROSSFREE_OPTIONS" not in env_of(p), f"CROSSFREE_OPTIONS set for nothing\n{show(p)}")
    other = os.path.join(tmp, "other.so")  # need not exist: ld.so warns and goes on
    p = run([crossfree, "run", "--", "env"], env={"LD_PRELOAD": other})
    check(env_of(p).get("LD_PRELOAD") == f"{library}:{other}", show(p))
    # Another copy of crossfree (another build) is left out, with a note.
    stale = os.path.join(tmp, "old-build", "libcrossfree.so")
    p = run([crossfree, "run", "--", "env"], env={"LD_PRELOAD": f"{stale} {other}"})
    check(env_of(p).get("LD_PRELOAD") == f"{library}:{other}", show(p))
    check(f"crossfree run: note: {stale} left out of LD_PRELOAD" in p.stderr, show(p))
    for already in (library, f"{other} {library}", f"{other}:{library}"):
        p = run([crossfree, "run", "--", "env"], env={"LD_PRELOAD": already})
        check(env_of(p).get("LD_PRELOAD") == already, f"LD_PRELOAD={already!r} changed\n{show(p)}")

    # CROSSFREE_OPTIONS: what was set stays, -o/--only/--log-dir follow in
    # command-line order (so they win).
    logs = os.path.join(tmp, "a", "b")
    p = run([crossfree, "run", "-o", "exitcode=7", "--only", "cf_*,other", "--log-dir", logs,
             "-overbosity=0", "--", "env"], env={"CROSSFREE_OPTIONS": "exitcode=5:symbolize=1"})
    expect_status(p, 0)
    check(env_of(p).get("CROSSFREE_OPTIONS") ==
          f"exitcode=5:symbolize=1:exitcode=7:only=cf_*,other:verbosity=0:"
          f"log_path={os.path.realpath(logs)}/crossfree", show(p))
    check(os.path.isdir(logs), "--log-dir did not create the directory")

    # ... which the library really reads: -o exitcode=7 beats the
    # environment's 5, the environment's 5 applies without it.
    p = run([crossfree, "run", "-o", "halt_on_error=0", "-o", "exitcode=7", "--", buggy],
            env={"CROSSFREE_OPTIONS": "exitcode=5"})
    expect_status(p, 7)
    check("ERROR: crossfree: alloc-dealloc-mismatch" in p.stderr, show(p))
    p = run([crossfree, "run", "-o", "halt_on_error=0", "--", buggy],
            env={"CROSSFREE_OPTIONS": "exitcode=5"})
    expect_status(p, 5)

    # --log-dir, relative to the working directory: the report lands in
    # DIR/crossfree.PID, nothing on stderr.
    work = os.path.join(tmp, "work")
    os.makedirs(work)
    p = run([crossfree, "run", "-o", "halt_on_error=0", "--log-dir", "out/nested", "--",
             buggy], cwd=work)
    expect_status(p, 23)
    pid = re.search(r"pid (\d+)", p.stdout).group(1)
    log = os.path.join(work, "out", "nested", f"crossfree.{pid}")
    check(os.path.exists(log), f"no {log}\n{show(p)}")
    check(os.listdir(os.path.dirname(log)) == [f"crossfree.{pid}"], "other files in --log-dir")
    with open(log) as f:
        text = f.read()
    check("alloc-dealloc-mismatch" in text, f"{log} holds no report:\n{text}")
    check("ERROR: crossfree" not in p.stderr, f"the report went to stderr too\n{show(p)}")

    # A --log-dir that cannot be a directory: 122.
    one_error_line(run([crossfree, "run", "--log-dir", plain, "--", "true"]), 122,
                   r"cannot create the log directory")
    print("ok")


main(body)
