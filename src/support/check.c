// SPDX-License-Identifier: MIT
// The failure path of CF_CHECK: format into a stack buffer, write, abort.
#include "support/check.h"

#include "platform/platform.h"
#include "support/fmt.h"

_Noreturn void cf_check_failed(const char *file, int line, const char *cond, uint64_t a,
                               uint64_t b) {
    char storage[512];
    cf_buf buf;
    cf_buf_init(&buf, storage, sizeof storage);
    cf_buf_str(&buf, "crossfree: internal check failed at ");
    cf_buf_str(&buf, file);
    cf_buf_char(&buf, ':');
    cf_buf_dec(&buf, (uint64_t)line);
    cf_buf_str(&buf, ": ");
    cf_buf_str(&buf, cond);
    cf_buf_str(&buf, " (");
    cf_buf_hex(&buf, a);
    cf_buf_str(&buf, " vs ");
    cf_buf_hex(&buf, b);
    cf_buf_str(&buf, ")\n");
    cf_os_write_all(CF_FD_STDERR, buf.data, buf.len);
    cf_os_abort();
}
