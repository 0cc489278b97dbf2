#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# README.md's commands, run as a newcomer runs them: in a fresh clone of the
# source tree, every line of its ```sh blocks in the order written, each
# with the exit status the line's comment announces. Any drift between the
# README and the build (a command that is not built, a path that moved, an
# exit status that changed) fails here.
#
# The convention, in README.md: a ```sh block preceded by the line
#   <!-- readme-test: skip (WHY) -->
# is illustrative (your own program, flutter, tools/test.sh itself) and not
# run; every other ```sh block is. Each line runs with bash from the top of
# the clone; a trailing comment "exit status N" is the status it must
# return, 0 without one. Blank lines and comment lines are skipped. The
# runnable lines must include tools/demo.sh, then a `crossfree run` on the
# seed example, then a `crossfree report`, and what they print is checked:
# the seed's mismatch at its free (docs/examples/seed/host.c, @host_free).
#
# --packages checks only that README.md names every package tools/setup.sh
# may install (CF_BUILD_PACKAGES, CF_TEST_PACKAGES and the optional ones),
# so that what `tools/test.sh` installs is said before a newcomer runs it.
"""Usage: test_readme.py --clone|--packages SOURCE_ROOT"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from clitest import EXIT_SKIP, check, main

mode, source_root = sys.argv[1], os.path.realpath(sys.argv[2])
SKIP = re.compile(r"^<!--\s*readme-test:\s*skip\b.*-->\s*$")
KIND = "alloc-dealloc-mismatch"


def sh_blocks(text):
    """(first line number, lines, skipped) of each ```sh block."""
    out, lines, body, start, skipped = [], text.splitlines(), None, 0, False
    for n, line in enumerate(lines, 1):
        if body is None and line.strip() == "```sh":
            prev = next((p for p in reversed(lines[:n - 1]) if p.strip()), "")
            body, start, skipped = [], n + 1, bool(SKIP.match(prev.strip()))
        elif body is not None and line.startswith("```"):
            out.append((start, body, skipped))
            body = None
        elif body is not None:
            body.append(line)
    return out


def commands(text):
    """(line number, command, expected status) of each line to run."""
    out = []
    for start, body, skipped in sh_blocks(text):
        if skipped:
            continue
        pending, first = "", None
        for n, line in enumerate(body, start):
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            first = first if pending else n
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line, pending = pending + line, ""
            m = re.search(r"#.*\bexit status (\d+)", line)
            out.append((first, line, int(m.group(1)) if m else 0))
    return out


def run_line(clone, n, line, status, env):
    timeout = 1200 if "demo.sh" in line else 300
    p = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=clone, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", timeout=timeout)
    tail = "\n".join(p.stdout.splitlines()[-40:])
    # bash -c execs a lone command: death by signal N is what a shell shows as 128+N.
    code = p.returncode if p.returncode >= 0 else 128 - p.returncode
    check(code == status,
          f"README.md line {n}: exit status {code}, the README says {status}:\n"
          f"  $ {line}\n{tail}")
    print(f"ok: README.md line {n}: exit status {status}: {line.split('#')[0].strip()}")
    return p.stdout


