// SPDX-License-Identifier: MIT
// Unit tests for the owner table: record packing, insert/lookup/remove/retire,
// growth and backward-shift deletion under churn, interior lookups, exact
// counts under four threads, and no allocator call ever. The table is global:
// each test uses its own address range and leaves the table as it found it.
#include "core/table.h"

#include "core/header.h"
#include "core/quarantine.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "alloc_counter.h"

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// Fake heap addresses: 16-byte aligned like malloc's, never dereferenced.
// Each test draws from its own 2^36-byte region so no two tests collide.
#define REGION(k) ((uintptr_t)0x100000000000u + ((uintptr_t)(k) << 36))

static size_t table_records(void) {
    cf_table_stats st;
    cf_table_get_stats(&st);
    return st.records;
}

// A record whose fields all derive from `addr` and `salt`, so a lookup can
// tell a correct record from a stale, torn or misplaced one.
static cf_record record_for(uintptr_t addr, unsigned salt) {
    return cf_record_make(addr, (addr >> 4) + salt, 1 + salt % 7, salt % 17,
                          (uint32_t)(addr >> 4) ^ salt, salt);
}

static void assert_same_record(const cf_record *a, const cf_record *b) {
    assert_int_equal(a->addr, b->addr);
    assert_int_equal(a->size_fam_fn, b->size_fam_fn);
    assert_int_equal(a->stack, b->stack);
    assert_int_equal(a->tid_flags, b->tid_flags);
}

// A small deterministic generator (xorshift64*): the same "random" run
// every time, so a failure reproduces.
static uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545f4914f6cdd1d);
}

static int setup_table(void **state) {
    (void)state;
    return cf_table_init() ? 0 : -1;
}

// ---------------------------------------------------------------------------
// No allocation (runs first, so the first cf_table_init happens inside it)
// ---------------------------------------------------------------------------

#if CF_TEST_COUNTS_ALLOCS
// Calls malloc and free through volatile pointers, so the compiler cannot
// elide the pair: proves the counter sees allocator calls at all.
static void counter_sees_calls(void) {
    void *(*volatile do_malloc)(size_t) = malloc;
    void (*volatile do_free)(void *) = free;
    cf_test_alloc_count_start();
    do_free(do_malloc(32));
    assert_int_equal(cf_test_alloc_count_stop(), 2);
}

static void test_no_malloc(void **state) {
    (void)state;
    counter_sees_calls();
    const uintptr_t base = REGION(1);
    cf_table_stats before, after;
    cf_record r;

    cf_test_alloc_count_start();
    bool ok = cf_table_init();
    cf_table_get_stats(&before);
    // As many records as there are slots: the load limit is 3/4, so nearly
    // every shard must grow (map, rehash, unmap) inside the window.
    size_t n = before.slots;
    for (size_t i = 0; i < n && ok; i++) {
        cf_record rec = record_for(base + i * 16, 1);
        ok = cf_table_insert(&rec);
    }
    for (size_t i = 0; i < n && ok; i++)
        ok = cf_table_lookup(base + i * 16, &r);
    ok = ok && cf_table_find_containing(base + 16 * 7 + 3, &r);
    ok = ok && cf_table_remove(base, &r) && !cf_table_remove(base, &r);
    cf_table_lock_all();
    cf_table_unlock_all();
    for (size_t i = 0; i < n; i++)
        cf_table_remove(base + i * 16, NULL);
    cf_table_get_stats(&after);
    unsigned long calls = cf_test_alloc_count_stop();

    assert_true(ok);
    assert_int_equal(calls, 0);
    assert_true(after.slots > before.slots); // it did grow
    assert_int_equal(after.records, before.records);
}
#endif

// ---------------------------------------------------------------------------
// Record layout
// ---------------------------------------------------------------------------

static void test_record_is_24_bytes(void **state) {
    (void)state;
    assert_int_equal(sizeof(cf_record), 24);
    assert_int_equal(CF_SIZE_MAX, (UINT64_C(1) << 48) - 1);
    assert_int_equal(CF_TID_MAX, (1u << 24) - 1);
}

