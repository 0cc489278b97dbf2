#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# .NET on Windows as a real FFI host, under Wine: the same C# program as
# tests/dotnet (Host.cs, compiled here with Mono's mcs) runs on CoreCLR 3.1
# for Windows, whose runtime comes from PyPI (Microsoft's dotnetcore2 wheel
# for win_amd64, fetched once into the build directory), through
# crossfree.exe, against mono_strings.dll (tests/dotnet/strings.cc, built by
# the MinGW cross build). Expectations: the EXPECT[wine_...] lines of
# Host.cs, read as run_wine_tests.py reads a test program's. Exits 0 pass,
# 1 fail, 77 skip (no mcs, no Wine or MinGW, or PyPI unreachable).
"""Usage: run_wine_dotnet.py --source-root DIR --work DIR --case NAME -- MODE"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_wine_tests as w  # noqa: E402

DOTNETCORE2 = "dotnetcore2==3.1.23"


def runtime(work):
    """dotnet.exe of the win_amd64 dotnetcore2 wheel, fetched once; or None."""
    root = os.path.join(work, "dotnetcore2")
    exe = os.path.join(root, "dotnetcore2", "bin", "dotnet.exe")
    with w.Locked(os.path.join(work, "dotnet.lock")):
        if os.path.exists(exe):
            return exe
        with tempfile.TemporaryDirectory() as tmp:
            for py in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
                r = subprocess.run([py, "-m", "pip", "download", "--quiet",
                                    "--disable-pip-version-check", "--no-deps",
                                    "--only-binary=:all:", "--platform", "win_amd64",
                                    "-d", tmp, DOTNETCORE2],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                wheels = glob.glob(os.path.join(tmp, "dotnetcore2-*.whl"))
                if r.returncode == 0 and wheels:
                    shutil.rmtree(root, ignore_errors=True)
                    with zipfile.ZipFile(wheels[0]) as z:
                        z.extractall(root)
                    return exe if os.path.exists(exe) else None
                w.log(r.stdout[-1500:])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    rest = a.rest[1:] if a.rest and a.rest[0] == "--" else a.rest
    mode = rest[0]
    missing = [t for t in w.TOOLS + ("mcs",) if shutil.which(t) is None]
    if missing:
        w.log("skip: missing " + ", ".join(missing) +
              " (apt-get install mingw-w64 wine wine64 mono-mcs)")
        return w.EXIT_SKIP
    source = os.path.join(a.source_root, "tests", "dotnet", "Host.cs")
    dirs = w.directives(source, mode)
    w.enter_run(a.work, +1)
    try:
        return run_case(a, mode, source, dirs)
    finally:
        if w.enter_run(a.work, -1) == 0:
            env = w.wine_env(os.path.join(a.work, "wineprefix"))
            subprocess.run(["wineserver", "-k"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


def run_case(a, mode, source, dirs):
    paths = w.set_up(a.source_root, a.work)
    if paths is None:
        w.log("FAIL: could not build the Windows tree or create the Wine prefix")
        return w.EXIT_FAIL
    build, prefix = paths
    dotnet = runtime(a.work)
    if dotnet is None:
        w.log(f"skip: {DOTNETCORE2} (a .NET runtime for Windows) could not be fetched from PyPI")
        return w.EXIT_SKIP
    version = os.listdir(os.path.join(os.path.dirname(dotnet), "shared",
                                      "Microsoft.NETCore.App"))[0]
    lib = os.path.join(build, "tests", "windows", "mono_strings.dll")
    launcher = os.path.join(build, "src", "crossfree.exe")
    runtime_dir = os.path.dirname(subprocess.run(
        ["x86_64-w64-mingw32-g++", "-print-file-name=libstdc++-6.dll"], stdout=subprocess.PIPE,
        text=True).stdout.strip())
    env = w.wine_env(prefix, [w.win_path(runtime_dir)])
    with tempfile.TemporaryDirectory(dir=a.work) as app:
        # The app directory: Host.exe, its runtimeconfig and the native library.
        host = os.path.join(app, "Host.exe")
        if not w.run_logged(["mcs", "-nologo", "-out:" + host, source]):
            w.log("FAIL: mcs could not compile Host.cs")
            return w.EXIT_FAIL
        shutil.copy(lib, app)
        with open(os.path.join(app, "Host.runtimeconfig.json"), "w") as f:
            json.dump({"runtimeOptions": {"tfm": "netcoreapp3.1", "framework": {
                "name": "Microsoft.NETCore.App", "version": version}}}, f)
        cmd = ["wine", launcher, "run"]
        for k, v in dirs:
            if k == "OPTIONS":
                for opt in v.split(":"):
                    cmd += ["-o", opt]
        cmd += ["--", w.win_path(dotnet), w.win_path(host), mode]
        with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
            try:
                code = subprocess.run(cmd, env=env, cwd=app, stdout=fo, stderr=fe,
                                      timeout=240).returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
            fo.seek(0)
            fe.seek(0)
            out, err = fo.read(), fe.read()
    w.log(f"case {a.case}: wine crossfree.exe run -- dotnet.exe Host.exe {mode}")
    w.log("--- stdout ---\n" + out + "--- stderr ---\n" + err + "---")
    if code == "timeout":
        w.log("FAIL: timed out")
        return w.EXIT_FAIL
    errs = w.check(a.case, dirs, code, out, err, set())
    for e in errs:
        w.log("FAIL: " + e)
    if not errs:
        w.log(f"PASS: {a.case}")
    return w.EXIT_FAIL if errs else w.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
