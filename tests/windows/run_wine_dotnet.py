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
    a, rest = w.parse_args()
    mode = rest[0]
    skip = w.missing_tools(("mcs",), "mingw-w64 wine wine64 mono-mcs")
    if skip:
        w.log(skip)
        return w.EXIT_SKIP
    source = os.path.join(a.source_root, "tests", "dotnet", "Host.cs")
    dirs = w.directives(source, mode)
    return w.counted_run(a.work, lambda: run_case(a, mode, source, dirs))


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
        code, out, err = w.run_launched(launcher, dirs,
                                        [w.win_path(dotnet), w.win_path(host), mode],
                                        w.mingw_env(prefix), app)
    title = f"wine crossfree.exe run -- dotnet.exe Host.exe {mode}"
    return w.verdict(a.case, title, dirs, code, out, err, set())


if __name__ == "__main__":
    sys.exit(main())
