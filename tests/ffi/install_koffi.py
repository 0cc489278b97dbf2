#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Installs koffi from the npm registry into a build-directory prefix for the
# Node.js host tests; nothing is vendored into git. It never fails the build:
# when npm cannot install, the reason goes to PREFIX/install.log and the tests
# skip with it. Usage: install_koffi.py NPM PREFIX VERSION STAMP
import json
import os
import subprocess
import sys


def installed_version(prefix):
    try:
        with open(os.path.join(prefix, "node_modules", "koffi", "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def main(npm, prefix, version, stamp):
    os.makedirs(prefix, exist_ok=True)
    log = os.path.join(prefix, "install.log")
    if installed_version(prefix) != version:
        # --ignore-scripts: koffi's own install script would try to build
        # from source; the prebuilt module comes as an optional dependency.
        # The environment is the caller's minus LD_PRELOAD: npm is not under test.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        cmd = [npm, "install", "--prefix", prefix, "--no-save", "--no-package-lock",
               "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline",
               "--fetch-retries=1",
               "--fetch-timeout=60000", f"koffi@{version}"]
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
            why = None if p.returncode == 0 else \
                f"`{' '.join(cmd)}` exited {p.returncode}: " + \
                " | ".join((p.stderr or p.stdout).strip().splitlines()[-3:])
        except (OSError, subprocess.SubprocessError) as e:
            why = f"`{' '.join(cmd)}` could not run: {e}"
        if why is None and installed_version(prefix) != version:
            why = f"npm succeeded but {prefix}/node_modules/koffi is not version {version}"
        with open(log, "w") as f:
            f.write((why or "") + "\n")
        if why:
            print(f"install_koffi: {why}", file=sys.stderr)
    with open(stamp, "w") as f:
        f.write((installed_version(prefix) or "missing") + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: install_koffi.py NPM PREFIX VERSION STAMP")
    sys.exit(main(*sys.argv[1:]))
