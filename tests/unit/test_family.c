// SPDX-License-Identifier: MIT
// Unit tests for allocator families: which family each built-in allocation
// and deallocation function belongs to, the words reports use for them, the
// full allocator x deallocator matching table, and run-time registration of
// custom families (deduplicated by name, bounded, names used in words).
#include "core/family.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

// ---------------------------------------------------------------------------
// Expected tables, written out independently of family.c
// ---------------------------------------------------------------------------

static const struct {
    cf_alloc_fn fn;
    cf_family family;
    const char *words;
} allocs[] = {
    {CF_ALLOC_MALLOC, CF_FAM_MALLOC, "malloc()"},
    {CF_ALLOC_CALLOC, CF_FAM_MALLOC, "calloc()"},
    {CF_ALLOC_REALLOC, CF_FAM_MALLOC, "realloc()"},
    {CF_ALLOC_REALLOCARRAY, CF_FAM_MALLOC, "reallocarray()"},
    {CF_ALLOC_MEMALIGN, CF_FAM_MALLOC, "memalign()"},
    {CF_ALLOC_POSIX_MEMALIGN, CF_FAM_MALLOC, "posix_memalign()"},
    {CF_ALLOC_ALIGNED_ALLOC, CF_FAM_MALLOC, "aligned_alloc()"},
    {CF_ALLOC_VALLOC, CF_FAM_MALLOC, "valloc()"},
    {CF_ALLOC_PVALLOC, CF_FAM_MALLOC, "pvalloc()"},
    {CF_ALLOC_NEW, CF_FAM_NEW, "operator new"},
    {CF_ALLOC_NEW_ARRAY, CF_FAM_NEW_ARRAY, "operator new[]"},
    {CF_ALLOC_NEW_ALIGN, CF_FAM_NEW_ALIGN, "operator new(align_val_t)"},
    {CF_ALLOC_NEW_ARRAY_ALIGN, CF_FAM_NEW_ARRAY_ALIGN, "operator new[](align_val_t)"},
    {CF_ALLOC_COTASKMEMALLOC, CF_FAM_COTASKMEM, "CoTaskMemAlloc"},
    {CF_ALLOC_COTASKMEMREALLOC, CF_FAM_COTASKMEM, "CoTaskMemRealloc"},
    {CF_ALLOC_INTERNAL, CF_FAM_MALLOC, "malloc() (inside a library crossfree called)"},
    {CF_ALLOC_PRIVATE, CF_FAM_MALLOC, "malloc() (inside crossfree)"},
};

static const struct {
    cf_dealloc_fn fn;
    cf_family family;
    const char *words;
} deallocs[] = {
    {CF_DEALLOC_FREE, CF_FAM_MALLOC, "free()"},
    {CF_DEALLOC_REALLOC, CF_FAM_MALLOC, "realloc()"},
    {CF_DEALLOC_DELETE, CF_FAM_NEW, "operator delete"},
    {CF_DEALLOC_DELETE_ARRAY, CF_FAM_NEW_ARRAY, "operator delete[]"},
    {CF_DEALLOC_DELETE_ALIGN, CF_FAM_NEW_ALIGN, "operator delete(align_val_t)"},
    {CF_DEALLOC_DELETE_ARRAY_ALIGN, CF_FAM_NEW_ARRAY_ALIGN, "operator delete[](align_val_t)"},
    {CF_DEALLOC_COTASKMEMFREE, CF_FAM_COTASKMEM, "CoTaskMemFree"},
    {CF_DEALLOC_COTASKMEMREALLOC, CF_FAM_COTASKMEM, "CoTaskMemRealloc"},
};

enum {
    N_ALLOCS = sizeof allocs / sizeof allocs[0],
    N_DEALLOCS = sizeof deallocs / sizeof deallocs[0]
};