static void test_record_packing(void **state) {
    (void)state;
    // Every field at its maximum: none may spill into a neighbour.
    cf_record r = cf_record_make(0x1230, CF_SIZE_MAX, 0xff, 0xff, UINT32_MAX, CF_TID_MAX);
    assert_int_equal(r.addr, 0x1230);
    assert_int_equal(cf_record_size(&r), CF_SIZE_MAX);
    assert_int_equal(cf_record_family(&r), 0xff);
    assert_int_equal(cf_record_alloc_fn(&r), 0xff);
    assert_int_equal(r.stack, UINT32_MAX);
    assert_int_equal(cf_record_tid(&r), CF_TID_MAX);
    assert_int_equal(cf_record_flags(&r), 0);

    // Every field at zero next to maximal neighbours.
    r = cf_record_make(0x10, 0, 0, 0, 0, 0);
    assert_int_equal(cf_record_size(&r), 0);
    assert_int_equal(cf_record_family(&r), 0);
    assert_int_equal(cf_record_alloc_fn(&r), 0);
    assert_int_equal(cf_record_tid(&r), 0);
    assert_int_equal(cf_record_flags(&r), 0);

    // Distinct values come back in the right fields.
    r = cf_record_make(0x20, 123456789, 5, 11, 77, 4242);
    assert_int_equal(cf_record_size(&r), 123456789);
    assert_int_equal(cf_record_family(&r), 5);
    assert_int_equal(cf_record_alloc_fn(&r), 11);
    assert_int_equal(r.stack, 77);
    assert_int_equal(cf_record_tid(&r), 4242);
}

static void test_record_saturation(void **state) {
    (void)state;
    // A size beyond 48 bits saturates instead of corrupting family/alloc_fn.
    cf_record r = cf_record_make(0x10, UINT64_MAX, 3, 4, 0, 0);
    assert_int_equal(cf_record_size(&r), CF_SIZE_MAX);
    assert_int_equal(cf_record_family(&r), 3);
    assert_int_equal(cf_record_alloc_fn(&r), 4);
    r = cf_record_make(0x10, CF_SIZE_MAX + 1, 3, 4, 0, 0);
    assert_int_equal(cf_record_size(&r), CF_SIZE_MAX);

    // Thread numbers saturate at 2^24-1 and never touch the state byte.
    r = cf_record_make(0x10, 8, 1, 0, 0, CF_TID_MAX + 1);
    assert_int_equal(cf_record_tid(&r), CF_TID_MAX);
    assert_int_equal(cf_record_flags(&r), 0);
    r = cf_record_make(0x10, 8, 1, 0, 0, UINT32_MAX);
    assert_int_equal(cf_record_tid(&r), CF_TID_MAX);
    assert_int_equal(cf_record_flags(&r), 0);

    // Family and alloc_fn are bytes: larger values are masked, not spilled.
    r = cf_record_make(0x10, 8, 0x1ff, 0x102, 0, 0);
    assert_int_equal(cf_record_family(&r), 0xff);
    assert_int_equal(cf_record_alloc_fn(&r), 0x02);
    assert_int_equal(cf_record_size(&r), 8);
}

// ---------------------------------------------------------------------------
// Insert, lookup, remove, retire
// ---------------------------------------------------------------------------

