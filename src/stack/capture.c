// SPDX-License-Identifier: MIT
// Stack capture with libunwind's fast local backtrace. The frames of
// crossfree's wrappers (and of any inlined helper) sit at the top of every
// capture; they are recognised by address, not by a fixed skip count, so
// inlining decisions of the compiler cannot shift the user's frames.
#define UNW_LOCAL_ONLY
#include "stack/capture.h"

#include <libunwind.h>

#include "stack/depot.h"

static uintptr_t self_lo, self_hi;

void cf_capture_set_self(uintptr_t lo, uintptr_t hi) {
    self_lo = lo;
    self_hi = hi;
    // libunwind's default global cache takes a lock that blocks signals
    // (two rt_sigprocmask syscalls) whenever a new code address is looked
    // up; per-thread caches need no lock, so the hot path makes no syscall.
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

unsigned cf_capture(uintptr_t *pcs, unsigned max) {
    // Room for crossfree's own frames above the ones we keep.
    enum { SELF_FRAMES = 8 };
    void *raw[CF_DEPOT_MAX_FRAMES + SELF_FRAMES];
    if (max == 0)
        return 0;
    if (max > CF_DEPOT_MAX_FRAMES)
        max = CF_DEPOT_MAX_FRAMES;
    int got = unw_backtrace(raw, (int)(max + SELF_FRAMES));
    if (got <= 0)
        return 0;
    unsigned start = 0;
    while (start < (unsigned)got && (uintptr_t)raw[start] >= self_lo &&
           (uintptr_t)raw[start] < self_hi)
        start++;
    unsigned n = 0;
    for (unsigned i = start; i < (unsigned)got && n < max; i++)
        pcs[n++] = (uintptr_t)raw[i];
    return n;
}

uintptr_t cf_capture_caller(void) {
    // Every function in libcrossfree is built with frame pointers, so the
    // chain through crossfree's own frames is exact; the first return
    // address outside crossfree is the caller's.
    void **fp = __builtin_frame_address(0);
    for (int depth = 0; depth < 16 && fp != NULL; depth++) {
        uintptr_t ret = (uintptr_t)fp[1];
        if (ret < self_lo || ret >= self_hi)
            return ret;
        void **next = fp[0];
        if (next <= fp) // frames grow towards higher addresses
            return 0;
        fp = next;
    }
    return 0;
}
