// SPDX-License-Identifier: MIT
// The raw backtrace on Linux (platform.h, section 4): libunwind's fast
// local unw_backtrace, which was measured never to allocate. Behind the
// cached unwinder on x86_64, every stack elsewhere.
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "platform/platform.h"

void cf_os_backtrace_init(void) {
    // libunwind's default global cache takes a lock that blocks signals
    // (two rt_sigprocmask syscalls) whenever a new code address is looked
    // up; per-thread caches need no lock, so the hot path makes no syscall.
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

unsigned cf_os_backtrace(void **raw, unsigned max) {
    int got = unw_backtrace(raw, (int)max);
    return got > 0 ? (unsigned)got : 0;
}

void cf_os_backtrace_forget(void) { unw_flush_cache(unw_local_addr_space, 0, 0); }
