#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs ONE program with crossfree preloaded and report_format=json, loads
# every line of its JSON log with json.loads, and checks each record against
# the schema in docs/json-report.md and the JSON- directives written in the
# program's source. Standard library only; exits 0 pass, 1 fail.
"""Usage: check_json.py [--mode MODE] LIB PROGRAM SOURCE [SOURCE...] [-- ARGS...]

The child runs with CROSSFREE_OPTIONS=report_format=json:log_path=%t/cf
(plus JSON-OPTIONS) and its records are read from %t/cf.PID. Every record
must pass the schema check (types, nullability, kind-specific fields),
carry the pid of the file it is in, the program's executable path and
command line, and a time between the child's start and end.

Directives (`//` or `#` comments; `[mode,...]` limits a line to modes):

  JSON-OPTIONS: k=v:k=v         more CROSSFREE_OPTIONS (after the defaults)
  JSON-EXIT: SIGABRT | N        exit status of the program
  JSON-KIND: KIND               kind of every record
  JSON-RECORDS: N               records in the program's log (default 1)
  JSON-ALLOC: FAMILY | FUNCTION allocated_by of every record, or `null`
  JSON-FREE: FAMILY | FUNCTION  freed_by
  JSON-FIRST-FREE: FAMILY | FUNCTION   first_free (double-free)
  JSON-FREE-FRAME: [#N] FUNC @MARKER   a frame of deallocation_stack whose
                                       function, file and line are FUNC and
                                       the marker's file and line
  JSON-ALLOC-FRAME: ...         the same for allocation_stack
  JSON-FIRST-FREE-FRAME: ...    the same for first_free.stack
  JSON-FIELD: PATH=JSON         a field (dotted path, numbers index arrays)
                                equals a JSON value
  JSON-FREED-FROM: HOST | REGEX freed_from.host is HOST and the frame
                                freed_from.frame of deallocation_stack is in
                                a module matching REGEX
  JSON-STDERR: REGEX            a line of stderr matches (%pid: the child)
  JSON-LOG: stderr              the records are the lines of stderr that
                                start with '{' (log_path=stderr)
  JSON-FORK                     the program forks once and prints
                                `child PID aborted`; the child's records
                                are in their own file %t/cf.PID and pass
                                the same checks

Markers are comments in a source line: `/* @name */`, `// @name`.
"""

import argparse
import calendar
import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import preload  # noqa: E402  (natively or under the cross build's exe_wrapper)

KINDS = ("alloc-dealloc-mismatch", "double-free", "invalid-free", "new-delete-size-mismatch",
         "new-delete-alignment-mismatch")
# invalid-free's `where`: the kinds a block describes, and the others.
WHERE_BLOCK = ("interior", "before", "after", "freed-interior", "freed-before", "freed-after",
               "crossfree-own")
WHERE_OTHER = ("stack", "static", "unknown")
DIRECTIVE_RE = re.compile(
    r"(?://|#)\s*(JSON-[A-Z-]+)(?:\[([^\]]*)\])?(?::\s?(.*?))?\s*(?:\*/)?\s*$")
MARKER_RE = re.compile(r"(?:/\*|//|#)\s*@([A-Za-z0-9_.-]+)\s*(?:\*/)?")
HEX_RE = re.compile(r"^0x[0-9a-f]+$")
TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$")
FRAME_KEYS = {"pc", "module", "offset", "function", "file", "line", "unloaded", "jit",
              "inlined"}
STACKS = {"JSON-FREE-FRAME": "deallocation_stack", "JSON-ALLOC-FRAME": "allocation_stack",
          "JSON-FIRST-FREE-FRAME": "first_free.stack"}


class Expect:
    def __init__(self):
        self.options = []
        self.exit = None
        self.kind = None
        self.records = 1
        self.alloc = None      # (family, function) or "null"
        self.free = None
        self.first_free = None
        self.frames = []       # (stack path, num or None, func, marker)
        self.fields = []       # (path, value)
        self.freed_from = []   # (host, module regex)
        self.stderr = []
        self.log_stderr = False
        self.fork = False


def parse_pair(v):
    v = v.strip()
    if v == "null":
        return "null"
    family, _, function = v.partition("|")
    return (family.strip(), function.strip())


