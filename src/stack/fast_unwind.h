// SPDX-License-Identifier: MIT
// The allocation-path unwinder for x86_64 and AArch64 Linux. It reads the
// same DWARF call-frame information (.eh_frame) libunwind reads, but keeps,
// for each return address, the rule that finds the caller's frame from this
// one (CFA = sp or the frame pointer + offset; where the return address and
// the frame pointer are saved; AArch64: whether the return address is
// signed),
// so a warm walk costs a few loads per frame. A second cache remembers
// whole chains by their first two return addresses and the stack depth: a
// walk that meets the same return addresses again reuses their rules in
// order and the stack's depot id without hashing anything.
//
// Both caches only save work: every return address is still read from the
// stack and compared, so a walk returns exactly the frames a fresh DWARF
// unwind returns. Anything the rule format cannot express (signal frames,
// CFA expressions, registers other than sp and the frame pointer as the CFA
// base) makes the walk give up, and the caller unwinds with libunwind
// instead.
//
// It exists on x86_64 and AArch64 Linux: CF_FAST_UNWIND is 1 there and 0
// elsewhere, where nothing of it is compiled (platform/linux/meson.build
// builds unwind.c and cfi.c under the same condition) and callers leave it
// out with `#if CF_FAST_UNWIND`.
#ifndef CF_STACK_FAST_UNWIND_H
#define CF_STACK_FAST_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/platform.h"

#if CF_OS_LINUX && (defined(__x86_64__) || defined(__aarch64__))
#define CF_FAST_UNWIND 1
#else
#define CF_FAST_UNWIND 0
#endif

#if CF_FAST_UNWIND

// Maps the chain cache for stacks of up to `max_frames` frames (called once,
// at start-up). False if the mapping failed: every walk then returns 0.
bool cf_fast_unwind_init(unsigned max_frames);

// Walks the stack starting at a return address `pc`, with `sp` the stack
// pointer just after that return and `bp` the value the frame pointer (rbp,
// x29) has there. Fills `pcs` with up to `max` return addresses, pc
// first. With `id` not NULL, also stores the stack in the depot and sets
// *id. Returns the number of frames, or 0 when it cannot unwind this stack
// (the caller falls back).
unsigned cf_fast_unwind(uintptr_t pc, uintptr_t sp, uintptr_t bp, uintptr_t *pcs, unsigned max,
                        uint32_t *id);

// The same from the frame of crossfree's own that called the program's
// code last, left out of the stack: `pc` lies in it and its frame pointer
// `fp` points at its record, where it saved its caller's frame pointer;
// its rule says where its CFA lies from there, and so where its stack
// pointer was. For AArch64, whose frame records need not sit at the top of
// the frame.
unsigned cf_fast_unwind_from_record(uintptr_t pc, uintptr_t fp, uintptr_t *pcs, unsigned max,
                                    uint32_t *id);

// Sets the code range [lo, hi) that ends every stack: a frame whose return
// address lies there is not walked, nor anything below it.
void cf_fast_unwind_set_base(uintptr_t lo, uintptr_t hi);
// Modules were loaded or unloaded: forget every cached rule and chain.
void cf_fast_unwind_forget(void);

// Counters of the slow paths, for verbosity and tests (the fast path
// counts nothing: a shared counter would be a contended cache line).
typedef struct cf_fast_unwind_stats {
    uint64_t chain_fills; // walks that did not find their chain cached
    uint64_t rule_fills;  // rules computed from .eh_frame
    uint64_t fallbacks;   // calls that returned 0
} cf_fast_unwind_stats;
void cf_fast_unwind_get_stats(cf_fast_unwind_stats *s);

#endif // CF_FAST_UNWIND

#endif