static void test_insert_lookup_remove(void **state) {
    (void)state;
    const uintptr_t a = REGION(2) + 0x40;
    size_t base = table_records();
    cf_record r = record_for(a, 3), out;

    assert_false(cf_table_lookup(a, &out));
    assert_true(cf_table_insert(&r));
    assert_int_equal(table_records(), base + 1);
    memset(&out, 0, sizeof out);
    assert_true(cf_table_lookup(a, &out));
    assert_same_record(&out, &r);

    // Neighbouring addresses and address 0 are not found.
    assert_false(cf_table_lookup(a + 16, &out));
    assert_false(cf_table_lookup(a - 16, &out));
    assert_false(cf_table_lookup(0, &out));
    assert_false(cf_table_remove(0, &out));

    memset(&out, 0, sizeof out);
    assert_true(cf_table_remove(a, &out));
    assert_same_record(&out, &r);
    assert_int_equal(table_records(), base);
    assert_false(cf_table_lookup(a, &out));
    assert_false(cf_table_remove(a, &out));

    // Removing without asking for the record.
    assert_true(cf_table_insert(&r));
    assert_true(cf_table_remove(a, NULL));
    assert_false(cf_table_lookup(a, &out));
    assert_int_equal(table_records(), base);
}

static void test_insert_replaces(void **state) {
    (void)state;
    const uintptr_t a = REGION(3);
    size_t base = table_records();
    cf_record first = cf_record_make(a, 100, 1, 0, 11, 1);
    cf_record second = cf_record_make(a, 200, 3, 10, 22, 2);
    cf_record out;

    assert_true(cf_table_insert(&first));
    assert_true(cf_table_insert(&second));
    assert_int_equal(table_records(), base + 1);
    assert_true(cf_table_lookup(a, &out));
    assert_same_record(&out, &second);

    assert_true(cf_table_remove(a, NULL));
    assert_int_equal(table_records(), base);
}

static void test_remove_returns_record(void **state) {
    (void)state;
    const uintptr_t a = REGION(5) + 0x200;
    size_t base = table_records();
    cf_record r = cf_record_make(a, 32, 1, 0, 5, 0), out;

    assert_true(cf_table_insert(&r));
    memset(&out, 0xaa, sizeof out);
    assert_true(cf_table_remove(a, &out));
    assert_same_record(&out, &r);
    assert_false(cf_table_lookup(a, &out));
    assert_int_equal(table_records(), base);

    // Nothing to remove: false, also for address 0.
    assert_false(cf_table_remove(a, &out));
    assert_false(cf_table_remove(0, &out));
    assert_int_equal(table_records(), base);
}

// Records that do not fit a 16-byte slot (a size of 16 MiB or more, a
// thread past 255, an address past 2^48) go to the full table; an address
// still has one record, whichever table it moves between.
static void test_full_records(void **state) {
    (void)state;
    const uintptr_t a = REGION(6) + 0x40;
    size_t base = table_records();
    cf_record big = cf_record_make(a, (UINT64_C(1) << 24), 2, 9, 77, 3);
    cf_record many_threads = cf_record_make(a + 0x100, 64, 1, 0, 78, 256);
    cf_record high = cf_record_make(UINT64_C(1) << 48 | 0x200, 32, 1, 0, 79, 1);
    cf_record small = cf_record_make(a, 48, 1, 0, 80, 2);
    cf_record out;

    assert_true(cf_table_insert(&big));
    assert_true(cf_table_insert(&many_threads));
    assert_true(cf_table_insert(&high));
    assert_int_equal(table_records(), base + 3);
    assert_true(cf_table_lookup(a, &out));
    assert_same_record(&out, &big);
    assert_true(cf_table_lookup(a + 0x100, &out));
    assert_same_record(&out, &many_threads);
    assert_true(cf_table_lookup(high.addr, &out));
    assert_same_record(&out, &high);
    assert_true(cf_table_find_containing(a + (UINT64_C(1) << 23), &out));
    assert_same_record(&out, &big);

    // The same address, now small enough: it moves to the compact table.
    assert_true(cf_table_insert(&small));
    assert_int_equal(table_records(), base + 3);
    assert_true(cf_table_lookup(a, &out));
    assert_same_record(&out, &small);
    // ... and back.
    assert_true(cf_table_insert(&big));
    assert_int_equal(table_records(), base + 3);
    assert_true(cf_table_remove(a, &out));
    assert_same_record(&out, &big);
    assert_false(cf_table_lookup(a, &out));

    assert_true(cf_table_remove(a + 0x100, &out));
    assert_same_record(&out, &many_threads);
    assert_true(cf_table_remove(high.addr, &out));
    assert_same_record(&out, &high);
    assert_false(cf_table_remove(high.addr, &out));
    assert_int_equal(table_records(), base);
}