// The matching table: MATCH[a][d] is 1 when memory from allocs[a] may be
// released by deallocs[d]. Columns: free, realloc, delete, delete[],
// delete(align), delete[](align), CoTaskMemFree, CoTaskMemRealloc.
static const unsigned char MATCH[N_ALLOCS][N_DEALLOCS] = {
    {1, 1, 0, 0, 0, 0, 0, 0}, // malloc
    {1, 1, 0, 0, 0, 0, 0, 0}, // calloc
    {1, 1, 0, 0, 0, 0, 0, 0}, // realloc
    {1, 1, 0, 0, 0, 0, 0, 0}, // reallocarray
    {1, 1, 0, 0, 0, 0, 0, 0}, // memalign
    {1, 1, 0, 0, 0, 0, 0, 0}, // posix_memalign
    {1, 1, 0, 0, 0, 0, 0, 0}, // aligned_alloc
    {1, 1, 0, 0, 0, 0, 0, 0}, // valloc
    {1, 1, 0, 0, 0, 0, 0, 0}, // pvalloc
    {0, 0, 1, 0, 0, 0, 0, 0}, // new
    {0, 0, 0, 1, 0, 0, 0, 0}, // new[]
    {0, 0, 0, 0, 1, 0, 0, 0}, // new(align)
    {0, 0, 0, 0, 0, 1, 0, 0}, // new[](align)
    {0, 0, 0, 0, 0, 0, 1, 1}, // CoTaskMemAlloc
    {0, 0, 0, 0, 0, 0, 1, 1}, // CoTaskMemRealloc
    {1, 1, 0, 0, 0, 0, 0, 0}, // a library crossfree called
    {1, 1, 0, 0, 0, 0, 0, 0}, // crossfree's private code
};

// ---------------------------------------------------------------------------
// Built-in functions
// ---------------------------------------------------------------------------

static void test_tables_cover_every_fn(void **state) {
    (void)state;
    // Every enumerator except CUSTOM appears in the tables above, once.
    assert_int_equal(N_ALLOCS, CF_ALLOC_FN_COUNT - 1);
    assert_int_equal(N_DEALLOCS, CF_DEALLOC_FN_COUNT - 1);
    for (unsigned i = 0; i < N_ALLOCS; i++) {
        assert_int_not_equal(allocs[i].fn, CF_ALLOC_CUSTOM);
        for (unsigned j = i + 1; j < N_ALLOCS; j++)
            assert_int_not_equal(allocs[i].fn, allocs[j].fn);
    }
    for (unsigned i = 0; i < N_DEALLOCS; i++) {
        assert_int_not_equal(deallocs[i].fn, CF_DEALLOC_CUSTOM);
        for (unsigned j = i + 1; j < N_DEALLOCS; j++)
            assert_int_not_equal(deallocs[i].fn, deallocs[j].fn);
    }
}

static void test_alloc_families_and_words(void **state) {
    (void)state;
    for (unsigned i = 0; i < N_ALLOCS; i++) {
        assert_int_equal(cf_family_of_alloc(allocs[i].fn), allocs[i].family);
        // The family argument is only consulted for CF_ALLOC_CUSTOM.
        assert_string_equal(cf_alloc_fn_words(allocs[i].fn, allocs[i].family), allocs[i].words);
        assert_string_equal(cf_alloc_fn_words(allocs[i].fn, CF_FAM_NONE), allocs[i].words);
    }
}

static void test_dealloc_families_and_words(void **state) {
    (void)state;
    for (unsigned i = 0; i < N_DEALLOCS; i++) {
        assert_int_equal(cf_family_of_dealloc(deallocs[i].fn), deallocs[i].family);
        assert_string_equal(cf_dealloc_fn_words(deallocs[i].fn, deallocs[i].family),
                            deallocs[i].words);
        assert_string_equal(cf_dealloc_fn_words(deallocs[i].fn, CF_FAM_NONE), deallocs[i].words);
    }
}

