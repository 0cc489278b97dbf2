// SPDX-License-Identifier: MIT
// Internal invariants that stay on in release builds. A failed check prints
// the file, line and both values with write(2) and aborts: crossfree must
// never limp on with a corrupt table inside someone else's process.
#ifndef CF_SUPPORT_CHECK_H
#define CF_SUPPORT_CHECK_H

#include <stdint.h>

_Noreturn void cf_check_failed(const char *file, int line, const char *cond, uint64_t a,
                               uint64_t b);

#define CF_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            cf_check_failed(__FILE__, __LINE__, #cond, 0, 0);                                      \
    } while (0)

#define CF_CHECK_EQ(a, b)                                                                          \
    do {                                                                                           \
        uint64_t cf_a_ = (uint64_t)(a), cf_b_ = (uint64_t)(b);                                     \
        if (__builtin_expect(cf_a_ != cf_b_, 0))                                                   \
            cf_check_failed(__FILE__, __LINE__, #a " == " #b, cf_a_, cf_b_);                       \
    } while (0)

#ifdef NDEBUG
#define CF_DCHECK(cond) ((void)0)
#else
#define CF_DCHECK(cond) CF_CHECK(cond)
#endif

#endif