static void test_header_flag_survives(void **state) {
    (void)state;
    // A block with a header whose record is kept in the table (it did not
    // fit its header, or its header cannot be read): the flag must come
    // back from both the compact and the full layout.
    size_t base = table_records();
    uintptr_t a = UINT64_C(0x4a0000000010);
    cf_record compact = cf_record_make(a, 48, 1, 0, 9, 3);
    cf_record full = cf_record_make(a + 0x40, UINT64_C(1) << 30, 1, 0, 9, 3);
    cf_record_set_header(&compact);
    cf_record_set_header(&full);
    assert_true(cf_table_insert(&compact));
    assert_true(cf_table_insert(&full));
    cf_record out;
    assert_true(cf_table_lookup(a, &out));
    assert_same_record(&out, &compact);
    assert_true(cf_record_has_header(&out));
    assert_int_equal(cf_record_real_addr(&out), a - 16);
    assert_true(cf_table_remove(a + 0x40, &out));
    assert_same_record(&out, &full);
    assert_true(cf_record_has_header(&out));
    assert_true(cf_table_remove(a, &out));
    assert_int_equal(table_records(), base);
}

static void test_alignment_survives(void **state) {
    (void)state;
    // The alignment an aligned operator new was asked for: 64 fits the
    // compact slot's four bits, 2^20 only the full record, 3 (not a power
    // of two) is not recorded at all; a record with one never fits a header.
    size_t base = table_records();
    uintptr_t a = UINT64_C(0x4b0000000040);
    cf_record small = cf_record_make(a, 100, 4, 11, 9, 3);
    cf_record big = cf_record_make(a + 0x100000, 48, 4, 11, 9, 3);
    cf_record odd = cf_record_make(a + 0x200000, 48, 4, 11, 9, 3);
    cf_record_set_align(&small, 64);
    cf_record_set_align(&big, UINT64_C(1) << 20);
    cf_record_set_align(&odd, 3);
    assert_int_equal(cf_record_align_log2(&small), 6);
    assert_int_equal(cf_record_align_log2(&big), 20);
    assert_int_equal(cf_record_align_log2(&odd), 0);
    assert_false(cf_header_fits(&small));
    assert_true(cf_header_fits(&odd));
    assert_true(cf_table_insert(&small));
    assert_true(cf_table_insert(&big));
    cf_record out;
    assert_true(cf_table_remove(a, &out));
    assert_same_record(&out, &small);
    assert_int_equal(cf_record_align_log2(&out), 6);
    assert_true(cf_table_remove(a + 0x100000, &out));
    assert_same_record(&out, &big);
    assert_int_equal(cf_record_align_log2(&out), 20);
    assert_int_equal(cf_record_size(&out), 48);
    assert_int_equal(table_records(), base);
}

// ---------------------------------------------------------------------------
// Deletion under churn (while shards are still small and crowded)
// ---------------------------------------------------------------------------

