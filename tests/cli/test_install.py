#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `meson install` into a staging directory (DESTDIR): exactly the command,
# the library, the header, the pkg-config file and the man pages land there,
# and the installed command preloads the installed library (not the build
# tree's), even after the tree is moved. Exits 0 pass, 1 fail, 77 skip.
"""Usage: test_install.py MESON BUILD_ROOT PREFIX BINDIR LIBDIR INCLUDEDIR MANDIR VERSION
       BUGGY CC"""
import os
import re
import shutil
import sys
import tempfile

from clitest import EXIT_SKIP, check, expect_status, main, run, show

(meson, build_root, prefix, bindir, libdir, includedir, mandir, version, buggy,
 cc) = sys.argv[1:11]
build_root, buggy = os.path.abspath(build_root), os.path.abspath(buggy)
tmp = tempfile.mkdtemp(prefix="cf-install-")


def staged(destdir, path):
    return destdir + path  # every install path is absolute


def body():
    if shutil.which(meson) is None:
        print(f"SKIP: {meson} not found")
        return EXIT_SKIP
    destdir = os.path.join(tmp, "stage")
    p = run([meson, "install", "-C", build_root, "--no-rebuild", "--destdir", destdir],
            timeout=300)
    expect_status(p, 0)

    lib = os.path.join(libdir, "libcrossfree.so")
    expected = {
        os.path.join(bindir, "crossfree"),
        lib,
        os.path.join(includedir, "crossfree", "crossfree.h"),
        os.path.join(libdir, "pkgconfig", "crossfree.pc"),
        os.path.join(mandir, "man1", "crossfree.1"),
        os.path.join(mandir, "man7", "crossfree-options.7"),
    }
    installed = set()
    for d, _, files in os.walk(destdir):
        installed |= {os.path.join(d, f)[len(destdir):] for f in files}
    check(installed == expected, "installed files differ:\n  extra: "
          f"{sorted(installed - expected)}\n  missing: {sorted(expected - installed)}")

    # The installed command finds the installed library ...
    tool = staged(destdir, os.path.join(bindir, "crossfree"))
    p = run([tool, "--version"])
    check(p.stdout == f"crossfree {version}\n", show(p))
    p = run([tool, "run", "--print-library"])
    expect_status(p, 0)
    check(p.stdout.strip() == os.path.realpath(staged(destdir, lib)), show(p))
    # ... and really preloads it: the program sees it in /proc/self/maps.
    p = run([tool, "run", "-o", "halt_on_error=0", "--", buggy])
    expect_status(p, 23)
    mapped = re.search(r"libcrossfree: (\S+)", p.stdout)
    check(mapped and mapped.group(1) == os.path.realpath(staged(destdir, lib)),
          f"the program mapped another library\n{show(p)}")
    check("ERROR: crossfree: alloc-dealloc-mismatch" in p.stderr, show(p))

    # The path from bindir to libdir is relative: a moved tree still works.
    moved = os.path.join(tmp, "moved")
    os.rename(destdir, moved)
    p = run([staged(moved, os.path.join(bindir, "crossfree")), "run", "--print-library"])
    check(p.stdout.strip() == os.path.realpath(staged(moved, lib)), show(p))
    destdir = moved

    # pkg-config: the library to preload, the header's flags.
    pkg_config = shutil.which("pkg-config")
    if pkg_config is not None:
        env = {"PKG_CONFIG_PATH": staged(destdir, os.path.join(libdir, "pkgconfig")),
               "PKG_CONFIG_LIBDIR": "/nonexistent"}
        p = run([pkg_config, "--variable=preload", "crossfree"], env=env)
        expect_status(p, 0)
        check(p.stdout.strip() == lib, f"preload should be {lib}\n{show(p)}")
        p = run([pkg_config, "--modversion", "crossfree"], env=env)
        check(p.stdout.strip() == version, show(p))
        p = run([pkg_config, "--libs", "crossfree"], env=env)
        check("-lcrossfree" not in p.stdout, f"programs must not link the library\n{show(p)}")
    # The header compiles from its installed place.
    src = os.path.join(tmp, "use_header.c")
    with open(src, "w") as f:
        f.write("#include <crossfree/crossfree.h>\n"
                "int main(void) { crossfree_block_info info; (void)info; return 0; }\n")
    p = run([cc, "-fsyntax-only", "-I", staged(destdir, includedir), src])
    expect_status(p, 0)

    # The man pages render without warnings.
    man = shutil.which("man")
    if man is not None:
        for page, want in (("man1/crossfree.1", "crossfree run"),
                           ("man7/crossfree-options.7", "halt_on_error")):
            p = run([man, "--warnings", "-l", staged(destdir, os.path.join(mandir, page))],
                    env={"MANWIDTH": "80", "MAN_KEEP_FORMATTING": "", "PAGER": "cat"})
            expect_status(p, 0)
            check(want in p.stdout and p.stderr == "", f"{page}\n{show(p)}")
    print("ok")


main(body)
