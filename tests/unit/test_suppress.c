// SPDX-License-Identifier: MIT
// Unit tests for suppressions: parsing (comments, blanks, whitespace, each
// kind of malformed line with its file and line number, the capacity
// limits) and matching with a fake symbolizer against function and module
// globs in the deallocation, allocation and first-free stacks.
#include "report/suppress.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>

#include "core/family.h"
#include "stack/depot.h"

// ---------------------------------------------------------------------------
// Parsing helpers

static char messages[1 << 15];
static cf_buf msgs;

static int reset(void **state) {
    (void)state;
    cf_suppressions_clear();
    cf_buf_init(&msgs, messages, sizeof messages);
    return 0;
}

static unsigned parse(const char *text) {
    return cf_suppressions_parse("/etc/cf.supp", text, strlen(text), &msgs);
}

static unsigned count_lines(const char *s) {
    unsigned n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static void assert_contains(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected to find\n%s\nin:\n%s", needle, haystack);
}

// ---------------------------------------------------------------------------
// The fake symbolizer

#define PC_APP_FREE ((uintptr_t)0x401000)      // release_buffer(char*) in /opt/app/bin/app
#define PC_APP_MAIN ((uintptr_t)0x402000)      // main in /opt/app/bin/app
#define PC_UI_MAKE ((uintptr_t)0x7f0000001000) // ui::make_buffer(int) const in libui.so.2
#define PC_LIBC ((uintptr_t)0x7f0000002000)    // no function, in libc.so.6
#define PC_PLUGIN ((uintptr_t)0x7f0000003000)  // plugin_release in /tmp/plugins/libpl.so
#define PC_NOWHERE ((uintptr_t)0xdead0000)     // unknown
#define PC_ANON ((uintptr_t)0x7f0000004000)    // (anonymous namespace)::drop(void*)
#define PC_CALL ((uintptr_t)0x7f0000005000)    // std::function<void (int)>::operator()(int) const

static unsigned sym_calls, sym_calls_without_names;

static bool fake_symbolize(uintptr_t pc, bool names, cf_frame_info *f) {
    static const struct {
        uintptr_t pc;
        const char *module;
        const char *function;
    } known[] = {
        {PC_APP_FREE, "/opt/app/bin/app", "release_buffer(char*)"},
        {PC_APP_MAIN, "/opt/app/bin/app", "main"},
        {PC_UI_MAKE, "/usr/lib/libui.so.2", "ui::make_buffer(int) const"},
        {PC_LIBC, "/lib/x86_64-linux-gnu/libc.so.6", ""},
        {PC_PLUGIN, "/tmp/plugins/libpl.so", "plugin_release"},
        {PC_ANON, "/opt/app/bin/app", "(anonymous namespace)::drop(void*)"},
        {PC_CALL, "/usr/lib/libstdc++.so.6", "std::function<void (int)>::operator()(int) const"},
    };
    sym_calls++;
    sym_calls_without_names += !names;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].pc != pc)
            continue;
        snprintf(f->module, sizeof f->module, "%s", known[i].module);
        if (names)
            snprintf(f->function, sizeof f->function, "%s", known[i].function);
        return true;
    }
    return false;
}

static const uintptr_t free_pcs[] = {PC_APP_FREE, PC_APP_MAIN};
static const uintptr_t alloc_pcs[] = {PC_LIBC, PC_UI_MAKE, PC_APP_MAIN};
static const uintptr_t first_free_pcs[] = {PC_NOWHERE, PC_PLUGIN};
static uint32_t alloc_stack, first_free_stack;

static int setup_depot(void **state) {
    (void)state;
    if (!cf_depot_init((size_t)64 << 20))
        return -1;
    alloc_stack = cf_depot_put(alloc_pcs, 3);
    first_free_stack = cf_depot_put(first_free_pcs, 2);
    return alloc_stack != 0 && first_free_stack != 0 ? 0 : -1;
}

