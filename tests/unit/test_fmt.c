// SPDX-License-Identifier: MIT
// Unit tests for the bounded text buffer and its helpers: number formatting
// at the edges of each type, truncation that never writes past the buffer,
// cf_buf_printf against the C library's printf and outside its subset,
// decimal parsing at the int64 bounds, and JSON string escaping.
#include "support/fmt.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "alloc_counter.h"

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

static char storage[256];
static cf_buf buf;

static int reset(void **state) {
    (void)state;
    memset(storage, 0x7e, sizeof storage);
    cf_buf_init(&buf, storage, sizeof storage);
    return 0;
}

static void assert_buf(const char *want) {
    assert_string_equal(buf.data, want);
    assert_int_equal(buf.len, strlen(want));
    assert_false(buf.truncated);
}

static bool parses(const char *s, int64_t *out) { return cf_parse_i64(s, strlen(s), out); }

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

static void test_dec(void **state) {
    (void)state;
    cf_buf_dec(&buf, 0);
    assert_buf("0");
    reset(NULL);
    cf_buf_dec(&buf, UINT64_MAX);
    assert_buf("18446744073709551615");
    reset(NULL);
    cf_buf_dec(&buf, 10);
    cf_buf_char(&buf, ' ');
    cf_buf_dec(&buf, 9);
    cf_buf_char(&buf, ' ');
    cf_buf_dec(&buf, 1000000007);
    assert_buf("10 9 1000000007");
}

static void test_sdec(void **state) {
    (void)state;
    cf_buf_sdec(&buf, 0);
    assert_buf("0");
    reset(NULL);
    cf_buf_sdec(&buf, INT64_MIN);
    assert_buf("-9223372036854775808");
    reset(NULL);
    cf_buf_sdec(&buf, INT64_MAX);
    assert_buf("9223372036854775807");
    reset(NULL);
    cf_buf_sdec(&buf, -1);
    cf_buf_char(&buf, ' ');
    cf_buf_sdec(&buf, -10);
    cf_buf_char(&buf, ' ');
    cf_buf_sdec(&buf, INT64_MIN + 1);
    assert_buf("-1 -10 -9223372036854775807");
}

static void test_hex(void **state) {
    (void)state;
    cf_buf_hex(&buf, 0);
    assert_buf("0x0");
    reset(NULL);
    cf_buf_hex(&buf, UINT64_MAX);
    assert_buf("0xffffffffffffffff");
    reset(NULL);
    cf_buf_hex(&buf, 0xABCDEF);
    cf_buf_char(&buf, ' ');
    cf_buf_hex(&buf, 0x10);
    cf_buf_char(&buf, ' ');
    cf_buf_hex(&buf, (uint64_t)1 << 63);
    assert_buf("0xabcdef 0x10 0x8000000000000000");
}

// ---------------------------------------------------------------------------
// Strings and truncation
// ---------------------------------------------------------------------------

static void test_str_and_strn(void **state) {
    (void)state;
    cf_buf_str(&buf, "abc");
    cf_buf_strn(&buf, "defgh", 2);
    cf_buf_strn(&buf, "xy", 10); // stops at the NUL, not at n
    cf_buf_strn(&buf, "zzz", 0);
    cf_buf_str(&buf, "");
    assert_buf("abcdexy");
    reset(NULL);
    cf_buf_str(&buf, NULL);
    assert_buf("(null)");
}

