#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs ONE program as a child with crossfree preloaded and checks what it
# printed against expectation lines written in the program's own source (and
# against flags given on the command line, which meson uses for generated
# cases). Standard library only; exits 0 pass, 1 fail, 77 skip.
"""Usage: runner.py [flags] LIB PROGRAM SOURCE [SOURCE...] [-- ARGS...]

Directives, in `//` or `#` comments of any SOURCE; an optional `[mode,...]`
after the keyword limits a line to runs with `--mode` set to one of them:

  EXPECT: clean | alloc-dealloc-mismatch | double-free | invalid-free |
          new-delete-size-mismatch | new-delete-alignment-mismatch
  EXPECT-WORDS: TEXT            a report line equals TEXT (first report)
  EXPECT-FREE-FRAME: [#N] FUNC [FILE@MARKER | @MARKER]
  EXPECT-ALLOC-FRAME: ...       same for the allocation stack
  EXPECT-FIRST-FREE-FRAME: ...  same for the first free of a double free
  EXPECT-THREAD-FRAME: TN [#N] FUNC [FILE@MARKER | @MARKER]
                                same for the stack that created thread TN
                                (`Thread TN (...) created by TM here:`)
  EXPECT-FREE-MODULE: REGEX     some free-stack frame's module matches
  EXPECT-ALLOC-MODULE: REGEX    (FREE-MODULE/ALLOC-MODULE accept [#N] first)
  EXPECT-FIRST-FREE-MODULE: ... the same for the first free of a double free
  EXPECT-BOUNDARY-MODULE: [#N] REGEX
                                the free-stack frame tagged `[host boundary:
                                HOST]` is in a module matching REGEX
  EXPECT-FREE-JIT-FRAME: REGEX  some free-stack frame is JIT code (`([jit]
                                0x...)`) with a name matching REGEX
  EXPECT-FREE-OFFSET: @MARKER   some free-stack frame's module+offset, read
  EXPECT-ALLOC-OFFSET: @MARKER  back with addr2line, lands on the marker line
  EXPECT-EXIT: SIGABRT | N      exit status (default: SIGABRT for a report,
                                0 for clean)
  EXPECT-STDOUT: TEXT           one line of the exact expected stdout
  EXPECT-LINE: REGEX            a line of the report stream matches
  EXPECT-TEXT: TEXT             a line of the report stream contains TEXT
  EXPECT-NO-LINE: REGEX         no line of the report stream matches
  EXPECT-STDERR: REGEX          a line of stderr matches; ==PID== lines
                                that match one are allowed in clean runs
  FAMILY-WORDS: A | F           a program-registered family's words, allowed
                                in reports beside the built-in ones
  ALLOW-STDERR: REGEX           ==PID== lines matching it are allowed in
                                clean runs (nothing is required)
  EXPECT-REPORTS: N             number of reports (default 1)
  EXPECT-STACK-DEPTH: N         every stack has exactly N frames
  EXPECT-UNSYMBOLIZED           no frame has a function or file:line
  EXPECT-LOG: PREFIX            reports are in PREFIX.PID, none on stderr
  EXPECT-PID: any               reports may come from other processes
  OPTIONS: k=v:k=v              CROSSFREE_OPTIONS for the child
  ENV: NAME=VALUE               extra environment for the child
  ARGS: A B C                   extra program arguments (before -- ARGS)
  SKIP-EXIT: 77                 the program exiting 77 means "skip"
  CLEANUP: PATH                 files the program leaves behind (a glob,
                                for example /tmp/perf-%pid.map; relative to
                                the working directory), deleted after the
                                run whatever happened

Every report must also be well formed (check_report_shape): for example, a
mismatch report's optional third line `freed from HOST (frame #N); allocated
in MODULE by WORDS in FUNCTION` must name a frame #N of the deallocation
stack that carries the one `[host boundary: HOST]` tag of the report, and a
module of the allocation stack.

Markers are comments in a source line: `/* @free */`, `// @alloc`, `# @x`.
In values, %t is a fresh temporary directory, %pid the child's pid.
"""

import argparse
import difflib
import glob
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import preload  # noqa: E402  (natively or under the cross build's exe_wrapper)

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
KINDS = ("alloc-dealloc-mismatch", "double-free", "invalid-free", "new-delete-size-mismatch",
         "new-delete-alignment-mismatch")
ALLOC_WORDS = (
    "malloc()", "calloc()", "realloc()", "reallocarray()", "memalign()",
    "posix_memalign()", "aligned_alloc()", "valloc()", "pvalloc()",
    "operator new", "operator new[]", "operator new(align_val_t)",
    "operator new[](align_val_t)",
)
DEALLOC_WORDS = (
    "free()", "realloc()", "operator delete", "operator delete[]",
    "operator delete(align_val_t)", "operator delete[](align_val_t)",
)

# A thread as reports name it: `T2`, or `T2 (NAME, tid 4242)` / `T2 (tid 4242)`.
THREAD = r"(T\d+)(?: \((?:.*, )?tid \d+\))?"
HEADER_RE = re.compile(
    r"^==(\d+)==ERROR: crossfree: (\S+) on address (0x[0-9a-f]+) in thread " + THREAD + "$")
CREATED_RE = re.compile(r"^Thread " + THREAD + " created by " + THREAD + " here:$")
ANY_PID_LINE_RE = re.compile(r"^==(\d+)==")
# `#n 0xADDR in FUNCTION FILE:LINE (MODULE+0xOFFSET)`; parsed from the right
# because C++ names contain spaces and parentheses.
FRAME_HEAD_RE = re.compile(r"^\s+#(\d+) (0x[0-9a-f]+)(.*)$")
FRAME_TAIL_RE = re.compile(
    r"^(.*?) ?\((?:([^()]+)\+(0x[0-9a-f]+)|\[jit\] (0x[0-9a-f]+))\)"
    r"(?: \[inlined\])?(?: \[unloaded\])?(?: \[host boundary: ([^\]]+)\])?$")
