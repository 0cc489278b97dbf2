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
#if defined(__aarch64__)
    // On AArch64, unw_backtrace gives a caller's frame as its return
    // address less one (the address it looked the frame up by), where on
    // x86_64 it gives the return address itself; after a signal frame it
    // gives the interrupted pc. Instructions are 4-byte aligned, so the one
    // is added back: every stack holds return addresses, which the
    // symbolizer looks up at pc - 1, and the cached unwinder gives the same.
    for (int i = 0; i < got; i++)
        if (((uintptr_t)raw[i] & 3) == 3)
            raw[i] = (char *)raw[i] + 1;
#endif
    return got > 0 ? (unsigned)got : 0;
}

void cf_os_backtrace_forget(void) { unw_flush_cache(unw_local_addr_space, 0, 0); }
