#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Builds replaced_ops.cc for each REPLACE choice with g++ and clang++ (when
# installed), as C++14 and C++17, and checks that under crossfree each runs
# clean with the very output and status it has natively, and that its "bug"
# run is still reported.
import os
import shutil
import subprocess
import sys
import tempfile

library, source = sys.argv[1:3]
compilers = [c for c in ("g++", "clang++", "clang++-14") if shutil.which(c)]
if "clang++" in compilers and "clang++-14" in compilers:
    compilers.remove("clang++-14")
failures = []
runs = 0


def run(argv, preload):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("CROSSFREE_OPTIONS", None)
    if preload:
        env["LD_PRELOAD"] = library
        env["CROSSFREE_OPTIONS"] = "halt_on_error=0"
    return subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)


tmp = tempfile.mkdtemp(prefix="cf-replaced-")
for cxx in compilers:
    for std in ("c++14", "c++17"):
        for choice in (1, 2, 3, 4, 5):
            if choice == 3 and std == "c++14":
                continue  # aligned new is C++17
            exe = os.path.join(tmp, f"r{choice}_{os.path.basename(cxx)}_{std}")
            b = subprocess.run([cxx, f"-std={std}", "-O1", "-g", f"-DREPLACE={choice}",
                                "-o", exe, source], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            what = f"{cxx} -std={std} REPLACE={choice}"
            if b.returncode != 0:
                failures.append(f"{what}: does not build:\n{b.stdout}")
                continue
            native = run([exe], False)
            checked = run([exe], True)
            runs += 1
            if native.returncode != 0:
                failures.append(f"{what}: fails natively ({native.returncode})")
            elif (checked.returncode, checked.stdout) != (native.returncode, native.stdout):
                failures.append(f"{what}: under crossfree exit {checked.returncode} "
                                f"{checked.stdout!r}, natively {native.returncode} "
                                f"{native.stdout!r}\n{checked.stderr}")
            elif "crossfree" in checked.stderr:
                failures.append(f"{what}: crossfree said something on a clean run:\n"
                                f"{checked.stderr}")
            bug = run([exe, "bug"], True)
            if "ERROR: crossfree:" not in bug.stderr:
                failures.append(f"{what}: the new[]/free() bug was not reported:\n{bug.stderr}")
shutil.rmtree(tmp, ignore_errors=True)
if not compilers:
    print("SKIP: no C++ compiler (g++ or clang++) on PATH")
    sys.exit(77)
for f in failures:
    print("FAIL:", f)
print(f"{runs} programs built and run ({', '.join(compilers)}); {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