# A mismatch report's third line when an FFI host made the call.
SIDES_RE = re.compile(
    r"^freed from (.+) \(frame #(\d+)\)(?:; allocated in (\S+) by (.+?)(?: in (.+))?)?$")
FILE_LINE_RE = re.compile(r"^(.*) (\S+):(\d+)$")
REGION_RE = re.compile(
    r"^(0x[0-9a-f]+) is a (\d+)-byte region (allocated|freed) by (.+?) in thread " + THREAD +
    " here:$")
PREV_ALLOC_RE = re.compile(r"^previously allocated by (.+?) in thread " + THREAD + " here:$")
DIRECTIVE_RE = re.compile(
    r"(?://|#)\s*(EXPECT(?:-[A-Z-]+)?|OPTIONS|ENV|ARGS|SKIP-EXIT|ALLOW-STDERR|FAMILY-WORDS|CLEANUP)(?:\[([^\]]*)\])?(?::\s?(.*?))?\s*(?:\*/)?\s*$")
MARKER_RE = re.compile(r"(?:/\*|//|#)\s*@([A-Za-z0-9_.-]+)\s*(?:\*/)?")


class Frame:
    def __init__(self, num, addr, func, file, line, module, offset, text, boundary=None):
        self.num, self.addr, self.func = num, addr, func
        self.file, self.line = file, line
        self.module, self.offset, self.text = module, offset, text
        self.boundary = boundary  # HOST of a `[host boundary: HOST]` tag

    def __repr__(self):
        return self.text.strip()


def parse_frame(text):
    m = FRAME_HEAD_RE.match(text)
    if not m:
        return None
    num, addr, rest = int(m.group(1)), m.group(2), m.group(3)
    t = FRAME_TAIL_RE.match(rest)
    if not t:
        return Frame(num, addr, None, None, None, None, None, text)
    body, module, offset = t.group(1), t.group(2), t.group(3)
    if t.group(4) is not None:  # JIT code: "([jit] 0xPC)"
        module, offset = "[jit]", t.group(4)
    func = file = line = None
    body = body.strip()
    if body.startswith("in "):
        body = body[3:]
        fl = FILE_LINE_RE.match(body)
        if fl:
            func, file, line = fl.group(1), fl.group(2), int(fl.group(3))
        else:
            func = body
    elif body:
        fl = re.match(r"^(\S+):(\d+)$", body)
        if fl:
            file, line = fl.group(1), int(fl.group(2))
        else:
            func = "?" + body  # unparseable; keeps the frame visible in diffs
    return Frame(num, addr, func, file, line, module, int(offset, 16), text, t.group(5))


class Report:
    """One crossfree report, split into its named parts."""

    def __init__(self, lines):
        self.lines = lines
        h = HEADER_RE.match(lines[0])
        self.pid, self.kind = int(h.group(1)), h.group(2)
        self.address, self.thread = h.group(3), h.group(4)
        self.stacks = {}          # 'free' / 'alloc' / 'first-free' -> [Frame]
        self.stack_order = []
        self.bad_frames = []
        self.region = None        # match of REGION_RE for the allocation
        self.summary = None
        self.hint = None
        self.sides = None         # match of SIDES_RE
        current = None
        for i, line in enumerate(lines[1:], 1):
            if FRAME_HEAD_RE.match(line):
                f = parse_frame(line)
                if f.module is None or (f.func or "").startswith("?"):
                    self.bad_frames.append(line)
                if current is not None:
                    self.stacks[current].append(f)
                continue
            current = None
            r = REGION_RE.match(line)
            p = PREV_ALLOC_RE.match(line)
            t = CREATED_RE.match(line)
            if t:
                current = "thread " + t.group(1)
            elif line.startswith("SUMMARY: "):
                self.summary = line
            elif line.startswith("HINT: "):
                self.hint = line
            elif SIDES_RE.match(line) and not self.stacks.get("free"):
                self.sides = SIDES_RE.match(line)
                current = "free"  # a header line: the deallocation stack follows
            elif r and r.group(3) == "allocated":
                self.region = r
                current = "alloc"
            elif r and r.group(3) == "freed":
                current = "first-free"
            elif p:
                current = "alloc"
            elif i == 1 or "free" not in self.stacks or not self.stacks["free"]:
                # Lines between the message and the first frame (the
                # Windows view, which side freed) belong to the header.
                current = "free"
            if current is not None and current not in self.stacks:
                self.stacks[current] = []
                self.stack_order.append(current)

    def text(self):
        return "\n".join(self.lines)


def split_reports(text):
    """Reports run from an ERROR line to HINT, or to SUMMARY when no HINT follows."""
    lines = text.splitlines()
    reports, cur = [], None
    for i, line in enumerate(lines):
        if HEADER_RE.match(line):
            cur = [line]
            reports.append(cur)
        elif cur is not None:
            cur.append(line)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if line.startswith("HINT: ") or (line.startswith("SUMMARY: ")
                                             and not nxt.startswith("HINT: ")):
                cur = None
    return [Report(r) for r in reports]


class Expect:
    def __init__(self):
        self.kind = None
        self.words = []
        self.frames = []      # (stack, num or None, func, marker or None, raw)
        self.modules = []     # (stack, num or None, regex)
        self.boundaries = []  # (num or None, regex) of the tagged free frame
        self.jit_frames = []  # regex over a JIT free frame's name
        self.cleanup = []     # paths to delete after the run
        self.offsets = []     # (stack, marker)
        self.exit = None
        self.stdout = None    # list of lines
        self.lines, self.no_lines, self.stderr_lines = [], [], []
        self.texts = []       # literal substrings of some report-stream line
        self.allow_stderr = []
        self.family_words = []  # (alloc words, free words) of program families
        self.reports = None
        self.depth = None
        self.unsymbolized = False
        self.log = None
        self.pid_any = False
        self.options = None
        self.env = {}
        self.args = []
        self.skip_exit = None