static cf_error make_error(cf_error_kind kind) {
    cf_error e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.addr = 0x1000;
    e.dealloc_fn = CF_DEALLOC_FREE;
    e.dealloc_family = CF_FAM_MALLOC;
    e.pcs = free_pcs;
    e.n_pcs = 2;
    if (kind != CF_ERR_INVALID_FREE) {
        e.has_alloc = true;
        e.alloc = cf_record_make(0x1000, 8, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 0);
    }
    if (kind == CF_ERR_DOUBLE_FREE) {
        e.has_prev_free = true;
        e.prev_free.free_stack = first_free_stack;
        e.prev_free.dealloc_fn = CF_DEALLOC_FREE;
        e.prev_free.rec = e.alloc;
    }
    return e;
}

// Whether the only rule `rule` suppresses an error of `kind`.
static bool suppresses(const char *rule, cf_error_kind kind) {
    reset(NULL);
    if (parse(rule) != 0)
        fail_msg("rule %s did not parse: %s", rule, messages);
    assert_int_equal(cf_suppressions_count(), 1);
    cf_error e = make_error(kind);
    return cf_suppressions_match(&e, fake_symbolize);
}

// ---------------------------------------------------------------------------
// Parsing: what is accepted

static void test_comments_blanks_whitespace(void **state) {
    (void)state;
    assert_int_equal(parse("# crossfree suppressions\n"
                           "\n"
                           "   \t\n"
                           "  # indented comment: no rule\n"
                           "alloc-dealloc-mismatch:release_buffer\n"
                           "\t double-free \t:\t ns::f(int) const  \r\n"
                           "invalid-free:*/libpl.so\r\n"
                           "*:main"), // no newline at the end
                     0);
    assert_int_equal(msgs.len, 0);
    assert_int_equal(cf_suppressions_count(), 4);

    // Nothing at all, or only comments.
    reset(NULL);
    assert_int_equal(parse(""), 0);
    assert_int_equal(parse("\n\n#x:y\n"), 0);
    assert_int_equal(cf_suppressions_count(), 0);
}

// The pattern keeps inner spaces and colons; whitespace around the kind
// and the pattern is trimmed (checked by matching, which sees the pattern).
static void test_pattern_text_kept(void **state) {
    (void)state;
    assert_true(
        suppresses("alloc-dealloc-mismatch:  ui::make_buffer(int) const  \n", CF_ERR_MISMATCH));
    assert_true(
        suppresses("  alloc-dealloc-mismatch  :\trelease_buffer(char[*])\t\n", CF_ERR_MISMATCH));
    assert_false(suppresses("alloc-dealloc-mismatch:ui::make_buffer(int)const\n", CF_ERR_MISMATCH));
}

// A pattern of exactly CF_SUPP_PATTERN_MAX bytes is fine.
static void test_longest_pattern(void **state) {
    (void)state;
    char line[CF_SUPP_PATTERN_MAX + 64];
    int n = snprintf(line, sizeof line, "double-free:");
    memset(line + n, 'a', CF_SUPP_PATTERN_MAX);
    line[n + CF_SUPP_PATTERN_MAX] = '\0';
    assert_int_equal(parse(line), 0);
    assert_int_equal(cf_suppressions_count(), 1);
}

// ---------------------------------------------------------------------------
// Parsing: each malformed line names the file and its line number

static void expect_one_problem(const char *text, const char *want) {
    reset(NULL);
    assert_int_equal(parse(text), 1);
    assert_int_equal(count_lines(messages), 1);
    assert_contains(messages, want);
    assert_contains(messages, "; the line is ignored\n");
    char lead[128];
    snprintf(lead, sizeof lead, "==%d==crossfree: error: suppressions file '/etc/cf.supp', line ",
             (int)getpid());
    assert_true(strncmp(messages, lead, strlen(lead)) == 0);
}

