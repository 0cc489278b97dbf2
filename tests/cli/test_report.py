#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `crossfree report` in every format. --fixtures: hand-written logs (JSON,
# text, hostile strings, garbage) and logs kept from real FFI runs, and what
# each format must say about them. --schemas: the same outputs against the
# SARIF 2.1.0 and JUnit schemas. --live: logs from real runs under
# `crossfree run`, checked and validated; --live-ffi: the same for Python
# ctypes freeing a C++ library's new[] buffer.
"""Usage: test_report.py --fixtures|--schemas|--live|--live-ffi|--doc-examples
                      CROSSFREE SOURCE_ROOT OUT_DIR [BUGGY | PYTHON LIBBUFFERS]"""
import html
import json
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

from clitest import (EXIT_SKIP, check, expect_status, main, markers, parse_github, run,
                     schemas_dir, show, validate_junit, validate_sarif)

mode = sys.argv[1]
crossfree, source_root, out_dir = (os.path.abspath(a) for a in sys.argv[2:5])
extra_args = [os.path.abspath(a) for a in sys.argv[5:]]
buggy = extra_args[0] if extra_args else None
fixtures = os.path.join(source_root, "tests", "cli", "fixtures")
two = os.path.join(fixtures, "two_processes.jsonl")
text_log = os.path.join(fixtures, "text_report.log")
# From real runs (fixtures/make_ffi_fixtures.sh): Python ctypes with
# halt_on_error=0 (JSON) and =1 (text), and the Dart stand-in under
# semantics=windows (both).
ctypes_json = os.path.join(fixtures, "ctypes_halt0.jsonl")
ctypes_text = os.path.join(fixtures, "ctypes_halt1.log")
winsem_json = os.path.join(fixtures, "winsem_dart.jsonl")
winsem_text = os.path.join(fixtures, "winsem_dart.log")
FFI_ROOT = "/tmp/crossfree-fixtures"  # where make_ffi_fixtures.sh built them
HALT_NOTE = " (CROSSFREE_OPTIONS=halt_on_error=0 continues after a report)"
tmp = tempfile.mkdtemp(prefix="cf-report-")
KINDS = ["alloc-dealloc-mismatch", "double-free", "invalid-free"]
# SARIF has a rule for every kind crossfree knows, the fixtures use the first three.
RULES = KINDS + ["new-delete-size-mismatch", "new-delete-alignment-mismatch"]


def report(fmt, *logs, root=None, status=1):
    args = [crossfree, "report", "--format", fmt]
    if root is not None:
        args += ["--source-root", root]
    p = run(args + list(logs))
    expect_status(p, status)
    return p


def save(name, text):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def hostile_log():
    """A JSON log of awkward strings, broken lines and records of the future."""
    path = os.path.join(tmp, "hostile.jsonl")
    frame = {"pc": "0x1", "module": "/src/a, b:c/lib%1.so", "offset": "0x10",
             "function": "f<&\"'>\u0001\u00e9\U0001F600", "file": "/src/a, b:c/x%1.c",
             "line": 7, "unloaded": True}
    rec = {"crossfree": 1, "kind": "alloc-dealloc-mismatch", "pid": 7,
           "executable": "/bin/we<ird> \"exe\"\r\n", "command_line": ["a&b", "--x=<y>"],
           "thread": 2, "address": "0x10", "size": 8,
           "message": "allocated by operator new[], freed by free() %0A 100% ]]> \u0007",
           "allocated_by": {"family": "new[]", "function": "operator new[]", "thread": 1},
           "freed_by": {"family": "malloc", "function": "free()"},
           "deallocation_stack": [frame], "allocation_stack": [], "time": "garbage-time"}
    lines = [json.dumps(rec)]
    future = dict(rec, crossfree=2, kind="use-after-free-someday", pid=8, extra={"new": [1]})
    lines.append(json.dumps(future))
    lines.append('{"crossfree":1,"kind":"double-free"}')     # the bare minimum
    lines.append('{"kind":"alloc-dealloc-mismatch"}')        # not crossfree's
    lines.append('["crossfree", 1]')                         # not an object
    lines.append(json.dumps(rec)[:120])                      # cut off mid-line
    lines.append('{"crossfree":1,"kind":"double-free","pid":"7","deallocation_stack":{},'
                 '"allocation_stack":[1,"x",null,{"line":-3}],"first_free":[]}')
    with open(path, "wb") as f:
        f.write("\n".join(lines).encode() + b"\n")
        # A record whose strings hold raw invalid UTF-8 and a control byte.
        f.write(b'{"crossfree":1,"kind":"invalid-free","pid":9,"message":"bad \xff\xfe'
                b' bytes \x7f","executable":"/bin/\xc3(","deallocation_stack":[]}\n')
    return path