FRAME_KEYS = {
    "EXPECT-FREE-FRAME": "free", "EXPECT-ALLOC-FRAME": "alloc",
    "EXPECT-FIRST-FREE-FRAME": "first-free",
}
MODULE_KEYS = {"EXPECT-FREE-MODULE": "free", "EXPECT-ALLOC-MODULE": "alloc",
               "EXPECT-FIRST-FREE-MODULE": "first-free"}
OFFSET_KEYS = {"EXPECT-FREE-OFFSET": "free", "EXPECT-ALLOC-OFFSET": "alloc"}


def apply_directive(exp, key, value, where):
    value = "" if value is None else value
    if key == "EXPECT":
        v = value.strip()
        if v != "clean" and v not in KINDS:
            raise SystemExit(f"runner: {where}: unknown EXPECT value {v!r}")
        exp.kind = v
    elif key == "EXPECT-WORDS":
        exp.words.append(value.strip())
    elif key in FRAME_KEYS:
        num, rest = _split_num(value.strip())
        marker = None
        m = re.match(r"^(.*?)\s+(\S*@[A-Za-z0-9_.-]+)$", rest)
        if m:
            rest, marker = m.group(1), m.group(2)
        exp.frames.append((FRAME_KEYS[key], num, rest.strip(), marker, value.strip()))
    elif key == "EXPECT-THREAD-FRAME":
        thread, _, rest = value.strip().partition(" ")
        num, rest = _split_num(rest.strip())
        marker = None
        m = re.match(r"^(.*?)\s+(\S*@[A-Za-z0-9_.-]+)$", rest)
        if m:
            rest, marker = m.group(1), m.group(2)
        exp.frames.append(("thread " + thread, num, rest.strip(), marker, value.strip()))
    elif key in MODULE_KEYS:
        num, rest = _split_num(value.strip())
        exp.modules.append((MODULE_KEYS[key], num, rest))
    elif key == "EXPECT-BOUNDARY-MODULE":
        num, rest = _split_num(value.strip())
        exp.boundaries.append((num, rest))
    elif key == "EXPECT-FREE-JIT-FRAME":
        exp.jit_frames.append(value.strip())
    elif key == "CLEANUP":
        exp.cleanup.append(value.strip())
    elif key in OFFSET_KEYS:
        exp.offsets.append((OFFSET_KEYS[key], value.strip()))
    elif key == "EXPECT-EXIT":
        v = value.strip()
        if v.startswith("SIG"):
            exp.exit = -int(getattr(signal, v))
        else:
            exp.exit = int(v)
    elif key == "EXPECT-STDOUT":
        exp.stdout = (exp.stdout or []) + [value]
    elif key == "EXPECT-LINE":
        exp.lines.append(value.strip())
    elif key == "EXPECT-TEXT":
        exp.texts.append(value.strip())
    elif key == "FAMILY-WORDS":
        alloc, _, free = value.partition("|")
        exp.family_words.append((alloc.strip(), free.strip()))
    elif key == "ALLOW-STDERR":
        exp.allow_stderr.append(value.strip())
    elif key == "EXPECT-NO-LINE":
        exp.no_lines.append(value.strip())
    elif key == "EXPECT-STDERR":
        exp.stderr_lines.append(value.strip())
    elif key == "EXPECT-REPORTS":
        exp.reports = int(value)
    elif key == "EXPECT-STACK-DEPTH":
        exp.depth = int(value)
    elif key == "EXPECT-UNSYMBOLIZED":
        exp.unsymbolized = True
    elif key == "EXPECT-LOG":
        exp.log = value.strip()
    elif key == "EXPECT-PID":
        exp.pid_any = value.strip() == "any"
    elif key == "OPTIONS":
        exp.options = value.strip()
    elif key == "ENV":
        k, _, v = value.strip().partition("=")
        exp.env[k] = v
    elif key == "ARGS":
        exp.args += shlex.split(value)
    elif key == "SKIP-EXIT":
        exp.skip_exit = int(value)
    else:
        raise SystemExit(f"runner: {where}: unknown directive {key}")


def _split_num(v):
    m = re.match(r"^#(\d+)\s+(.*)$", v)
    return (int(m.group(1)), m.group(2)) if m else (None, v)


def read_sources(paths, mode, exp):
    markers = {}  # name -> [(path, line)]
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                for m in MARKER_RE.finditer(line):
                    markers.setdefault(m.group(1), []).append((path, n))
                d = DIRECTIVE_RE.search(line)
                if not d:
                    continue
                key, modes, value = d.group(1), d.group(2), d.group(3)
                if key not in KNOWN_KEYS:
                    continue
                if modes is not None and mode not in [x.strip() for x in modes.split(",")]:
                    continue
                apply_directive(exp, key, value, f"{path}:{n}")
    return markers


KNOWN_KEYS = {"EXPECT", "EXPECT-WORDS", "EXPECT-EXIT", "EXPECT-STDOUT", "EXPECT-LINE",
              "EXPECT-NO-LINE", "EXPECT-STDERR", "EXPECT-REPORTS", "EXPECT-STACK-DEPTH",
              "EXPECT-UNSYMBOLIZED", "EXPECT-LOG", "EXPECT-PID", "OPTIONS", "ENV", "ARGS",
              "SKIP-EXIT", "EXPECT-TEXT", "ALLOW-STDERR", "FAMILY-WORDS",
              "EXPECT-BOUNDARY-MODULE", "EXPECT-FREE-JIT-FRAME", "CLEANUP",
              "EXPECT-THREAD-FRAME"}
KNOWN_KEYS |= set(FRAME_KEYS) | set(MODULE_KEYS) | set(OFFSET_KEYS)


