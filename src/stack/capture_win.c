// SPDX-License-Identifier: MIT
// Stack capture on Windows: RtlCaptureStackBackTrace walks the x64 unwind
// tables (.pdata), which MinGW-w64 and MSVC emit for every function. As on
// Linux, crossfree's own frames are dropped by address, never by a fixed
// count. Never allocates and takes no lock of crossfree's.
#include "stack/capture.h"

#include <windows.h>

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
    unsigned got = RtlCaptureStackBackTrace(0, (DWORD)(max + SELF_FRAMES), raw, NULL);
    unsigned start = 0;
    while (start < got && (uintptr_t)raw[start] >= self_lo && (uintptr_t)raw[start] < self_hi)
        start++;
    // Past the thread's first frame (RtlUserThreadStart) a zero return
    // address ends the walk; Wine's unwinder can report stale slots after it.
    unsigned n = 0;
    for (unsigned i = start; i < got && n < max && raw[i] != NULL; i++)
        pcs[n++] = (uintptr_t)raw[i];
    return n;
}