def read_sources(paths, mode, exp):
    markers = {}
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                for m in MARKER_RE.finditer(line):
                    markers.setdefault(m.group(1), []).append((path, n))
                d = DIRECTIVE_RE.search(line)
                if not d:
                    continue
                key, modes, value = d.group(1), d.group(2), d.group(3) or ""
                if modes is not None and mode not in [x.strip() for x in modes.split(",")]:
                    continue
                apply(exp, key, value, f"{path}:{n}")
    return markers


def apply(exp, key, value, where):
    v = value.strip()
    if key == "JSON-OPTIONS":
        exp.options.append(v)
    elif key == "JSON-EXIT":
        exp.exit = -int(getattr(signal, v)) if v.startswith("SIG") else int(v)
    elif key == "JSON-KIND":
        if v not in KINDS:
            raise SystemExit(f"check_json: {where}: unknown kind {v!r}")
        exp.kind = v
    elif key == "JSON-RECORDS":
        exp.records = int(v)
    elif key == "JSON-ALLOC":
        exp.alloc = parse_pair(v)
    elif key == "JSON-FREE":
        exp.free = parse_pair(v)
    elif key == "JSON-FIRST-FREE":
        exp.first_free = parse_pair(v)
    elif key in STACKS:
        m = re.match(r"^(?:#(\d+)\s+)?(.*?)\s+(\S*@[A-Za-z0-9_.-]+)$", v)
        if not m:
            raise SystemExit(f"check_json: {where}: want [#N] FUNC @MARKER, got {v!r}")
        num = int(m.group(1)) if m.group(1) else None
        exp.frames.append((STACKS[key], num, m.group(2), m.group(3)))
    elif key == "JSON-FIELD":
        path, _, val = v.partition("=")
        try:
            exp.fields.append((path.strip(), json.loads(val)))
        except ValueError:
            raise SystemExit(f"check_json: {where}: value of {path} is not JSON: {val!r}")
    elif key == "JSON-FREED-FROM":
        host, sep, rx = v.rpartition("|")
        if not sep or not host.strip() or not rx.strip():
            raise SystemExit(f"check_json: {where}: want HOST | MODULE-REGEX, got {v!r}")
        exp.freed_from.append((host.strip(), rx.strip()))
    elif key == "JSON-STDERR":
        exp.stderr.append(v)
    elif key == "JSON-LOG":
        exp.log_stderr = v == "stderr"
    elif key == "JSON-FORK":
        exp.fork = True
    else:
        raise SystemExit(f"check_json: {where}: unknown directive {key}")


def resolve_marker(markers, marker):
    file_part, _, name = marker.rpartition("@")
    hits = markers.get(name, [])
    if file_part:
        hits = [h for h in hits if os.path.basename(h[0]) == os.path.basename(file_part)]
    if len(hits) != 1:
        raise SystemExit(f"check_json: marker {marker!r} found {len(hits)} times: {hits}")
    return os.path.basename(hits[0][0]), hits[0][1]


def get(record, path):
    cur = record
    for part in path.split("."):
        if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
            continue
        if not isinstance(cur, dict) or part not in cur:
            raise KeyError(path)
        cur = cur[part]
    return cur


class Checker:
    def __init__(self):
        self.failures = []

    def check(self, cond, what, expected=None, actual=None):
        if not cond:
            self.failures.append((what, expected, actual))
        return cond


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_frame(c, tag, f):
    if not c.check(isinstance(f, dict) and set(f) == FRAME_KEYS, f"{tag}: frame has exactly "
                   "the keys " + ", ".join(sorted(FRAME_KEYS)), sorted(FRAME_KEYS),
                   sorted(f) if isinstance(f, dict) else f):
        return
    c.check(isinstance(f["pc"], str) and HEX_RE.match(f["pc"]), f"{tag}: pc is a hex string",
            "0x...", f["pc"])
    c.check(f["module"] is None or (isinstance(f["module"], str) and f["module"] != ""),
            f"{tag}: module is a non-empty string or null", "string|null", f["module"])
    if f["module"] is None:
        c.check(f["offset"] is None, f"{tag}: offset is null without a module", None,
                f["offset"])
    else:
        c.check(isinstance(f["offset"], str) and HEX_RE.match(f["offset"]),
                f"{tag}: offset is a hex string", "0x...", f["offset"])
    for k in ("function", "file"):
        c.check(f[k] is None or (isinstance(f[k], str) and f[k] != ""),
                f"{tag}: {k} is a non-empty string or null", "string|null", f[k])
    c.check(f["line"] is None or (is_int(f["line"]) and f["line"] > 0),
            f"{tag}: line is a positive integer or null", "int|null", f["line"])
    c.check(isinstance(f["unloaded"], bool), f"{tag}: unloaded is a boolean", "bool",
            f["unloaded"])
    c.check(isinstance(f["jit"], bool), f"{tag}: jit is a boolean", "bool", f["jit"])
    if f["jit"] is True:
        c.check(f["module"] is None and f["offset"] is None, f"{tag}: a JIT frame has no "
                "module and no offset", "null, null", (f["module"], f["offset"]))


