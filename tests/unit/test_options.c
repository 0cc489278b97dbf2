// SPDX-License-Identifier: MIT
// Unit tests for the option parser: defaults, every key of options.inc,
// value spellings and bounds, and hostile input. Each problem must give one
// warning line naming the key, leave the old value in place and be counted;
// nothing may overflow, whatever the input.
#include "runtime/options.h"

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

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// Big enough for any warning list these tests produce.
static char warn_storage[1 << 16];
static cf_buf warn;
static cf_options opts;

static int reset(void **state) {
    (void)state;
    cf_buf_init(&warn, warn_storage, sizeof warn_storage);
    cf_options_set_defaults(&opts);
    return 0;
}

static int parse(const char *text) {
    cf_buf_init(&warn, warn_storage, sizeof warn_storage);
    return cf_options_parse(&opts, text, &warn);
}

static unsigned count_lines(const char *s) {
    unsigned n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

// Asserts the options equal a fresh set of defaults, byte for byte in every
// field (strings compared as strings).
static void assert_all_defaults(const cf_options *o) {
    cf_options d;
    cf_options_set_defaults(&d);
#define CF_OPTION_BOOL(name, def, doc) assert_int_equal(o->name, d.name);
#define CF_OPTION_INT(name, def, lo, hi, doc) assert_int_equal(o->name, d.name);
#define CF_OPTION_STR(name, def, doc) assert_string_equal(o->name, d.name);
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
}

static void assert_contains(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected to find \"%s\" in:\n%s", needle, haystack);
}

// The one warning a bad value of `key` must produce.
static void assert_one_value_warning(int problems, const char *key, const char *value) {
    char want[256];
    assert_int_equal(problems, 1);
    assert_int_equal(count_lines(warn.data), 1);
    snprintf(want, sizeof want, "crossfree: warning: option '%s' has a malformed value '%s'", key,
             value);
    assert_contains(warn.data, want);
    assert_contains(warn.data, "keeping the default\n");
    assert_false(warn.truncated);
}

// ---------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------

static void test_defaults(void **state) {
    (void)state;
    cf_options o;
    memset(&o, 0x5a, sizeof o);
    cf_options_set_defaults(&o);
    // The documented defaults (docs/options.md; check_options_doc.py ties
    // that file to options.inc).
    assert_true(o.halt_on_error);
    assert_int_equal(o.exitcode, 23);
    assert_string_equal(o.log_path, "stderr");
    assert_int_equal(o.malloc_context_size, 16);
    assert_true(o.symbolize);
    assert_int_equal(o.quarantine_size_mb, 1);
    assert_int_equal(o.verbosity, 0);
    assert_false(o.help);

    // And generically: every field holds the default options.inc gives it.
#define CF_OPTION_BOOL(name, def, doc) assert_int_equal(o.name, (def) != 0);
#define CF_OPTION_INT(name, def, lo, hi, doc) assert_int_equal(o.name, (def));
#define CF_OPTION_STR(name, def, doc) assert_string_equal(o.name, (def));
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
}

static void test_empty_and_null_input(void **state) {
    (void)state;
    assert_int_equal(parse(""), 0);
    assert_int_equal(parse(":: \t\n\r :"), 0);
    assert_int_equal(cf_options_parse(&opts, NULL, &warn), 0);
    assert_int_equal(warn.len, 0);
    assert_all_defaults(&opts);
}

// ---------------------------------------------------------------------------
// Every key with a valid value
// ---------------------------------------------------------------------------

