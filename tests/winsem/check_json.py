#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The JSON record of a Windows-semantics report: runs the stand-in (see
# meson.build) with report_format=json and checks the "windows_view" object
# field by field, read back with json.loads. Under Linux semantics the
# record has no such key. Standard library only; exits 0 pass, 1 fail.
"""Usage: check_json.py LIBCROSSFREE EMBEDDER LIBAPP LIBPLUGIN"""
import glob
import json
import os
import subprocess
import sys
import tempfile

LINE_BUFFER = ("Linux: works here (malloc() freed by free()); on Windows this block comes "
               "from the CRT heap of libplugin.so (malloc) and is freed by Dart's package:ffi "
               "with CoTaskMemFree: that crashes there.")
LINE_SEED = ("Linux: mismatch (operator new[] freed by free()); on Windows this block comes "
             "from operator new[] on the CRT heap of libplugin.so and is freed by Dart's "
             "package:ffi with CoTaskMemFree: that crashes there too.")


def run(lib, embedder, app, plugin, scenario, options):
    """The JSON records one run wrote."""
    with tempfile.TemporaryDirectory(prefix="crossfree-winsem-") as tmp:
        env = dict(os.environ, LD_PRELOAD=lib, CROSSFREE_OPTIONS=(
            f"report_format=json:halt_on_error=0:log_path={tmp}/cf:{options}".rstrip(":")))
        proc = subprocess.run([embedder, app, plugin, scenario], env=env,
                              capture_output=True, text=True, timeout=60)
        records = []
        for path in glob.glob(f"{tmp}/cf.*"):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
        return proc, records


def main(lib, embedder, app, plugin):
    failures = []

    def check(cond, what, expected, actual):
        if not cond:
            failures.append(f"{what}\n    expected: {expected!r}\n    actual:   {actual!r}")

    def one_record(scenario, options):
        proc, records = run(lib, embedder, app, plugin, scenario, options)
        check(proc.returncode == 23, f"{scenario} [{options}]: exit status (halt_on_error=0)",
              23, proc.returncode)
        check(len(records) == 1, f"{scenario} [{options}]: one JSON record", 1, len(records))
        return records[0] if records else {}

    # (b) the malloc'd buffer: Linux facts unchanged, the Windows view added.
    r = one_record("buffer", "semantics=windows:host=dart")
    check(r.get("kind") == "alloc-dealloc-mismatch", "buffer: kind", "alloc-dealloc-mismatch",
          r.get("kind"))
    check((r.get("allocated_by") or {}).get("family") == "malloc", "buffer: allocated_by "
          "stays what Linux did", "malloc", r.get("allocated_by"))
    check((r.get("freed_by") or {}).get("function") == "free()", "buffer: freed_by stays "
          "what Linux did", "free()", r.get("freed_by"))
    w = r.get("windows_view") or {}
    want = {
        "host": "dart", "linux": "works", "windows": "crashes", "message": LINE_BUFFER,
        "allocated": {"allocator": "malloc", "heap": "crt", "module": "libplugin.so",
                      "origin": "native", "host_allocator": None},
        "freed": {"deallocator": "CoTaskMemFree", "heap": "cotaskmem", "module": "libapp.so",
                  "origin": "host", "host_allocator": None},
    }
    for key, value in want.items():
        check(w.get(key) == value, f"buffer: windows_view.{key}", value, w.get(key))
    check(sorted(w) == sorted(want), "buffer: windows_view has exactly the documented keys",
          sorted(want), sorted(w))

    # (a) the seed example: wrong on Linux too, and the view says so.
    w = one_record("ui-command", "semantics=windows:host=dart").get("windows_view") or {}
    check(w.get("linux") == "mismatch", "seed: windows_view.linux", "mismatch", w.get("linux"))
    check(w.get("message") == LINE_SEED, "seed: windows_view.message", LINE_SEED,
          w.get("message"))
    check((w.get("allocated") or {}).get("allocator") == "operator new[]",
          "seed: windows_view.allocated.allocator", "operator new[]", w.get("allocated"))

    # Linux semantics: the record is what it always was.
    r = one_record("ui-command", "")
    check("windows_view" not in r, "seed under Linux semantics: no windows_view key",
          "absent", r.get("windows_view"))

    for f in failures:
        print("FAIL:", f)
    print(f"check_json: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*[os.path.abspath(a) for a in sys.argv[1:5]]))
