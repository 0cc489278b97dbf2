#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Installs sass-embedded from the npm registry into a prefix the benchmark
# owns (by default BUILD/tests/bench/sass-embedded) for the dart_sass
# workload; nothing is vendored into git. sass-embedded's platform package
# (sass-embedded-linux-x64, ...) carries Dart's AOT runtime, dart-sass/src/dart,
# and the compiler as dart-sass/src/sass.snapshot: the workload runs those two
# directly, so the process measured is the Dart VM, not node.
#
# Usage: install_sass.py NPM PREFIX VERSION
# Prints the runtime's path and the snapshot's, a line each, and exits 0; or
# prints why not on stderr (also kept in PREFIX/install.log) and exits 1.
# Runs npm only when VERSION is not there yet.
import glob
import json
import os
import subprocess
import sys


def package_version(prefix, name):
    try:
        with open(os.path.join(prefix, "node_modules", name, "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def find_runtime(prefix, version):
    """The platform package's (dart, sass.snapshot) pair, or None."""
    pattern = os.path.join(prefix, "node_modules", "sass-embedded-*", "dart-sass", "src",
                           "sass.snapshot")
    for snapshot in sorted(glob.glob(pattern)):
        package = os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(snapshot))))
        dart = os.path.join(os.path.dirname(snapshot), "dart")
        if package_version(prefix, package) == version and os.access(dart, os.X_OK):
            return dart, snapshot
    return None


def install(npm, prefix, version):
    """Runs npm; returns None or why it did not work."""
    # --ignore-scripts: nothing needs building, the runtime comes prebuilt in
    # the optional platform dependency npm picks for this os, cpu and libc.
    # npm is not under test, so it runs without the caller's LD_PRELOAD.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    cmd = [npm, "install", "--prefix", prefix, "--no-save", "--no-package-lock",
           "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline",
           "--fetch-retries=1", "--fetch-timeout=30000", "sass-embedded@" + version]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=150)
    except (OSError, subprocess.SubprocessError) as e:
        return "`%s` could not run: %s" % (" ".join(cmd), e)
    if p.returncode != 0:
        # npm's first error lines name the cause (code, errno, the URL); the
        # last ones only point at its log and at proxy settings.
        lines = [ln.strip() for ln in (p.stderr or p.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith(("npm error", "npm ERR!"))]
        return "npm install sass-embedded@%s exited %d: %s" % (
            version, p.returncode, " | ".join((errors or lines)[:3]) or "no output")
    return None


def main(npm, prefix, version):
    os.makedirs(prefix, exist_ok=True)
    found = find_runtime(prefix, version)
    why = None
    if found is None:
        why = install(npm, prefix, version)
        found = find_runtime(prefix, version)
        if why is None and found is None:
            why = ("npm installed sass-embedded %s but no platform package with "
                   "dart-sass/src/dart and sass.snapshot for this machine (%s)"
                   % (version, os.uname().machine))
    with open(os.path.join(prefix, "install.log"), "w") as f:
        f.write((why or "") + "\n")
    if found is None:
        print("install_sass: %s" % why, file=sys.stderr)
        return 1
    print("%s\n%s" % found)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: install_sass.py NPM PREFIX VERSION")
    sys.exit(main(*sys.argv[1:]))