static void test_every_key_valid(void **state) {
    (void)state;
    char text[128];
    unsigned keys = 0;
    // A value different from the default, per kind.
#define CF_OPTION_BOOL(name, def, doc)                                                             \
    reset(NULL);                                                                                   \
    snprintf(text, sizeof text, "%s=%d", #name, (def) ? 0 : 1);                                    \
    assert_int_equal(parse(text), 0);                                                              \
    assert_int_equal(warn.len, 0);                                                                 \
    assert_int_equal(opts.name, !(def));                                                           \
    keys++;
#define CF_OPTION_INT(name, def, lo, hi, doc)                                                      \
    reset(NULL);                                                                                   \
    snprintf(text, sizeof text, "%s=%lld", #name, (long long)((def) == (hi) ? (lo) : (hi)));       \
    assert_int_equal(parse(text), 0);                                                              \
    assert_int_equal(warn.len, 0);                                                                 \
    assert_int_equal(opts.name, (def) == (hi) ? (lo) : (hi));                                      \
    keys++;
#define CF_OPTION_STR(name, def, doc)                                                              \
    reset(NULL);                                                                                   \
    assert_int_equal(parse(#name "=/tmp/crossfree-unit"), 0);                                      \
    assert_int_equal(warn.len, 0);                                                                 \
    assert_string_equal(opts.name, "/tmp/crossfree-unit");                                         \
    keys++;
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
    assert_int_equal(keys, 20); // update with options.inc
}

static void test_all_keys_at_once(void **state) {
    (void)state;
    int problems = parse("halt_on_error=0:exitcode=7:log_path=stdout:malloc_context_size=64:"
                         "symbolize=0:quarantine_size_mb=0:verbosity=3:help=1:"
                         "host_modules=libmyvm*.so=MyVM,vm.node=Node.js");
    assert_int_equal(problems, 0);
    assert_int_equal(warn.len, 0);
    assert_false(opts.halt_on_error);
    assert_int_equal(opts.exitcode, 7);
    assert_string_equal(opts.log_path, "stdout");
    assert_int_equal(opts.malloc_context_size, 64);
    assert_false(opts.symbolize);
    assert_int_equal(opts.quarantine_size_mb, 0);
    assert_int_equal(opts.verbosity, 3);
    assert_true(opts.help);
    // host_modules keeps its value whole: '=' and ',' belong to the value.
    assert_string_equal(opts.host_modules, "libmyvm*.so=MyVM,vm.node=Node.js");
}

// Later settings win: a second parse (CROSSFREE_OPTIONS over an earlier
// source) and a repeated key within one string.
static void test_later_value_wins(void **state) {
    (void)state;
    assert_int_equal(parse("exitcode=1:exitcode=2"), 0);
    assert_int_equal(opts.exitcode, 2);
    assert_int_equal(parse("exitcode=3"), 0);
    assert_int_equal(opts.exitcode, 3);
    assert_int_equal(parse("log_path=/a:log_path=/b"), 0);
    assert_string_equal(opts.log_path, "/b");
    // A rejected value keeps the value set before, not the built-in one.
    assert_int_equal(parse("exitcode=300"), 1);
    assert_int_equal(opts.exitcode, 3);
}

// ---------------------------------------------------------------------------
// Booleans
// ---------------------------------------------------------------------------

static void test_bool_spellings(void **state) {
    (void)state;
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    char text[64];
    for (unsigned i = 0; i < 4; i++) {
        opts.symbolize = false;
        snprintf(text, sizeof text, "symbolize=%s", yes[i]);
        assert_int_equal(parse(text), 0);
        assert_true(opts.symbolize);
        snprintf(text, sizeof text, "symbolize=%s", no[i]);
        assert_int_equal(parse(text), 0);
        assert_false(opts.symbolize);
    }
}

static void test_bool_malformed(void **state) {
    (void)state;
    static const char *const bad[] = {"maybe", "2", "-1", "tru", "truee", "onn", "01", "y"};
    char text[64];
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reset(NULL);
        snprintf(text, sizeof text, "halt_on_error=%s", bad[i]);
        assert_one_value_warning(parse(text), "halt_on_error", bad[i]);
        assert_contains(warn.data, "(expected 0 or 1)");
        assert_true(opts.halt_on_error);
    }
    assert_one_value_warning(parse("halt_on_error="), "halt_on_error", "");
    assert_true(opts.halt_on_error);
}

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

static void test_int_bounds(void **state) {
    (void)state;
    char text[128], value[32], range[128];
    // Each bound is accepted; one past each bound is rejected with the
    // range in the warning, and the value set before stays.
#define REJECTS(name, v)                                                                           \
    snprintf(value, sizeof value, "%lld", (long long)(v));                                         \
    snprintf(text, sizeof text, "%s=%s", #name, value);                                            \
    assert_one_value_warning(parse(text), #name, value);                                           \
    assert_contains(warn.data, range);
#define CF_OPTION_BOOL(name, def, doc)
#define CF_OPTION_STR(name, def, doc)
#define CF_OPTION_INT(name, def, lo, hi, doc)                                                      \
    reset(NULL);                                                                                   \
    snprintf(text, sizeof text, "%s=%lld", #name, (long long)(lo));                                \
    assert_int_equal(parse(text), 0);                                                              \
    assert_int_equal(opts.name, (lo));                                                             \
    snprintf(text, sizeof text, "%s=%lld", #name, (long long)(hi));                                \
    assert_int_equal(parse(text), 0);                                                              \
    assert_int_equal(opts.name, (hi));                                                             \
    snprintf(range, sizeof range, "(expected an integer from %lld to %lld)", (long long)(lo),      \
             (long long)(hi));                                                                     \
    reset(NULL);                                                                                   \
    REJECTS(name, (long long)(lo)-1);                                                              \
    assert_int_equal(opts.name, (def));                                                            \
    REJECTS(name, (long long)(hi) + 1);                                                            \
    assert_int_equal(opts.name, (def));
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
#undef REJECTS
}

// The documented ranges, spelled out, so a changed bound is noticed.
static void test_int_ranges_documented(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int problems;
    } cases[] = {
        {"exitcode=0", 0},
        {"exitcode=255", 0},
        {"exitcode=256", 1},
        {"exitcode=-1", 1},
        {"malloc_context_size=0", 0},
        {"malloc_context_size=64", 0},
        {"malloc_context_size=65", 1},
        {"quarantine_size_mb=4096", 0},
        {"quarantine_size_mb=4097", 1},
        {"verbosity=3", 0},
        {"verbosity=4", 1},
        {"verbosity=-1", 1},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset(NULL);
        if (parse(cases[i].text) != cases[i].problems)
            fail_msg("'%s': expected %d problem(s), warnings: %s", cases[i].text, cases[i].problems,
                     warn.data);
    }
    // Signs and leading zeros are numbers too.
    assert_int_equal(parse("exitcode=+7"), 0);
    assert_int_equal(opts.exitcode, 7);
    assert_int_equal(parse("exitcode=007"), 0);
    assert_int_equal(opts.exitcode, 7);
    assert_int_equal(parse("exitcode=-0"), 0);
    assert_int_equal(opts.exitcode, 0);
}

static void test_int_malformed(void **state) {
    (void)state;
    static const char *const bad[] = {
        "maybe", "",    "12x", "99999999999999999999", "-", "+", "0x10",
        "1.5",   "1e3", "--1", "9223372036854775808"};
    char text[128];
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reset(NULL);
        snprintf(text, sizeof text, "exitcode=%s", bad[i]);
        assert_one_value_warning(parse(text), "exitcode", bad[i]);
        assert_contains(warn.data, "(expected an integer from 0 to 255)");
        assert_int_equal(opts.exitcode, 23);
    }
}

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

static void test_log_path_lengths(void **state) {
    (void)state;
    static char text[4096];
    // 1023 bytes fit (with the NUL): accepted and stored whole.
    memcpy(text, "log_path=", 9);
    memset(text + 9, 'p', 1023);
    text[9 + 1023] = '\0';
    assert_int_equal(parse(text), 0);
    assert_int_equal(strlen(opts.log_path), 1023);
    assert_int_equal(opts.log_path[1022], 'p');

    // 1024 and more: rejected, the old value kept, the warning bounded.
    for (size_t len = 1024; len < 3000; len += 975) {
        reset(NULL);
        memset(text + 9, 'q', len);
        text[9 + len] = '\0';
        assert_int_equal(parse(text), 1);
        assert_string_equal(opts.log_path, "stderr");
        assert_int_equal(count_lines(warn.data), 1);
        assert_contains(warn.data, "option 'log_path' has a malformed value 'qqqq");
        assert_contains(warn.data, "shorter than 1024 bytes");
        assert_true(warn.len < 300); // the value is quoted only in part
    }
    // Empty is rejected too.
    reset(NULL);
    assert_one_value_warning(parse("log_path="), "log_path", "");
    assert_string_equal(opts.log_path, "stderr");
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

static void test_unknown_key(void **state) {
    (void)state;
    assert_int_equal(parse("halt_on_eror=0"), 1);
    assert_int_equal(count_lines(warn.data), 1);
    assert_contains(warn.data, "crossfree: warning: unknown option 'halt_on_eror' ignored");
    assert_contains(warn.data, "valid options: ");
    // The warning lists every valid key.
#define CF_OPTION_BOOL(name, def, doc) assert_contains(warn.data, #name);
#define CF_OPTION_INT(name, def, lo, hi, doc) assert_contains(warn.data, #name);
#define CF_OPTION_STR(name, def, doc) assert_contains(warn.data, #name);
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
    // ... in options.inc order, comma-separated, ending the line.
    char list[512] = "valid options: ";
    const char *sep = "";
#define CF_OPTION_BOOL(name, def, doc) strcat(list, sep), strcat(list, #name), sep = ", ";
#define CF_OPTION_INT(name, def, lo, hi, doc) CF_OPTION_BOOL(name, def, doc)
#define CF_OPTION_STR(name, def, doc) CF_OPTION_BOOL(name, def, doc)
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
    strcat(list, "\n");
    assert_contains(warn.data, list);
    assert_all_defaults(&opts);

    // Prefixes, suffixes and case variants of real keys are unknown keys.
    static const char *const near[] = {"exit", "exitcodes", "exitcode_", "_help"};
    char text[64];
    for (unsigned i = 0; i < sizeof near / sizeof near[0]; i++) {
        snprintf(text, sizeof text, "%s=1", near[i]);
        assert_int_equal(parse(text), 1);
        snprintf(text, sizeof text, "unknown option '%s' ignored", near[i]);
        assert_contains(warn.data, text);
    }
    assert_all_defaults(&opts);
}

// An unknown key does not stop the parse: the options around it apply.
static void test_unknown_key_then_go_on(void **state) {
    (void)state;
    assert_int_equal(parse("exitcode=5:bogus=1:verbosity=2:also_bogus:symbolize=0"), 2);
    assert_int_equal(count_lines(warn.data), 2);
    assert_contains(warn.data, "unknown option 'bogus'");
    assert_contains(warn.data, "unknown option 'also_bogus'");
    assert_int_equal(opts.exitcode, 5);
    assert_int_equal(opts.verbosity, 2);
    assert_false(opts.symbolize);
}

static void test_key_without_value(void **state) {
    (void)state;
    // A known key without '=' is a malformed (missing) value.
    assert_one_value_warning(parse("halt_on_error"), "halt_on_error", "");
    assert_true(opts.halt_on_error);
    assert_one_value_warning(parse("exitcode"), "exitcode", "");
    assert_int_equal(opts.exitcode, 23);
    assert_one_value_warning(parse("log_path"), "log_path", "");
    assert_string_equal(opts.log_path, "stderr");
    // The next pair still applies.
    assert_int_equal(parse("verbosity:exitcode=9"), 1);
    assert_int_equal(opts.exitcode, 9);
    assert_int_equal(opts.verbosity, 0);
}

static void test_empty_name(void **state) {
    (void)state;
    assert_int_equal(parse("=5"), 1);
    assert_int_equal(count_lines(warn.data), 1);
    assert_contains(warn.data, "crossfree: warning: option without a name ('=5') ignored\n");
    assert_int_equal(parse("exitcode=4:=:=x verbosity=1"), 2);
    assert_int_equal(count_lines(warn.data), 2);
    assert_int_equal(opts.exitcode, 4);
    assert_int_equal(opts.verbosity, 1);
}

static void test_separators(void **state) {
    (void)state;
    int problems =
        parse("  halt_on_error=0:exitcode=7 verbosity=2\tsymbolize=off\nhelp=yes\r::log_path=x: ");
    assert_int_equal(problems, 0);
    assert_int_equal(warn.len, 0);
    assert_false(opts.halt_on_error);
    assert_int_equal(opts.exitcode, 7);
    assert_int_equal(opts.verbosity, 2);
    assert_false(opts.symbolize);
    assert_true(opts.help);
    assert_string_equal(opts.log_path, "x");
    // A Windows drive letter keeps its colon; the next ':' still separates.
    assert_int_equal(parse("log_path=C:\\logs\\cf:exitcode=3"), 0);
    assert_string_equal(opts.log_path, "C:\\logs\\cf");
    assert_int_equal(opts.exitcode, 3);
    assert_int_equal(parse("log_path=d:/x"), 0);
    assert_string_equal(opts.log_path, "d:/x");
    // A value ends at the first separator: "a b" is the value "a" and a key "b".
    assert_int_equal(parse("log_path=/tmp/a b"), 1);
    assert_string_equal(opts.log_path, "/tmp/a");
    assert_contains(warn.data, "unknown option 'b'");
}

// ---------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------

static uint64_t rng_next(uint64_t *s) {
    *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return *s >> 33;
}

static void assert_in_ranges(const cf_options *o) {
#define CF_OPTION_BOOL(name, def, doc) assert_true(o->name == true || o->name == false);
#define CF_OPTION_INT(name, def, lo, hi, doc) assert_in_range(o->name, (lo), (hi));
#define CF_OPTION_STR(name, def, doc)                                                              \
    assert_non_null(memchr(o->name, '\0', sizeof o->name));                                        \
    assert_true(o->name[0] != '\0' || (def)[0] == '\0');
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
}

static void test_hostile_100k(void **state) {
    (void)state;
    enum { SIZE = 100 * 1024 };
    static const char *const pieces[] = {
        "=",          ":",     " ",      "\t", "log_path=", "exitcode=", "halt_on_error=",
        "verbosity=", "=====", "999999", "-",  "\xff\xfe",  "%s%n%x",    "\\",
        "'"};
    char *text = malloc(SIZE + 1);
    assert_non_null(text);
    uint64_t seed = 42;
    for (unsigned round = 0; round < 4; round++) {
        size_t n = 0;
        while (n < SIZE) {
            uint64_t r = rng_next(&seed);
            if (round == 0) {
                text[n++] = (char)(1 + r % 255); // any byte but NUL
            } else if (round == 1) {
                const char *p = pieces[r % (sizeof pieces / sizeof pieces[0])];
                while (*p != '\0' && n < SIZE)
                    text[n++] = *p++;
            } else if (round == 2) {
                text[n++] = 'k'; // one enormous key
            } else {
                // one enormous value for a string option
                static const char key[] = "log_path=";
                text[n] = n < sizeof key - 1 ? key[n] : 'v';
                n++;
            }
        }
        text[SIZE] = '\0';

        // A small warning buffer placed in the middle of a guarded area.
        char area[1024 + 512 + 1024];
        memset(area, 0x77, sizeof area);
        cf_buf small;
        cf_buf_init(&small, area + 1024, 512);
        cf_options_set_defaults(&opts);
        int problems = cf_options_parse(&opts, text, &small);
        assert_true(problems > 0);
        assert_true(small.len < 512);
        assert_int_equal(small.data[small.len], '\0');
        for (size_t i = 0; i < 1024; i++) {
            assert_int_equal((unsigned char)area[i], 0x77);
            assert_int_equal((unsigned char)area[1024 + 512 + i], 0x77);
        }
        assert_in_ranges(&opts);
        if (round >= 2) {
            assert_int_equal(problems, 1);
            assert_all_defaults(&opts);
        }
        if (round == 0 || round == 1)
            assert_true(small.truncated);
    }
    free(text);
}

// With room for all of them, there is exactly one line per problem.
static void test_one_line_per_problem(void **state) {
    (void)state;
    int problems = parse("a=1:exitcode=x:=3:halt_on_error=maybe:log_path=:verbosity=9:ok");
    assert_int_equal(problems, 7);
    assert_int_equal(count_lines(warn.data), 7);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "==%d==crossfree: warning: ", (int)getpid());
    const char *p = warn.data;
    for (int i = 0; i < problems; i++) {
        assert_int_equal(strncmp(p, prefix, strlen(prefix)), 0);
        p = strchr(p, '\n') + 1;
    }
    assert_int_equal(*p, '\0');
    assert_all_defaults(&opts);
}

// ---------------------------------------------------------------------------
// Help
// ---------------------------------------------------------------------------

static void test_help_text(void **state) {
    (void)state;
    static char storage[8192];
    cf_buf out;
    char want[256];
    cf_buf_init(&out, storage, sizeof storage);
    cf_options_help(&out);
    assert_false(out.truncated);
    assert_contains(out.data, "CROSSFREE_OPTIONS");
    // One line per option, "  name=default  doc".
#define CF_OPTION_BOOL(name, def, doc)                                                             \
    snprintf(want, sizeof want, "  %s=%d  ", #name, (def) != 0);                                   \
    assert_contains(out.data, want);                                                               \
    assert_contains(out.data, doc "\n");
#define CF_OPTION_INT(name, def, lo, hi, doc)                                                      \
    snprintf(want, sizeof want, "  %s=%lld  ", #name, (long long)(def));                           \
    assert_contains(out.data, want);                                                               \
    assert_contains(out.data, doc "\n");
#define CF_OPTION_STR(name, def, doc)                                                              \
    snprintf(want, sizeof want, "  %s=%s  ", #name, def);                                          \
    assert_contains(out.data, want);                                                               \
    assert_contains(out.data, doc "\n");
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
    assert_int_equal(count_lines(out.data), 1 + 20);
    assert_contains(out.data, "  exitcode=23  ");
    assert_contains(out.data, "  log_path=stderr  ");

    // Into a tiny buffer: truncated, terminated, nothing written past it.
    char area[64];
    memset(area, 0x33, sizeof area);
    cf_buf_init(&out, area, 16);
    cf_options_help(&out);
    assert_true(out.truncated);
    assert_int_equal(out.len, 15);
    assert_int_equal(area[15], '\0');
    for (size_t i = 16; i < sizeof area; i++)
        assert_int_equal(area[i], 0x33);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, reset),
        cmocka_unit_test_setup(test_empty_and_null_input, reset),
        cmocka_unit_test_setup(test_every_key_valid, reset),
        cmocka_unit_test_setup(test_all_keys_at_once, reset),
        cmocka_unit_test_setup(test_later_value_wins, reset),
        cmocka_unit_test_setup(test_bool_spellings, reset),
        cmocka_unit_test_setup(test_bool_malformed, reset),
        cmocka_unit_test_setup(test_int_bounds, reset),
        cmocka_unit_test_setup(test_int_ranges_documented, reset),
        cmocka_unit_test_setup(test_int_malformed, reset),
        cmocka_unit_test_setup(test_log_path_lengths, reset),
        cmocka_unit_test_setup(test_unknown_key, reset),
        cmocka_unit_test_setup(test_unknown_key_then_go_on, reset),
        cmocka_unit_test_setup(test_key_without_value, reset),
        cmocka_unit_test_setup(test_empty_name, reset),
        cmocka_unit_test_setup(test_separators, reset),
        cmocka_unit_test_setup(test_hostile_100k, reset),
        cmocka_unit_test_setup(test_one_line_per_problem, reset),
        cmocka_unit_test_setup(test_help_text, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
