// SPDX-License-Identifier: MIT
// Stack capture, on every platform: crossfree's cached DWARF unwinder
// (fast_unwind.h) where it exists (CF_FAST_UNWIND), the port's raw
// backtrace (platform.h, section 4: libunwind on Linux, backtrace(3) on
// macOS, RtlCaptureStackBackTrace on Windows) otherwise and wherever the
// former gives up. The frames of crossfree's wrappers (and of any inlined
// helper) sit at the top of every capture; they are recognised by address,
// not by a fixed skip count, so inlining decisions of the compiler cannot
// shift the user's frames.
#include "stack/capture.h"

#include <stdatomic.h>

#include "platform/platform.h"
#include "stack/depot.h"
#include "stack/fast_unwind.h"
#include "support/fmt.h"
#include "support/log.h"

static uintptr_t self_lo, self_hi;
static uintptr_t base_lo, base_hi; // cf_capture_set_base
#if CF_FAST_UNWIND
static bool use_fast;
static bool check_fast; // fast_unwind=2
static atomic_uint_fast64_t mismatches;
#endif

void cf_capture_set_base(uintptr_t lo, uintptr_t hi) {
    base_lo = lo;
    base_hi = hi;
#if CF_FAST_UNWIND
    cf_fast_unwind_set_base(lo, hi);
#endif
}

void cf_capture_set_self(uintptr_t lo, uintptr_t hi) {
    self_lo = lo;
    self_hi = hi;
    cf_os_backtrace_init();
}

#if CF_OS_LINUX
// The frame pointer of the outermost crossfree frame, which points at that
// frame's record: its [0] is the caller's frame pointer, its [1] the return
// address into the caller. Every function in libcrossfree is built with
// frame pointers, so the chain through crossfree's own frames is exact.
// *inner_pc is set to a pc in that frame (the return address into it), 0
// if this function's own frame is the outermost. NULL if it cannot be
// found. (Linux only: MinGW's frame pointer need not sit at the frame's
// base.)
static void **outer_frame(uintptr_t *inner_pc) {
    void **fp = __builtin_frame_address(0);
    *inner_pc = 0;
    for (int depth = 0; depth < 16 && fp != NULL; depth++) {
        uintptr_t ret = (uintptr_t)fp[1];
        if (ret < self_lo || ret >= self_hi)
            return fp;
        *inner_pc = ret;
        void **next = fp[0];
        if (next <= fp) // frames grow towards higher addresses
            return NULL;
        fp = next;
    }
    return NULL;
}
#endif

// The port's backtrace, crossfree's own frames dropped from the top.
static unsigned capture_raw(uintptr_t *pcs, unsigned max) {
    // Room for crossfree's own frames above the ones we keep.
    enum { SELF_FRAMES = 8 };
    void *raw[CF_DEPOT_MAX_FRAMES + SELF_FRAMES];
    unsigned got = cf_os_backtrace(raw, max + SELF_FRAMES);
    unsigned start = 0;
    while (start < got && (uintptr_t)raw[start] >= self_lo && (uintptr_t)raw[start] < self_hi)
        start++;
    unsigned n = 0;
    for (unsigned i = start; i < got && n < max && raw[i] != NULL &&
                             ((uintptr_t)raw[i] < base_lo || (uintptr_t)raw[i] >= base_hi);
         i++)
        pcs[n++] = (uintptr_t)raw[i];
    return n;
}

#if CF_FAST_UNWIND
// The cached walk from the first frame outside crossfree.
static inline unsigned fast_capture(uintptr_t *pcs, unsigned max, uint32_t *id) {
    uintptr_t inner_pc;
    void **fp = outer_frame(&inner_pc);
    if (fp == NULL)
        return 0;
#if defined(__x86_64__)
    // The record {rbp, return address} sits at the top of the frame: the
    // caller's stack pointer is just above it.
    (void)inner_pc;
    return cf_fast_unwind((uintptr_t)fp[1], (uintptr_t)(fp + 2), (uintptr_t)fp[0], pcs, max, id);
#else
    // GCC puts an AArch64 frame's record {x29, x30} at the bottom of the
    // frame: where the caller's stack pointer was comes from that frame's
    // rule, and the walk starts in crossfree's outermost frame.
    return inner_pc == 0 ? 0 : cf_fast_unwind_from_record(inner_pc, (uintptr_t)fp, pcs, max, id);
#endif
}

