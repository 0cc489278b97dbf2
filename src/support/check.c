// SPDX-License-Identifier: MIT
// The failure path of CF_CHECK: one error line (support/log.h), then abort.
#include "support/check.h"

#include "platform/platform.h"
#include "support/log.h"

_Noreturn void cf_check_failed(const char *file, int line, const char *cond, uint64_t a,
                               uint64_t b) {
    // CF_CHECK passes no values (two zeros); a failed CF_CHECK_EQ never has
    // equal ones.
    if (a != b)
        cf_log_error("internal check failed at %s:%d: %s (0x%llx vs 0x%llx)", file, line, cond,
                     (unsigned long long)a, (unsigned long long)b);
    else
        cf_log_error("internal check failed at %s:%d: %s", file, line, cond);
    cf_os_abort();
}