def check_stack(c, tag, s):
    if c.check(isinstance(s, list), f"{tag} is an array", "array", s):
        for i, f in enumerate(s):
            check_frame(c, f"{tag}[{i}]", f)


THREAD_KEYS = {"id", "os_tid", "name", "main", "created_by", "creation_stack"}


def check_threads(c, tag, rec):
    """`threads`: each thread the record names, once, the calling thread first."""
    ts = rec["threads"]
    if not c.check(isinstance(ts, list), f"{tag}: threads is an array", "array", ts):
        return
    ids = [t.get("id") for t in ts if isinstance(t, dict)]
    c.check(len(ids) == len(set(ids)), f"{tag}: threads lists each thread once", "unique ids",
            ids)
    if ts:
        c.check(ids[0] == rec["thread"], f"{tag}: threads[0] is the calling thread",
                rec["thread"], ids[0])
    for i, t in enumerate(ts):
        tt = f"{tag}: threads[{i}]"
        if not c.check(isinstance(t, dict) and set(t) == THREAD_KEYS, f"{tt} has exactly the "
                       "keys " + ", ".join(sorted(THREAD_KEYS)), sorted(THREAD_KEYS),
                       sorted(t) if isinstance(t, dict) else t):
            continue
        c.check(is_int(t["id"]) and t["id"] >= 0, f"{tt}.id", "int >= 0", t["id"])
        c.check(t["os_tid"] is None or (is_int(t["os_tid"]) and t["os_tid"] > 0),
                f"{tt}.os_tid is a positive integer or null", "int|null", t["os_tid"])
        c.check(t["name"] is None or (isinstance(t["name"], str) and t["name"] != ""),
                f"{tt}.name is a non-empty string or null", "string|null", t["name"])
        c.check(isinstance(t["main"], bool), f"{tt}.main is a boolean", "bool", t["main"])
        if t["created_by"] is None:
            c.check(t["creation_stack"] is None, f"{tt}: creation_stack is null without "
                    "created_by", None, t["creation_stack"])
        else:
            c.check(is_int(t["created_by"]) and t["created_by"] in ids,
                    f"{tt}.created_by is a thread of the array", ids, t["created_by"])
            check_stack(c, f"{tt}.creation_stack", t["creation_stack"])


