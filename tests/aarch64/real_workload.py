# SPDX-License-Identifier: MIT
# The python3.11 workload of tests/aarch64/real_programs.py and bench_qemu.py:
# a real, allocation-heavy run of the arm64 interpreter's stdlib (json, re,
# collections, difflib, decimal, xml.etree through pyexpat, pickle, csv,
# the sqlite3 module, hashlib, threads, a fork) and ctypes calls into the
# arm64 libc (strlen, malloc/free, qsort with a Python callback). Prints the
# same lines on every run (given PYTHONHASHSEED), so runs can be compared.
"""Usage: real_workload.py [WORDS]   (default 4000)"""

import collections
import csv
import ctypes
import ctypes.util
import decimal
import difflib
import hashlib
import io
import json
import os
import pickle
import random
import re
import sqlite3
import sys
import textwrap
import threading
import xml.etree.ElementTree as ET


def make_words(n):
    rnd = random.Random(18)
    return ["".join(rnd.choice("abcdefghij") for _ in range(rnd.randint(3, 9))) for _ in range(n)]


def digest(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()[:16]


def json_part(words):
    doc = {"items": [{"id": i, "word": w, "tags": list(w[:3]), "score": i * 0.5}
                     for i, w in enumerate(words)]}
    s = json.dumps(doc, sort_keys=True)
    assert json.loads(s) == doc
    return f"json {len(s)} {digest(s)}"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    words = make_words(n)
    text = " ".join(words)
    print(json_part(words))

    pat = re.compile(r"\b([a-e]+)([f-j]*)\b")
    found = pat.findall(text)
    print("re", len(found), sum(len(a) for a, _ in found), digest(re.sub(r"a+", "A", text)))

    counts = collections.Counter(words)
    by_first = collections.defaultdict(list)
    for w in words:
        by_first[w[0]].append(w)
    ordered = collections.OrderedDict(sorted(counts.items()))
    print("collections", len(counts), counts.most_common(3),
          sorted((k, len(v)) for k, v in by_first.items())[:3], list(ordered)[:3])

    print("difflib", len(list(difflib.unified_diff(words[:300], sorted(words[:300]), lineterm=""))))
    print("textwrap", len(textwrap.wrap(text, 60)))
    decimal.getcontext().prec = 50
    print("decimal", sum(decimal.Decimal(i) / 7 for i in range(n // 2)))

    root = ET.Element("words")
    for i, w in enumerate(words):
        ET.SubElement(root, "w", id=str(i), first=w[0]).text = w
    xml = ET.tostring(root)
    back = ET.fromstring(xml)
    print("xml", len(xml), len(back.findall("w[@first='a']")), digest(xml))

    blob = pickle.dumps((words, counts, ordered))
    assert pickle.loads(blob)[0] == words
    out = io.StringIO()
    csv.writer(out).writerows((i, w, len(w)) for i, w in enumerate(words))
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    print("pickle", len(blob), "csv", len(rows), digest(out.getvalue()))

    con = sqlite3.connect(":memory:")
    con.execute("create table w(id integer primary key, word text, n int)")
    con.executemany("insert into w(word, n) values (?, ?)", ((w, len(w)) for w in words))
    con.execute("create index w_word on w(word)")
    print("sqlite3", con.execute("select count(*), sum(n), count(distinct word) from w").fetchone(),
          con.execute("select word, count(*) c from w group by word order by c desc, word limit 2")
          .fetchall())
    con.close()

    # Threads: each builds and parses its own JSON; results printed in order.
    results = [None] * 4

    def work(k):
        results[k] = json_part(words[k::4])

    threads = [threading.Thread(target=work, args=(k,), name=f"json-{k}") for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("threads", results)

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.strlen.restype = ctypes.c_size_t
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    buf = ctypes.create_string_buffer(text.encode()[:1000])
    print("ctypes strlen", libc.strlen(buf))
    for size in (16, 64, 4096, 1 << 20):
        p = libc.malloc(size)
        ctypes.memset(p, 0x5a, size)
        libc.free(p)
    cmp_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                                ctypes.POINTER(ctypes.c_int))
    arr = (ctypes.c_int * 500)(*[(i * 37) % 503 for i in range(500)])
    libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int), cmp_type(lambda a, b: a[0] - b[0]))
    print("ctypes qsort", list(arr)[:4], list(arr)[-2:],
          all(arr[i] <= arr[i + 1] for i in range(499)))

    # A forked child works and leaves through libc's exit (its atexit
    # handlers run, Python's finalization does not).
    sys.stdout.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, json_part(words[::3]).encode())
        os.close(w)
        libc.exit(0)
    os.close(w)
    got = b""
    while chunk := os.read(r, 65536):
        got += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    print("fork child", got.decode(), "status", status)


if __name__ == "__main__":
    main()
