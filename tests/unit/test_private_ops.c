// SPDX-License-Identifier: MIT
// Which function names count as a module's own global operator new or
// delete: every form of the global operators, demangled or mangled, and
// nothing else (class-specific operators and look-alikes stay malloc).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/family.h"
#include "runtime/private_ops.h"

static void test_global_new_forms(void **state) {
    (void)state;
    assert_int_equal(cf_operator_family("operator new(unsigned long)", true), CF_FAM_NEW);
    assert_int_equal(cf_operator_family("operator new(unsigned long, std::nothrow_t const&)", true),
                     CF_FAM_NEW);
    assert_int_equal(cf_operator_family("operator new[](unsigned long)", true), CF_FAM_NEW_ARRAY);
    assert_int_equal(cf_operator_family("operator new(unsigned long, std::align_val_t)", true),
                     CF_FAM_NEW_ALIGN);
    assert_int_equal(cf_operator_family("operator new[](unsigned long, std::align_val_t)", true),
                     CF_FAM_NEW_ARRAY_ALIGN);
    assert_int_equal(cf_operator_family("_Znwm", true), CF_FAM_NEW);
    assert_int_equal(cf_operator_family("_Znam", true), CF_FAM_NEW_ARRAY);
    assert_int_equal(cf_operator_family("_ZnwmSt11align_val_t", true), CF_FAM_NEW_ALIGN);
    assert_int_equal(cf_operator_family("_ZnamSt11align_val_tRKSt9nothrow_t", true),
                     CF_FAM_NEW_ARRAY_ALIGN);
}

static void test_global_delete_forms(void **state) {
    (void)state;
    assert_int_equal(cf_operator_family("operator delete(void*)", false), CF_FAM_NEW);
    assert_int_equal(cf_operator_family("operator delete(void*, unsigned long)", false),
                     CF_FAM_NEW);
    assert_int_equal(cf_operator_family("operator delete[](void*)", false), CF_FAM_NEW_ARRAY);
    assert_int_equal(cf_operator_family("operator delete(void*, std::align_val_t)", false),
                     CF_FAM_NEW_ALIGN);
    assert_int_equal(
        cf_operator_family("operator delete[](void*, unsigned long, std::align_val_t)", false),
        CF_FAM_NEW_ARRAY_ALIGN);
    assert_int_equal(cf_operator_family("_ZdlPv", false), CF_FAM_NEW);
    assert_int_equal(cf_operator_family("_ZdaPvm", false), CF_FAM_NEW_ARRAY);
    assert_int_equal(cf_operator_family("_ZdlPvSt11align_val_t", false), CF_FAM_NEW_ALIGN);
}

static void test_not_operators(void **state) {
    (void)state;
    // Class-specific operators are the program's own malloc-based choice.
    assert_int_equal(cf_operator_family("DartReadable::operator new[](unsigned long)", true),
                     CF_FAM_NONE);
    assert_int_equal(cf_operator_family("DartReadable::operator delete(void*)", false),
                     CF_FAM_NONE);
    // The wrong direction, look-alikes, and ordinary functions.
    assert_int_equal(cf_operator_family("operator delete(void*)", true), CF_FAM_NONE);
    assert_int_equal(cf_operator_family("operator new(unsigned long)", false), CF_FAM_NONE);
    assert_int_equal(cf_operator_family("operator newline()", true), CF_FAM_NONE);
    assert_int_equal(cf_operator_family("operator==(A const&, A const&)", true), CF_FAM_NONE);
    assert_int_equal(cf_operator_family("malloc", true), CF_FAM_NONE);
    assert_int_equal(cf_operator_family("_ZdlX", false), CF_FAM_NONE);
    assert_int_equal(cf_operator_family("_Znx", true), CF_FAM_NONE);
    assert_int_equal(cf_operator_family("", true), CF_FAM_NONE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global_new_forms),
        cmocka_unit_test(test_global_delete_forms),
        cmocka_unit_test(test_not_operators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