def check_schema(c, rec, tag, pid, exe, argv, t0, t1):
    """What every record must satisfy, whatever the test expects."""
    common = ["crossfree", "kind", "pid", "executable", "command_line", "thread", "address",
              "size", "message", "hint", "allocated_by", "freed_by", "freed_from",
              "deallocation_stack", "allocation_stack", "threads", "truncated", "time"]
    extra = {"double-free": ["first_free"],
             "invalid-free": ["where", "where_module", "block_address"],
             "new-delete-size-mismatch": ["delete_size"],
             "new-delete-alignment-mismatch": ["delete_alignment"]}.get(rec.get("kind"), [])
    # The alignment operator new was given, when crossfree recorded it.
    optional = ["alignment"] if rec.get("kind") == "new-delete-alignment-mismatch" else []
    c.check(set(common + extra) <= set(rec) <= set(common + extra + optional),
            f"{tag}: exactly the documented keys", sorted(common + extra + optional), sorted(rec))
    if set(common) - set(rec):
        return
    c.check(rec["crossfree"] == 1, f"{tag}: schema version", 1, rec["crossfree"])
    c.check(rec["kind"] in KINDS, f"{tag}: kind", KINDS, rec["kind"])
    c.check(rec["pid"] == pid, f"{tag}: pid is the pid of the process (and of the file)", pid,
            rec["pid"])
    c.check(rec["executable"] == exe, f"{tag}: executable", exe, rec["executable"])
    c.check(rec["command_line"] == argv, f"{tag}: command_line", argv, rec["command_line"])
    c.check(is_int(rec["thread"]) and rec["thread"] >= 0, f"{tag}: thread", "int >= 0",
            rec["thread"])
    c.check(isinstance(rec["address"], str) and HEX_RE.match(rec["address"]),
            f"{tag}: address is a hex string", "0x...", rec["address"])
    c.check(rec["size"] is None or (is_int(rec["size"]) and rec["size"] >= 0),
            f"{tag}: size is an integer or null", "int|null", rec["size"])
    c.check(isinstance(rec["message"], str) and rec["message"] != "", f"{tag}: message",
            "non-empty string", rec["message"])
    c.check(isinstance(rec["hint"], str) and rec["hint"] != "", f"{tag}: hint",
            "non-empty string", rec["hint"])
    c.check(rec["truncated"] is False, f"{tag}: not truncated", False, rec["truncated"])
    m = TIME_RE.match(rec["time"]) if isinstance(rec["time"], str) else None
    if c.check(m is not None, f"{tag}: time is YYYY-MM-DDTHH:MM:SS.uuuuuuZ",
               "2026-11-26T05:40:00.123456Z", rec["time"]):
        y, mo, d, h, mi, s, us = (int(x) for x in m.groups())
        t = calendar.timegm((y, mo, d, h, mi, s)) + us / 1e6
        c.check(t0 - 1 <= t <= t1 + 1, f"{tag}: time lies within the run (UTC)",
                f"{t0:.6f} .. {t1:.6f}", f"{t:.6f}")
    fb = rec["freed_by"]
    c.check(isinstance(fb, dict) and set(fb) == {"family", "function"}
            and all(isinstance(fb[k], str) for k in fb), f"{tag}: freed_by", "{family, function}",
            fb)
    ab = rec["allocated_by"]
    if ab is not None:
        c.check(isinstance(ab, dict) and set(ab) == {"family", "function", "thread"}
                and isinstance(ab["family"], str) and isinstance(ab["function"], str)
                and is_int(ab["thread"]), f"{tag}: allocated_by",
                "{family, function, thread}", ab)
    check_stack(c, f"{tag}: deallocation_stack", rec["deallocation_stack"])
    check_threads(c, tag, rec)
    ff = rec["freed_from"]
    if ff is not None and c.check(
            isinstance(ff, dict) and set(ff) == {"host", "frame", "message"}
            and isinstance(ff["host"], str) and ff["host"] != "" and is_int(ff["frame"]),
            f"{tag}: freed_from is null or {{host: non-empty string, frame: integer, "
            "message}", "{host, frame, message}", ff):
        c.check(0 <= ff["frame"] < len(rec["deallocation_stack"] or []),
                f"{tag}: freed_from.frame is an index of deallocation_stack",
                f"0 .. {len(rec['deallocation_stack'] or []) - 1}", ff["frame"])
        # The text report's line: a mismatch's, naming the host and frame.
        lead = f"freed from {ff['host']} (frame #{ff['frame']})"
        if rec.get("kind") == "alloc-dealloc-mismatch":
            c.check(isinstance(ff["message"], str) and ff["message"].startswith(lead),
                    f"{tag}: freed_from.message is the text report's line", lead + "...",
                    ff["message"])
        else:
            c.check(ff["message"] is None, f"{tag}: freed_from.message is null but for a "
                    "mismatch", None, ff["message"])
    c.check(len(rec["deallocation_stack"] or []) > 0, f"{tag}: deallocation_stack has frames",
            "frames", rec["deallocation_stack"])
    if ab is not None:
        check_stack(c, f"{tag}: allocation_stack", rec["allocation_stack"])
    else:
        c.check(rec["allocation_stack"] is None, f"{tag}: allocation_stack is null without "
                "allocated_by", None, rec["allocation_stack"])
        c.check(rec["size"] is None, f"{tag}: size is null without allocated_by", None,
                rec["size"])
    if rec["kind"] in ("alloc-dealloc-mismatch", "double-free"):
        c.check(ab is not None, f"{tag}: allocated_by is set", "object", ab)
    if rec["kind"] == "double-free" and "first_free" in rec:
        ff = rec["first_free"]
        if ff is not None and c.check(isinstance(ff, dict) and set(ff) == {
                "family", "function", "thread", "stack"}, f"{tag}: first_free keys",
                "{family, function, thread, stack}", ff):
            check_stack(c, f"{tag}: first_free.stack", ff["stack"])
    if rec["kind"] == "invalid-free" and "where" in rec:
        c.check(rec["where"] in WHERE_BLOCK + WHERE_OTHER, f"{tag}: where",
                "|".join(WHERE_BLOCK + WHERE_OTHER), rec["where"])
        block = rec["where"] in WHERE_BLOCK
        c.check((rec["where_module"] is not None) == (rec["where"] == "static"),
                f"{tag}: where_module set exactly for static", rec["where"], rec["where_module"])
        c.check((rec["block_address"] is not None) == block,
                f"{tag}: block_address set exactly when a block describes the address",
                rec["where"], rec["block_address"])
        c.check((ab is not None) == block,
                f"{tag}: allocated_by set exactly when a block describes the address",
                rec["where"], ab)


