#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Go with cgo under crossfree: builds go/cgo_free.go with the go toolchain,
# runs it with the library preloaded and checks the report of Go releasing
# a C++ new[] buffer with C.free: the side is named "Go (cgo)", the frame in
# Go's assembly (runtime.asmcgocall) shows Go's own file or none, never a
# line of an unrelated C unit (it used to say gcc_mmap.c:37), the HINT says
# where the Go frames are, and Go's goroutine dump after the abort does
# name the Go line. Go catches SIGABRT: the process exits with status 2.
# Skips (77), saying why, without a go toolchain. Exits 0 pass, 1 fail.
"""Usage: check_go.py LIB GO_SOURCE [GOCACHE]"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

FRAME_RE = re.compile(r"^\s+#(\d+) 0x[0-9a-f]+(?: in (\S+)(?: (\S+?)(?::(\d+))?)?)? \((.+)\)"
                      r"(?: \[inlined\])?(?: \[host boundary: ([^\]]+)\])?$")


def find_go():
    for cand in (shutil.which("go"), "/usr/local/go/bin/go", "/usr/lib/go/bin/go"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def main():
    lib, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    go = find_go()
    if go is None:
        print("SKIP: the go toolchain is not installed (tools/setup.sh installs Debian's "
              "golang-go when `go` is missing)")
        return 77
    fails = []

    def check(cond, what, got=""):
        if not cond:
            fails.append(f"FAIL: {what}\n{got}")
        return cond

    marker = None
    with open(src) as f:
        for n, line in enumerate(f, 1):
            if "// @go_free" in line:
                marker = n
    with tempfile.TemporaryDirectory() as tmp:
        cache = sys.argv[3] if len(sys.argv) > 3 else os.path.join(tmp, "gocache")
        env = dict(os.environ, GOCACHE=os.path.abspath(cache), GOPATH=os.path.join(tmp, "gopath"),
                   CGO_ENABLED="1", GOFLAGS="", GOTOOLCHAIN="local", GO111MODULE="off")
        env.pop("LD_PRELOAD", None)
        exe = os.path.join(tmp, "cgo_free")
        b = subprocess.run([go, "build", "-o", exe, src], env=env, cwd=tmp, capture_output=True,
                           text=True, timeout=900)
        if b.returncode != 0:
            print(f"FAIL: go build failed:\n{b.stdout}{b.stderr}", file=sys.stderr)
            return 1
        run_env = dict(os.environ, LD_PRELOAD=lib)
        run_env.pop("CROSSFREE_OPTIONS", None)
        run_env.pop("GOTRACEBACK", None)
        p = subprocess.run([exe], env=run_env, capture_output=True, text=True, timeout=120)
        err = p.stderr
        check(p.returncode == 2, f"Go catches SIGABRT and exits 2, not {p.returncode}", err)
        check("go: made" in p.stdout and "go: done" not in p.stdout,
              "the report stops the program at C.free", p.stdout)
        lines = err.splitlines()
        check(any(re.match(r"^==\d+==ERROR: crossfree: alloc-dealloc-mismatch on address ", l)
                  for l in lines), "an alloc-dealloc-mismatch report", err)
        check("allocated by operator new[], freed by free()" in lines, "the plain words", err)
        check(any(re.match(r"^freed from Go \(cgo\) \(frame #\d+\); allocated in cgo_free by "
                           r"operator new\[\] in make_buffer$", l) for l in lines),
              "`freed from Go (cgo) (frame #N); allocated in cgo_free by operator new[] in "
              "make_buffer`", err)
        frames = [FRAME_RE.match(l) for l in lines if re.match(r"^\s+#\d+ ", l)]
        check(all(frames), "every frame line is well formed", err)
        frames = [m for m in frames if m]
        tagged = [m for m in frames if m.group(6)]
        check(len(tagged) == 1 and tagged[0].group(6) == "Go (cgo)" and
              (tagged[0].group(2) or "").startswith("runtime.asmcgocall"),
              "the frame tagged [host boundary: Go (cgo)] is runtime.asmcgocall", err)
        asm = [m for m in frames if (m.group(2) or "").startswith("runtime.")]
        check(asm, "frames in Go's runtime are shown", err)
        for m in asm:
            check(m.group(3) is None or m.group(3).endswith(".s") or
                  m.group(3).endswith(".go"),
                  f"a Go runtime frame shows Go's own source or none, not {m.group(3)}",
                  m.group(0))
        check(not any((m.group(3) or "").endswith("gcc_mmap.c") for m in frames),
              "no frame borrows gcc_mmap.c's line", err)
        check(any(m.group(2) == "make_buffer" and (m.group(3) or "").endswith("cgo_free.go")
                  for m in frames), "the allocation stack has make_buffer in cgo_free.go", err)
        hint = [l for l in lines if l.startswith("HINT: ")]
        check(hint and "the Go code that called C is not in them" in hint[0] and
              "goroutine dump" in hint[0], "the HINT says where the Go frames are", err)
        check(re.search(r"^main\.release\(.*\)\n\s+\S*cgo_free\.go:%d " % marker, err, re.M),
              f"Go's goroutine dump names cgo_free.go:{marker}", err)
        # A malloc'd buffer released the same way is right: no report.
        p = subprocess.run([exe, "clean"], env=run_env, capture_output=True, text=True,
                           timeout=120)
        check(p.returncode == 0 and "go: done" in p.stdout and "crossfree" not in p.stderr,
              "the clean run exits 0 without a report", p.stderr)
    if fails:
        print("\n".join(fails), file=sys.stderr)
        return 1
    print("ok: Go (cgo) named, no borrowed file:line, Go's dump names the Go line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
