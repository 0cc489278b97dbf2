#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `crossfree symbolize` names JIT frames after the fact. Mono writes its perf
# map (MONO_ENV_OPTIONS=--jitmap) through stdio and flushes it only when the
# process ends, so a log can hold `[jit] 0x...` frames without names (a
# report written by a runtime crossfree could not flush). This runs Host.exe
# windows-hglobal with halt_on_error=0 and a log, takes the managed names
# out of the log's JIT frames, and checks that crossfree symbolize puts
# Marshal.FreeHGlobal's back from /tmp/perf-PID.map, in the frame and in
# SUMMARY. Usage: check_symbolize.py LIB CROSSFREE MONO HOST_EXE
import glob
import os
import re
import subprocess
import sys
import tempfile


def main():
    lib, crossfree, mono, host = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "cf")
        env = dict(os.environ, LD_PRELOAD=lib, MONO_ENV_OPTIONS="--jitmap",
                   MONO_DEBUG="no-gdb-backtrace",
                   CROSSFREE_OPTIONS="halt_on_error=0:semantics=windows:host=dotnet:"
                                     "log_path=" + log)
        p = subprocess.run([mono, host, "windows-hglobal"], env=env, capture_output=True,
                           text=True, timeout=100)
        logs = glob.glob(log + ".*")
        if len(logs) != 1:
            print("FAIL: expected one log, found %r (exit %d)\n%s" % (logs, p.returncode,
                                                                      p.stderr))
            return 1
        pid = logs[0].rsplit(".", 1)[1]
        perf_map = "/tmp/perf-%s.map" % pid
        try:
            text = open(logs[0]).read()
            print(text)
            # The log as a report without the perf map would have it.
            stripped = re.sub(r"^(\s+#\d+ 0x[0-9a-f]+) in .*? (\(\[jit\] 0x)", r"\1 \2", text,
                              flags=re.M)
            stripped = re.sub(r"^(SUMMARY: crossfree: \S+) in .*$", r"\1", stripped, flags=re.M)
            if "Marshal:FreeHGlobal" in stripped or stripped == text:
                print("FAIL: could not take the JIT names out of the log")
                return 1
            with open(logs[0], "w") as f:
                f.write(stripped)
            if not os.path.exists(perf_map):
                print("FAIL: Mono wrote no %s" % perf_map)
                return 1
            out = subprocess.run([crossfree, "symbolize", logs[0]], capture_output=True,
                                 text=True, timeout=60)
            print(out.stdout)
            frame = re.compile(r"^\s+#0 0x[0-9a-f]+ in \(wrapper managed-to-native\) "
                               r"System\.Runtime\.InteropServices\.Marshal:FreeHGlobal "
                               r"\(intptr\) \(\[jit\] 0x[0-9a-f]+\) "
                               r"\[host boundary: \.NET \(Mono marshaller\)\]$", re.M)
            summary = re.compile(r"^SUMMARY: crossfree: alloc-dealloc-mismatch in "
                                 r"\(wrapper managed-to-native\) System\.Runtime\."
                                 r"InteropServices\.Marshal:FreeHGlobal \(intptr\)$", re.M)
            if out.returncode != 0 or not frame.search(out.stdout) or \
                    not summary.search(out.stdout):
                print("FAIL: crossfree symbolize did not name the JIT frame (exit %d)\n%s" %
                      (out.returncode, out.stderr))
                return 1
            # Without the map (another machine), the frames stay as they were.
            missing = subprocess.run([crossfree, "symbolize", "--perf-map",
                                      os.path.join(tmp, "none.map"), logs[0]],
                                     capture_output=True, text=True, timeout=60)
            if "none.map" not in missing.stderr or "Marshal:FreeHGlobal" in missing.stdout:
                print("FAIL: a missing --perf-map was not reported\n%s" % missing.stderr)
                return 1
        finally:
            if os.path.exists(perf_map):
                os.unlink(perf_map)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