// Random inserts and removes against a reference model, at a load near the
// 3/4 limit of the shards as they are now (this runs before the growth
// test): long probe runs, wrap-around at the end of the slot array, and
// backward shifts across both; crowded shards also grow mid-churn.
static void test_churn_matches_model(void **state) {
    (void)state;
    enum { OPS = 400000 };
    const uintptr_t base = REGION(6);
    cf_table_stats st;
    cf_table_get_stats(&st);
    const size_t before = st.records;
    const size_t target = st.slots * 7 / 10;
    const size_t universe = target + target / 8;
    bool *present = calloc(universe, sizeof *present);
    unsigned *salt = calloc(universe, sizeof *salt);
    uint32_t *live = calloc(universe, sizeof *live); // indices currently present
    assert_non_null(present);
    assert_non_null(salt);
    assert_non_null(live);
    size_t n_live = 0;
    uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
    cf_record out;

    for (unsigned op = 0; op < OPS; op++) {
        bool insert = n_live < target ? (rng_next(&seed) % 4 != 0) : (rng_next(&seed) % 4 == 0);
        if (insert && n_live < universe) {
            uint32_t i;
            do {
                i = (uint32_t)(rng_next(&seed) % universe);
            } while (present[i]);
            salt[i] = op;
            cf_record r = record_for(base + (uintptr_t)i * 16, salt[i]);
            assert_true(cf_table_insert(&r));
            present[i] = true;
            live[n_live++] = i;
        } else if (n_live > 0) {
            size_t k = (size_t)(rng_next(&seed) % n_live);
            uint32_t i = live[k];
            assert_true(cf_table_remove(base + (uintptr_t)i * 16, &out));
            cf_record want = record_for(base + (uintptr_t)i * 16, salt[i]);
            assert_same_record(&out, &want);
            present[i] = false;
            live[k] = live[--n_live];
        }
        // Every so often, the whole universe must agree with the model.
        if (op % 40000 == 0 || op == OPS - 1) {
            for (uint32_t i = 0; i < universe; i++) {
                bool found = cf_table_lookup(base + (uintptr_t)i * 16, &out);
                assert_int_equal(found, present[i]);
                if (found) {
                    cf_record want = record_for(base + (uintptr_t)i * 16, salt[i]);
                    assert_same_record(&out, &want);
                }
            }
            assert_int_equal(table_records(), before + n_live);
        }
    }
    for (uint32_t i = 0; i < universe; i++)
        if (present[i])
            assert_true(cf_table_remove(base + (uintptr_t)i * 16, NULL));
    assert_int_equal(table_records(), before);
    free(present);
    free(salt);
    free(live);
}

// ---------------------------------------------------------------------------
// Growth
// ---------------------------------------------------------------------------

static void test_growth_keeps_everything(void **state) {
    (void)state;
    // 10000 records per shard on average: each shard doubles six times.
    enum { N = 64 * 10000 };
    const uintptr_t base = REGION(7);
    cf_table_stats st0, st1;
    cf_record out;
    cf_table_get_stats(&st0);

    for (uintptr_t i = 0; i < N; i++) {
        cf_record r = record_for(base + i * 16, (unsigned)i);
        assert_true(cf_table_insert(&r));
    }
    cf_table_get_stats(&st1);
    assert_int_equal(st1.records, st0.records + N);
    assert_true(st1.slots >= 64 * 8192);
    assert_true(st1.records * 4 <= st1.slots * 3); // load never above 3/4
    // Compact slots are 16 bytes, full ones (none here) 24.
    assert_true(st1.mapped_bytes >= st1.slots * 16 && st1.mapped_bytes <= st1.slots * 24);

    for (uintptr_t i = 0; i < N; i++) {
        assert_true(cf_table_lookup(base + i * 16, &out));
        cf_record want = record_for(base + i * 16, (unsigned)i);
        assert_same_record(&out, &want);
    }

    // Remove every other one: the rest must stay reachable through the
    // backward shifts, and the removed ones must be gone.
    for (uintptr_t i = 0; i < N; i += 2)
        assert_true(cf_table_remove(base + i * 16, NULL));
    assert_int_equal(table_records(), st0.records + N / 2);
    for (uintptr_t i = 0; i < N; i++) {
        bool found = cf_table_lookup(base + i * 16, &out);
        assert_int_equal(found, i % 2 == 1);
        if (found)
            assert_int_equal(cf_record_size(&out), ((base + i * 16) >> 4) + (unsigned)i);
    }
    for (uintptr_t i = 1; i < N; i += 2)
        assert_true(cf_table_remove(base + i * 16, NULL));
    assert_int_equal(table_records(), st0.records);
}