static void test_malformed_lines(void **state) {
    (void)state;
    expect_one_problem("# header\nalloc-dealloc-mismatch:ok\nno colon here\n",
                       "'/etc/cf.supp', line 3: expected KIND:PATTERN, found no ':' in "
                       "'no colon here'");
    assert_int_equal(cf_suppressions_count(), 1); // the good line stays

    expect_one_problem("\n\ndouble_free:foo\n", "'/etc/cf.supp', line 3: unknown kind "
                                                "'double_free' (expected alloc-dealloc-mismatch, "
                                                "double-free, invalid-free, "
                                                "new-delete-size-mismatch, "
                                                "new-delete-alignment-mismatch or *)");
    expect_one_problem(":foo\n", "line 1: unknown kind ''");
    expect_one_problem("invalid-free:   \n", "line 1: empty pattern after 'invalid-free'");
    expect_one_problem("\n*:\n", "line 2: empty pattern after '*'");

    char line[CF_SUPP_PATTERN_MAX + 64];
    int n = snprintf(line, sizeof line, "\n\n\n\n*:");
    memset(line + n, 'b', CF_SUPP_PATTERN_MAX + 1);
    line[n + CF_SUPP_PATTERN_MAX + 1] = '\0';
    expect_one_problem(line, "line 5: pattern of 256 bytes is longer than the limit of 255");
    assert_int_equal(cf_suppressions_count(), 0);

    // A NUL byte: the file is not text.
    reset(NULL);
    static const char nul[] = "*:ok\n*:a\0b\n*:fine\n";
    assert_int_equal(cf_suppressions_parse("/etc/cf.supp", nul, sizeof nul - 1, &msgs), 1);
    assert_contains(messages, "line 2: contains a NUL byte");
    assert_int_equal(cf_suppressions_count(), 2);

    // Binary junk is quoted safely.
    expect_one_problem("\x1b[31mred\n", "found no ':' in '?[31mred'");
}

static void test_too_many_rules(void **state) {
    (void)state;
    static char text[CF_SUPP_MAX_RULES * 16 + 64];
    size_t len = 0;
    for (unsigned i = 0; i < CF_SUPP_MAX_RULES; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "*:rule%u\n", i);
    // Lines 257 and 258 would match: they must not be kept.
    len += (size_t)snprintf(text + len, sizeof text - len, "*:main\n*:release_buffer\n");
    assert_int_equal(parse(text), 1);
    assert_int_equal(cf_suppressions_count(), CF_SUPP_MAX_RULES);
    assert_int_equal(count_lines(messages), 1);
    assert_contains(messages, "'/etc/cf.supp', line 257: more than 256 rules; this line and the "
                              "rest of the file are ignored\n");
    cf_error e = make_error(CF_ERR_MISMATCH);
    assert_false(cf_suppressions_match(&e, fake_symbolize));
}

// Many bad lines: the first CF_SUPP_MAX_MESSAGES are described, the rest
// counted in one line.
static void test_message_cap(void **state) {
    (void)state;
    static char text[4096];
    size_t len = 0;
    for (unsigned i = 0; i < CF_SUPP_MAX_MESSAGES + 5; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "bad line %u\n", i);
    len += (size_t)snprintf(text + len, sizeof text - len, "*:good\n");
    assert_int_equal(parse(text), CF_SUPP_MAX_MESSAGES + 5);
    assert_int_equal(count_lines(messages), CF_SUPP_MAX_MESSAGES + 1);
    assert_contains(messages, "line 16: expected");
    assert_contains(messages, "==crossfree: error: suppressions file '/etc/cf.supp': 5 more "
                              "problem(s) not shown");
    assert_int_equal(cf_suppressions_count(), 1);
}

// ---------------------------------------------------------------------------
// Matching