// " 0x1 0x2 ...": a stack for the fast_unwind=2 line.
static void pcs_text(char *out, size_t cap, const uintptr_t *pcs, unsigned n) {
    cf_buf b;
    cf_buf_init(&b, out, cap);
    for (unsigned i = 0; i < n; i++)
        cf_buf_printf(&b, " %p", (void *)pcs[i]);
}

// fast_unwind=2: the stack libunwind gives here must be the same.
static void check_against_libunwind(const uintptr_t *pcs, unsigned n, unsigned max) {
    uintptr_t ref[CF_DEPOT_MAX_FRAMES];
    unsigned m = capture_raw(ref, max);
    bool same = m == n;
    for (unsigned i = 0; same && i < n; i++)
        same = ref[i] == pcs[i];
    if (same)
        return;
    atomic_fetch_add(&mismatches, 1);
    // " 0x" and up to 16 digits per frame.
    char fast[CF_DEPOT_MAX_FRAMES * 19 + 1], slow[CF_DEPOT_MAX_FRAMES * 19 + 1];
    pcs_text(fast, sizeof fast, pcs, n);
    pcs_text(slow, sizeof slow, ref, m);
    char line[sizeof fast + sizeof slow + 128];
    cf_buf b;
    cf_buf_init(&b, line, sizeof line);
    cf_log_append(&b, CF_LOG_NOTE, "fast_unwind=2: stacks differ; fast:%s; libunwind:%s", fast,
                  slow);
    // On stderr whatever log_path says: this is a test mode (options.inc).
    cf_os_write_all(CF_FD_STDERR, b.data, b.len);
}
#endif

static unsigned capture(uintptr_t *pcs, unsigned max, uint32_t *id) {
    if (max == 0)
        return 0;
    if (max > CF_DEPOT_MAX_FRAMES)
        max = CF_DEPOT_MAX_FRAMES;
#if CF_FAST_UNWIND
    if (use_fast) {
        unsigned n = fast_capture(pcs, max, id);
        if (n > 0) {
            if (check_fast)
                check_against_libunwind(pcs, n, max);
            return n;
        }
    }
#endif
    unsigned n = capture_raw(pcs, max);
    if (id != NULL)
        *id = cf_depot_put(pcs, n);
    return n;
}

unsigned cf_capture(uintptr_t *pcs, unsigned max) { return capture(pcs, max, NULL); }

uint32_t cf_capture_id(unsigned max) {
    uintptr_t pcs[CF_DEPOT_MAX_FRAMES];
    uint32_t id = 0;
    capture(pcs, max, &id);
    return id;
}

void cf_capture_set_fast(unsigned mode, unsigned max_frames) {
#if CF_FAST_UNWIND
    use_fast = mode != 0 && cf_fast_unwind_init(max_frames);
    check_fast = use_fast && mode == 2;
#else
    (void)mode, (void)max_frames; // libunwind takes every stack
#endif
}

void cf_capture_modules_changed(void) {
#if CF_FAST_UNWIND
    cf_fast_unwind_forget();
#endif
    cf_os_backtrace_forget();
}

uint64_t cf_capture_mismatches(void) {
#if CF_FAST_UNWIND
    return atomic_load(&mismatches);
#else
    return 0;
#endif
}

uintptr_t cf_capture_caller(void) {
#if CF_OS_LINUX
    uintptr_t inner_pc;
    void **fp = outer_frame(&inner_pc);
    return fp == NULL ? 0 : (uintptr_t)fp[1];
#else
    uintptr_t pc = 0; // one frame of a normal capture
    return cf_capture(&pc, 1) == 1 ? pc : 0;
#endif
}