// Page-aligned addresses (what mmap-backed large blocks look like) share
// their low 12 bits; the hash must still spread them over every shard.
static void test_growth_page_aligned(void **state) {
    (void)state;
    enum { N = 100000 };
    const uintptr_t base = REGION(8);
    size_t before = table_records();
    cf_record out;
    for (uintptr_t i = 0; i < N; i++) {
        cf_record r = cf_record_make(base + i * 4096, 4096, 1, 0, 0, 0);
        assert_true(cf_table_insert(&r));
    }
    assert_int_equal(table_records(), before + N);
    for (uintptr_t i = 0; i < N; i++)
        assert_true(cf_table_lookup(base + i * 4096, &out));
    for (uintptr_t i = 0; i < N; i++)
        assert_true(cf_table_remove(base + i * 4096, NULL));
    assert_int_equal(table_records(), before);
}

// ---------------------------------------------------------------------------
// Interior pointers
// ---------------------------------------------------------------------------

static void test_find_containing(void **state) {
    (void)state;
    const uintptr_t a = REGION(9) + 0x1000;    // [a, a+100)
    const uintptr_t z = REGION(9) + 0x3000;    // zero-size block
    const uintptr_t big = REGION(9) + 0x10000; // [big, big+0x10000)
    const uintptr_t inner = big + 0x100;       // [inner, inner+0x100), inside big
    cf_record ra = cf_record_make(a, 100, 1, 0, 0, 0);
    cf_record rz = cf_record_make(z, 0, 1, 0, 0, 0);
    cf_record rbig = cf_record_make(big, 0x10000, 2, 9, 0, 0);
    cf_record rinner = cf_record_make(inner, 0x100, 3, 10, 0, 0);
    cf_record out;
    size_t before = table_records();

    assert_true(cf_table_insert(&ra));
    assert_true(cf_table_insert(&rz));
    assert_true(cf_table_insert(&rbig));
    assert_true(cf_table_insert(&rinner));

    assert_true(cf_table_find_containing(a, &out));
    assert_int_equal(out.addr, a);
    assert_true(cf_table_find_containing(a + 50, &out));
    assert_int_equal(out.addr, a);
    assert_true(cf_table_find_containing(a + 99, &out));
    assert_same_record(&out, &ra);
    assert_false(cf_table_find_containing(a + 100, &out)); // one past the end
    assert_false(cf_table_find_containing(a - 1, &out));

    // A zero-size block contains its own address only.
    assert_true(cf_table_find_containing(z, &out));
    assert_int_equal(out.addr, z);
    assert_false(cf_table_find_containing(z + 1, &out));

    // Nested blocks: the smallest one containing the pointer wins.
    assert_true(cf_table_find_containing(inner + 0x10, &out));
    assert_same_record(&out, &rinner);
    assert_true(cf_table_find_containing(big + 0x8000, &out));
    assert_same_record(&out, &rbig);
    assert_true(cf_table_find_containing(big + 0xffff, &out));
    assert_int_equal(out.addr, big);
    assert_false(cf_table_find_containing(big + 0x10000, &out));

    assert_true(cf_table_remove(a, NULL));
    assert_false(cf_table_find_containing(a + 50, &out));
    assert_true(cf_table_remove(z, NULL));
    assert_true(cf_table_remove(big, NULL));
    assert_true(cf_table_remove(inner, NULL));
    assert_int_equal(table_records(), before);
}

