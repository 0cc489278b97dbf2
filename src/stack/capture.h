// SPDX-License-Identifier: MIT
// Stack capture for the hot path: the caller's return addresses, with
// crossfree's own frames dropped from the top. Never allocates (libunwind's
// unw_backtrace was measured not to) and takes no lock of crossfree's.
#ifndef CF_STACK_CAPTURE_H
#define CF_STACK_CAPTURE_H

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

#endif