def resolve_marker(markers, marker):
    """'@name' or 'file@name' -> (basename, line)."""
    file_part, _, name = marker.rpartition("@")
    hits = markers.get(name, [])
    if file_part:
        hits = [h for h in hits if os.path.basename(h[0]) == os.path.basename(file_part)]
    if len(hits) != 1:
        raise SystemExit(f"runner: marker {marker!r} found {len(hits)} times in the sources "
                         f"(need exactly one): {hits}")
    return os.path.basename(hits[0][0]), hits[0][1]


def describe_stack(frames):
    return "\n".join("      " + f.text.strip() for f in frames) or "      (no frames)"


def addr2line(module, offset):
    """Function and (basename, line) at module+offset-1, or None."""
    tool = preload.addr2line(module)
    if not tool or not os.path.exists(module):
        return None
    try:
        out = subprocess.run([tool, "-f", "-C", "-e", module, hex(max(offset - 1, 0))],
                             capture_output=True, text=True, timeout=30).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    if len(out) < 2:
        return None
    fl = re.match(r"^(.*):(\d+)", out[1])
    if not fl:
        return (out[0], None, None)
    return (out[0], os.path.basename(fl.group(1)), int(fl.group(2)))


class Checker:
    def __init__(self):
        self.failures = []

    def fail(self, what, expected, actual):
        self.failures.append((what, expected, actual))

    def check(self, cond, what, expected, actual):
        if not cond:
            self.fail(what, expected, actual)
        return cond


def check_live_block(c, rep, tag, alloc_words):
    """A report about a live block: its region line, allocation stack and HINT."""
    if c.check(rep.region is not None, f"{tag}: allocation region line",
               f"{rep.address} is a N-byte region allocated by X in thread T here:",
               rep.text()):
        c.check(rep.region.group(1) == rep.address, f"{tag}: region address is the "
                "freed address", rep.address, rep.region.group(1))
        if alloc_words is not None:
            c.check(rep.region.group(4) == alloc_words, f"{tag}: region names the same "
                    "allocator", alloc_words, rep.region.group(4))
    c.check(bool(rep.stacks.get("alloc")), f"{tag}: allocation stack", "frames", rep.text())
    c.check(rep.hint is not None, f"{tag}: HINT line after SUMMARY", "HINT: ...", rep.text())


def check_report_shape(c, rep, lib_base, extra_words=()):
    """Checks every report must pass, whatever the test expects."""
    tag = f"report {rep.kind}@{rep.address}"
    c.check(rep.kind in KINDS, f"{tag}: kind is one of the stable names", " | ".join(KINDS),
            rep.kind)
    c.check(not rep.bad_frames, f"{tag}: every frame reads `#n 0xADDR [in FUNC] [FILE:LINE] "
            "(MODULE+0xOFF)`", "well-formed frames", "\n".join(rep.bad_frames))
    for name, frames in rep.stacks.items():
        nums = [f.num for f in frames]
        c.check(nums == list(range(len(frames))) and frames,
                f"{tag}: {name} stack numbered #0, #1, ...", "#0..#%d" % (len(frames) - 1),
                nums)
    free = rep.stacks.get("free", [])
    c.check(bool(free), f"{tag}: a deallocation stack follows the first line", "frames",
            rep.text())
    if free and free[0].module:
        c.check(os.path.basename(free[0].module) != lib_base,
                f"{tag}: frame #0 is the caller, not crossfree itself",
                f"a module other than {lib_base}", free[0].text.strip())
    check_host_sides(c, rep, tag)
    want = f"SUMMARY: crossfree: {rep.kind}"
    if c.check(rep.summary is not None and rep.summary.startswith(want),
               f"{tag}: SUMMARY line", want + " ...", rep.summary):
        if free and free[0].file and free[0].func:
            exact = f"{want} {free[0].file}:{free[0].line} in {free[0].func}"
            c.check(rep.summary == exact, f"{tag}: SUMMARY names frame #0", exact, rep.summary)
    if rep.kind == "alloc-dealloc-mismatch":
        w = re.match(r"^allocated by (.+), freed by (.+)$", rep.lines[1])
        if c.check(w is not None, f"{tag}: second line", "allocated by X, freed by Y",
                   rep.lines[1]):
            alloc_ok = ALLOC_WORDS + tuple(a for a, _ in extra_words)
            dealloc_ok = DEALLOC_WORDS + tuple(d for _, d in extra_words)
            c.check(w.group(1) in alloc_ok, f"{tag}: allocation words",
                    " | ".join(alloc_ok), w.group(1))
            c.check(w.group(2) in dealloc_ok, f"{tag}: deallocation words",
                    " | ".join(dealloc_ok), w.group(2))
        check_live_block(c, rep, tag, w.group(1) if w else None)
    elif rep.kind == "double-free":
        c.check(re.match(r"^freed twice: first by (.+), now by (.+)$", rep.lines[1]) is not None,
                f"{tag}: second line", "freed twice: first by X, now by Y", rep.lines[1])
        c.check(bool(rep.stacks.get("first-free")), f"{tag}: first free stack",
                "`0x... is a N-byte region freed by X in thread T here:` + frames", rep.text())
        c.check(bool(rep.stacks.get("alloc")), f"{tag}: allocation stack",
                "`previously allocated by X in thread T here:` + frames", rep.text())
    elif rep.kind in ("new-delete-size-mismatch", "new-delete-alignment-mismatch"):
        second = (r"^sized (.+) was given \d+ bytes for a \d+-byte region allocated by (.+)$"
                  if rep.kind == "new-delete-size-mismatch" else
                  r"^(.+) was given an alignment of \d+ bytes(?:, which the address of a block "
                  r"allocated by (.+) does not have| for a \d+-byte region allocated by (.+) with "
                  r"an alignment of \d+ bytes)$")
        w = re.match(second, rep.lines[1])
        c.check(w is not None, f"{tag}: second line", second, rep.lines[1])
        check_live_block(c, rep, tag, (w.group(2) or w.group(3) or None) if w else None)
    elif rep.kind == "invalid-free":
        c.check(re.match(r"^\S.* on (an address that no tracked allocator handed out|"
                         r"crossfree's own memory): .+$", rep.lines[1]) is not None,
                f"{tag}: second line",
                "WORDS on an address that no tracked allocator handed out: REASON, or "
                "WORDS on crossfree's own memory: REASON", rep.lines[1])


