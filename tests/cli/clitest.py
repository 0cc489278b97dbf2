# SPDX-License-Identifier: MIT
# What the crossfree command's tests share: running a command and checking
# its status, reading the markers in test sources, finding and applying the
# SARIF and JUnit schemas, and GitHub annotation syntax. Standard library
# only (the schema checks use python3-jsonschema and xmllint when present).
import json
import os
import re
import shutil
import subprocess
import sys

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def main(body):
    """Runs body(); exits 0 on success, 1 on Failure (with its message)."""
    try:
        status = body()
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(EXIT_FAIL)
    sys.exit(EXIT_PASS if status is None else status)


def run(cmd, env=None, cwd=None, timeout=120, stdin=None):
    """Runs cmd, returns the CompletedProcess (text output)."""
    full_env = dict(os.environ)
    # The test's own environment must not preload anything.
    full_env.pop("LD_PRELOAD", None)
    full_env.pop("CROSSFREE_OPTIONS", None)
    if env:
        full_env.update(env)
    p = subprocess.run(cmd, env=full_env, cwd=cwd, timeout=timeout, input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace")
    return p


def show(p):
    return (f"$ {' '.join(map(str, p.args))}\n-> exit {p.returncode}\n"
            f"--- stdout\n{p.stdout}--- stderr\n{p.stderr}")


def expect_status(p, status):
    check(p.returncode == status, f"expected exit status {status}\n{show(p)}")


def markers(source):
    """{marker: line number} for every `// @name` comment in source."""
    found = {}
    with open(source) as f:
        for n, line in enumerate(f, 1):
            for m in re.finditer(r"//\s*@([A-Za-z0-9_-]+)", line):
                found[m.group(1)] = n
    return found


# --- schemas -------------------------------------------------------------------

def schemas_dir(source_root):
    """../shared/schemas beside the repository, or None."""
    d = os.path.join(os.path.dirname(os.path.abspath(source_root)), "shared", "schemas")
    return d if os.path.isdir(d) else None


def validate_sarif(path, schemas):
    """Validates against sarif-schema-2.1.0.json; returns a skip reason or None."""
    schema_path = os.path.join(schemas, "sarif-schema-2.1.0.json")
    if not os.path.exists(schema_path):
        return f"{schema_path} is missing"
    try:
        import jsonschema
    except ImportError:
        return "python3-jsonschema is not installed (tools/setup.sh installs it)"
    with open(schema_path) as f:
        schema = json.load(f)
    with open(path) as f:
        doc = json.load(f)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)
    check(not errors, f"{path} is not valid SARIF 2.1.0:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]))
    return None


def validate_junit(path, schemas):
    """Validates against JUnit.xsd with xmllint; returns a skip reason or None."""
    xsd = os.path.join(schemas, "JUnit.xsd")
    if not os.path.exists(xsd):
        return f"{xsd} is missing"
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        return "xmllint is not installed (libxml2-utils; tools/setup.sh installs it)"
    p = run([xmllint, "--noout", "--schema", xsd, path])
    check(p.returncode == 0, f"{path} is not valid against JUnit.xsd:\n{p.stderr}")
    return None


# `::error file=F,line=L,title=T::MESSAGE` with GitHub's escaping: the
# properties hold no raw ',' ':' '%' CR LF except as %2C %3A %25 %0D %0A.
GITHUB_RE = re.compile(
    r"^::error (?:file=(?P<file>[^,:]+),(?:line=(?P<line>[0-9]+),)?)?"
    r"title=(?P<title>[^,:]+)::(?P<message>[^\r\n]*)$")


def github_unescape(s):
    return (s.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


def parse_github(text):
    """The annotations in text, each a dict; fails on a malformed line."""
    out = []
    for line in text.splitlines():
        m = GITHUB_RE.match(line)
        check(m is not None, f"not a GitHub ::error command: {line!r}")
        check(not re.search(r"%(?![0-9A-F]{2})", line),
              f"a raw '%' in a GitHub command: {line!r}")
        d = {k: (github_unescape(v) if v is not None else None)
             for k, v in m.groupdict().items()}
        out.append(d)
    return out
