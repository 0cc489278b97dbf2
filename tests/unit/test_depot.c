// SPDX-License-Identifier: MIT
// Unit tests for the stack depot: deduplication by content, distinct ids for
// distinct stacks, the empty stack, the depth cap, many threads putting
// overlapping stacks at once, and no allocator call ever. The depot is
// process-global and append-only, so tests only ever add to it.
#include "stack/depot.h"

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

#define DEPOT_RESERVE ((size_t)256 << 20)

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

static int setup_depot(void **state) {
    (void)state;
    return cf_depot_init(DEPOT_RESERVE) ? 0 : -1;
}

static size_t depot_stacks(void) {
    cf_depot_stats st;
    cf_depot_get_stats(&st);
    return st.stacks;
}

// Asserts that stack `id` holds exactly pcs[0..n).
static void assert_stack_is(uint32_t id, const uintptr_t *pcs, unsigned n) {
    const uintptr_t *got = NULL;
    assert_int_not_equal(id, 0);
    assert_int_equal(cf_depot_get(id, &got), n);
    assert_non_null(got);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(got[i], pcs[i]);
}

// Fills a plausible stack: return addresses in a few code regions, chosen
// by `seed` so that different seeds give different stacks.
static unsigned make_stack(uint64_t seed, uintptr_t *pcs, unsigned max) {
    unsigned n = 1 + (unsigned)(seed % (max < 24 ? max : 24));
    for (unsigned i = 0; i < n; i++) {
        seed = seed * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        pcs[i] = (uintptr_t)0x400000 + (uintptr_t)((seed >> 33) % 0x100000);
    }
    return n;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

// ---------------------------------------------------------------------------
// No allocation (runs first: the depot's first init happens inside it)
// ---------------------------------------------------------------------------

#if CF_TEST_COUNTS_ALLOCS
static void test_no_malloc(void **state) {
    (void)state;
    // The counter itself must see a malloc/free pair.
    void *(*volatile do_malloc)(size_t) = malloc;
    void (*volatile do_free)(void *) = free;
    cf_test_alloc_count_start();
    do_free(do_malloc(32));
    assert_int_equal(cf_test_alloc_count_stop(), 2);

    uintptr_t pcs[CF_DEPOT_MAX_FRAMES + 8];
    const uintptr_t *got;
    cf_depot_stats st;
    bool ok;
    unsigned total = 0;

    cf_test_alloc_count_start();
    ok = cf_depot_init(DEPOT_RESERVE);
    for (uint64_t s = 1; s <= 2000 && ok; s++) {
        unsigned n = make_stack(s, pcs, CF_DEPOT_MAX_FRAMES);
        uint32_t id = cf_depot_put(pcs, n);
        ok = id != 0 && cf_depot_put(pcs, n) == id && cf_depot_get(id, &got) == n;
        total += n;
    }
    for (unsigned i = 0; i < CF_DEPOT_MAX_FRAMES + 8; i++)
        pcs[i] = 0x500000 + i;
    ok = ok && cf_depot_put(pcs, CF_DEPOT_MAX_FRAMES + 8) != 0;
    cf_depot_get_stats(&st);
    unsigned long calls = cf_test_alloc_count_stop();

    assert_true(ok);
    assert_true(total > 0);
    assert_int_equal(calls, 0);
    assert_true(st.stacks >= 2000);
}
#endif

// ---------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------

static void test_same_stack_same_id(void **state) {
    (void)state;
    const uintptr_t a[] = {0x401000, 0x402000, 0x403000, 0x7f0000001234};
    uintptr_t copy[4];
    memcpy(copy, a, sizeof a);

    uint32_t id = cf_depot_put(a, 4);
    size_t stacks = depot_stacks();
    assert_int_not_equal(id, 0);
    assert_int_equal(cf_depot_put(a, 4), id);
    // Identity is by content: another array with the same frames.
    assert_int_equal(cf_depot_put(copy, 4), id);
    assert_int_equal(depot_stacks(), stacks); // nothing new was stored
    assert_stack_is(id, a, 4);
}

static void test_different_stacks_different_ids(void **state) {
    (void)state;
    const uintptr_t base[] = {0x411000, 0x412000, 0x413000};
    const uintptr_t reversed[] = {0x413000, 0x412000, 0x411000};
    const uintptr_t swapped[] = {0x411000, 0x413000, 0x412000};
    const uintptr_t longer[] = {0x411000, 0x412000, 0x413000, 0x414000};
    const uintptr_t zero_tail[] = {0x411000, 0x412000, 0x413000, 0};
    const uintptr_t one_off[] = {0x411000, 0x412000, 0x413001};
    struct {
        const uintptr_t *pcs;
        unsigned n;
    } cases[] = {
        {base, 3},      {reversed, 3}, {swapped, 3}, {longer, 4},
        {zero_tail, 4}, {one_off, 3},  {base, 2},    {base, 1},
    };
    enum { CASES = sizeof cases / sizeof cases[0] };
    uint32_t ids[CASES];
    for (unsigned i = 0; i < CASES; i++) {
        ids[i] = cf_depot_put(cases[i].pcs, cases[i].n);
        assert_int_not_equal(ids[i], 0);
    }
    for (unsigned i = 0; i < CASES; i++) {
        for (unsigned j = i + 1; j < CASES; j++)
            assert_int_not_equal(ids[i], ids[j]);
        assert_stack_is(ids[i], cases[i].pcs, cases[i].n);
    }
}

// Thousands of distinct stacks share 65536 buckets: chains must be walked
// correctly, every id must be unique and every stack must read back.
static void test_many_distinct_stacks(void **state) {
    (void)state;
    enum { N = 20000 };
    uint32_t *ids = calloc(N, sizeof *ids);
    uint32_t *sorted = calloc(N, sizeof *sorted);
    assert_non_null(ids);
    assert_non_null(sorted);
    uintptr_t pcs[CF_DEPOT_MAX_FRAMES];
    size_t before = depot_stacks();

    for (unsigned i = 0; i < N; i++) {
        // Seed i gives a unique first frame (pcs[0] differs per i below).
        unsigned n = make_stack(UINT64_C(1000003) * (i + 7), pcs, CF_DEPOT_MAX_FRAMES);
        pcs[0] = (uintptr_t)0x10000000 + i;
        ids[i] = cf_depot_put(pcs, n);
        assert_int_not_equal(ids[i], 0);
    }
    assert_int_equal(depot_stacks(), before + N);
    memcpy(sorted, ids, N * sizeof *ids);
    qsort(sorted, N, sizeof *sorted, cmp_u32);
    for (unsigned i = 1; i < N; i++)
        assert_int_not_equal(sorted[i - 1], sorted[i]);
    for (unsigned i = 0; i < N; i++) {
        unsigned n = make_stack(UINT64_C(1000003) * (i + 7), pcs, CF_DEPOT_MAX_FRAMES);
        pcs[0] = (uintptr_t)0x10000000 + i;
        assert_stack_is(ids[i], pcs, n);
        assert_int_equal(cf_depot_put(pcs, n), ids[i]);
    }
    free(ids);
    free(sorted);
}

static void test_empty_stack_is_zero(void **state) {
    (void)state;
    const uintptr_t one[] = {0x420000};
    const uintptr_t *got = one;
    size_t before = depot_stacks();
    assert_int_equal(cf_depot_put(one, 0), 0);
    assert_int_equal(cf_depot_put(NULL, 0), 0);
    assert_int_equal(depot_stacks(), before);

    assert_int_equal(cf_depot_get(0, &got), 0);
    assert_null(got);
    // An id beyond anything handed out is not a stack either.
    got = one;
    assert_int_equal(cf_depot_get(UINT32_MAX, &got), 0);
    assert_null(got);
}

static void test_get_returns_frames(void **state) {
    (void)state;
    uintptr_t pcs[CF_DEPOT_MAX_FRAMES];
    for (unsigned i = 0; i < CF_DEPOT_MAX_FRAMES; i++)
        pcs[i] = (uintptr_t)0x7f1200000000 + i * 0x111;
    // Every length from 1 to the maximum is a different stack.
    uint32_t prev = 0;
    for (unsigned n = 1; n <= CF_DEPOT_MAX_FRAMES; n++) {
        uint32_t id = cf_depot_put(pcs, n);
        assert_int_not_equal(id, prev);
        assert_stack_is(id, pcs, n);
        prev = id;
    }
    // The caller's array may change afterwards: the depot kept a copy.
    uint32_t id = cf_depot_put(pcs, 3);
    pcs[0] = 0xdead;
    const uintptr_t *got;
    assert_int_equal(cf_depot_get(id, &got), 3);
    assert_int_equal(got[0], 0x7f1200000000);
}

static void test_depth_capped(void **state) {
    (void)state;
    enum { LONG = CF_DEPOT_MAX_FRAMES + 36 };
    uintptr_t pcs[LONG];
    for (unsigned i = 0; i < LONG; i++)
        pcs[i] = (uintptr_t)0x430000 + i * 8;

    uint32_t id = cf_depot_put(pcs, LONG);
    const uintptr_t *got;
    assert_int_equal(cf_depot_get(id, &got), CF_DEPOT_MAX_FRAMES);
    assert_stack_is(id, pcs, CF_DEPOT_MAX_FRAMES);
    // The kept part is what identifies the stack: frames past the cap do
    // not matter, and the capped stack is the same as its first 64 frames.
    assert_int_equal(cf_depot_put(pcs, CF_DEPOT_MAX_FRAMES), id);
    pcs[LONG - 1] ^= 0xfff0;
    assert_int_equal(cf_depot_put(pcs, LONG), id);
    assert_int_equal(cf_depot_put(pcs, CF_DEPOT_MAX_FRAMES + 1), id);
}

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------

enum { THREADS = 8, POOL = 3000, ROUNDS = 3 };

typedef struct worker {
    pthread_t thread;
    unsigned index;
    pthread_barrier_t *start;
    uint32_t ids[POOL]; // the id this thread last got for each pool stack
    size_t failures;    // counted here: cmocka asserts are not thread-safe
} worker;

static unsigned pool_stack(unsigned k, uintptr_t *pcs) {
    unsigned n = make_stack(UINT64_C(7919) * (k + 1), pcs, CF_DEPOT_MAX_FRAMES);
    pcs[0] = (uintptr_t)0x20000000 + k; // unique per k
    return n;
}

static void *put_worker(void *arg) {
    worker *w = arg;
    uintptr_t pcs[CF_DEPOT_MAX_FRAMES];
    const uintptr_t *got;
    pthread_barrier_wait(w->start);
    for (unsigned round = 0; round < ROUNDS; round++) {
        for (unsigned j = 0; j < POOL; j++) {
            // Each thread walks the shared pool in its own order.
            unsigned k = (j * 7 + w->index * (POOL / THREADS) + round * 13) % POOL;
            unsigned n = pool_stack(k, pcs);
            uint32_t id = cf_depot_put(pcs, n);
            if (id == 0 || cf_depot_get(id, &got) != n) {
                w->failures++;
                continue;
            }
            for (unsigned i = 0; i < n; i++)
                if (got[i] != pcs[i])
                    w->failures++;
            w->ids[k] = id;
        }
    }
    return NULL;
}

static void test_threads_overlapping(void **state) {
    (void)state;
    static worker w[THREADS];
    pthread_barrier_t start;
    uintptr_t pcs[CF_DEPOT_MAX_FRAMES];
    size_t before = depot_stacks();

    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (unsigned t = 0; t < THREADS; t++) {
        w[t].index = t;
        w[t].start = &start;
        w[t].failures = 0;
        assert_int_equal(pthread_create(&w[t].thread, NULL, put_worker, &w[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(w[t].thread, NULL), 0);
    pthread_barrier_destroy(&start);

    for (unsigned t = 0; t < THREADS; t++)
        assert_int_equal(w[t].failures, 0);
    // A lost race may store a duplicate (documented as harmless), but never
    // more than one node per put that found nothing.
    size_t added = depot_stacks() - before;
    assert_true(added >= POOL);
    assert_true(added <= (size_t)POOL * THREADS);
    // Every id any thread was given still reads back its own stack, and
    // once the dust settles a put is stable.
    for (unsigned k = 0; k < POOL; k++) {
        unsigned n = pool_stack(k, pcs);
        for (unsigned t = 0; t < THREADS; t++)
            assert_stack_is(w[t].ids[k], pcs, n);
        uint32_t id = cf_depot_put(pcs, n);
        assert_stack_is(id, pcs, n);
        assert_int_equal(cf_depot_put(pcs, n), id);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
#if CF_TEST_COUNTS_ALLOCS
        cmocka_unit_test(test_no_malloc),
#endif
        cmocka_unit_test_setup(test_same_stack_same_id, setup_depot),
        cmocka_unit_test_setup(test_different_stacks_different_ids, setup_depot),
        cmocka_unit_test_setup(test_many_distinct_stacks, setup_depot),
        cmocka_unit_test_setup(test_empty_stack_is_zero, setup_depot),
        cmocka_unit_test_setup(test_get_returns_frames, setup_depot),
        cmocka_unit_test_setup(test_depth_capped, setup_depot),
        cmocka_unit_test_setup(test_threads_overlapping, setup_depot),
    };
    // test_no_malloc has no setup: in the plain build the depot's first
    // cf_depot_init happens inside its counting window.
    return cmocka_run_group_tests(tests, NULL, NULL);
}
