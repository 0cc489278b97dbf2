// SPDX-License-Identifier: MIT
// Stack capture on macOS: backtrace(3), which walks the frame-pointer chain
// (both macOS ABIs keep frame pointers) within the thread's stack bounds and
// strips pointer-authentication bits from return addresses. As on Linux,
// crossfree's own frames are dropped by address, never by a fixed count.
#include "stack/capture.h"

#include <execinfo.h>

#include "stack/depot.h"

static uintptr_t self_lo, self_hi;

void cf_capture_set_self(uintptr_t lo, uintptr_t hi) {
    self_lo = lo;
    self_hi = hi;
}

unsigned cf_capture(uintptr_t *pcs, unsigned max) {
    // Room for crossfree's own frames above the ones we keep.
    enum { SELF_FRAMES = 8 };
    void *raw[CF_DEPOT_MAX_FRAMES + SELF_FRAMES];
    if (max == 0)
        return 0;
    if (max > CF_DEPOT_MAX_FRAMES)
        max = CF_DEPOT_MAX_FRAMES;
    int got = backtrace(raw, (int)(max + SELF_FRAMES));
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