def check_host_sides(c, rep, tag):
    """The `freed from` line and the `[host boundary: HOST]` tag agree."""
    tagged = [(name, f) for name, frames in rep.stacks.items() for f in frames if f.boundary]
    c.check(len(tagged) <= 1, f"{tag}: at most one frame carries [host boundary: ...]",
            "0 or 1", "\n".join(f.text.strip() for _, f in tagged))
    c.check(all(name == "free" for name, _ in tagged),
            f"{tag}: [host boundary: ...] is on the deallocation stack", "free stack",
            [name for name, _ in tagged])
    sides = rep.sides
    if sides is None:
        c.check(not (rep.kind == "alloc-dealloc-mismatch" and tagged),
                f"{tag}: a mismatch with a host boundary has the line `freed from HOST ...`",
                "freed from HOST (frame #N); ...", rep.text())
        return
    host, num = sides.group(1), int(sides.group(2))
    c.check(rep.kind == "alloc-dealloc-mismatch", f"{tag}: only a mismatch report says "
            "`freed from HOST`", "alloc-dealloc-mismatch", rep.kind)
    at = [f for f in rep.stacks.get("free", []) if f.num == num]
    c.check(bool(at) and at[0].boundary == host,
            f"{tag}: `freed from {host} (frame #{num})` names the frame tagged "
            f"[host boundary: {host}]", f"#{num} ... [host boundary: {host}]",
            at[0].text.strip() if at else f"no frame #{num}")
    alloc = rep.stacks.get("alloc", [])
    if sides.group(3) is not None:
        module, words, func = sides.group(3), sides.group(4), sides.group(5)
        c.check(any(f.module and os.path.basename(f.module) == module for f in alloc),
                f"{tag}: `allocated in {module}` is a module of the allocation stack", module,
                describe_stack(alloc))
        if rep.region is not None:
            c.check(words == rep.region.group(4), f"{tag}: `allocated in ... by WORDS` names "
                    "the allocator of the region line", rep.region.group(4), words)
        if func is not None:
            c.check(any(f.func == func and f.module and os.path.basename(f.module) == module
                        for f in alloc), f"{tag}: `in {func}` is a frame of {module} in the "
                    "allocation stack", func, describe_stack(alloc))
    if rep.region is not None and rep.region.group(4).startswith("operator new"):
        want = f"and call it from {host} instead of "
        c.check(rep.hint is not None and want in rep.hint,
                f"{tag}: the HINT tells {host} to call the library's release function", want,
                rep.hint)


def jit_name(f):
    """The name a JIT frame was given from a perf map ('' when none)."""
    m = re.match(r"^\s+#\d+ 0x[0-9a-f]+ in (.*) \(\[jit\] 0x[0-9a-f]+\)", f.text)
    return m.group(1) if m else ""


def outcome(passed, failures, skipped):
    """Prints the skips, the failures and a count; returns the exit status
    of a script that runs several cases (0 pass, 1 fail, 77 some skipped)."""
    for s in skipped:
        print(f"SKIP {s}")
    for f in failures:
        print(f"FAIL {f}")
    print(f"{passed} passed, {len(failures)} failed, {len(skipped)} skipped")
    if failures:
        return 1
    return 77 if skipped else 0


def frame_matches(f, func, want_file, want_line):
    if f.func != func:
        return False
    if want_file is None:
        return True
    return (f.file is not None and os.path.basename(f.file) == want_file
            and f.line == want_line)


def run_checks(args, exp, markers, proc, out, err, pid, log_text, tmp):
    c = Checker()
    lib_base = os.path.basename(args.lib)
    stream = log_text if exp.log else err
    stream_name = f"log file {exp.log}.{pid}" if exp.log else "stderr"
    reports = split_reports(stream)
    kind = exp.kind or "clean"

    if exp.log:
        c.check(not split_reports(err), "no report on stderr when log_path is set",
                "no ==PID==ERROR line", err)
        c.check(log_text is not None and log_text != "", f"log file {exp.log}.{pid} exists and"
                " holds the report", "a file", log_text)

    want_exit = exp.exit
    if want_exit is None:
        want_exit = 0 if kind == "clean" else -signal.SIGABRT
    c.check(proc.returncode == want_exit, "exit status", status_name(want_exit),
            status_name(proc.returncode))

    if kind == "clean":
        # With EXPECT-PID: any, other processes (forked children) may report;
        # the program's own process must not.
        own = [r for r in reports if not exp.pid_any or r.pid == pid]
        c.check(not own, "no crossfree report", "none", "\n\n".join(r.text() for r in own))
        allowed = [re.compile(x) for x in exp.stderr_lines + exp.allow_stderr]
        stray = [l for l in err.splitlines() if ANY_PID_LINE_RE.match(l)
                 and (not exp.pid_any or int(ANY_PID_LINE_RE.match(l).group(1)) == pid)
                 and not any(a.search(l) for a in allowed)]
        c.check(not stray, "no ==PID== line from crossfree in a clean run", "none",
                "\n".join(stray))
    else:
        nrep = 1 if exp.reports is None else exp.reports
        c.check(len(reports) == nrep, f"number of reports in {stream_name}", nrep,
                len(reports))
        for rep in reports:
            check_report_shape(c, rep, lib_base, exp.family_words)
            if not exp.pid_any:
                c.check(rep.pid == pid, "report carries the child's pid", pid, rep.pid)
            c.check(rep.kind == kind, "report kind", kind, rep.kind)
        if reports:
            check_first_report(c, exp, markers, reports[0])
        for name, frames in ((n, f) for r in reports for n, f in r.stacks.items()):
            if exp.depth is not None:
                c.check(len(frames) == exp.depth, f"{name} stack depth", exp.depth,
                        describe_stack(frames))
            if exp.unsymbolized:
                named = [f for f in frames if f.func or f.file]
                c.check(not named, f"{name} stack is module+offset only", "no names",
                        describe_stack(named))

    for rx in exp.lines:
        c.check(any(re.search(rx, l) for l in stream.splitlines()),
                f"a line of {stream_name} matches", rx, stream)
    for t in exp.texts:
        c.check(any(t in l for l in stream.splitlines()),
                f"a line of {stream_name} contains", t, stream)
    for rx in exp.no_lines:
        hits = [l for l in stream.splitlines() if re.search(rx, l)]
        c.check(not hits, f"no line of {stream_name} matches", rx, "\n".join(hits))
    for rx in exp.stderr_lines:
        c.check(any(re.search(rx, l) for l in err.splitlines()), "a line of stderr matches",
                rx, err)
    if exp.stdout is not None:
        want = "".join(l + "\n" for l in exp.stdout)
        if out != want:
            diff = "".join(difflib.unified_diff(want.splitlines(True), out.splitlines(True),
                                                "expected stdout", "actual stdout"))
            c.fail("stdout", want, diff or out)
    return c


