#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The CI job of docs/windows-on-linux.md, run as written there: `crossfree
# run -o semantics=windows -o host=dart -o halt_on_error=0 --log-dir DIR --
# APP`, then `crossfree report` over DIR, for text and for JSON logs. The
# Windows-only error must come out whole (its frames, its file:line) and
# explained by its Windows view, with no log line left unread; every format
# (text, JUnit, SARIF, GitHub) shows the view, the host and the HINT.
# Standard library only; exits 0 pass, 1 fail.
"""Usage: check_cli.py CROSSFREE EMBEDDER LIBAPP LIBPLUGIN"""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

VIEW = ("Linux: works here (malloc() freed by free()); on Windows this block comes from the "
        "CRT heap of libplugin.so (malloc) and is freed by Dart's package:ffi with "
        "CoTaskMemFree: that crashes there.")
SIDES = ("freed from Dart (AOT code in libapp.so) (frame #0); allocated in libplugin.so by "
         "malloc() in make_buffer")
HINT = ("on Windows Dart's package:ffi frees with CoTaskMemFree: allocate what the host frees "
        "with a host-compatible allocator (CoTaskMemAlloc on Windows, malloc elsewhere, as "
        "DartReadable's dart_malloc does) and name it in host_allocators or mark it "
        "CROSSFREE_HOST_ALLOCATOR, or export a release function from libplugin.so and have the "
        "host call it; see docs/windows-on-linux.md")


def main(crossfree, embedder, app, plugin):
    failures = []

    def check(cond, what, expected, actual):
        if not cond:
            failures.append(f"{what}\n    expected: {expected!r}\n    actual:   {actual!r}")

    env = dict(os.environ)
    env.pop("CROSSFREE_OPTIONS", None)
    for fmt in ("text", "json"):
        with tempfile.TemporaryDirectory(prefix="crossfree-winsem-cli-") as tmp:
            logs = os.path.join(tmp, "logs")
            run = [crossfree, "run", "-o", "semantics=windows", "-o", "host=dart",
                   "-o", "halt_on_error=0", "-o", f"report_format={fmt}", "--log-dir", logs,
                   "--", embedder, app, plugin, "buffer"]
            p = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
            check(p.returncode == 23, f"{fmt}: crossfree run exits with exitcode", 23,
                  (p.returncode, p.stderr))
            check(p.stdout == "buffer sum 45\ndone\n", f"{fmt}: the program ran to its end",
                  "buffer sum 45\\ndone\\n", p.stdout)
            r = subprocess.run([crossfree, "report", "--format", "github", logs], env=env,
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 1, f"{fmt}: crossfree report exits 1 (errors found)", 1,
                  (r.returncode, r.stderr))
            check(r.stderr == "", f"{fmt}: crossfree report reads every line", "",
                  r.stderr)
            notes = [line for line in r.stdout.splitlines() if line.startswith("::error ")]
            check(len(notes) == 1, f"{fmt}: one annotation", 1, r.stdout)
            note = notes[0] if notes else ""
            m = re.match(r"^::error file=([^,]*),line=(\d+),title=crossfree "
                         r"alloc-dealloc-mismatch::alloc-dealloc-mismatch: (.*?) \[", note)
            check(m is not None, f"{fmt}: annotation shape", "::error file=...,line=N,...", note)
            if m:
                check(m.group(1).endswith("tests/winsem/dart_side.c"),
                      f"{fmt}: the annotation points at the Dart side's free",
                      ".../dart_side.c", m.group(1))
                check(m.group(3).startswith(VIEW + " in read_buffer"),
                      f"{fmt}: the annotation says what Windows does, then where",
                      VIEW + " in read_buffer", m.group(3))
            check("read_buffer" in note and "make_buffer" in note,
                  f"{fmt}: both stacks are in the annotation", "read_buffer ... make_buffer",
                  note)
            check(f"%0A{SIDES}%0A{VIEW}%0A" in note and note.endswith(f"%0AHINT: {HINT}"),
                  f"{fmt}: the annotation has the host, the view and the HINT",
                  "...%0A" + SIDES + "%0A" + VIEW + "%0A...%0AHINT: " + HINT, note)

            # The other formats say the same.
            out = {}
            for form in ("text", "junit", "sarif"):
                r = subprocess.run([crossfree, "report", "--format", form, logs], env=env,
                                   capture_output=True, text=True, timeout=60)
                check(r.returncode == 1, f"{fmt}: report --format {form} exits 1", 1,
                      (r.returncode, r.stderr))
                out[form] = r.stdout
            lines = out["text"].splitlines()
            check(SIDES in lines and VIEW in lines and f"HINT: {HINT}" in lines,
                  f"{fmt}: text has the host, the view and the HINT", [SIDES, VIEW, HINT],
                  out["text"])
            check(any(t.endswith("[host boundary: Dart (AOT code in libapp.so)]") and
                      " in read_buffer " in t for t in lines),
                  f"{fmt}: text tags the host boundary", "read_buffer ... [host boundary: ...]",
                  out["text"])
            failure = ET.fromstring(out["junit"]).find("./testsuite/testcase/failure")
            body = failure.text.splitlines() if failure is not None else []
            check(SIDES in body and VIEW in body and f"HINT: {HINT}" in body,
                  f"{fmt}: JUnit's failure has the host, the view and the HINT",
                  [SIDES, VIEW, HINT], out["junit"])
            result = json.loads(out["sarif"])["runs"][0]["results"][0]
            text = result["message"]["text"]
            check(VIEW in text and SIDES in text and text.endswith(f"\nHINT: {HINT}"),
                  f"{fmt}: SARIF's message has the view, the host and the HINT",
                  [VIEW, SIDES, HINT], text)
            fixes = result.get("fixes") or [{}]
            check(fixes[0].get("description") == {"text": HINT},
                  f"{fmt}: SARIF's fix is the HINT", HINT, fixes)
    for f in failures:
        print("FAIL:", f)
    print(f"check_cli: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*[os.path.abspath(a) for a in sys.argv[1:5]]))
