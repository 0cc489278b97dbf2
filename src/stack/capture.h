// SPDX-License-Identifier: MIT
// Stack capture for the hot path: the caller's return addresses, with
// crossfree's own frames dropped from the top. Never allocates (libunwind's
// unw_backtrace was measured not to) and takes no lock of crossfree's.
#ifndef CF_STACK_CAPTURE_H
#define CF_STACK_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

// Tells capture which addresses are crossfree's own code, to be skipped.
void cf_capture_set_self(uintptr_t lo, uintptr_t hi);

// Fills pcs with up to `max` frames of the current thread, innermost first,
// starting at the first frame outside crossfree. Returns the count.
unsigned cf_capture(uintptr_t *pcs, unsigned max);

// The return address of the outermost crossfree frame: the pc in the code
// that called malloc/free/delete. Costs a few loads (crossfree's own frames
// keep frame pointers), no unwinding; 0 if it cannot be found.
uintptr_t cf_capture_caller(void);

// cf_capture, stored in the stack depot: the id of the current stack (0
// when empty). A repeated call site often skips the depot's hashing.
uint32_t cf_capture_id(unsigned max);

// The code range [lo, hi) that ends every stack, in both unwinders: a frame
// whose return address lies there is left out, and every frame below it
// (crossfree's thread start routine, under which only the C library's
// thread start remains: one frame fewer to walk on every allocation of a
// thread crossfree started).
void cf_capture_set_base(uintptr_t lo, uintptr_t hi);

// Modules were loaded or unloaded: both unwinders forget what they cached
// about code addresses.
void cf_capture_modules_changed(void);

// Option fast_unwind: 0 takes every stack with libunwind, 1 with
// crossfree's own unwinder where it exists, 2 with both, writing any
// difference to stderr and counting it in cf_capture_mismatches.
// `max_frames` is the deepest stack that will be asked for.
void cf_capture_set_fast(unsigned mode, unsigned max_frames);
uint64_t cf_capture_mismatches(void);

#endif
