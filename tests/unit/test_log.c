// SPDX-License-Identifier: MIT
// Unit tests for crossfree's own lines (support/log.h): the one prefix of
// each level, lines appended whole or cut with "..." but always ended,
// the descriptor the runtime sets, and no allocation on the way.
#include "support/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>

#include "alloc_counter.h"

// "==PID==crossfree: " for this process.
static const char *prefix(void) {
    static char p[64];
    snprintf(p, sizeof p, "==%d==crossfree: ", (int)getpid());
    return p;
}

static void assert_text(const char *got, const char *want_after_prefixes) {
    // want uses '@' for the prefix.
    char want[2048];
    size_t n = 0;
    for (const char *w = want_after_prefixes; *w != '\0' && n + 64 < sizeof want; w++) {
        if (*w == '@') {
            n += (size_t)snprintf(want + n, sizeof want - n, "%s", prefix());
        } else {
            want[n++] = *w;
        }
    }
    want[n] = '\0';
    assert_string_equal(got, want);
}

static void test_levels(void **state) {
    (void)state;
    char s[512];
    cf_buf b;
    cf_buf_init(&b, s, sizeof s);
    cf_log_append(&b, CF_LOG_WARNING, "option '%s' has a malformed value '%s'", "k", "v");
    cf_log_append(&b, CF_LOG_ERROR, "cannot read '%s'", "/x");
    cf_log_append(&b, CF_LOG_NOTE, "%d error(s) reported", 3);
    assert_false(b.truncated);
    assert_text(s, "@warning: option 'k' has a malformed value 'v'\n"
                   "@error: cannot read '/x'\n"
                   "@3 error(s) reported\n");
}

// Whatever the room left, what is appended is whole lines, or one line
// cut with "..." and ended; nothing is written past the buffer.
static void test_cut_lines(void **state) {
    (void)state;
    size_t plen = strlen(prefix()) + strlen("warning: ");
    for (size_t cap = 0; cap < plen + 40; cap++) {
        char area[256];
        memset(area, 0x41, sizeof area);
        cf_buf b;
        cf_buf_init(&b, cap > 0 ? area : NULL, cap);
        cf_log_append(&b, CF_LOG_WARNING, "%s", "0123456789abcdefghij");
        size_t whole = plen + 21;
        if (cap > whole) {
            assert_false(b.truncated);
            assert_int_equal(b.len, whole);
        } else {
            assert_true(b.truncated);
        }
        if (cap <= plen + 1) {
            assert_int_equal(b.len, 0); // no room for the prefix: nothing
        } else {
            assert_int_equal(b.data[b.len - 1], '\n');
            assert_int_equal(strncmp(b.data, prefix(), strlen(prefix())), 0);
            if (b.truncated && b.len >= plen + 4)
                assert_memory_equal(b.data + b.len - 4, "...\n", 4);
        }
        if (cap > 0)
            assert_int_equal(area[b.len], '\0');
        for (size_t i = cap; i < sizeof area; i++)
            assert_int_equal((unsigned char)area[i], 0x41);
    }
}

// A full buffer stays truncated: later lines are not appended and do not
// clear the flag.
static void test_full_buffer_stays_truncated(void **state) {
    (void)state;
    char s[64];
    cf_buf b;
    cf_buf_init(&b, s, sizeof s);
    cf_log_append(&b, CF_LOG_WARNING, "%s", "a long line that does not fit in sixty-four bytes");
    assert_true(b.truncated);
    size_t len = b.len;
    cf_log_append(&b, CF_LOG_NOTE, "x");
    assert_true(b.truncated);
    assert_int_equal(b.len, len);
}

// Lines go to the descriptor the runtime sets, one write each.
static void test_descriptor(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(cf_log_fd(), 2);
    cf_log_set_fd(fds[1]);
    cf_log_warn("unknown option '%.*s' ignored", 3, "abcdef");
    cf_log_error("suppressions file '%s': %s", "f", "gone");
    cf_log_note("checking this process");
    char big[3 * CF_LOG_LINE_MAX];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cf_log_note("%s", big);
    char s[256];
    cf_buf b;
    cf_buf_init(&b, s, sizeof s);
    cf_log_append(&b, CF_LOG_NOTE, "one");
    cf_log_append(&b, CF_LOG_NOTE, "two");
    cf_log_write(&b);
    cf_log_set_fd(2);
    close(fds[1]);

    static char got[8 * CF_LOG_LINE_MAX];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)r;
    got[n] = '\0';
    close(fds[0]);

    const char *p = got;
    const char *lines[6];
    for (int i = 0; i < 6; i++) {
        lines[i] = p;
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    assert_int_equal(*p, '\0');
    // The long line is cut to CF_LOG_LINE_MAX - 1 bytes, "...\n" at its end.
    size_t long_len = (size_t)(lines[4] - lines[3]);
    assert_int_equal(long_len, CF_LOG_LINE_MAX - 1);
    assert_memory_equal(lines[4] - 4, "...\n", 4);
    char want[512];
    snprintf(want, sizeof want,
             "%swarning: unknown option 'abc' ignored\n"
             "%serror: suppressions file 'f': gone\n"
             "%schecking this process\n",
             prefix(), prefix(), prefix());
    assert_memory_equal(got, want, strlen(want));
    snprintf(want, sizeof want, "%sone\n%stwo\n", prefix(), prefix());
    assert_string_equal(lines[4], want);
}

#if CF_TEST_COUNTS_ALLOCS
static void test_no_malloc(void **state) {
    (void)state;
    char s[4096];
    cf_buf b;
    cf_buf_init(&b, s, sizeof s);
    int sink[2];
    assert_int_equal(pipe(sink), 0);
    cf_log_set_fd(sink[1]);
    cf_test_alloc_count_start();
    for (int i = 0; i < 50; i++)
        cf_log_append(&b, (cf_log_level)(i % 3), "line %d of %s at %p", i, "many", (void *)&b);
    cf_log_warn("%s", "warned");
    cf_log_error("%d", 1);
    cf_log_note("%zu", (size_t)2);
    cf_log_write(&b);
    unsigned long calls = cf_test_alloc_count_stop();
    cf_log_set_fd(2);
    close(sink[0]);
    close(sink[1]);
    assert_int_equal(calls, 0);
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_cut_lines),
        cmocka_unit_test(test_full_buffer_stays_truncated),
        cmocka_unit_test(test_descriptor),
#if CF_TEST_COUNTS_ALLOCS
        cmocka_unit_test(test_no_malloc),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
