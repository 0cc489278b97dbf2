#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# `crossfree run`'s exit status on every way out of a process, and what it
# says when it checked nothing. With halt_on_error=0 a process that reported
# an error and then left through _exit, Python's os._exit, a signal or Go's
# exit_group (no exit handler runs) must still make the run exit with
# exitcode and print one summary line; plain LD_PRELOAD keeps the process's
# own status. A statically linked program and an only= that matched nothing
# are said, not silently passed; help=1 prints for a program that allocates
# nothing; every -o value the library would warn about is refused.
import os
import re
import shutil
import sys
import tempfile

from clitest import EXIT_SKIP, check, expect_status, main, run, show

crossfree, library, exit_now, no_alloc, no_alloc_src, cc, go_src = sys.argv[1:8]
SUMMARY = re.compile(r"^crossfree run: (\d+) error\(s\) reported by the checked processes "
                     r"\(alloc-dealloc-mismatch: (\d+), double-free: (\d+), invalid-free: (\d+), "
                     r"new-delete-size-mismatch: (\d+), new-delete-alignment-mismatch: (\d+)\); "
                     r"exit status (\d+)$", re.M)


def expect_summary(p, errors, status):
    m = SUMMARY.search(p.stderr)
    check(m is not None, f"no summary line\n{show(p)}")
    check(int(m.group(1)) == errors and int(m.group(3)) == errors and int(m.group(7)) == status,
          f"summary says {m.group(0)!r}, expected {errors} double-free(s), status {status}\n"
          f"{show(p)}")
    check(len(SUMMARY.findall(p.stderr)) == 1, f"more than one summary line\n{show(p)}")


def find_go():
    for cand in (shutil.which("go"), "/usr/local/go/bin/go", "/usr/lib/go/bin/go"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def body():
    tmp = tempfile.mkdtemp(prefix="cf-exit-")

    # _exit after a double free: the process's own status is 0.
    p = run([crossfree, "run", "-o", "halt_on_error=0", "--", exit_now])
    expect_status(p, 23)
    check("ERROR: crossfree: double-free" in p.stderr, show(p))
    expect_summary(p, 1, 23)
    p = run([crossfree, "run", "-o", "halt_on_error=0", "-o", "exitcode=9", "--", exit_now])
    expect_status(p, 9)
    expect_summary(p, 1, 9)
    # Plain LD_PRELOAD users keep the process's own status (docs/ci.md).
    p = run([exit_now], env={"LD_PRELOAD": library, "CROSSFREE_OPTIONS": "halt_on_error=0"})
    expect_status(p, 0)
    check("ERROR: crossfree: double-free" in p.stderr, show(p))
    # Killed by a signal after the report: still exitcode.
    p = run([crossfree, "run", "-o", "halt_on_error=0", "--", exit_now, "signal"])
    expect_status(p, 23)
    # halt_on_error=1 (the default): the process aborts; the run says
    # exitcode too, so a CI job needs to test one number.
    p = run([crossfree, "run", "--", exit_now])
    expect_status(p, 23)
    expect_summary(p, 1, 23)
    # The run directory is removed afterwards.
    runs = os.path.join(tmp, "runs")
    os.makedirs(runs)
    p = run([crossfree, "run", "-o", "halt_on_error=0", "--", exit_now], env={"TMPDIR": runs})
    expect_status(p, 23)
    check(os.listdir(runs) == [], f"left behind in TMPDIR: {os.listdir(runs)}")

    # A clean program run keeps its own status and prints no summary.
    p = run([crossfree, "run", "--", "sh", "-c", "exit 3"])
    expect_status(p, 3)
    check(SUMMARY.search(p.stderr) is None, show(p))

    # Python's os._exit after a ctypes double free.
    script = ("import ctypes, os\n"
              "libc = ctypes.CDLL(None)\n"
              "libc.malloc.restype = ctypes.c_void_p\n"
              "p = ctypes.c_void_p(libc.malloc(32))\n"
              "libc.free(p)\n"
              "libc.free(p)\n"
              "os._exit(0)\n")
    p = run([crossfree, "run", "-o", "halt_on_error=0", "--", "/usr/bin/python3", "-c", script])
    expect_status(p, 23)
    expect_summary(p, 1, 23)

    # A statically linked program: said before it runs, status its own.
    static = os.path.join(tmp, "static_prog")
    b = run([cc, "-static", "-o", static, no_alloc_src])
    if b.returncode == 0:
        p = run([crossfree, "run", "--", static])
        expect_status(p, 0)
        check(f"note: {static} is statically linked: LD_PRELOAD has no effect on it, so it runs "
              "unchecked" in p.stderr, show(p))
    else:
        print(f"static case skipped: {cc} -static failed (no static libc?):\n{b.stderr}")

    # only= that matches no process: a warning naming what ran.
    p = run([crossfree, "run", "--only", "no_such_program", "--", no_alloc])
    expect_status(p, 0)
    check(re.search(r"warning: only=no_such_program matched no process, so nothing was checked; "
                    r"these ran unchecked: \S*no_alloc", p.stderr) is not None, show(p))
    # ... and verbosity=1 names the pattern in the excluded process.
    p = run([crossfree, "run", "--only", "no_such_program", "-o", "verbosity=1", "--", no_alloc])
    check(re.search(r"==\d+==crossfree: not checking this process: only=no_such_program matches",
                    p.stderr) is not None, show(p))

    # help=1 for a program that allocates nothing.
    p = run([crossfree, "run", "-o", "help=1", "--", no_alloc])
    expect_status(p, 0)
    check("crossfree options (CROSSFREE_OPTIONS=" in p.stderr and "halt_on_error=1" in p.stderr,
          show(p))

    # Every value the library would warn about is refused before the start.
    for kv, words in (("report_format=xml", "expected text or json"),
                      ("semantics=bogus", "expected linux or windows"),
                      ("host=cobol", "expected dart"),
                      ("host_modules=noeq", "expected GLOB=Name")):
        p = run([crossfree, "run", "-o", kv, "--", "true"])
        expect_status(p, 124)
        check(words in p.stderr, show(p))

    # Go with cgo: the runtime leaves through exit_group.
    go = find_go()
    if go is None:
        print("SKIP: the Go case needs the go toolchain (tools/setup.sh installs Debian's "
              "golang-go when `go` is missing); every other case passed")
        return EXIT_SKIP
    exe = os.path.join(tmp, "cgo_exit")
    env = {"GOCACHE": os.path.join(tmp, "gocache"), "GOPATH": os.path.join(tmp, "gopath"),
           "CGO_ENABLED": "1", "GOFLAGS": "", "GOTOOLCHAIN": "local", "CC": cc}
    b = run([go, "build", "-o", exe, go_src], env=env, cwd=tmp, timeout=600)
    check(b.returncode == 0, f"go build failed\n{show(b)}")
    p = run([exe], env={"LD_PRELOAD": library, "CROSSFREE_OPTIONS": "halt_on_error=0"})
    expect_status(p, 0)  # exit_group: the library's exit handler never runs
    check("ERROR: crossfree: double-free" in p.stderr and "go: done" in p.stdout, show(p))
    p = run([crossfree, "run", "-o", "halt_on_error=0", "--", exe])
    expect_status(p, 23)
    expect_summary(p, 1, 23)
    shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


main(body)