def check_first_report(c, exp, markers, rep):
    for w in exp.words:
        c.check(w in rep.lines, "a report line reads exactly", w, "\n".join(rep.lines[:2]))
    for stack, num, func, marker, raw in exp.frames:
        frames = rep.stacks.get(stack, [])
        want_file = want_line = None
        if marker:
            want_file, want_line = resolve_marker(markers, marker)
        cands = frames if num is None else [f for f in frames if f.num == num]
        where = f"#{num} " if num is not None else ""
        want = f"{where}in {func}" + (f" .../{want_file}:{want_line}" if want_file else "")
        c.check(any(frame_matches(f, func, want_file, want_line) for f in cands),
                f"{stack} stack has frame {raw!r}", want, describe_stack(frames))
    for stack, num, rx in exp.modules:
        frames = rep.stacks.get(stack, [])
        cands = frames if num is None else [f for f in frames if f.num == num]
        c.check(any(f.module and re.search(rx, f.module) for f in cands),
                f"{stack} stack has a frame whose module matches", rx, describe_stack(frames))
    free = rep.stacks.get("free", [])
    for num, rx in exp.boundaries:
        tagged = [f for f in free if f.boundary]
        where = f"#{num} " if num is not None else ""
        c.check(any(f.module and re.search(rx, f.module) and (num is None or f.num == num)
                    for f in tagged),
                "the free-stack frame tagged [host boundary: ...] is in a module matching",
                where + rx, describe_stack(tagged) if tagged else describe_stack(free))
    for rx in exp.jit_frames:
        c.check(any(f.module == "[jit]" and re.search(rx, jit_name(f)) for f in free),
                "free stack has a JIT frame `in NAME ([jit] 0x...)` whose name matches", rx,
                describe_stack(free))
    for stack, marker in exp.offsets:
        frames = rep.stacks.get(stack, [])
        want_file, want_line = resolve_marker(markers, marker)
        got = []
        for f in frames:
            r = addr2line(f.module, f.offset) if f.module else None
            got.append(f"      {f.module}+{hex(f.offset or 0)} -> {r}")
            if r and r[1] == want_file and r[2] == want_line:
                break
        else:
            c.fail(f"{stack} stack has a module+offset that addr2line maps to {marker}",
                   f"{want_file}:{want_line}", "\n".join(got))


def status_name(st):
    if st is None:
        return "none"
    if st < 0:
        try:
            return signal.Signals(-st).name
        except ValueError:
            return f"signal {-st}"
    return f"exit {st}"


def subst(s, tmp, pid=None):
    s = s.replace("%t", tmp)
    if pid is not None:
        s = s.replace("%pid", str(pid))
    return s


def child_setup():
    # Aborts are expected; a core file per case would be slow and litter.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", help="select [mode] directives")
    ap.add_argument("--expect", help="as EXPECT:")
    ap.add_argument("--words", action="append", default=[], help="as EXPECT-WORDS:")
    ap.add_argument("--free-frame", action="append", default=[])
    ap.add_argument("--alloc-frame", action="append", default=[])
    ap.add_argument("--line", action="append", default=[], help="as EXPECT-LINE:")
    ap.add_argument("--text", action="append", default=[], help="as EXPECT-TEXT:")
    ap.add_argument("--exit", help="as EXPECT-EXIT:")
    ap.add_argument("--stdout", action="append", help="as EXPECT-STDOUT:")
    ap.add_argument("--options", help="as OPTIONS:")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--self-test", action="store_true", help="check the checker itself")
    ap.add_argument("lib", nargs="?")
    ap.add_argument("program", nargs="?")
    ap.add_argument("sources", nargs="*")
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.lib or not args.program or not args.sources:
        ap.error("need LIB PROGRAM SOURCE...")

    exp = Expect()
    markers = read_sources(args.sources, args.mode, exp)
    for key, vals in (("EXPECT", [args.expect] if args.expect else []),
                      ("EXPECT-WORDS", args.words), ("EXPECT-FREE-FRAME", args.free_frame),
                      ("EXPECT-ALLOC-FRAME", args.alloc_frame), ("EXPECT-LINE", args.line),
                      ("EXPECT-TEXT", args.text),
                      ("EXPECT-EXIT", [args.exit] if args.exit else []),
                      ("OPTIONS", [args.options] if args.options else [])):
        for v in vals:
            apply_directive(exp, key, v, "command line")
    if args.stdout is not None:
        exp.stdout = list(args.stdout)
    if exp.kind is None:
        print("runner: no EXPECT: line in the sources and no --expect", file=sys.stderr)
        return EXIT_FAIL

    for p in (args.lib, args.program):
        if not os.path.exists(p):
            print(f"runner: {p} does not exist", file=sys.stderr)
            return EXIT_FAIL
    lib = os.path.abspath(args.lib)
    tmp = tempfile.mkdtemp(prefix="crossfree-test-")
    try:
        return run(args, exp, markers, lib, extra, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, exp, markers, lib, extra, tmp):
    env = dict(os.environ)
    env.pop("CROSSFREE_OPTIONS", None)
    for k, v in exp.env.items():
        env[k] = subst(v, tmp)
    if exp.options is not None:
        env["CROSSFREE_OPTIONS"] = subst(exp.options, tmp)
    cmd = [os.path.abspath(args.program)] + [subst(a, tmp) for a in exp.args + extra]
    proc = subprocess.Popen(preload.command(cmd, env, lib), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=child_setup, stdin=subprocess.DEVNULL)
    try:
        return check_run(args, exp, markers, lib, cmd, proc, tmp)
    finally:
        for pattern in exp.cleanup:
            for path in glob.glob(subst(pattern, tmp, proc.pid)):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass


def check_run(args, exp, markers, lib, cmd, proc, tmp):
    pid = proc.pid
    try:
        out, err = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(pid, signal.SIGKILL)
        out, err = proc.communicate()
        print(f"FAIL: timed out after {args.timeout} s: {shlex.join(cmd)}")
        dump(out.decode(errors="replace"), err.decode(errors="replace"), None)
        return EXIT_FAIL
    out, err = out.decode(errors="replace"), err.decode(errors="replace")
    if exp.skip_exit is not None and proc.returncode == exp.skip_exit:
        print(f"SKIP: {shlex.join(cmd)} exited {exp.skip_exit}")
        sys.stdout.write(out + err)
        return EXIT_SKIP

    for name in ("lines", "no_lines", "stderr_lines", "texts", "allow_stderr"):
        setattr(exp, name, [subst(x, tmp, pid) for x in getattr(exp, name)])
    log_text = None
    if exp.log:
        path = subst(exp.log, tmp, pid) + f".{pid}"
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                log_text = f.read()
        else:
            others = sorted(os.listdir(os.path.dirname(path) or "."))
            log_text = ""
            err += f"\n[runner: {path} does not exist; directory holds {others}]"
    c = run_checks(args, exp, markers, proc, out, err, pid, log_text, tmp)
    opts = f"CROSSFREE_OPTIONS={shlex.quote(subst(exp.options, tmp))} " if exp.options else ""
    line = f"{opts}LD_PRELOAD={lib} {shlex.join(cmd)}"
    if not c.failures:
        print(f"PASS: {line}")
        return EXIT_PASS
    print(f"FAIL: {line}")
    for what, expected, actual in c.failures:
        print(f"  - {what}")
        print(f"    expected: {indent(str(expected))}")
        print(f"    actual:   {indent(str(actual))}")
    dump(out, err, log_text)
    return EXIT_FAIL


def indent(s):
    return s.replace("\n", "\n              ")


def dump(out, err, log_text):
    print("---- stdout ----")
    print(out, end="" if out.endswith("\n") or not out else "\n")
    print("---- stderr ----")
    print(err, end="" if err.endswith("\n") or not err else "\n")
    if log_text is not None:
        print("---- log file ----")
        print(log_text)
    print("----------------")


# ---------------------------------------------------------------------------
# Self test: the checker must reject wrong expectations on a canned report.

CANNED = """\
==4242==ERROR: crossfree: alloc-dealloc-mismatch on address 0x5555555592a0 in thread T0
allocated by operator new[], freed by free()
    #0 0x55555555521c in main /abs/path/pair.c:12 (/abs/path/pair+0x121c)
    #1 0x7ffff7829d8f in __libc_init_first+0x8a (/lib/x86_64-linux-gnu/libc.so.6+0x271ca)
0x5555555592a0 is a 160-byte region allocated by operator new[] in thread T0 here:
    #0 0x7ffff7fb9139 in make_buffer(int) /abs/path/lib.cc:8 (/abs/path/libui.so+0x1139)
    #1 0x555555555200 in main /abs/path/pair.c:10 (/abs/path/pair+0x1200)
SUMMARY: crossfree: alloc-dealloc-mismatch /abs/path/pair.c:12 in main
HINT: free it with delete[]
"""


CANNED_FFI = """\
==4242==ERROR: crossfree: alloc-dealloc-mismatch on address 0x20495030 in thread T0
allocated by operator new[], freed by free()
freed from Python (ctypes via libffi) (frame #1); allocated in libbuffers.so by operator new[] in make_array
    #0 0x7fb0d737a000 (/lib/x86_64-linux-gnu/libc.so.6+0x27000)
    #1 0x7fb096c76f7a (/lib/x86_64-linux-gnu/libffi.so.8+0x6f7a) [host boundary: Python (ctypes via libffi)]
    #2 0x7fb096c8642b (/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so+0xa42b)
    #3 0x7f0000aaaa in JS:*releaseFromJs /app/main.js:8:30 ([jit] 0x7f0000aaaa)
    #4 0x7f0000bbbb ([jit] 0x7f0000bbbb)
0x20495030 is a 40-byte region allocated by operator new[] in thread T0 here:
    #0 0x7fb0d700d164 in make_array /abs/path/buffers.cc:10 (/abs/path/libbuffers.so+0x1164)
    #1 0x7fb096c76f7a (/lib/x86_64-linux-gnu/libffi.so.8+0x6f7a)
SUMMARY: crossfree: alloc-dealloc-mismatch (libc.so.6+0x27000)
HINT: memory from operator new[] must be released with operator delete[]; export a release function from libbuffers.so that uses operator delete[] and call it from Python (ctypes via libffi) instead of free(), or allocate the buffer with malloc() if the host must free it
"""


