# SPDX-License-Identifier: MIT
# Benchmark workload for /usr/bin/python3, run with PYTHONMALLOC=malloc so
# every object is a malloc block: dicts of lists built and rebuilt, strings
# split, joined and formatted, sorting and set algebra. Deterministic (no
# hash-order dependence, fixed PRNG seed); prints one line per stage.
#
# Usage: PYTHONMALLOC=malloc python3 py_work.py [SCALE]   (1.0 = ~1.5 s natively)
import random
import sys


def stage_dicts(rng, n):
    index = {}
    for i in range(n):
        key = "user:%d:%s" % (rng.randrange(n // 4), rng.choice("abcdefgh"))
        index.setdefault(key, []).append(i)
    merged = {}
    for key, values in index.items():
        head = key.split(":")[1]
        merged.setdefault(head, {})[key] = sorted(values, reverse=True)[:3]
    total = sum(len(v) for d in merged.values() for v in d.values())
    return "dicts keys=%d heads=%d total=%d" % (len(index), len(merged), total)


def stage_strings(rng, n):
    words = ["".join(rng.choice("etaoinshrdlu") for _ in range(rng.randrange(2, 11)))
             for _ in range(2000)]
    lines = []
    for i in range(n):
        parts = [words[rng.randrange(len(words))] for _ in range(rng.randrange(3, 12))]
        lines.append(" ".join(parts).capitalize() + ".")
    text = "\n".join(lines)
    counts = {}
    for w in text.replace(".", "").lower().split():
        counts[w] = counts.get(w, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    upper = sum(1 for line in lines if line.upper().startswith("E"))
    fmt = "".join("{:>6}|{:<8}|{:x}\n".format(i, w, c) for i, (w, c) in enumerate(top * 200))
    return "strings chars=%d distinct=%d upper=%d top=%s fmt=%d" % (
        len(text), len(counts), upper, top, len(fmt))


def stage_lists(rng, n):
    rows = [(rng.randrange(1000), rng.random(), str(i)) for i in range(n)]
    rows.sort()
    buckets = [[] for _ in range(64)]
    for a, b, c in rows:
        buckets[a % 64].append((c, round(b, 3)))
    flat = [x for b in buckets for x in b[::7]]
    s1 = {c for c, _ in flat}
    s2 = {str(i) for i in range(0, n, 3)}
    return "lists rows=%d flat=%d inter=%d union=%d" % (
        len(rows), len(flat), len(s1 & s2), len(s1 | s2))


def stage_objects(rng, n):
    class Node:
        __slots__ = ("name", "children", "weight")

        def __init__(self, name, weight):
            self.name = name
            self.children = []
            self.weight = weight

    root = Node("root", 0)
    nodes = [root]
    for i in range(n):
        parent = nodes[rng.randrange(len(nodes))]
        child = Node("n%d" % i, rng.randrange(100))
        parent.children.append(child)
        nodes.append(child)
    depth_sum = 0
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        depth_sum += depth * node.weight
        stack.extend((c, depth + 1) for c in node.children)
    return "objects nodes=%d depth_sum=%d" % (len(nodes), depth_sum)


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = random.Random(12345)
    rounds = max(1, int(round(4 * scale)))
    n = max(200, int(40000 * min(scale, 1.0)))
    for r in range(rounds):
        print(r, stage_dicts(rng, n))
        print(r, stage_strings(rng, n))
        print(r, stage_lists(rng, n))
        print(r, stage_objects(rng, n))


main()
