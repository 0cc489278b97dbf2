# SPDX-License-Identifier: MIT
# Writes the SQL script of the sqlite3 benchmark workload to stdout: a few
# thousand INSERTs, most in transactions and some in autocommit mode, then
# updates, an index, joins, grouping, sorting, string building and a
# recursive CTE. Values come from a fixed-seed PRNG, so output is stable.
#
# Usage: python3 sqlite_script.py [SCALE] > work.sql; sqlite3 DB '.read work.sql'
import random
import sys

WORDS = ["apple", "birch", "cedar", "delta", "ember", "fjord", "grove", "haven",
         "inlet", "jetty", "knoll", "ledge", "marsh", "nook", "oasis", "prairie"]


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = random.Random(2024)
    in_tx = max(50, int(6000 * scale))
    autocommit = max(10, int(600 * scale))
    repeat = max(1, int(round(100 * scale)))
    out = sys.stdout.write

    out("PRAGMA synchronous=OFF;\n")  # measure allocation, not the disk
    out("CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL);\n")
    out("CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, item TEXT,"
        " qty INTEGER, note TEXT);\n")
    ncust = max(20, in_tx // 10)
    out("BEGIN;\n")
    for i in range(ncust):
        name = "%s %s" % (rng.choice(WORDS).title(), rng.choice(WORDS))
        out("INSERT INTO customer VALUES(%d, '%s', '%s', %.3f);\n"
            % (i, name, rng.choice(WORDS), rng.random() * 100))
    out("COMMIT;\n")
    for i in range(in_tx):
        if i % 500 == 0:
            out("BEGIN;\n")
        note = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 8)))
        out("INSERT INTO orders(customer, item, qty, note) VALUES(%d, '%s', %d, '%s');\n"
            % (rng.randrange(ncust), rng.choice(WORDS), rng.randrange(1, 50), note))
        if i % 500 == 499 or i == in_tx - 1:
            out("COMMIT;\n")
    for i in range(autocommit):
        out("INSERT INTO orders(customer, item, qty, note) VALUES(%d, '%s', %d, 'auto %d');\n"
            % (rng.randrange(ncust), rng.choice(WORDS), rng.randrange(1, 50), i))
    out("UPDATE orders SET qty = qty + 1 WHERE note LIKE '%ember%';\n")
    out("DELETE FROM orders WHERE qty = 13;\n")
    out("CREATE INDEX orders_customer ON orders(customer);\n")

    queries = [
        "SELECT count(*), sum(qty), max(length(note)) FROM orders;",
        "SELECT c.city, count(*), sum(o.qty) FROM orders o JOIN customer c ON c.id = o.customer"
        " GROUP BY c.city ORDER BY 3 DESC, 1 LIMIT 5;",
        "SELECT c.name, group_concat(o.item, ',') FROM customer c JOIN orders o"
        " ON o.customer = c.id WHERE c.id % 97 = 3 GROUP BY c.id ORDER BY c.name, c.id LIMIT 3;",
        "SELECT item, printf('%.2f', avg(qty)), count(DISTINCT customer) FROM orders"
        " GROUP BY item ORDER BY item;",
        "SELECT length(group_concat(upper(note) || '/' || lower(item), ';')) FROM"
        " (SELECT note, item FROM orders ORDER BY note DESC, id LIMIT 2000);",
        "WITH RECURSIVE seq(n, s) AS (SELECT 1, 'x' UNION ALL SELECT n + 1, s || substr(s, 1, 3)"
        " FROM seq WHERE n < 400) SELECT count(*), sum(length(s)) FROM seq;",
        "SELECT count(*) FROM orders WHERE customer IN (SELECT id FROM customer WHERE score > 50)"
        " AND note NOT LIKE '%a%';",
        "SELECT city, name, score FROM (SELECT city, name, score, row_number() OVER"
        " (PARTITION BY city ORDER BY score DESC, id) AS r FROM customer) WHERE r = 1"
        " ORDER BY city LIMIT 4;",
    ]
    for _ in range(repeat):
        for q in queries:
            out(q + "\n")


main()
