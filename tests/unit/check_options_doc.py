#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks docs/options.md against src/runtime/options.inc: every option needs
# a "### `name`" section whose "Default:" (and, for integers, "Range:") line
# agrees with the list, and no section may describe a vanished option.
# Standard library only; prints one line per problem, exits 1 if any.
import re
import sys

# CF_OPTION_BOOL(name, default, "doc")
# CF_OPTION_INT(name, default, min, max, "doc")
# CF_OPTION_STR(name, "default", "doc")
OPTION_RE = re.compile(
    r'CF_OPTION_(BOOL|INT|STR)\(\s*(\w+)\s*,\s*("(?:[^"\\]|\\.)*"|[^,"]+?)\s*,'
    r'(?:\s*([^,"]+?)\s*,\s*([^,"]+?)\s*,)?')


def c_int(text):
    return int(text.strip().rstrip('uUlL'), 0)


def options_from_inc(text):
    """Returns [(kind, name, default as users write it, (lo, hi) or None)]."""
    # Drop // comments so the usage lines in the header are not read.
    code = '\n'.join(line.split('//', 1)[0] for line in text.splitlines())
    options = []
    for kind, name, default, lo, hi in OPTION_RE.findall(code):
        bounds = None
        if kind == 'STR':
            default = default[1:-1]
        elif kind == 'BOOL':
            default = '0' if default.strip() in ('0', 'false') else '1'
        else:
            default = str(c_int(default))
            bounds = (c_int(lo), c_int(hi))
        options.append((kind, name, default, bounds))
    return options


def documented(text):
    """Maps each "### `name`" section to its (default, range) as written."""
    docs = {}
    sections = re.split(r'^(?=#{1,3} )', text, flags=re.M)
    for section in sections:
        heading = re.match(r'### `(\w+)`\s*$', section.split('\n', 1)[0])
        if not heading:
            continue
        default = re.search(r'^[-*]\s*Default:\s*`([^`]*)`', section, flags=re.M)
        bounds = re.search(r'^[-*]\s*Range:\s*`(-?\d+)`\s*to\s*`(-?\d+)`', section, flags=re.M)
        docs[heading.group(1)] = (
            default.group(1) if default else None,
            (int(bounds.group(1)), int(bounds.group(2))) if bounds else None,
        )
    return docs


def check(options, docs, doc_path):
    problems = []
    if not options:
        problems.append('no CF_OPTION_* entries found in options.inc')
    for kind, name, default, bounds in options:
        if name not in docs:
            problems.append(f'{doc_path}: option {name} is not documented '
                            f'(want a "### `{name}`" section)')
            continue
        doc_default, doc_bounds = docs[name]
        if doc_default is None:
            problems.append(f'{doc_path}: option {name} has no "- Default: `...`" line')
        elif doc_default != default:
            problems.append(f'{doc_path}: option {name} is documented with default '
                            f'`{doc_default}`, options.inc says `{default}`')
        if bounds is not None and doc_bounds != bounds:
            problems.append(f'{doc_path}: option {name} is documented with range {doc_bounds}, '
                            f'options.inc says `{bounds[0]}` to `{bounds[1]}`')
    known = {name for _, name, _, _ in options}
    for name in sorted(set(docs) - known):
        problems.append(f'{doc_path}: documents option {name}, which options.inc does not define')
    return problems


def main(argv):
    if len(argv) != 3:
        print('usage: check_options_doc.py OPTIONS_INC OPTIONS_MD', file=sys.stderr)
        return 2
    with open(argv[1], encoding='utf-8') as f:
        options = options_from_inc(f.read())
    with open(argv[2], encoding='utf-8') as f:
        docs = documented(f.read())
    problems = check(options, docs, argv[2])
    for p in problems:
        print(p)
    if not problems:
        print(f'ok: {len(options)} options documented with their defaults')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