def self_test():
    class P:
        returncode = -signal.SIGABRT

    class A:
        lib = "/x/libcrossfree.so"

    markers = {"free": [("/src/pair.c", 12)], "alloc": [("/src/lib.cc", 8)],
               "other": [("/src/pair.c", 11)]}

    def run_one(lines, returncode=-signal.SIGABRT, text=CANNED):
        exp = Expect()
        for l in lines:
            k, _, v = l.partition(":")
            apply_directive(exp, k, v, "self-test")
        P.returncode = returncode
        return run_checks(A, exp, markers, P, "", text, 4242, None, "/tmp").failures

    good = ["EXPECT: alloc-dealloc-mismatch",
            "EXPECT-WORDS: allocated by operator new[], freed by free()",
            "EXPECT-FREE-FRAME: #0 main @free", "EXPECT-ALLOC-FRAME: make_buffer(int) @alloc",
            "EXPECT-ALLOC-MODULE: libui\\.so", "EXPECT-LINE: 160-byte region"]
    bad = [["EXPECT: clean"], ["EXPECT: double-free"],
           ["EXPECT: alloc-dealloc-mismatch", "EXPECT-WORDS: allocated by malloc(), freed by free()"],
           ["EXPECT: alloc-dealloc-mismatch", "EXPECT-FREE-FRAME: main @other"],
           ["EXPECT: alloc-dealloc-mismatch", "EXPECT-FREE-FRAME: #1 main @free"],
           ["EXPECT: alloc-dealloc-mismatch", "EXPECT-ALLOC-FRAME: make_buffer @alloc"],
           ["EXPECT: alloc-dealloc-mismatch", "EXPECT-EXIT: 0"],
           ["EXPECT: alloc-dealloc-mismatch", "EXPECT-STACK-DEPTH: 3"],
           ["EXPECT: alloc-dealloc-mismatch", "EXPECT-UNSYMBOLIZED"],
           ["EXPECT: alloc-dealloc-mismatch", "EXPECT-REPORTS: 2"]]
    ok = True
    f = run_one(good)
    if f:
        ok = False
        print("self-test: the good expectation failed:", f)
    for b in bad:
        if not run_one(b):
            ok = False
            print("self-test: a wrong expectation passed:", b)
    if not run_one(["EXPECT: clean"], 0, "hello\n") == []:
        ok = False
        print("self-test: a clean run failed")
    if not run_one(["EXPECT: clean"], 0, "==1==WARNING: crossfree: x\n"):
        ok = False
        print("self-test: a stray ==PID== line in a clean run passed")
    # FFI reports: the sides line, the boundary tag and JIT frames.
    ffi_good = ["EXPECT: alloc-dealloc-mismatch",
                r"EXPECT-LINE: ^freed from Python \(ctypes via libffi\) \(frame #\d+\); "
                r"allocated in libbuffers\.so by operator new\[\] in make_array$",
                r"EXPECT-BOUNDARY-MODULE: #1 /libffi\.so[.0-9]*$",
                "EXPECT-FREE-JIT-FRAME: \\breleaseFromJs\\b",
                "EXPECT-ALLOC-FRAME: #0 make_array"]
    f = run_one(ffi_good, text=CANNED_FFI)
    if f:
        ok = False
        print("self-test: the good FFI expectation failed:", f)
    for b in (["EXPECT-BOUNDARY-MODULE: /_ctypes"], ["EXPECT-BOUNDARY-MODULE: #0 libffi"],
              ["EXPECT-FREE-JIT-FRAME: freeFromJs"],
              ["EXPECT-FREE-JIT-FRAME: main\\.js:9:"]):
        if not run_one(ffi_good[:1] + b, text=CANNED_FFI):
            ok = False
            print("self-test: a wrong FFI expectation passed:", b)
    broken = {
        "the sides line naming another frame":
            CANNED_FFI.replace("(frame #1); allocated", "(frame #2); allocated"),
        "the sides line naming another host":
            CANNED_FFI.replace("freed from Python (ctypes", "freed from Python (cffi"),
        "a boundary tag without the sides line":
            "\n".join(l for l in CANNED_FFI.splitlines() if not l.startswith("freed from")),
        "two boundary tags":
            CANNED_FFI.replace("_ctypes.cpython-311-x86_64-linux-gnu.so+0xa42b)",
                               "_ctypes.cpython-311-x86_64-linux-gnu.so+0xa42b) "
                               "[host boundary: x]"),
        "a boundary tag on the allocation stack":
            CANNED_FFI.replace("(/lib/x86_64-linux-gnu/libffi.so.8+0x6f7a)\nSUMMARY",
                               "(/lib/x86_64-linux-gnu/libffi.so.8+0x6f7a) [host boundary: x]"
                               "\nSUMMARY"),
        "a native module that is not in the allocation stack":
            CANNED_FFI.replace("allocated in libbuffers.so", "allocated in libother.so"),
        "a native function that is not in the allocation stack":
            CANNED_FFI.replace("by operator new[] in make_array", "by operator new[] in other"),
        "a HINT that does not name the host":
            CANNED_FFI.replace("call it from Python (ctypes via libffi) instead",
                               "call that instead"),
    }
    for what, text in broken.items():
        if not run_one(ffi_good[:1], text=text):
            ok = False
            print(f"self-test: a report with {what} passed")
    mangled = CANNED.replace("SUMMARY: crossfree: alloc-dealloc-mismatch /abs/path/pair.c:12",
                             "SUMMARY: crossfree: alloc-dealloc-mismatch /abs/path/pair.c:13")
    if not run_one(good, text=mangled):
        ok = False
        print("self-test: a SUMMARY naming the wrong line passed")
    print("self-test:", "PASS" if ok else "FAIL")
    return EXIT_PASS if ok else EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
