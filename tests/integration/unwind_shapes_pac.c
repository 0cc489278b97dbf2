// SPDX-License-Identifier: MIT
// Frames of code built with -mbranch-protection=pac-ret (aarch64 only; see
// meson.build): every function here that saves x30 signs it first
// (PACIASP, with sp as the modifier), so the return addresses on the stack,
// in frame records and beside other saved registers, carry a pointer
// authentication code in their top bits, and the CFI toggles the
// return-address state with DW_CFA_AARCH64_negate_ra_state (0x2d, which
// shares its number with DW_CFA_GNU_window_save). An unwinder must strip
// the code before it uses or reports the address. qemu-aarch64's default
// cpu implements pointer authentication and enables it for the guest, so
// the signed values really are on the stack under qemu.
#include "unwind_shapes.h"

#include <alloca.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__aarch64__)
#error "unwind_shapes_pac.c is built for aarch64 only"
#endif

__attribute__((noinline)) unsigned long pac_leaf(size_t n) {
    unsigned long r = shapes_sink(malloc(n));
    KEEP(r);
    return r + 1;
}

__attribute__((noinline)) unsigned long pac_recurse(int depth, size_t n, shapes_fn fn) {
    unsigned long r = depth > 0 ? pac_recurse(depth - 1, n + 1, fn) : fn(n);
    KEEP(r);
    return r * 3 + (unsigned long)depth;
}

// GCC keeps frame records at -O2 on aarch64 unless told otherwise.
__attribute__((noinline, optimize("omit-frame-pointer"))) unsigned long
pac_omit_recurse(int depth, size_t n, shapes_fn fn) {
    unsigned long r = depth > 0 ? pac_omit_recurse(depth - 1, n + 1, fn) : fn(n);
    KEEP(r);
    return r * 5 + (unsigned long)depth;
}

__attribute__((noinline)) unsigned long pac_alloca(size_t len, int depth, size_t n, shapes_fn fn) {
    char *buf = alloca(len);
    memset(buf, depth, len);
    USE(buf);
    unsigned long r = depth > 0 ? pac_alloca(len + 16, depth - 1, n, fn) : fn(n);
    KEEP(r);
    return r + (unsigned char)buf[len - 1];
}

__attribute__((noinline)) void *pac_alloc_through(int depth, size_t n, void *(*alloc)(size_t)) {
    void *p = depth > 0 ? pac_alloc_through(depth - 1, n, alloc) : alloc(n);
    USE(p);
    return p;
}