// Near a block: the distance in front and past the end, the nearest block
// within the window, and the freed blocks the quarantine holds.
static void test_find_near(void **state) {
    (void)state;
    const uintptr_t a = REGION(9) + 0x5000; // [a, a+1)
    const uintptr_t b = a + 48;             // [b, b+16)
    cf_record ra = cf_record_make(a, 1, 1, 0, 0, 0);
    cf_record rb = cf_record_make(b, 16, 1, 0, 0, 0);
    cf_record out;
    size_t before = table_records();

    assert_int_equal(cf_record_distance(&ra, a), 0);
    assert_int_equal(cf_record_distance(&ra, a - 8), 8);
    assert_int_equal(cf_record_distance(&ra, a + 1), 1); // just past the end
    assert_int_equal(cf_record_distance(&ra, a + 8), 8);

    assert_true(cf_table_insert(&ra));
    assert_true(cf_table_insert(&rb));
    assert_true(cf_table_find_near(a - 8, 64, &out));
    assert_same_record(&out, &ra);
    assert_false(cf_table_find_near(a - 8, 7, &out));
    assert_true(cf_table_find_near(a + 8, 64, &out)); // 8 past a, 40 before b
    assert_same_record(&out, &ra);
    assert_true(cf_table_find_near(b - 4, 64, &out)); // 4 before b, 47 past a
    assert_same_record(&out, &rb);
    assert_true(cf_table_find_near(b + 3, 64, &out)); // inside b wins
    assert_same_record(&out, &rb);
    assert_false(cf_table_find_near(b + 16 + 64, 64, &out));
    assert_true(cf_table_remove(a, NULL));
    assert_true(cf_table_remove(b, NULL));
    assert_int_equal(table_records(), before);

    // The quarantine: held blocks only, never a ghost.
    assert_true(cf_quarantine_init(1 << 20));
    cf_qentry q = {0}, found;
    q.rec = cf_record_make(a, 64, 1, 0, 0, 0);
    assert_true(cf_quarantine_push(1, &q, NULL));
    q.rec = cf_record_make(a + 0x1000, 64, 1, 0, 0, 0);
    q.ghost = 1;
    assert_true(cf_quarantine_push(1, &q, NULL));
    assert_true(cf_quarantine_find_near(a + 8, 64, &found));
    assert_int_equal(found.rec.addr, a);
    assert_true(cf_quarantine_find_near(a + 70, 64, &found));
    assert_int_equal(found.rec.addr, a);
    assert_false(cf_quarantine_find_near(a + 70, 4, &found));
    assert_false(cf_quarantine_find_near(a + 0x1000 + 8, 64, &found));
    assert_true(cf_quarantine_init(0));
}

// ---------------------------------------------------------------------------
// Four threads
// ---------------------------------------------------------------------------

enum { THREADS = 4, PER_THREAD = 40000, SHARED = 60000 };

typedef struct worker {
    pthread_t thread;
    unsigned index;
    uintptr_t base;
    pthread_barrier_t *start;
    // Results, checked by the main thread (cmocka asserts are not
    // thread-safe, so workers only count).
    size_t failures;
    size_t removed;
} worker;

// Disjoint ranges: insert (and see it at once), then remove the even ones.
static void *disjoint_worker(void *arg) {
    worker *w = arg;
    cf_record out;
    pthread_barrier_wait(w->start);
    for (uintptr_t i = 0; i < PER_THREAD; i++) {
        uintptr_t a = w->base + i * 16;
        cf_record r = record_for(a, w->index);
        if (!cf_table_insert(&r) || !cf_table_lookup(a, &out) || out.size_fam_fn != r.size_fam_fn)
            w->failures++;
    }
    for (uintptr_t i = 0; i < PER_THREAD; i += 2)
        if (!cf_table_remove(w->base + i * 16, NULL))
            w->failures++;
    for (uintptr_t i = 0; i < PER_THREAD; i++) {
        bool found = cf_table_lookup(w->base + i * 16, &out);
        if (found != (i % 2 == 1) || (found && cf_record_tid(&out) != w->index))
            w->failures++;
    }
    return NULL;
}