def garbage_log():
    path = os.path.join(tmp, "garbage.bin")
    with open(path, "wb") as f:
        f.write(bytes(range(256)) * 8 + b"\n{\x00{[[[\n" + b"{" * 100000 + b"\n")
    return path


def fixtures_mode():
    # Exit statuses: errors found, none found, unreadable, usage.
    empty = os.path.join(tmp, "empty.log")
    open(empty, "w").close()
    p = report("text", empty, status=0)
    check(p.stdout == "crossfree: no errors in the logs\n" and p.stderr == "", show(p))
    p = report("text", empty, os.path.join(tmp, "missing.log"), status=2)
    check(re.search(r"cannot read .*missing\.log: No such file", p.stderr), show(p))
    p = report("junit", two, os.path.join(tmp, "missing.log"), status=2)
    check("<testcase" in p.stdout, "a missing log must not stop the others")
    # When nothing could be read (a mistyped log directory), no format may
    # pass for an all-clear: nothing is written.
    for fmt in ["text", "sarif", "junit", "github"]:
        p = report(fmt, os.path.join(tmp, "no-such-dir"), status=2)
        check(p.stdout == "" and re.search(r"cannot read .*no-such-dir: No such file", p.stderr)
              and "no log could be read: nothing to report" in p.stderr, show(p))
    # A directory stands for its files (not hidden ones, not subdirectories);
    # an empty one is no error at all.
    d = os.path.join(tmp, "dir")
    os.makedirs(os.path.join(d, "sub"))
    shutil.copy(two, d)
    shutil.copy(text_log, os.path.join(d, "sub"))
    with open(os.path.join(d, ".hidden"), "w") as f:
        f.write('{"crossfree":1,"kind":"double-free"}\n')
    p = report("text", d)
    check("3 errors in 2 processes" in p.stdout and "two_processes.jsonl" in p.stderr, show(p))
    os.makedirs(os.path.join(tmp, "empty-dir"))
    p = report("sarif", os.path.join(tmp, "empty-dir"), status=0)
    check(json.loads(p.stdout)["runs"][0]["results"] == [], show(p))
    expect_status(run([crossfree, "report"]), 2)
    expect_status(run([crossfree, "report", "--format", "pdf", two]), 2)
    expect_status(run([crossfree, "report", "--bogus", two]), 2)
    for args, message in [(["--form", "text", two], "unknown flag '--form'"),
                          (["--format"], "--format needs a value"),
                          (["--help=x"], "--help takes no value")]:
        p = run([crossfree, "report"] + args)
        expect_status(p, 2)
        check(p.stderr == f"crossfree report: {message} (crossfree report --help lists them)\n"
              if "unknown" in message else p.stderr == f"crossfree report: {message}\n", show(p))
    # After the first log every argument is a log.
    p = report("text", two, "--format", status=2)
    check("cannot read --format" in p.stderr and "3 errors in 2 processes" in p.stdout, show(p))

    # Text: each process, each error with both stacks, and the counts.
    p = report("text", two)
    check(re.search(r"skipped 1 line .* line 3\)", p.stderr), f"no warning for line 3\n{show(p)}")
    out = p.stdout
    check("== seed_host (pid 24018) /src/app/build/seed_host: 2 errors" in out, out)
    check("== python3.11 (pid 24019) /usr/bin/python3.11: 1 error" in out, out)
    check("command line: ./seed_host --fast" in out, out)
    check("allocated by operator new[], freed by free()\n"
          "    #0 0x7f54fef9a1b2 in free " in out, out)
    check("0x55d45c645ed0 is a 160-byte region allocated by operator new[] in thread T0 here:\n"
          "    #0 0x7f54ff11213e in get_ui_command() /src/app/ui_command.cc:39 "
          "(/src/app/build/libui_command.so+0x113e)" in out, out)
    check("is a 16-byte region freed by free() in thread T0 here:" in out and
          "previously allocated by malloc() in thread T0 here:" in out, out)
    check(out.endswith("crossfree: 3 errors in 2 processes (alloc-dealloc-mismatch: 1, "
                       "double-free: 1, invalid-free: 1)\n"), out)

    # Text reports are read too (the program's lines around them skipped).
    p = report("text", text_log)
    check(re.search(r"skipped 3 lines", p.stderr), show(p))
    check("3 errors in 1 process" in p.stdout, show(p))
    check("in std::function<void ()>::operator()() const /src/app/util.cc:14" in p.stdout, show(p))
    check("(/src/dir (with parens)/seed_host+0x1400)" in p.stdout, show(p))
    check("(/src/app/build/seed_host+0x1200) [unloaded]" in p.stdout, show(p))
    check("0x55d45c647000 is a 64-byte region allocated by malloc()" in p.stdout, show(p))

    # JUnit: a testsuite per process named from executable and pid, a
    # failing testcase per error, message = kind + words, body = both stacks.
    p = report("junit", two)
    root = ET.fromstring(p.stdout)
    suites = root.findall("testsuite")
    check([s.get("name") for s in suites] == ["seed_host (pid 24018)", "python3.11 (pid 24019)"],
          p.stdout)
    check([s.get("tests") for s in suites] == ["2", "1"], p.stdout)
    cases = suites[0].findall("testcase")
    check(cases[0].get("name") == "alloc-dealloc-mismatch #1 at main (host.c:23)", p.stdout)
    fail = cases[0].find("failure")
    check(fail.get("type") == "alloc-dealloc-mismatch" and fail.get("message") ==
          "alloc-dealloc-mismatch: allocated by operator new[], freed by free()", p.stdout)
    check("in main /src/app/host.c:23" in fail.text and
          "in get_ui_command() /src/app/ui_command.cc:39" in fail.text, fail.text)
    props = {e.get("name"): e.get("value") for e in suites[0].find("properties")}
    check(props["executable"] == "/src/app/build/seed_host" and props["pid"] == "24018" and
          props["command_line"] == "./seed_host --fast", props)
    check(suites[0].get("timestamp") == "2026-11-26T05:40:00", p.stdout)

    # SARIF: rules, one result per error, locations[0] in user code.
    p = report("sarif", two, root="/src/app")
    sarif = json.loads(p.stdout)
    run0 = sarif["runs"][0]
    driver = run0["tool"]["driver"]
    check(driver["name"] == "crossfree" and [r["id"] for r in driver["rules"]] == RULES, driver)
    check(run0["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///src/app/", run0)
    results = run0["results"]
    check([r["ruleId"] for r in results] == KINDS and all(r["level"] == "error" for r in results),
          results)
    check(all(driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results), results)
    loc = results[0]["locations"][0]["physicalLocation"]
    # Frame 0 is in libc, so the first user frame is main, host.c:23.
    check(loc["artifactLocation"] == {"uri": "host.c", "uriBaseId": "SRCROOT"} and
          loc["region"]["startLine"] == 23, loc)
    check(results[0]["message"]["text"].startswith(
        "alloc-dealloc-mismatch: allocated by operator new[], freed by free()"), results[0])
    stacks = results[0]["stacks"]
    check(len(stacks) == 2 and len(stacks[0]["frames"]) == 3 and len(stacks[1]["frames"]) == 2,
          stacks)
    check(stacks[0]["frames"][0]["module"] == "/lib/x86_64-linux-gnu/libc.so.6", stacks)
    # A double free has three stacks; the file name's ',' and '"' are encoded.
    check(len(results[1]["stacks"]) == 3, results[1])
    check(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
          "util%2C%20part%20%222%22.c", results[1])
    # Nothing in user code with a file: the module stands in for it.
    check(results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
          "file:///usr/lib/x86_64-linux-gnu/libffi.so.8", results[2])
    # Without --source-root, absolute file:// URIs.
    p = report("sarif", two)
    loc = json.loads(p.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    check(loc["artifactLocation"] == {"uri": "file:///src/app/host.c"}, loc)

    # GitHub: one ::error per error, escaped, relative to --source-root.
    p = report("github", two, root="/src/app/")
    notes = parse_github(p.stdout)
    check(len(notes) == 3, p.stdout)
    check(notes[0]["file"] == "host.c" and notes[0]["line"] == "23" and
          notes[0]["title"] == "crossfree alloc-dealloc-mismatch", notes[0])
    check(notes[0]["message"].startswith(
        "alloc-dealloc-mismatch: allocated by operator new[], freed by free() in main "
        "[seed_host (pid 24018)]\nERROR: crossfree"), notes[0])
    check(notes[1]["file"] == 'util, part "2".c' and "%2C" in p.stdout.splitlines()[1], notes[1])
    check(notes[2]["file"] is None and notes[2]["line"] is None, notes[2])

    # Hostile input: nothing crashes, every format stays well-formed.
    hostile = hostile_log()
    for fmt in ("text", "junit", "sarif", "github"):
        p = report(fmt, hostile, garbage_log())
        check("malformed JSON" in p.stderr and "not a crossfree record" in p.stderr and
              "record version 2" in p.stderr, show(p))
    p = report("junit", hostile)
    root = ET.fromstring(p.stdout.encode())  # well-formed XML, or this raises
    names = [s.get("name") for s in root.findall("testsuite")]
    check(names[0] == 'we<ird> "exe"\r\n (pid 7)', names)
    check("\ufffd" in p.stdout and "\u0001" not in p.stdout and "\u0007" not in p.stdout,
          "controls must not reach the XML")
    p = report("sarif", hostile)
    sarif = json.loads(p.stdout)
    rules = [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]
    check(rules == RULES + ["use-after-free-someday"], rules)
    check(len(sarif["runs"][0]["results"]) == 5, "expected 5 records from the hostile log")
    p = report("github", hostile)
    notes = parse_github(p.stdout)
    check(notes[0]["file"] == "/src/a, b:c/x%1.c" and
          notes[0]["message"].startswith("alloc-dealloc-mismatch: allocated by operator new[], "
                                         "freed by free() %0A 100% ]]>"), notes[0])
    p = report("text", garbage_log(), status=0)
    check("malformed JSON" in p.stderr and "no errors in the logs" in p.stdout, show(p))

    # Rust names from an old log: demangled in every format.
    rust_log = os.path.join(fixtures, "rust_names_old.log")
    for fmt in ("text", "junit", "sarif", "github"):
        out = html.unescape(report(fmt, rust_log).stdout)
        for name in ("<rsfree::Buffer as core::ops::drop::Drop>::drop",
                     "rshost::sum_and_release_wrong", "rsfree::rs_sum_and_free"):
            check(name in out, f"{fmt}: no {name}\n{out}")
        check("$LT$" not in out and "::h45cdb" not in out and "_RNv" not in out,
              f"{fmt}: a Rust name left mangled\n{out}")

    ffi_fixtures()
    check_doc_examples()
    print("ok")


def library_lines(text_log_path):
    """What the library's text report in a log says besides the stacks:
    {"sides": ..., "view": ..., "hint": ..., "boundary": (frame line)}."""
    facts = {}
    with open(text_log_path) as f:
        for line in f.read().splitlines():
            for key, prefix in (("sides", "freed from "), ("view", "Linux: "), ("hint", "HINT: ")):
                if line.startswith(prefix):
                    facts[key] = line
            if "[host boundary: " in line:
                facts["boundary"] = line
    return facts


def frame_tail(frame_line):
    """A frame line from its module on: `crossfree report` does not keep
    the library's FUNC+0xOFF, the rest is the same."""
    return frame_line[frame_line.rindex(" ("):]


def check_ffi_facts(logs, facts, root, fail_line=None, where=None, headline=None, junit=None):
    """Every format of `crossfree report LOGS` shows the library's lines
    (facts, from library_lines) as the library prints them; the annotation
    and SARIF's location are at `where` (path below root, line); GitHub's and
    SARIF's first line starts with `headline`, JUnit's message is `junit`
    (the testcase's name says where)."""
    hint = facts["hint"][len("HINT: "):]
    lines = [facts[k] for k in ("sides", "view", "hint") if k in facts]
    out = {}
    # Text: the lines themselves, and the tagged frame.
    p = report("text", *logs)
    check(p.stderr == "", show(p))
    text_lines = p.stdout.splitlines()
    for line in lines:
        check(line in text_lines, f"text: no line {line!r}\n{p.stdout}")
    tagged = [t for t in text_lines if "[host boundary: " in t]
    check(len(tagged) == 1 and tagged[0].endswith(frame_tail(facts["boundary"])) and
          tagged[0].split(" 0x")[0] == facts["boundary"].split(" 0x")[0],
          f"text: the boundary frame {facts['boundary']!r}\n{p.stdout}")
    if fail_line is not None:
        check(not any(fail_line in t for t in text_lines), f"text: {fail_line!r}\n{p.stdout}")
    out["text"] = p.stdout
    # JUnit: the failure text is the same report.
    p = report("junit", *logs)
    failures = ET.fromstring(p.stdout).findall("./testsuite/testcase/failure")
    check(len(failures) == 1, p.stdout)
    body = failures[0].text.splitlines()
    for line in lines + [tagged[0]]:
        check(line in body, f"junit: no line {line!r} in the failure\n{p.stdout}")
    if junit is not None:
        check(failures[0].get("message") == junit, f"junit: message {junit!r}\n{p.stdout}")
    out["junit"] = p.stdout
    # SARIF: the lines in the message, the hint as the fix's description.
    p = report("sarif", *logs, root=root)
    res = json.loads(p.stdout)["runs"][0]["results"]
    check(len(res) == 1, p.stdout)
    msg = res[0]["message"]["text"].split("\n")
    check(headline is None or msg[0].startswith(headline), f"sarif: headline {headline!r}\n{msg}")
    for line in lines:
        # The Windows view of a pair only Windows rejects opens the message.
        check(line in msg or (line.startswith("Linux: ") and line in msg[0]),
              f"sarif: no line {line!r} in the message\n{msg}")
    frames = res[0]["stacks"][0]["frames"]
    in_sarif = [f["location"]["message"]["text"] for f in frames if "[host boundary: " in
                f["location"]["message"]["text"]]
    host = facts["boundary"][facts["boundary"].rindex(" [host boundary: "):]
    check(len(in_sarif) == 1 and in_sarif[0].endswith(host), f"sarif: the tagged frame {in_sarif}")
    fixes = res[0].get("fixes", [])
    check(len(fixes) == 1 and fixes[0]["description"]["text"] == hint, f"sarif: fixes {fixes}")
    change = fixes[0]["artifactChanges"][0]
    loc = res[0]["locations"][0]["physicalLocation"]
    check(change["artifactLocation"] == loc["artifactLocation"] and
          "insertedContent" not in change["replacements"][0], f"sarif: the fix {fixes}")
    if where is not None:
        check(loc["artifactLocation"] == {"uri": where[0], "uriBaseId": "SRCROOT"} and
              loc["region"]["startLine"] == where[1], f"sarif: location {loc}, want {where}")
    out["sarif"] = p.stdout
    # GitHub: the annotation holds the report, escaped.
    p = report("github", *logs, root=root)
    notes = parse_github(p.stdout)
    check(len(notes) == 1, p.stdout)
    body = notes[0]["message"].split("\n")
    for line in lines + [tagged[0]]:
        check(line in body, f"github: no line {line!r}\n{notes[0]['message']}")
    check("\n" not in p.stdout.rstrip("\n") and "%0AHINT: " in p.stdout, p.stdout)
    if headline is not None:
        check(body[0].startswith(headline + " ["), f"github: headline {headline!r}\n{body[0]}")
    if where is not None:
        check((notes[0]["file"], notes[0]["line"]) == (where[0], str(where[1])),
              f"github: at {notes[0]['file']}:{notes[0]['line']}, want {where}")
    out["github"] = p.stdout
    return out


# docs/ci.md shows each format of `crossfree report` on ctypes_halt0.jsonl,
# run from the repository's root; each example follows a line
# `<!-- example: FORMAT -->`. `test_report.py --doc-examples ...` prints
# them anew.
DOC_LOG = os.path.join("tests", "cli", "fixtures", "ctypes_halt0.jsonl")


def doc_examples():
    out = {}
    for fmt in ("text", "junit", "sarif", "github"):
        args = [crossfree, "report", "--format", fmt]
        if fmt in ("sarif", "github"):
            args += ["--source-root", FFI_ROOT]
        p = run(args + [DOC_LOG], cwd=source_root)
        expect_status(p, 1)
        out[fmt] = p.stdout
    # JUnit: the testcase (the suite names the host machine); SARIF: the
    # result without its stacks (the rest is the same for every error).
    junit = out["junit"].splitlines(keepends=True)
    first = next(i for i, line in enumerate(junit) if line.startswith("    <testcase"))
    last = next(i for i, line in enumerate(junit) if line.startswith("    </testcase>"))
    out["junit"] = "".join(junit[first:last + 1])
    result = json.loads(out["sarif"])["runs"][0]["results"][0]
    del result["stacks"]
    out["sarif"] = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    return out


def check_doc_examples():
    with open(os.path.join(source_root, "docs", "ci.md")) as f:
        doc = f.read()
    for fmt, text in doc_examples().items():
        m = re.search(r"<!-- example: " + fmt + r" -->\n```[a-z]*\n(.*?)```\n", doc, re.S)
        check(m is not None, f"docs/ci.md: no example of {fmt}")
        check(m.group(1) == text, f"docs/ci.md: the {fmt} example is not what crossfree report "
              f"prints now (tests/cli/test_report.py --doc-examples prints it):\n{text}")


def doc_examples_mode():
    for fmt, text in doc_examples().items():
        print(f"<!-- example: {fmt} -->\n{text}")


CTYPES_HEADLINE = ("alloc-dealloc-mismatch: allocated by operator new[], freed by free() "
                   "from Python (ctypes via libffi)")


def ffi_fixtures():
    """The logs of real FFI runs, read back in every format."""
    facts = library_lines(ctypes_text)
    check(facts["hint"].endswith(HALT_NOTE), f"{ctypes_text}: halt_on_error=1 suggests 0")
    # The interpreter has debug info: frames above the host boundary have a
    # file and line (CPython's own sources), but they are not the user's
    # code. The annotation goes to the allocation in libbuffers.so.
    with open(ctypes_text) as f:
        check("Modules/_ctypes/callproc.c:" in f.read(), "the fixture's Python lacks debug info")
    where = ("src/buffers.cc", 10)
    check_ffi_facts([ctypes_text], facts, FFI_ROOT, where=where, headline=CTYPES_HEADLINE,
                    junit=CTYPES_HEADLINE)
    # halt_on_error=0: the same words, without the suggestion, from JSON.
    facts["hint"] = facts["hint"][:-len(HALT_NOTE)]
    check_ffi_facts([ctypes_json], facts, FFI_ROOT, fail_line="halt_on_error", where=where,
                    headline=CTYPES_HEADLINE, junit=CTYPES_HEADLINE)

    # semantics=windows: the Windows view, and the Windows HINT; the free
    # is in the Dart side's own code (libapp.so, the boundary itself).
    facts = library_lines(winsem_text)
    check(facts["view"].startswith("Linux: works here"), facts)
    where = ("src/dart_side.c", int(re.search(r"dart_side\.c:(\d+) ", facts["boundary"])[1]))
    words = f"alloc-dealloc-mismatch: {facts['view']}"
    host = " from Dart (AOT code in libapp.so)"
    for log in (winsem_text, winsem_json):
        check_ffi_facts([log], facts, FFI_ROOT, fail_line="halt_on_error", where=where,
                        headline=words + " in read_buffer" + host, junit=words + host)


def schemas_mode():
    schemas = schemas_dir(source_root)
    if schemas is None:
        print(f"SKIP: no schemas at {os.path.dirname(source_root)}/shared/schemas")
        return EXIT_SKIP
    skipped = []
    for name, logs in [("fixtures", [two, text_log]), ("hostile", [hostile_log()]),
                       ("ffi", [ctypes_json, ctypes_text, winsem_json, winsem_text])]:
        sarif = save(f"{name}.sarif", report("sarif", *logs, root="/src/app").stdout)
        junit = save(f"{name}.junit.xml", report("junit", *logs).stdout)
        skipped += [r for r in (validate_sarif(sarif, schemas), validate_junit(junit, schemas))
                    if r is not None]
        print(f"validated {sarif} and {junit}")
    if skipped:
        print("SKIP: " + "; ".join(sorted(set(skipped))))
        return EXIT_SKIP
    print("ok")


def live_mode():
    marks = markers(os.path.join(source_root, "tests", "cli", "buggy.cc"))
    logs = os.path.join(tmp, "logs")
    # Two processes: one with three errors, one with one.
    p = run([crossfree, "run", "-o", "report_format=json", "-o", "halt_on_error=0",
             "--log-dir", logs, "--", "/bin/sh", "-c", f"'{buggy}' all; '{buggy}' double"])
    expect_status(p, 23)
    files = sorted(os.path.join(logs, f) for f in os.listdir(logs))
    check(len(files) == 2, f"expected two logs: {files}\n{show(p)}")
    for f in files:
        with open(f) as fh:
            first = fh.readline()
        check(first.startswith("{"), f"{f} is not JSON (report_format=json):\n{first}")

    p = report("text", *files)
    check(p.stderr == "", show(p))
    check("4 errors in 2 processes (alloc-dealloc-mismatch: 1, double-free: 2, "
          "invalid-free: 1)" in p.stdout, show(p))
    save("live.txt", p.stdout)

    sarif_text = report("sarif", *files, root=source_root).stdout
    sarif_path = save("live.sarif", sarif_text)
    results = json.loads(sarif_text)["runs"][0]["results"]
    check(sorted(r["ruleId"] for r in results) == sorted(KINDS + ["double-free"]), results)
    where = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
             for r in results}
    for r in results:
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
        check(loc == {"uri": "tests/cli/buggy.cc", "uriBaseId": "SRCROOT"}, loc)
    check(where == {("alloc-dealloc-mismatch", marks["free-mismatch"]),
                    ("double-free", marks["free-second"]),
                    ("invalid-free", marks["free-interior"])}, where)

    junit_text = report("junit", *files).stdout
    junit_path = save("live.junit.xml", junit_text)
    suites = ET.fromstring(junit_text).findall("testsuite")
    check(sorted(len(s.findall("testcase")) for s in suites) == [1, 3], junit_text)
    check(all(re.fullmatch(r"cf_buggy \(pid \d+\)", s.get("name")) for s in suites), junit_text)

    gh = report("github", logs, root=source_root).stdout  # the directory
    save("live.github.txt", gh)
    notes = parse_github(gh)
    check(len(notes) == 4 and all(n["file"] == "tests/cli/buggy.cc" for n in notes), gh)
    check({(n["title"], int(n["line"])) for n in notes} ==
          {("crossfree " + k, l) for k, l in where}, gh)

    schemas = schemas_dir(source_root)
    if schemas is None:
        print(f"SKIP: outputs checked, but no schemas beside the repository to validate "
              f"{sarif_path} and {junit_path}")
        return EXIT_SKIP
    skipped = [r for r in (validate_sarif(sarif_path, schemas),
                           validate_junit(junit_path, schemas)) if r is not None]
    if skipped:
        print("SKIP: " + "; ".join(skipped))
        return EXIT_SKIP
    print(f"validated {sarif_path} and {junit_path}\nok")


def live_ffi_mode():
    """Python ctypes frees libbuffers.so's new[] buffer with libc's free,
    under `crossfree run -o halt_on_error=0`, logged as text and as JSON:
    every format of `crossfree report` says what the text report says."""
    python, libbuffers = extra_args[:2]
    script = os.path.join(source_root, "tests", "ffi", "ffi_ctypes.py")
    buffers = os.path.join(source_root, "tests", "ffi", "buffers.cc")
    with open(buffers) as f:
        alloc_line = next(n for n, line in enumerate(f, 1) if "@alloc_array" in line)
    logs = {}
    for fmt in ("text", "json"):
        d = os.path.join(tmp, f"ctypes-{fmt}")
        p = run([crossfree, "run", "-o", "halt_on_error=0", "-o", f"report_format={fmt}",
                 "--log-dir", d, "--", python, script, "libc-free-new", libbuffers])
        expect_status(p, 23)
        check(p.stdout == "sum 285\nfreed\n", show(p))
        files = [os.path.join(d, f) for f in os.listdir(d)]
        check(len(files) == 1, f"expected one log: {files}\n{show(p)}")
        logs[fmt] = files[0]
    facts = library_lines(logs["text"])
    check(re.fullmatch(r"freed from Python \(ctypes via libffi\) \(frame #\d+\); allocated in "
                       r"libbuffers\.so by operator new\[\] in make_array", facts["sides"]), facts)
    check(facts["hint"] == "HINT: memory from operator new[] must be released with operator "
          "delete[]; export a release function from libbuffers.so that uses operator delete[] "
          "and call it from Python (ctypes via libffi) instead of free(), or allocate the buffer "
          "with malloc() if the host must free it", facts)
    where = (os.path.relpath(buffers, source_root), alloc_line)
    saved = []
    for fmt in ("text", "json"):
        out = check_ffi_facts([logs[fmt]], facts, source_root, fail_line="halt_on_error",
                              where=where, headline=CTYPES_HEADLINE, junit=CTYPES_HEADLINE)
        for kind, text in out.items():
            ext = {"text": "txt", "junit": "junit.xml", "sarif": "sarif", "github": "github.txt"}
            saved.append(save(f"ctypes-from-{fmt}.{ext[kind]}", text))
    print("saved " + " ".join(saved))

    schemas = schemas_dir(source_root)
    if schemas is None:
        print("SKIP: outputs checked, but no schemas beside the repository")
        return EXIT_SKIP
    skipped = [r for f in saved if f.endswith((".sarif", ".junit.xml"))
               for r in [(validate_sarif if f.endswith(".sarif") else validate_junit)(f, schemas)]
               if r is not None]
    if skipped:
        print("SKIP: " + "; ".join(sorted(set(skipped))))
        return EXIT_SKIP
    print("ok")


main({"--fixtures": fixtures_mode, "--schemas": schemas_mode, "--live": live_mode,
      "--live-ffi": live_ffi_mode, "--doc-examples": doc_examples_mode}[mode])