def describe(stack):
    return "\n".join(f"      {f.get('function')} {f.get('file')}:{f.get('line')} "
                     f"({f.get('module')}+{f.get('offset')})" for f in stack or []) or \
        "      (no frames)"


def check_expectations(c, rec, tag, exp, markers):
    if exp.kind:
        c.check(rec.get("kind") == exp.kind, f"{tag}: kind", exp.kind, rec.get("kind"))
    for key, want in (("allocated_by", exp.alloc), ("freed_by", exp.free),
                      ("first_free", exp.first_free)):
        if want is None:
            continue
        got = rec.get(key)
        if want == "null":
            c.check(got is None, f"{tag}: {key} is null", None, got)
        else:
            c.check(isinstance(got, dict) and (got.get("family"), got.get("function")) == want,
                    f"{tag}: {key} family and function", want, got)
    if rec.get("kind") == "double-free" and exp.first_free is not None:
        ff = rec.get("first_free")
        c.check(isinstance(ff, dict) and isinstance(ff.get("stack"), list) and ff["stack"],
                f"{tag}: first_free carries a stack", "frames", ff)
    for stack_path, num, func, marker in exp.frames:
        want_file, want_line = resolve_marker(markers, marker)
        try:
            frames = get(rec, stack_path) or []
        except KeyError:
            frames = []
        cands = [f for i, f in enumerate(frames) if num is None or i == num]
        ok = any(f.get("function") == func and f.get("file") is not None
                 and os.path.basename(f["file"]) == want_file and f.get("line") == want_line
                 for f in cands)
        where = f"#{num} " if num is not None else ""
        c.check(ok, f"{tag}: {stack_path} has frame {where}{func} at {want_file}:{want_line}",
                f"{where}{func} .../{want_file}:{want_line}", describe(frames))
    for host, rx in exp.freed_from:
        ff = rec.get("freed_from")
        stack = rec.get("deallocation_stack") or []
        if not c.check(isinstance(ff, dict) and ff.get("host") == host, f"{tag}: freed_from.host",
                       host, ff):
            continue
        frame = stack[ff["frame"]] if is_int(ff.get("frame")) and \
            0 <= ff["frame"] < len(stack) else {}
        c.check(isinstance(frame.get("module"), str) and re.search(rx, frame["module"]),
                f"{tag}: deallocation_stack[freed_from.frame] is in a module matching", rx,
                frame or ff)
    for path, want in exp.fields:
        try:
            got = get(rec, path)
        except KeyError:
            c.check(False, f"{tag}: field {path} exists", want, "missing")
            continue
        c.check(got == want and type(got) is type(want), f"{tag}: field {path}", want, got)


def load_records(c, text, name):
    """Every line must be one JSON object."""
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            c.check(False, f"{name} line {n} is JSON ({e})", "a JSON object", line[:300])
            continue
        if c.check(isinstance(rec, dict), f"{name} line {n} is an object", "object", line[:300]):
            records.append(rec)
    c.check(text == "" or text.endswith("\n"), f"{name} ends with a newline", "\\n",
            repr(text[-40:]))
    return records