static void run_workers(worker *w, void *(*fn)(void *), uintptr_t base, uintptr_t stride) {
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (unsigned t = 0; t < THREADS; t++) {
        w[t].index = t;
        w[t].base = base + t * stride;
        w[t].start = &start;
        w[t].failures = w[t].removed = 0;
        assert_int_equal(pthread_create(&w[t].thread, NULL, fn, &w[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(w[t].thread, NULL), 0);
    pthread_barrier_destroy(&start);
}

static void test_threads_disjoint(void **state) {
    (void)state;
    const uintptr_t base = REGION(10);
    const uintptr_t stride = (uintptr_t)1 << 32;
    size_t before = table_records();
    worker w[THREADS];
    run_workers(w, disjoint_worker, base, stride);
    for (unsigned t = 0; t < THREADS; t++)
        assert_int_equal(w[t].failures, 0);
    assert_int_equal(table_records(), before + THREADS * (PER_THREAD / 2));
    for (unsigned t = 0; t < THREADS; t++)
        for (uintptr_t i = 1; i < PER_THREAD; i += 2)
            assert_true(cf_table_remove(base + t * stride + i * 16, NULL));
    assert_int_equal(table_records(), before);
}

// Shared addresses, phase 1: every thread inserts every address (its own
// record), reading each back; any record found must be internally whole.
static void *shared_insert_worker(void *arg) {
    worker *w = arg;
    cf_record out;
    pthread_barrier_wait(w->start);
    for (uintptr_t k = 0; k < SHARED; k++) {
        // Threads walk the set from different starting points.
        uintptr_t i = (k + (uintptr_t)w->index * (SHARED / THREADS)) % SHARED;
        uintptr_t a = w->base + i * 16;
        cf_record r = record_for(a, w->index);
        if (!cf_table_insert(&r))
            w->failures++;
        if (!cf_table_lookup(a, &out)) {
            w->failures++;
            continue;
        }
        cf_record want = record_for(a, cf_record_tid(&out));
        if (cf_record_tid(&out) >= THREADS || out.size_fam_fn != want.size_fam_fn ||
            out.stack != want.stack)
            w->failures++;
    }
    return NULL;
}

// Phase 2: everyone removes everything; exactly one removal succeeds each.
static void *shared_remove_worker(void *arg) {
    worker *w = arg;
    pthread_barrier_wait(w->start);
    for (uintptr_t i = 0; i < SHARED; i++)
        if (cf_table_remove(w->base + i * 16, NULL))
            w->removed++;
    return NULL;
}

static void test_threads_shared(void **state) {
    (void)state;
    const uintptr_t base = REGION(11);
    size_t before = table_records();
    worker w[THREADS];

    run_workers(w, shared_insert_worker, base, 0);
    for (unsigned t = 0; t < THREADS; t++)
        assert_int_equal(w[t].failures, 0);
    assert_int_equal(table_records(), before + SHARED);

    run_workers(w, shared_remove_worker, base, 0);
    size_t removed_total = 0;
    for (unsigned t = 0; t < THREADS; t++)
        removed_total += w[t].removed;
    assert_int_equal(removed_total, SHARED);
    assert_int_equal(table_records(), before);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#if CF_TEST_COUNTS_ALLOCS
        cmocka_unit_test(test_no_malloc),
#endif
        cmocka_unit_test_setup(test_record_is_24_bytes, setup_table),
        cmocka_unit_test_setup(test_record_packing, setup_table),
        cmocka_unit_test_setup(test_header_flag_survives, setup_table),
        cmocka_unit_test_setup(test_alignment_survives, setup_table),
        cmocka_unit_test_setup(test_record_saturation, setup_table),
        cmocka_unit_test_setup(test_insert_lookup_remove, setup_table),
        cmocka_unit_test_setup(test_insert_replaces, setup_table),
        cmocka_unit_test_setup(test_remove_returns_record, setup_table),
        cmocka_unit_test_setup(test_full_records, setup_table),
        cmocka_unit_test_setup(test_churn_matches_model, setup_table),
        cmocka_unit_test_setup(test_growth_keeps_everything, setup_table),
        cmocka_unit_test_setup(test_growth_page_aligned, setup_table),
        cmocka_unit_test_setup(test_find_containing, setup_table),
        cmocka_unit_test_setup(test_find_near, setup_table),
        cmocka_unit_test_setup(test_threads_disjoint, setup_table),
        cmocka_unit_test_setup(test_threads_shared, setup_table),
    };
    // test_no_malloc has no setup: in the plain build the first
    // cf_table_init happens inside its counting window.
    return cmocka_run_group_tests(tests, NULL, NULL);
}