static void test_truncation(void **state) {
    (void)state;
    char area[32];
    cf_buf b;

    // cap 5 holds 4 characters and the NUL.
    memset(area, 0x41, sizeof area);
    cf_buf_init(&b, area, 5);
    cf_buf_str(&b, "hello world");
    assert_true(b.truncated);
    assert_int_equal(b.len, 4);
    assert_string_equal(area, "hell");
    for (size_t i = 5; i < sizeof area; i++)
        assert_int_equal(area[i], 0x41);

    // Exactly full is not truncated; one more character is.
    memset(area, 0x41, sizeof area);
    cf_buf_init(&b, area, 5);
    cf_buf_str(&b, "abcd");
    assert_false(b.truncated);
    cf_buf_char(&b, 'e');
    assert_true(b.truncated);
    assert_string_equal(area, "abcd");
    assert_int_equal(area[5], 0x41);

    // Numbers are cut at the buffer end too, most significant digits first.
    memset(area, 0x41, sizeof area);
    cf_buf_init(&b, area, 4);
    cf_buf_dec(&b, 12345);
    assert_true(b.truncated);
    assert_string_equal(area, "123");
    cf_buf_init(&b, area, 4);
    cf_buf_hex(&b, 0xabcdef);
    assert_true(b.truncated);
    assert_string_equal(area, "0xa");
    cf_buf_init(&b, area, 3);
    cf_buf_sdec(&b, INT64_MIN);
    assert_true(b.truncated);
    assert_string_equal(area, "-9");
    for (size_t i = 4; i < sizeof area; i++)
        assert_int_equal(area[i], 0x41);

    // cap 1: room for the NUL only.
    cf_buf_init(&b, area, 1);
    assert_int_equal(area[0], '\0');
    cf_buf_char(&b, 'x');
    assert_true(b.truncated);
    assert_int_equal(b.len, 0);
    assert_int_equal(area[0], '\0');
    assert_int_equal(area[1], '9'); // left from before: untouched

    // cap 0: no storage at all, nothing is ever written.
    cf_buf_init(&b, NULL, 0);
    cf_buf_str(&b, "text");
    cf_buf_dec(&b, 42);
    cf_buf_json_str(&b, "\"");
    assert_true(b.truncated);
    assert_int_equal(b.len, 0);
}

// ---------------------------------------------------------------------------
// cf_buf_printf
// ---------------------------------------------------------------------------

// Formats with both cf_buf_printf and the C library and compares: inside
// the subset the two must agree byte for byte.
#define SAME_AS_LIBC(...)                                                                          \
    do {                                                                                           \
        char want_[256];                                                                           \
        snprintf(want_, sizeof want_, __VA_ARGS__);                                                \
        reset(NULL);                                                                               \
        cf_buf_printf(&buf, __VA_ARGS__);                                                          \
        assert_buf(want_);                                                                         \
    } while (0)