static void test_function_globs_in_each_stack(void **state) {
    (void)state;
    // Deallocation stack.
    // '\' escapes nothing in a glob; "[*]" is a literal star.
    assert_false(suppresses("alloc-dealloc-mismatch:release_buffer(char\\*)\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:release_buffer(char[*])\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:release_buffer\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:release_*\n", CF_ERR_MISMATCH));
    assert_false(suppresses("alloc-dealloc-mismatch:release\n", CF_ERR_MISMATCH));
    assert_false(suppresses("alloc-dealloc-mismatch:buffer\n", CF_ERR_MISMATCH));
    // Allocation stack: with and without the parameter list and qualifier.
    assert_true(suppresses("alloc-dealloc-mismatch:ui::make_buffer\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:ui::*\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:*make_buffer(int) const\n", CF_ERR_MISMATCH));
    assert_false(suppresses("alloc-dealloc-mismatch:ui::make_buffer(int)\n", CF_ERR_MISMATCH));
    // Without its namespaces too, as host_allocators globs (support/names.h).
    assert_true(suppresses("alloc-dealloc-mismatch:make_buffer\n", CF_ERR_MISMATCH));
    // First-free stack: only a double free has one.
    assert_true(suppresses("double-free:plugin_release\n", CF_ERR_DOUBLE_FREE));
    assert_false(suppresses("*:plugin_release\n", CF_ERR_MISMATCH));
    // Invalid frees have only the deallocation stack.
    assert_true(suppresses("invalid-free:main\n", CF_ERR_INVALID_FREE));
    assert_false(suppresses("invalid-free:ui::make_buffer\n", CF_ERR_INVALID_FREE));
}

// The parameter list is the last balanced group: parentheses inside the
// name stay part of it.
static void test_names_with_parentheses(void **state) {
    (void)state;
    static const uintptr_t pcs[] = {PC_ANON, PC_CALL};
    static const char *const match[] = {
        "(anonymous namespace)::drop",
        "(anonymous namespace)::drop(void[*])",
        "*::drop",
        "std::function<void (int)>::operator()",
        "std::function<*>::operator()(int) const",
    };
    static const char *const no_match[] = {
        "(anonymous namespace)",
        "std::function<void (int)>::operator",
        "std::function<void",
    };
    cf_error e = make_error(CF_ERR_INVALID_FREE);
    e.pcs = pcs;
    e.n_pcs = 2;
    char rule[256];
    for (size_t i = 0; i < sizeof match / sizeof match[0]; i++) {
        reset(NULL);
        snprintf(rule, sizeof rule, "invalid-free:%s", match[i]);
        assert_int_equal(parse(rule), 0);
        if (!cf_suppressions_match(&e, fake_symbolize))
            fail_msg("%s did not match", rule);
    }
    for (size_t i = 0; i < sizeof no_match / sizeof no_match[0]; i++) {
        reset(NULL);
        snprintf(rule, sizeof rule, "invalid-free:%s", no_match[i]);
        assert_int_equal(parse(rule), 0);
        if (cf_suppressions_match(&e, fake_symbolize))
            fail_msg("%s matched", rule);
    }
}

static void test_module_globs(void **state) {
    (void)state;
    // Full path or file name, in any stack.
    assert_true(suppresses("alloc-dealloc-mismatch:/opt/app/bin/app\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:/opt/app/*\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:libui.so*\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:*/libui.so.[0-9]\n", CF_ERR_MISMATCH));
    assert_true(suppresses("alloc-dealloc-mismatch:libc.so.6\n", CF_ERR_MISMATCH));
    assert_true(suppresses("double-free:libpl.so\n", CF_ERR_DOUBLE_FREE));
    assert_true(suppresses("double-free:/tmp/plugins/*\n", CF_ERR_DOUBLE_FREE));
    assert_false(suppresses("alloc-dealloc-mismatch:libpl.so\n", CF_ERR_MISMATCH));
    assert_false(suppresses("alloc-dealloc-mismatch:app/bin/app\n", CF_ERR_MISMATCH));
    assert_false(suppresses("invalid-free:libui.so.2\n", CF_ERR_INVALID_FREE));
}

static void test_kinds(void **state) {
    (void)state;
    assert_false(suppresses("double-free:main\n", CF_ERR_MISMATCH));
    assert_false(suppresses("invalid-free:main\n", CF_ERR_MISMATCH));
    assert_false(suppresses("alloc-dealloc-mismatch:main\n", CF_ERR_DOUBLE_FREE));
    assert_true(suppresses("*:main\n", CF_ERR_MISMATCH));
    assert_true(suppresses("*:main\n", CF_ERR_DOUBLE_FREE));
    assert_true(suppresses("*:main\n", CF_ERR_INVALID_FREE));
    assert_true(suppresses("*:*\n", CF_ERR_INVALID_FREE));

    // No rule of the error's kind: nothing is symbolized at all.
    reset(NULL);
    assert_int_equal(parse("double-free:*\ninvalid-free:*\n"), 0);
    sym_calls = 0;
    cf_error e = make_error(CF_ERR_MISMATCH);
    assert_false(cf_suppressions_match(&e, fake_symbolize));
    assert_int_equal(sym_calls, 0);

    // An empty table matches nothing.
    reset(NULL);
    assert_false(cf_suppressions_match(&e, fake_symbolize));
}

