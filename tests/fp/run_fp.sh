#!/bin/bash
# SPDX-License-Identifier: MIT
# False-positive run: real programs (python3, gcc, git, sqlite3, perl) do real
# work natively and then under LD_PRELOAD=libcrossfree.so with default
# options; stdout and exit status must match and no crossfree report may
# appear. Installs nothing: a missing tool is a SKIP, all missing exits 77.
#
# Usage: run_fp.sh LIBCROSSFREE [WORKLOAD_C [REPO_SRC_DIR]]
set -u

LIB=$(readlink -f "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORKLOAD_C=${2:-$HERE/workload.c}
REPO_SRC=${3:-$HERE/../../src}
[ -f "$LIB" ] || { echo "run_fp: $1 does not exist"; exit 1; }

WORK=$(mktemp -d /tmp/crossfree-fp.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
[ -n "${FP_KEEP:-}" ] && trap - EXIT
unset CROSSFREE_OPTIONS
export LC_ALL=C PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 TZ=UTC

passed=0 failed=0 skipped=0

# A preload that silently fails to load would make every case pass.
if ! LD_PRELOAD="$LIB" cat /proc/self/maps | grep -qF "$LIB"; then
    echo "FAIL: $LIB is not mapped into a preloaded process"
    LD_PRELOAD="$LIB" true
    exit 1
fi

# --- workloads: each runs in the current directory and prints to stdout ------

wl_python() {
    cat > work.py <<'PY'
import json, re, sqlite3, random, collections, hashlib
random.seed(7)
data = [{"id": i, "name": "item%d" % i, "tags": ["t%d" % (i % 7), "u%d" % (i % 11)],
         "score": (i * 37) % 101 / 3} for i in range(20000)]
text = json.dumps(data, sort_keys=True)
back = json.loads(text)
print("json", len(text), back[12345]["name"], hashlib.sha256(text.encode()).hexdigest()[:16])
words = re.findall(r"item(\d+)", text)
print("re", len(words), sum(int(w) for w in words) % 1000003,
      len(re.sub(r"t(\d)", lambda m: "T" + m.group(1) * 2, text)))
db = sqlite3.connect(":memory:")
db.execute("create table t(id integer primary key, name text, score real, tag text)")
db.executemany("insert into t values (?,?,?,?)",
               ((d["id"], d["name"], d["score"], d["tags"][0]) for d in back))
print("sqlite", db.execute("select count(*), round(sum(score),2) from t").fetchone(),
      db.execute("select tag, count(*) from t group by tag order by tag limit 3").fetchall())
counts = collections.Counter()
big = {}
for i in range(300000):
    s = "k%d" % (i % 5003)
    counts[s] += 1
    big.setdefault(i % 997, []).append(s.upper())
lst = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
print("dict", len(counts), lst, sum(len(v) for v in big.values()))
strs = ["".join(random.choice("abcdef") for _ in range(20)) for _ in range(20000)]
print("str", len(set(strs)), "".join(sorted(strs))[:30], ",".join(strs[:3]).count("a"))
PY
    /usr/bin/python3 work.py || return
    /usr/bin/python3 -c 'import email, http.client, xml.dom.minidom, decimal, asyncio
import email.message
m = email.message.EmailMessage(); m["Subject"] = "hi"; m.set_content("body " * 100)
d = xml.dom.minidom.parseString("<a>" + "<b x=\"1\">t</b>" * 500 + "</a>")
print("imports", len(m.as_string()), len(d.getElementsByTagName("b")),
      decimal.Decimal(1) / decimal.Decimal(7), asyncio.run(asyncio.sleep(0, "done")))'
}

wl_gcc() {
    gcc -O2 -c "$WORKLOAD_C" -o workload.o || return
    gcc -O2 -o workload workload.o || return
    sha256sum workload.o | cut -d' ' -f1
    ./workload || return
    # Also compile this repository's own C sources, if they are at hand.
    if [ -d "$REPO_SRC" ]; then
        local n=0 f
        for f in $(find "$REPO_SRC" -name '*.c' | sort); do
            gcc -O2 -std=c11 -D_GNU_SOURCE -I"$REPO_SRC" -I"$REPO_SRC/../include" \
                -c "$f" -o "repo_$n.o" 2>/dev/null && sha256sum "repo_$n.o" | cut -d' ' -f1
            n=$((n + 1))
        done
    fi
}

wl_git() {
    export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=fp GIT_AUTHOR_EMAIL=fp@example.org
    export GIT_COMMITTER_NAME=fp GIT_COMMITTER_EMAIL=fp@example.org
    export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
    git init -q -b main repo || return
    cd repo || return
    local i j
    for i in $(seq 1 20); do
        for j in $(seq 1 10); do
            seq "$i" "$((i * j + 50))" > "file_$j.txt"
        done
        mkdir -p "dir_$((i % 3))" && echo "change $i" >> "dir_$((i % 3))/notes.md"
        git add -A && git commit -q -m "commit $i" || return
    done
    git log --stat --format='%H %s' | sha256sum
    git diff HEAD~5 HEAD | sha256sum
    git diff --stat HEAD~10
    git gc -q || return
    git fsck --no-progress 2>&1 | sort
    git rev-list --count HEAD
    git show --format=%H -s HEAD~3
    git grep -c change HEAD -- dir_1 | head -3
}

wl_sqlite3() {
    sqlite3 fp.db <<'SQL' || return
create table t(id integer primary key, name text, grp int, val real);
begin;
with recursive n(i) as (select 1 union all select i + 1 from n where i < 20000)
insert into t(name, grp, val) select 'name' || i, i % 17, (i * 31) % 997 / 7.0 from n;
commit;
SQL
    {
        echo "begin;"
        for i in $(seq 1 3000); do echo "insert into t(name, grp, val) values ('x$i', $((i % 5)), $i.5);"; done
        echo "commit;"
    } | sqlite3 fp.db || return
    sqlite3 fp.db <<'SQL'
create index t_grp on t(grp);
select count(*), round(sum(val), 3) from t;
select grp, count(*), round(avg(val), 3) from t group by grp order by grp;
select name from t where name like 'name1%9' order by id limit 5;
select json_object('n', count(*), 'max', max(val)) from t where grp = 3;
update t set val = val * 2 where grp = 4;
delete from t where grp = 16;
select count(*), round(sum(val), 3) from t;
vacuum;
pragma integrity_check;
SQL
}

wl_perl() {
    perl -e '
        my %h; my $text = "";
        for my $i (1 .. 200000) { $h{"k" . ($i % 7919)} += $i; }
        for my $i (1 .. 20000) { $text .= "word$i-" . ($i * 7 % 1000) . " "; }
        my @m = ($text =~ /word(\d+)-(\d{3}) /g);
        (my $t2 = $text) =~ s/(\d+)-(\d+)/$2:$1/g;
        my %len; $len{length $_}++ for split / /, $t2;
        print scalar(keys %h), " ", (sort { $h{$b} <=> $h{$a} || $a cmp $b } keys %h)[0], "\n";
        print scalar(@m), " ", length($t2), "\n";
        print join(",", map { "$_=$len{$_}" } sort { $a <=> $b } keys %len), "\n";
        my @sorted = sort { $a <=> $b } map { ($_ * 7) % 10007 } 1 .. 100000;
        print "$sorted[0] $sorted[50000] $sorted[-1]\n";
        my $s = join "", map { chr(97 + $_ % 26) } 1 .. 100000;
        my $c = () = $s =~ /abc/g; print "$c\n";
    '
}

# --- the comparison ------------------------------------------------------------

run_one() { # NAME TOOL
    local name=$1 tool=$2
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $name ($tool not installed)"
        skipped=$((skipped + 1))
        return
    fi
    local dir=$WORK/run t0 t1 t2
    rm -rf "$dir" && mkdir -p "$dir"
    t0=$(date +%s.%N)
    (cd "$dir" && "wl_$name") > "$WORK/$name.native.out" 2> "$WORK/$name.native.err"
    local native_rc=$?
    t1=$(date +%s.%N)
    # Same directory again, so paths and hashes come out the same.
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && export LD_PRELOAD="$LIB" && "wl_$name") \
        > "$WORK/$name.pre.out" 2> "$WORK/$name.pre.err"
    local pre_rc=$?
    t2=$(date +%s.%N)
    local ok=1
    if [ "$native_rc" != "$pre_rc" ]; then
        echo "FAIL: $name: exit status $pre_rc under crossfree, $native_rc natively"
        ok=0
    fi
    if ! cmp -s "$WORK/$name.native.out" "$WORK/$name.pre.out"; then
        echo "FAIL: $name: stdout differs (--- native, +++ under crossfree)"
        diff -u "$WORK/$name.native.out" "$WORK/$name.pre.out" | head -40
        ok=0
    fi
    if grep -qE '==[0-9]+==ERROR: crossfree' "$WORK/$name.pre.err"; then
        echo "FAIL: $name: crossfree reported an error:"
        grep -E -A30 '==[0-9]+==ERROR: crossfree' "$WORK/$name.pre.err" | head -60
        ok=0
    fi
    if grep -qE '==[0-9]+==' "$WORK/$name.pre.err"; then
        echo "note: $name: other crossfree lines on stderr:"
        grep -E '==[0-9]+==' "$WORK/$name.pre.err" | head -10
    fi
    if [ "$native_rc" != 0 ]; then
        echo "note: $name: the native run itself exited $native_rc; stderr:"
        head -20 "$WORK/$name.native.err"
    fi
    local timing
    timing=$(awk -v a="$t0" -v b="$t1" -v c="$t2" \
        'BEGIN { printf "native %.2fs, crossfree %.2fs (x%.1f)", b - a, c - b, (c - b) / (b - a) }')
    if [ $ok = 1 ]; then
        echo "PASS: $name ($(wc -l < "$WORK/$name.pre.out") lines of output; $timing)"
        passed=$((passed + 1))
    else
        echo "---- $name stderr under crossfree (tail) ----"
        tail -20 "$WORK/$name.pre.err"
        failed=$((failed + 1))
    fi
}

[ -x /usr/bin/python3 ] && run_one python python3 || { echo "SKIP: python (/usr/bin/python3 missing)"; skipped=$((skipped + 1)); }
run_one gcc gcc
run_one git git
run_one sqlite3 sqlite3
run_one perl perl

echo "fp: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -gt 0 ] && exit 1
[ "$passed" -eq 0 ] && exit 77
exit 0