static void test_custom_and_out_of_range_fns(void **state) {
    (void)state;
    // CUSTOM belongs to no built-in family: the caller names the family.
    assert_int_equal(cf_family_of_alloc(CF_ALLOC_CUSTOM), CF_FAM_NONE);
    assert_int_equal(cf_family_of_dealloc(CF_DEALLOC_CUSTOM), CF_FAM_NONE);
    assert_int_equal(cf_family_of_alloc(CF_ALLOC_FN_COUNT), CF_FAM_NONE);
    assert_int_equal(cf_family_of_alloc((cf_alloc_fn)1000), CF_FAM_NONE);
    assert_int_equal(cf_family_of_dealloc(CF_DEALLOC_FN_COUNT), CF_FAM_NONE);
    assert_int_equal(cf_family_of_dealloc((cf_dealloc_fn)-1), CF_FAM_NONE);

    // Words for a CUSTOM call in an unregistered family.
    assert_string_equal(cf_alloc_fn_words(CF_ALLOC_CUSTOM, CF_FAM_MAX - 1), "an unknown allocator");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, CF_FAM_MAX - 1),
                        "an unknown deallocator");
    assert_string_equal(cf_alloc_fn_words((cf_alloc_fn)1000, 1000), "an unknown allocator");

    // CUSTOM deallocation words for a built-in family: that family's
    // deallocator (what a HINT line recommends).
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, CF_FAM_MALLOC), "free()");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, CF_FAM_NEW), "operator delete");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, CF_FAM_NEW_ARRAY),
                        "operator delete[]");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, CF_FAM_NEW_ALIGN),
                        "operator delete(align_val_t)");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, CF_FAM_NEW_ARRAY_ALIGN),
                        "operator delete[](align_val_t)");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, CF_FAM_COTASKMEM), "CoTaskMemFree");
}

// The questions other layers ask: which families are C++'s, the shape of
// operator new each is, and what allocates and releases each by default.
static void test_family_questions(void **state) {
    (void)state;
    static const struct {
        cf_family family;
        bool is_new;
        cf_alloc_fn alloc;
        cf_dealloc_fn dealloc;
    } want[] = {
        {CF_FAM_NONE, false, CF_ALLOC_CUSTOM, CF_DEALLOC_CUSTOM},
        {CF_FAM_MALLOC, false, CF_ALLOC_MALLOC, CF_DEALLOC_FREE},
        {CF_FAM_NEW, true, CF_ALLOC_NEW, CF_DEALLOC_DELETE},
        {CF_FAM_NEW_ARRAY, true, CF_ALLOC_NEW_ARRAY, CF_DEALLOC_DELETE_ARRAY},
        {CF_FAM_NEW_ALIGN, true, CF_ALLOC_NEW_ALIGN, CF_DEALLOC_DELETE_ALIGN},
        {CF_FAM_NEW_ARRAY_ALIGN, true, CF_ALLOC_NEW_ARRAY_ALIGN, CF_DEALLOC_DELETE_ARRAY_ALIGN},
        {CF_FAM_COTASKMEM, false, CF_ALLOC_COTASKMEMALLOC, CF_DEALLOC_COTASKMEMFREE},
        {CF_FAM_CUSTOM_FIRST, false, CF_ALLOC_CUSTOM, CF_DEALLOC_CUSTOM},
        {CF_FAM_MAX - 1, false, CF_ALLOC_CUSTOM, CF_DEALLOC_CUSTOM},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(cf_family_is_new(want[i].family), want[i].is_new);
        assert_int_equal(cf_family_alloc_fn(want[i].family), want[i].alloc);
        assert_int_equal(cf_family_dealloc_fn(want[i].family), want[i].dealloc);
        // Each built-in family's own functions belong to it.
        if (want[i].family != CF_FAM_NONE && want[i].family < CF_FAM_BUILTIN_COUNT) {
            assert_int_equal(cf_family_of_alloc(want[i].alloc), want[i].family);
            assert_int_equal(cf_family_of_dealloc(want[i].dealloc), want[i].family);
        }
    }
    assert_int_equal(cf_family_new(false, false), CF_FAM_NEW);
    assert_int_equal(cf_family_new(true, false), CF_FAM_NEW_ARRAY);
    assert_int_equal(cf_family_new(false, true), CF_FAM_NEW_ALIGN);
    assert_int_equal(cf_family_new(true, true), CF_FAM_NEW_ARRAY_ALIGN);
}

