#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the warning lines docs/options.md shows against the library's real
# ones: the example block after "For example, `CROSSFREE_OPTIONS='...'` ...
# prints:" must be, line for line, what that CROSSFREE_OPTIONS prints on
# stderr (PIDs aside), and the host_modules warning quoted inline must be
# what `host_modules=ENTRY` prints. A new option or a reworded warning then
# fails here until the page is regenerated from a real run.
"""Usage: check_options_samples.py LIBCROSSFREE OPTIONS_MD PROGRAM"""
import os
import re
import sys

from clitest import check, main, run, show

lib, doc_path, program = (os.path.abspath(a) for a in sys.argv[1:4])
with open(doc_path) as f:
    doc = f.read()


def warnings_of(options):
    """stderr of PROGRAM under the library with CROSSFREE_OPTIONS=options,
    each ==PID== written ==4242== as the page does."""
    p = run([program], env={"LD_PRELOAD": lib, "CROSSFREE_OPTIONS": options})
    check(p.returncode == 0, f"{program} failed under the library\n{show(p)}")
    return p, re.sub(r"^==\d+==", "==4242==", p.stderr, flags=re.M).splitlines()


def body():
    m = re.search(r"`CROSSFREE_OPTIONS='([^']*)'`[^`]*?prints:\n\n```\n(.*?)```\n", doc, re.S)
    check(m, f"{doc_path}: no 'For example, `CROSSFREE_OPTIONS='...'` ... prints:' block")
    options, block = m.group(1), m.group(2).splitlines()
    p, real = warnings_of(options)
    if real != block:
        diff = "\n".join([f"- {line}" for line in block if line not in real] +
                         [f"+ {line}" for line in real if line not in block])
        check(False, f"{doc_path}: the sample for CROSSFREE_OPTIONS='{options}' is not what "
              f"the library prints (- page, + real; paste the real lines):\n{diff}\n{show(p)}")
    print(f"ok: the sample for CROSSFREE_OPTIONS='{options}' ({len(block)} lines)")

    m = re.search(r"`(==4242==crossfree: warning: option 'host_modules': entry '([^']*)'[^`]*)`",
                  doc)
    check(m, f"{doc_path}: no inline host_modules warning")
    line, entry = m.group(1), m.group(2)
    p, real = warnings_of(f"host_modules={entry}")
    check(line in real, f"{doc_path}: the host_modules warning is not what host_modules={entry} "
          f"prints:\n  page: {line}\n{show(p)}")
    print(f"ok: the host_modules warning for '{entry}'")


main(body)