def child_setup():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()


def status_name(st):
    if st is None:
        return "none"
    if st < 0:
        try:
            return signal.Signals(-st).name
        except ValueError:
            return f"signal {-st}"
    return f"exit {st}"


def run(args, exp, markers, lib, extra, tmp):
    prefix = os.path.join(tmp, "cf")
    opts = ":".join(["report_format=json", f"log_path={prefix}"] + exp.options)
    env = dict(os.environ)
    env["CROSSFREE_OPTIONS"] = opts
    cmd = [os.path.abspath(args.program)] + extra
    t0 = time.time()
    proc = subprocess.Popen(preload.command(cmd, env, lib), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=child_setup, stdin=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    t1 = time.time()
    out, err = out.decode(errors="replace"), err.decode(errors="replace")
    pid = proc.pid
    c = Checker()
    want_exit = exp.exit if exp.exit is not None else 0
    c.check(proc.returncode == want_exit, "exit status", status_name(want_exit),
            status_name(proc.returncode))
    exe = os.path.realpath(args.program)

    logs = {}  # pid -> text
    if exp.log_stderr:
        logs[pid] = "".join(l + "\n" for l in err.splitlines() if l.startswith("{"))
        c.check(not [l for l in err.splitlines() if "ERROR: crossfree" in l],
                "no text report on stderr", "none", err)
    else:
        for name in sorted(os.listdir(tmp)):
            m = re.match(r"^cf\.(\d+)$", name)
            if c.check(m is not None, f"only PREFIX.PID files in the log directory",
                       "cf.PID", name):
                with open(os.path.join(tmp, name), encoding="utf-8") as f:
                    logs[int(m.group(1))] = f.read()
        c.check(not [l for l in err.splitlines() if "ERROR: crossfree" in l or
                     l.startswith("{")], "no report on stderr when log_path is a file", "none",
                err)
    want_pids = {pid}
    if exp.fork:
        m = re.search(r"^child (\d+) (.*)$", out, flags=re.M)
        if c.check(m is not None, "the program printed its child's pid", "child PID aborted",
                   out):
            want_pids.add(int(m.group(1)))
            c.check(m.group(2) == "aborted", "the child aborted after its report", "aborted",
                    m.group(2))
    c.check(set(logs) == want_pids, "one log file per reporting process",
            sorted(f"cf.{p}" for p in want_pids), sorted(f"cf.{p}" for p in logs))

    for lpid, text in sorted(logs.items()):
        name = "stderr" if exp.log_stderr else f"cf.{lpid}"
        records = load_records(c, text, name)
        c.check(len(records) == exp.records, f"records in {name}", exp.records, len(records))
        for i, rec in enumerate(records):
            tag = f"{name} record {i + 1}"
            check_schema(c, rec, tag, lpid, exe, cmd, t0, t1)
            check_expectations(c, rec, tag, exp, markers)
    for rx in exp.stderr:
        rx = rx.replace("%pid", str(pid))
        c.check(any(re.search(rx, l) for l in err.splitlines()), "a line of stderr matches",
                rx, err)

    line = f"CROSSFREE_OPTIONS={shlex.quote(opts)} LD_PRELOAD={lib} {shlex.join(cmd)}"
    if not c.failures:
        print(f"PASS: {line}")
        return 0
    print(f"FAIL: {line}")
    for what, expected, actual in c.failures:
        print(f"  - {what}")
        print(f"    expected: {expected}")
        print(f"    actual:   {actual}")
    print("---- stdout ----\n" + out + "---- stderr ----\n" + err)
    for lpid, text in sorted(logs.items()):
        print(f"---- cf.{lpid} ----\n{text}")
    return 1


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", help="select [mode] directives")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("lib")
    ap.add_argument("program")
    ap.add_argument("sources", nargs="+")
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    args = ap.parse_args(argv)
    exp = Expect()
    markers = read_sources(args.sources, args.mode, exp)
    lib = os.path.abspath(args.lib)
    tmp = tempfile.mkdtemp(prefix="crossfree-json-")
    try:
        return run(args, exp, markers, lib, extra, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