static void test_printf_like_libc(void **state) {
    (void)state;
    SAME_AS_LIBC("plain text, no directive");
    SAME_AS_LIBC("%d %i %d %d", 0, -1, INT32_MAX, INT32_MIN);
    SAME_AS_LIBC("%u %u", 0u, UINT32_MAX);
    SAME_AS_LIBC("%ld %lu %li", (long)INT64_MIN, (unsigned long)UINT64_MAX, -5L);
    SAME_AS_LIBC("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
    SAME_AS_LIBC("%zu %zd %zx", (size_t)SIZE_MAX, (ptrdiff_t)-7, (size_t)0xbeef);
    SAME_AS_LIBC("%x %lx %llx", 0xdeadu, 0xabcdef01UL, (unsigned long long)UINT64_MAX);
    SAME_AS_LIBC("[%5d] [%-5d] [%05d] [%05d] [%2d]", 42, 42, 42, -42, 12345);
    SAME_AS_LIBC("[%8x] [%08x] [%-8x] [%1x]", 0xabu, 0xabu, 0xabu, 0xabcu);
    SAME_AS_LIBC("[%s] [%10s] [%-10s] [%.2s] [%8.3s] [%-8.3s] [%.0s]", "abc", "abc", "abc", "abc",
                 "abcdef", "abcdef", "abc");
    SAME_AS_LIBC("[%.*s] [%*s] [%-*s] [%*d]", 3, "abcdef", 6, "ab", 6, "ab", -6, 7);
    SAME_AS_LIBC("[%c%c] [%3c] [%-3c]", 'o', 'k', 'x', 'y');
    SAME_AS_LIBC("100%% %s%%", "sure");
    SAME_AS_LIBC("%s", "");
    SAME_AS_LIBC("%.*s", -1, "negative precision: none"); // as if none was given
}

// Calls cf_buf_vprintf with a format the compiler cannot check (and so
// cannot refuse): the directives outside the subset, on purpose.
static void vprintf_helper(cf_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cf_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static void test_printf_own_choices(void **state) {
    (void)state;
    // %p is cf_buf_hex: "0x" and lowercase digits, 0x0 for NULL (glibc
    // prints "(nil)").
    cf_buf_printf(&buf, "%p %p %p", (void *)0x7f00dead, (void *)0, (void *)UINTPTR_MAX);
    assert_buf("0x7f00dead 0x0 0xffffffffffffffff");
    reset(NULL);
    cf_buf_printf(&buf, "[%14p] [%-14p]", (void *)0xabc, (void *)0xabc);
    assert_buf("[         0xabc] [0xabc         ]");
    // '0' with '-': the '-' wins, as in C.
    reset(NULL);
    vprintf_helper(&buf, "[%-05d] [%014p]", 42, (void *)0xabc);
    assert_buf("[42   ] [0x000000000abc]");
    // %s of NULL, with a precision too.
    reset(NULL);
    vprintf_helper(&buf, "%s|%.3s", (const char *)NULL, (const char *)NULL);
    assert_buf("(null)|(nu");
    // A precision reads no further than it says: the bytes need no NUL.
    reset(NULL);
    const char unterminated[4] = {'w', 'x', 'y', 'z'};
    cf_buf_printf(&buf, "%.*s", 4, unterminated);
    assert_buf("wxyz");
    // %c of a NUL puts the byte in the buffer.
    reset(NULL);
    cf_buf_printf(&buf, "a%cb", '\0');
    assert_int_equal(buf.len, 3);
    assert_memory_equal(buf.data, "a\0b", 4);
    // Appends to what the buffer holds.
    reset(NULL);
    cf_buf_str(&buf, "x=");
    cf_buf_printf(&buf, "%d", 1);
    cf_buf_printf(&buf, ", y=%s", "2");
    assert_buf("x=1, y=2");
}

// Directives outside the subset print "%!", the directive and the rest of
// the format, and read no argument from there on.
static void test_printf_outside_subset(void **state) {
    (void)state;
    static const struct {
        const char *fmt;
        const char *want;
    } cases[] = {
        {"pi=%f, then %s", "pi=%!f, then %s"},
        {"%X", "%!X"},
        {"%hd and %d", "%!hd and %d"},
        {"%#x", "%!#x"},
        {"%+d", "%!+d"},
        {"% d", "%! d"},
        {"%.3d", "%!.3d"},
        {"%lc", "%!lc"},
        {"%zs", "%!zs"},
        {"%.2p", "%!.2p"},
        {"%o", "%!o"},
        {"%n", "%!n"},
        {"%jd", "%!jd"},
        {"tail %", "tail %!"},
        {"tail %-08", "tail %!-08"},
        {"%lll", "%!lll"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset(NULL);
        vprintf_helper(&buf, cases[i].fmt, 1, 2, 3);
        if (strcmp(buf.data, cases[i].want) != 0)
            fail_msg("format \"%s\": got \"%s\", want \"%s\"", cases[i].fmt, buf.data,
                     cases[i].want);
    }
    // What came before the unknown directive is formatted as usual.
    reset(NULL);
    vprintf_helper(&buf, "%s=%d %q %s", "n", 5, "never read");
    assert_buf("n=5 %!q %s");
}

static void test_printf_truncation(void **state) {
    (void)state;
    char area[64];
    cf_buf b;
    // Every directive is cut at the buffer end; nothing past it is written.
    static const char *const fmts[] = {"%s-%d", "%10s|", "%-10s|", "%08x", "%p", "%c%c%c%c%c"};
    for (size_t cap = 1; cap <= 12; cap++) {
        for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
            char want[128];
            memset(area, 0x41, sizeof area);
            cf_buf_init(&b, area, cap);
            switch (f) {
            case 0:
                cf_buf_printf(&b, "%s-%d", "abcdef", -12345);
                snprintf(want, sizeof want, "%s-%d", "abcdef", -12345);
                break;
            case 1:
                cf_buf_printf(&b, "%10s|", "ab");
                snprintf(want, sizeof want, "%10s|", "ab");
                break;
            case 2:
                cf_buf_printf(&b, "%-10s|", "ab");
                snprintf(want, sizeof want, "%-10s|", "ab");
                break;
            case 3:
                cf_buf_printf(&b, "%08x", 0xabcu);
                snprintf(want, sizeof want, "%08x", 0xabcu);
                break;
            case 4:
                cf_buf_printf(&b, "%p", (void *)0x123456789);
                snprintf(want, sizeof want, "0x%llx", 0x123456789ULL);
                break;
            default:
                cf_buf_printf(&b, "%c%c%c%c%c", 'v', 'w', 'x', 'y', 'z');
                snprintf(want, sizeof want, "vwxyz");
                break;
            }
            size_t full = strlen(want);
            assert_int_equal(b.truncated, full > cap - 1);
            assert_int_equal(b.len, full < cap - 1 ? full : cap - 1);
            assert_memory_equal(area, want, b.len);
            assert_int_equal(area[b.len], '\0');
            for (size_t i = cap; i < sizeof area; i++)
                assert_int_equal(area[i], 0x41);
        }
    }
    // A huge width costs nothing once the buffer is full.
    cf_buf_init(&b, area, 8);
    volatile int huge = 1 << 30; // volatile: the compiler would warn about the total
    cf_buf_printf(&b, "%*d|%*s", huge, 1, huge, "x");
    assert_true(b.truncated);
    assert_int_equal(b.len, 7);
    // cap 0: nothing is ever written.
    cf_buf_init(&b, NULL, 0);
    cf_buf_printf(&b, "%s %d %p", "x", 1, (void *)&b);
    assert_true(b.truncated);
    assert_int_equal(b.len, 0);
}

#if CF_TEST_COUNTS_ALLOCS
// cf_buf_printf runs inside malloc and free: it must never call them.
static void test_printf_no_malloc(void **state) {
    (void)state;
    char area[4096];
    cf_buf b;
    cf_buf_init(&b, area, sizeof area);
    cf_test_alloc_count_start();
    for (int i = 0; i < 100; i++) {
        cf_buf_printf(&b, "%s %.*s %c %d %i %u %ld %lu %lld %llu %zu %zd %x %lx %llx %zx %p %%\n",
                      "s", 2, "prec", 'c', -1, 2, 3u, -4L, 5UL, -6LL, 7ULL, (size_t)8,
                      (ptrdiff_t)-9, 10u, 11UL, 12ULL, (size_t)13, (void *)&b);
        cf_buf_printf(&b, "%-20s|%020d|%*s|%-*d", "left", i, 12, "right", 5, i);
    }
    vprintf_helper(&b, "%f %s", 1.0, "x");
    unsigned long calls = cf_test_alloc_count_stop();
    assert_int_equal(calls, 0);
    assert_true(b.truncated);
}
#endif

// ---------------------------------------------------------------------------
// JSON escaping
// ---------------------------------------------------------------------------

static void test_json_escaping(void **state) {
    (void)state;
    cf_buf_json_str(&buf, "plain text / ok");
    assert_buf("plain text / ok");

    reset(NULL);
    cf_buf_json_str(&buf, "say \"hi\" \\ bye");
    assert_buf("say \\\"hi\\\" \\\\ bye");

    reset(NULL);
    cf_buf_json_str(&buf, "a\nb\tc\rd\be\ff");
    assert_buf("a\\nb\\tc\\u000dd\\u0008e\\u000cf");

    reset(NULL);
    cf_buf_json_str(&buf, "\x01\x1f\x7f");
    assert_buf("\\u0001\\u001f\x7f"); // DEL needs no escape in JSON

    // Bytes of UTF-8 pass through unchanged (they are >= 0x80).
    reset(NULL);
    cf_buf_json_str(&buf, "caf\xc3\xa9 \xe2\x82\xac");
    assert_buf("caf\xc3\xa9 \xe2\x82\xac");

    // Bytes that are not UTF-8 become \u00XX, each on its own: stray
    // continuation bytes, Latin-1, truncated sequences, overlong forms,
    // surrogates and code points above U+10FFFF.
    reset(NULL);
    cf_buf_json_str(&buf, "/tmp/caf\xe9/\x80x\xff");
    assert_buf("/tmp/caf\\u00e9/\\u0080x\\u00ff");

    reset(NULL);
    cf_buf_json_str(&buf, "a\xe2\x82");
    assert_buf("a\\u00e2\\u0082");

    reset(NULL);
    cf_buf_json_str(&buf, "\xc0\xaf|\xe0\x80\xaf|\xed\xa0\x80|\xf4\x90\x80\x80");
    assert_buf("\\u00c0\\u00af|\\u00e0\\u0080\\u00af|\\u00ed\\u00a0\\u0080|"
               "\\u00f4\\u0090\\u0080\\u0080");

    // The largest code points of each length are still valid.
    reset(NULL);
    cf_buf_json_str(&buf, "\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf\xf0\x90\x80\x80");
    assert_buf("\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf\xf0\x90\x80\x80");

    reset(NULL);
    cf_buf_json_str(&buf, NULL);
    cf_buf_json_str(&buf, "");
    assert_buf("");
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

static void test_parse_i64_valid(void **state) {
    (void)state;
    int64_t v = 99;
    assert_true(parses("0", &v));
    assert_int_equal(v, 0);
    assert_true(parses("-0", &v));
    assert_int_equal(v, 0);
    assert_true(parses("+42", &v));
    assert_int_equal(v, 42);
    assert_true(parses("-42", &v));
    assert_int_equal(v, -42);
    assert_true(parses("000000000000000000000000000000007", &v));
    assert_int_equal(v, 7);
    assert_true(parses("9223372036854775807", &v));
    assert_true(v == INT64_MAX);
    assert_true(parses("-9223372036854775807", &v));
    assert_true(v == -INT64_MAX);
    assert_true(parses("-9223372036854775808", &v));
    assert_true(v == INT64_MIN);
    // Only [s, s+n) is read: the rest of the string does not matter.
    assert_true(cf_parse_i64("12345", 3, &v));
    assert_int_equal(v, 123);
    assert_true(cf_parse_i64("7x", 1, &v));
    assert_int_equal(v, 7);
}

static void test_parse_i64_invalid(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "-",
        "+",
        "--1",
        "+-1",
        " 1",
        "1 ",
        "12x",
        "x12",
        "1.0",
        "0x10",
        "1e3",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999",
        "18446744073709551616",
        "184467440737095516160",
        "-99999999999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 1234;
        if (parses(bad[i], &v))
            fail_msg("\"%s\" parsed as %lld", bad[i], (long long)v);
        assert_int_equal(v, 1234); // untouched on failure
    }
    int64_t v = 5;
    assert_false(cf_parse_i64("123", 0, &v));
    assert_int_equal(v, 5);
}

// ---------------------------------------------------------------------------
// String helpers
// ---------------------------------------------------------------------------

static void test_string_helpers(void **state) {
    (void)state;
    assert_int_equal(cf_strlen(""), 0);
    assert_int_equal(cf_strlen("crossfree"), 9);

    assert_int_equal(cf_strcmp("abc", "abc"), 0);
    assert_true(cf_strcmp("abc", "abd") < 0);
    assert_true(cf_strcmp("abd", "abc") > 0);
    assert_true(cf_strcmp("ab", "abc") < 0);
    assert_true(cf_strcmp("abc", "ab") > 0);
    assert_true(cf_strcmp("\xff", "a") > 0); // bytes compare unsigned

    assert_true(cf_streqn("abcdef", "abcxyz", 3));
    assert_false(cf_streqn("abcdef", "abcxyz", 4));
    assert_false(cf_streqn("ab", "abc", 3));
    assert_true(cf_streqn("ab", "ab", 10)); // equal up to the NUL
    assert_true(cf_streqn("x", "y", 0));

    char dst[8];
    memset(dst, 0x55, sizeof dst);
    cf_strlcpy(dst, "truncate me", 5);
    assert_string_equal(dst, "trun");
    assert_int_equal(dst[5], 0x55);
    cf_strlcpy(dst, "ok", sizeof dst);
    assert_string_equal(dst, "ok");
    cf_strlcpy(dst, "", sizeof dst);
    assert_string_equal(dst, "");
    cf_strlcpy(dst, NULL, sizeof dst);
    assert_string_equal(dst, "");
    memset(dst, 0x55, sizeof dst);
    cf_strlcpy(dst, "abc", 1);
    assert_int_equal(dst[0], '\0');
    assert_int_equal(dst[1], 0x55);
    cf_strlcpy(dst, "abc", 0); // nothing written at all
    assert_int_equal(dst[0], '\0');
    assert_int_equal(dst[1], 0x55);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_dec, reset),
        cmocka_unit_test_setup(test_sdec, reset),
        cmocka_unit_test_setup(test_hex, reset),
        cmocka_unit_test_setup(test_str_and_strn, reset),
        cmocka_unit_test_setup(test_truncation, reset),
        cmocka_unit_test_setup(test_printf_like_libc, reset),
        cmocka_unit_test_setup(test_printf_own_choices, reset),
        cmocka_unit_test_setup(test_printf_outside_subset, reset),
        cmocka_unit_test_setup(test_printf_truncation, reset),
#if CF_TEST_COUNTS_ALLOCS
        cmocka_unit_test_setup(test_printf_no_malloc, reset),
#endif
        cmocka_unit_test_setup(test_json_escaping, reset),
        cmocka_unit_test_setup(test_parse_i64_valid, reset),
        cmocka_unit_test_setup(test_parse_i64_invalid, reset),
        cmocka_unit_test_setup(test_string_helpers, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