static void test_family_names(void **state) {
    (void)state;
    assert_string_equal(cf_family_name(CF_FAM_NONE), "none");
    assert_string_equal(cf_family_name(CF_FAM_MALLOC), "malloc");
    assert_string_equal(cf_family_name(CF_FAM_NEW), "new");
    assert_string_equal(cf_family_name(CF_FAM_NEW_ARRAY), "new[]");
    assert_string_equal(cf_family_name(CF_FAM_NEW_ALIGN), "new(align)");
    assert_string_equal(cf_family_name(CF_FAM_NEW_ARRAY_ALIGN), "new[](align)");
    assert_string_equal(cf_family_name(CF_FAM_COTASKMEM), "CoTaskMem");
    // Not (yet) registered, or out of range.
    assert_string_equal(cf_family_name(CF_FAM_CUSTOM_FIRST + 20), "unknown");
    assert_string_equal(cf_family_name(CF_FAM_MAX), "unknown");
    assert_string_equal(cf_family_name(100000), "unknown");
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

// A deallocation matches when it belongs to the family the allocation was
// recorded in: exactly the check the runtime makes on every free.
static bool matches(cf_alloc_fn a, cf_dealloc_fn d) {
    return cf_family_of_alloc(a) == cf_family_of_dealloc(d);
}

static void test_matching_table(void **state) {
    (void)state;
    for (unsigned a = 0; a < N_ALLOCS; a++) {
        for (unsigned d = 0; d < N_DEALLOCS; d++) {
            if (matches(allocs[a].fn, deallocs[d].fn) != (MATCH[a][d] != 0))
                fail_msg("memory from %s freed by %s: expected %s", allocs[a].words,
                         deallocs[d].words, MATCH[a][d] ? "a match" : "a mismatch");
        }
    }
    // Every built-in family is matched by at least one deallocator and no
    // allocator is matched by the no-family deallocator.
    for (unsigned a = 0; a < N_ALLOCS; a++) {
        unsigned n = 0;
        for (unsigned d = 0; d < N_DEALLOCS; d++)
            n += MATCH[a][d];
        assert_true(n >= 1);
        assert_int_not_equal(cf_family_of_alloc(allocs[a].fn), CF_FAM_NONE);
    }
}

// ---------------------------------------------------------------------------
// Custom families (registration is global and permanent: order matters)
// ---------------------------------------------------------------------------

static void test_register_custom(void **state) {
    (void)state;
    unsigned id = cf_family_register("g_malloc", "g_malloc()", "g_free()");
    assert_int_equal(id, CF_FAM_CUSTOM_FIRST);
    assert_string_equal(cf_family_name(id), "g_malloc");
    assert_string_equal(cf_alloc_fn_words(CF_ALLOC_CUSTOM, id), "g_malloc()");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, id), "g_free()");

    unsigned id2 = cf_family_register("sqlite3", "sqlite3_malloc()", "sqlite3_free()");
    assert_int_equal(id2, id + 1);
    assert_string_equal(cf_family_name(id2), "sqlite3");
    assert_string_equal(cf_alloc_fn_words(CF_ALLOC_CUSTOM, id2), "sqlite3_malloc()");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, id2), "sqlite3_free()");

    // Built-in words stay what they are whatever family is passed.
    assert_string_equal(cf_alloc_fn_words(CF_ALLOC_NEW, id), "operator new");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_FREE, id2), "free()");
}