// Matching names functions even when reports do not (symbolize=0), and an
// unknown frame or a missing symbolizer matches nothing but globs of "*".
static void test_symbolizes_with_names(void **state) {
    (void)state;
    reset(NULL);
    assert_int_equal(parse("alloc-dealloc-mismatch:nothing_here\n"), 0);
    sym_calls = sym_calls_without_names = 0;
    cf_error e = make_error(CF_ERR_MISMATCH);
    assert_false(cf_suppressions_match(&e, fake_symbolize));
    assert_int_equal(sym_calls, 5); // every frame of both stacks
    assert_int_equal(sym_calls_without_names, 0);

    reset(NULL);
    assert_int_equal(parse("alloc-dealloc-mismatch:main\n"), 0);
    assert_false(cf_suppressions_match(&e, NULL));

    // Frames in no module and no function never match an empty text.
    static const uintptr_t nowhere[] = {PC_NOWHERE};
    e = make_error(CF_ERR_INVALID_FREE);
    e.pcs = nowhere;
    e.n_pcs = 1;
    reset(NULL);
    assert_int_equal(parse("invalid-free:*\n"), 0);
    assert_false(cf_suppressions_match(&e, fake_symbolize));
}

// Hits are counted on the first rule (in file order) that matches the
// earliest frame, and listed for the verbose exit report.
static void test_hits(void **state) {
    (void)state;
    assert_int_equal(parse("double-free:never\n"
                           "*:main\n"
                           "alloc-dealloc-mismatch:release_buffer\n"
                           "alloc-dealloc-mismatch:libui.so.2\n"),
                     0);
    cf_error e = make_error(CF_ERR_MISMATCH);
    assert_true(cf_suppressions_match(&e, fake_symbolize)); // frame #0: release_buffer
    assert_true(cf_suppressions_match(&e, fake_symbolize));
    e = make_error(CF_ERR_INVALID_FREE);
    assert_true(cf_suppressions_match(&e, fake_symbolize)); // frame #1: main
    char used[512];
    cf_buf b;
    cf_buf_init(&b, used, sizeof used);
    cf_suppressions_format_used(&b, "> ");
    assert_string_equal(used, "> 1 *:main (line 2)\n"
                              "> 2 alloc-dealloc-mismatch:release_buffer (line 3)\n");
    // As log lines.
    cf_buf_init(&b, used, sizeof used);
    cf_suppressions_log_used(&b);
    char want[256];
    int pid = (int)getpid();
    snprintf(want, sizeof want,
             "==%d==crossfree:   1 *:main (line 2)\n"
             "==%d==crossfree:   2 alloc-dealloc-mismatch:release_buffer (line 3)\n",
             pid, pid);
    assert_string_equal(used, want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_comments_blanks_whitespace, reset),
        cmocka_unit_test_setup(test_pattern_text_kept, reset),
        cmocka_unit_test_setup(test_longest_pattern, reset),
        cmocka_unit_test_setup(test_malformed_lines, reset),
        cmocka_unit_test_setup(test_too_many_rules, reset),
        cmocka_unit_test_setup(test_message_cap, reset),
        cmocka_unit_test_setup(test_function_globs_in_each_stack, reset),
        cmocka_unit_test_setup(test_names_with_parentheses, reset),
        cmocka_unit_test_setup(test_module_globs, reset),
        cmocka_unit_test_setup(test_kinds, reset),
        cmocka_unit_test_setup(test_symbolizes_with_names, reset),
        cmocka_unit_test_setup(test_hits, reset),
    };
    return cmocka_run_group_tests(tests, setup_depot, NULL);
}