def fresh_copy(dest):
    """A clone of the source tree's HEAD in dest (or, outside git, a copy
    of the tree without build directories)."""
    git = shutil.which("git")
    inside = git and subprocess.run([git, "-C", source_root, "rev-parse", "--show-toplevel"],
                                    capture_output=True, text=True)
    if inside and inside.returncode == 0 and \
            os.path.realpath(inside.stdout.strip()) == source_root:
        head = subprocess.run([git, "-C", source_root, "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run([git, "-C", source_root, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True).stdout
        if dirty.strip():
            print(f"note: uncommitted changes in {source_root} are not in the clone "
                  f"(HEAD {head[:12]} is what runs)")
        subprocess.run([git, "clone", "--quiet", "--no-checkout", source_root, dest], check=True)
        subprocess.run([git, "-C", dest, "checkout", "--quiet", "--detach", head], check=True)
        return f"a clone of {head[:12]}"

    def ignore(d, names):
        return [n for n in names
                if n in (".git", "__pycache__", "node_modules", "packagecache") or
                os.path.exists(os.path.join(d, n, "meson-private"))]
    shutil.copytree(source_root, dest, symlinks=True, ignore=ignore)
    return "a copy of the tree (not a git checkout)"


def setup_lists():
    """{array name: packages} from tools/setup.sh, as bash sees them."""
    script = ('source tools/setup.sh >/dev/null; '
              'echo "build ${CF_BUILD_PACKAGES[*]}"; echo "test ${CF_TEST_PACKAGES[*]}"')
    out = subprocess.run(["bash", "-c", script], cwd=source_root, check=True,
                         capture_output=True, text=True).stdout
    lists = dict(line.split(" ", 1) for line in out.splitlines())
    # Packages added only when a command is missing, on this machine or not.
    with open(os.path.join(source_root, "tools", "setup.sh")) as f:
        optional = re.findall(r"\|\| CF_TEST_PACKAGES\+=\(([^)]*)\)", f.read())
    lists["optional"] = " ".join(optional)
    return {k: v.split() for k, v in lists.items()}


def packages_mode():
    with open(os.path.join(source_root, "README.md")) as f:
        readme = f.read()
    lists = setup_lists()
    check(lists["build"] and lists["test"], f"no packages read from tools/setup.sh: {lists}")
    missing = [p for name in lists for p in lists[name]
               if not re.search(r"(?<![\w.-])" + re.escape(p) + r"(?![\w-])", readme)]
    check(not missing, "README.md does not name what tools/setup.sh installs: "
          + ", ".join(missing))
    print(f"ok: README.md names all {sum(len(v) for v in lists.values())} packages")


def seed_free_line(clone):
    """The line of the seed host's bad free (its /* @host_free */ marker)."""
    with open(os.path.join(clone, "docs", "examples", "seed", "host.c")) as f:
        found = [n for n, line in enumerate(f, 1) if re.search(r"@host_free\b", line)]
    check(len(found) == 1, "docs/examples/seed/host.c: no single @host_free marker")
    return found[0]


def clone_mode():
    if not shutil.which("dpkg-query"):
        print("SKIP: no dpkg-query: tools/demo.sh installs with apt-get, on Debian or Ubuntu")
        return EXIT_SKIP
    absent = [p for p in setup_lists()["build"]
              if "install ok installed" not in subprocess.run(
                  ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                  text=True).stdout]
    if absent:
        print(f"SKIP: not installed: {' '.join(absent)} (tools/demo.sh would install them; "
              "this test does not)")
        return EXIT_SKIP

    work = tempfile.mkdtemp(prefix="cf-readme-")
    try:
        clone = os.path.join(work, "crossfree")
        print(f"in {clone}: {fresh_copy(clone)}")
        with open(os.path.join(clone, "README.md")) as f:
            todo = commands(f.read())
        order = [next((i for i, (_, line, _) in enumerate(todo) if re.search(pat, line)), None)
                 for pat in (r"(^|/)tools/demo\.sh\b", r"\bcrossfree run\b.*seed_host_buggy",
                             r"\bcrossfree report\b")]
        # Running the whole test suite from inside it would never end.
        recursive = [line for _, line, _ in todo
                     if re.search(r"(^|/)(tools/test\.sh|\.ci/run)\b|\bmeson test\b",
                                  line.split(" #")[0])]
        check(not recursive, "README.md runs the test suite from a block not marked "
              "<!-- readme-test: skip (...) -->:\n  " + "\n  ".join(recursive))
        check(None not in order and order == sorted(order),
              "README.md's runnable ```sh lines must run tools/demo.sh, then `crossfree run` "
              f"on the seed example, then `crossfree report`; they are:\n" +
              "\n".join(f"  {line}" for _, line, _ in todo))

        env = {k: v for k, v in os.environ.items()
               if k not in ("LD_PRELOAD", "CROSSFREE_OPTIONS") and not k.startswith("MESON")}
        where = f"host.c:{seed_free_line(clone)}"
        for n, line, status in todo:
            out = run_line(clone, n, line, status, env)
            if re.search(r"(^|/)tools/demo\.sh\b", line):
                check(f"ERROR: crossfree: {KIND}" in out and
                      "seed_host_buggy exited with status 134" in out,
                      f"README.md line {n}: the demo did not show the seed's report:\n{out}")
            elif re.search(r"\bcrossfree run\b", line) and status != 0:
                log_dir = re.search(r"--log-dir[= ](\S+)", line)
                if log_dir:
                    logs = glob.glob(os.path.join(clone, log_dir.group(1), "crossfree.*"))
                    out = "".join(open(p, errors="replace").read() for p in logs)
                check(KIND in out and where in out,
                      f"README.md line {n}: no {KIND} at {where} reported:\n{out}")
            elif re.search(r"\bcrossfree report\b", line) and status == 1:
                check(KIND in out and where in out,
                      f"README.md line {n}: the report does not show {KIND} at {where}:\n{out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"ok: {len(todo)} commands of README.md")


main(clone_mode if mode == "--clone" else packages_mode)
