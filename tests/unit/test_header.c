// SPDX-License-Identifier: MIT
// Unit tests for the block header (core/header.h): every field comes back
// as written, the check ties a header to its own address and contents, a
// record that does not fit is sent to the table, and the rule for when a
// header may be read at all.
#include "core/header.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

static const uint64_t secret = UINT64_C(0x1234567890abcdef);

static void test_round_trip(void **state) {
    (void)state;
    uintptr_t user = 0x7f0012345670;
    cf_record r = cf_record_make(user, 123456789, 5, 11, 0xdeadbeef, 2046);
    cf_header h = cf_header_make(&r, CF_HDR_LIVE, secret);
    assert_int_equal(cf_header_state(h.w0), CF_HDR_LIVE);
    assert_true(cf_header_valid(user, h.w0, h.w1, secret));
    cf_record back = cf_header_record(user, h);
    assert_int_equal(back.addr, user);
    assert_int_equal(cf_record_size(&back), 123456789);
    assert_int_equal(cf_record_family(&back), 5);
    assert_int_equal(cf_record_alloc_fn(&back), 11);
    assert_int_equal(back.stack, 0xdeadbeef);
    assert_int_equal(cf_record_tid(&back), 2046);
    assert_true(cf_record_has_header(&back));
    assert_int_equal(cf_record_real_addr(&back), user - CF_HEADER_SIZE);

    // Every field at its largest value that fits, and at zero.
    r = cf_record_make(user, CF_HDR_SIZE_MAX, 63, 31, UINT32_MAX, CF_HDR_TID_MAX);
    h = cf_header_make(&r, CF_HDR_LIVE, secret);
    back = cf_header_record(user, h);
    assert_int_equal(cf_record_size(&back), CF_HDR_SIZE_MAX);
    assert_int_equal(cf_record_family(&back), 63);
    assert_int_equal(cf_record_alloc_fn(&back), 31);
    assert_int_equal(back.stack, UINT32_MAX);
    assert_int_equal(cf_record_tid(&back), CF_HDR_TID_MAX);
    assert_int_equal(cf_header_state(h.w0), CF_HDR_LIVE);
    r = cf_record_make(user, 0, 0, 0, 0, 0);
    h = cf_header_make(&r, CF_HDR_LIVE, secret);
    back = cf_header_record(user, h);
    assert_int_equal(cf_record_size(&back), 0);
    assert_int_equal(cf_record_family(&back), 0);
    assert_int_equal(cf_record_tid(&back), 0);
    assert_true(cf_header_valid(user, h.w0, h.w1, secret));
}

static void test_check_is_keyed(void **state) {
    (void)state;
    uintptr_t user = 0x5555aaaa1230;
    cf_record r = cf_record_make(user, 64, 1, 0, 7, 0);
    cf_header h = cf_header_make(&r, CF_HDR_LIVE, secret);
    // The same bytes in front of another address, or read with another
    // secret, are no header.
    assert_false(cf_header_valid(user + 16, h.w0, h.w1, secret));
    assert_false(cf_header_valid(user - 16, h.w0, h.w1, secret));
    assert_false(cf_header_valid(user, h.w0, h.w1, secret ^ 1));
    // Any changed bit of either word fails the check.
    for (unsigned bit = 0; bit < 64; bit++) {
        assert_false(cf_header_valid(user, h.w0 ^ (UINT64_C(1) << bit), h.w1, secret));
        assert_false(cf_header_valid(user, h.w0, h.w1 ^ (UINT64_C(1) << bit), secret));
    }
    // Zeroed memory is never a header, whatever its check happens to be.
    assert_false(cf_header_valid(user, 0, 0, secret));
    uint64_t w1 = (uint64_t)cf_header_check(user, 0, 0, secret) << 32;
    assert_false(cf_header_valid(user, 0, w1, secret));
}

static void test_too_big_goes_to_table(void **state) {
    (void)state;
    uintptr_t user = 0x700000002020;
    cf_record big = cf_record_make(user, CF_HDR_SIZE_MAX + 1, 1, 0, 5, 0);
    cf_record late = cf_record_make(user, 16, 1, 0, 5, CF_HDR_TID_MAX + 1);
    cf_record fits = cf_record_make(user, 16, 1, 0, 5, CF_HDR_TID_MAX);
    assert_false(cf_header_fits(&big));
    assert_false(cf_header_fits(&late));
    assert_true(cf_header_fits(&fits));
    cf_header h = cf_header_make(&big, CF_HDR_LIVE, secret);
    assert_int_equal(cf_header_state(h.w0), CF_HDR_TABLE);
    assert_true(cf_header_valid(user, h.w0, h.w1, secret));
    h = cf_header_make(&late, CF_HDR_LIVE, secret);
    assert_int_equal(cf_header_state(h.w0), CF_HDR_TABLE);
    // Asked for explicitly, even a record that fits.
    h = cf_header_make(&fits, CF_HDR_TABLE, secret);
    assert_int_equal(cf_header_state(h.w0), CF_HDR_TABLE);
}

static void test_readable(void **state) {
    (void)state;
    // The 16 bytes in front must be on the pointer's own page.
    assert_false(cf_header_readable(0x555500000000));
    assert_false(cf_header_readable(0x555500000008));
    assert_true(cf_header_readable(0x555500000010));
    assert_true(cf_header_readable(0x555500000ff0));
    assert_false(cf_header_readable(0x555500001000));
    // Nothing in the first 64 KiB.
    assert_false(cf_header_readable(0x10));
    assert_false(cf_header_readable(0xfff0));
    assert_true(cf_header_readable(0x10010));
}

static void test_record_flag_in_table_layout(void **state) {
    (void)state;
    // The header flag shares the record's flags byte with nothing else:
    // setting it leaves every other field as it was.
    cf_record r = cf_record_make(0x1230, CF_SIZE_MAX, 0xff, 0xff, UINT32_MAX, CF_TID_MAX);
    cf_record_set_header(&r);
    assert_true(cf_record_has_header(&r));
    assert_int_equal(cf_record_tid(&r), CF_TID_MAX);
    assert_int_equal(cf_record_size(&r), CF_SIZE_MAX);
    assert_int_equal(cf_record_real_addr(&r), 0x1230 - CF_HEADER_SIZE);
    cf_record plain = cf_record_make(0x1230, 8, 1, 0, 0, 0);
    assert_false(cf_record_has_header(&plain));
    assert_int_equal(cf_record_real_addr(&plain), 0x1230);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_check_is_keyed),
        cmocka_unit_test(test_too_big_goes_to_table),
        cmocka_unit_test(test_readable),
        cmocka_unit_test(test_record_flag_in_table_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