static void test_register_dedup_by_name(void **state) {
    (void)state;
    unsigned id = cf_family_register("g_malloc", "other()", "other_free()");
    assert_int_equal(id, CF_FAM_CUSTOM_FIRST);
    // The first registration's words stay.
    assert_string_equal(cf_alloc_fn_words(CF_ALLOC_CUSTOM, id), "g_malloc()");
    assert_string_equal(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, id), "g_free()");
    // Same words, different name: a different family.
    unsigned other = cf_family_register("g_malloc2", "g_malloc()", "g_free()");
    assert_int_not_equal(other, id);
    assert_int_not_equal(other, 0);
    // Names compare exactly.
    unsigned upper = cf_family_register("G_MALLOC", "g_malloc()", "g_free()");
    assert_int_not_equal(upper, id);
    assert_int_equal(cf_family_register("G_MALLOC", "x", "y"), upper);
}

static void test_register_rejects_bad_names(void **state) {
    (void)state;
    assert_int_equal(cf_family_register("", "a()", "b()"), 0);
    assert_int_equal(cf_family_register(NULL, "a()", "b()"), 0);
    assert_int_equal(cf_family_register("fam", NULL, "b()"), 0);
    assert_int_equal(cf_family_register("fam", "a()", NULL), 0);
    // None of these took a slot: "fam" is still unregistered.
    assert_string_equal(cf_family_name(CF_FAM_CUSTOM_FIRST + 4), "unknown");
}

static void test_register_truncates_long_names(void **state) {
    (void)state;
    char name[200], words[200];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memset(words, 'w', sizeof words - 1);
    words[sizeof words - 1] = '\0';
    unsigned id = cf_family_register(name, words, words);
    assert_int_not_equal(id, 0);
    assert_int_equal(strlen(cf_family_name(id)), 47);
    assert_int_equal(strncmp(cf_family_name(id), name, 47), 0);
    assert_int_equal(strlen(cf_alloc_fn_words(CF_ALLOC_CUSTOM, id)), 47);
    assert_int_equal(strlen(cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, id)), 47);
}

static void test_register_until_full(void **state) {
    (void)state;
    char name[32];
    unsigned last = 0, added = 0;
    for (unsigned i = 0; i < 2 * CF_FAM_MAX; i++) {
        snprintf(name, sizeof name, "family%u", i);
        unsigned id = cf_family_register(name, "alloc()", "release()");
        if (id == 0)
            break;
        assert_true(id > last);
        assert_true(id < CF_FAM_MAX); // ids fit the record's family byte
        assert_string_equal(cf_family_name(id), name);
        last = id;
        added++;
    }
    assert_int_equal(last, CF_FAM_MAX - 1);
    assert_true(added > 0);
    // Full: new names get 0, known names still get their id.
    assert_int_equal(cf_family_register("one-too-many", "a()", "b()"), 0);
    assert_string_equal(cf_family_name(CF_FAM_MAX), "unknown");
    assert_int_equal(cf_family_register("g_malloc", "g_malloc()", "g_free()"), CF_FAM_CUSTOM_FIRST);
    assert_int_equal(cf_family_register("sqlite3", "", ""), CF_FAM_CUSTOM_FIRST + 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_cover_every_fn),
        cmocka_unit_test(test_alloc_families_and_words),
        cmocka_unit_test(test_dealloc_families_and_words),
        cmocka_unit_test(test_custom_and_out_of_range_fns),
        cmocka_unit_test(test_family_questions),
        cmocka_unit_test(test_family_names),
        cmocka_unit_test(test_matching_table),
        cmocka_unit_test(test_register_custom),
        cmocka_unit_test(test_register_dedup_by_name),
        cmocka_unit_test(test_register_rejects_bad_names),
        cmocka_unit_test(test_register_truncates_long_names),
        cmocka_unit_test(test_register_until_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
