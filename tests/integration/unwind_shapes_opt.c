// SPDX-License-Identifier: MIT
// The optimized half of unwind_shapes: built -O2 -fomit-frame-pointer (see
// meson.build), so these frames have no frame record, the frame pointer
// (rbp, or x29 on aarch64) holds data, and the CFA is stack-pointer based
// except where alloca, a VLA or realignment forces another base. The empty
// asm statements after calls keep each call from becoming a tail call (a
// frame that vanished would be no test).
#include "unwind_shapes.h"

#include <alloca.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__)
#define FRAME_POINTER "x29"
#else
#define FRAME_POINTER "rbp"
#endif

__attribute__((noinline)) unsigned long opt_leaf(size_t n) {
    unsigned long r = shapes_sink(malloc(n));
    KEEP(r);
    return r + 1;
}

__attribute__((noinline)) unsigned long opt_big_frame(unsigned kib, size_t n, shapes_fn fn) {
    char big[200 * 1024];
    size_t len = (size_t)kib * 1024;
    memset(big, (int)n, len);
    USE(big);
    unsigned long r = fn(n);
    KEEP(r);
    return r + (unsigned char)big[len - 1];
}

__attribute__((noinline)) unsigned long opt_recurse(int depth, size_t n, shapes_fn fn) {
    unsigned long r = depth > 0 ? opt_recurse(depth - 1, n + 1, fn) : fn(n);
    KEEP(r);
    return r * 3 + (unsigned long)depth;
}

__attribute__((noinline)) unsigned long opt_pressure(const unsigned long *v, int depth, size_t n,
                                                     shapes_fn fn) {
    unsigned long a = v[0] * 3, b = v[1] * 5, c = v[2] * 7;
    unsigned long d = v[3] * 11, e = v[4] * 13, f = v[5] * 17;
    unsigned long r = depth > 0 ? opt_pressure(v + 1, depth - 1, n, fn) : fn(n);
    KEEP(r);
    return r + a * b + c * d + e * f + (a ^ c) + (b ^ d) + (e ^ a) + (f ^ b);
}

__attribute__((noinline)) unsigned long opt_fake_bp(size_t n, shapes_fn fn) {
    // What a frame-pointer walk would take for a frame record: a "saved
    // rbp" (x29) that points just above it and a "return address" inside
    // this function. A walker that trusted the frame pointer here would
    // report this function twice and then wander; the DWARF rule restores
    // it from its save slot. (Both x86_64's {rbp, return address} and
    // aarch64's {x29, x30} records are two words, saved value first.)
    volatile uintptr_t record[4];
    record[0] = (uintptr_t)&record[2];
    record[1] = (uintptr_t)&opt_fake_bp + 4;
    record[2] = 0;
    record[3] = 0;
    register uintptr_t bp __asm__(FRAME_POINTER) = (uintptr_t)&record[0];
    KEEP(bp);
    unsigned long r = fn(n);
    KEEP(bp);
    KEEP(r);
    return r + (bp & 1);
}

__attribute__((noinline)) unsigned long opt_alloca(size_t len, int depth, size_t n, shapes_fn fn) {
    char *buf = alloca(len);
    memset(buf, depth, len);
    USE(buf);
    unsigned long r = depth > 0 ? opt_alloca(len * 7 % 301 + 1, depth - 1, n, fn) : fn(n);
    KEEP(r);
    return r + (unsigned char)buf[len - 1];
}

__attribute__((noinline)) unsigned long opt_vla(size_t len, size_t n, shapes_fn fn) {
    char vla[len];
    memset(vla, (int)n, len);
    USE(vla);
    unsigned long r = fn(n);
    KEEP(r);
    return r + (unsigned char)vla[len / 2];
}

__attribute__((noinline)) unsigned long opt_aligned(size_t n, shapes_fn fn) {
    _Alignas(64) char buf[64];
    memset(buf, (int)n, sizeof buf);
    USE(buf);
    unsigned long r = fn(n);
    KEEP(r);
    return r + (unsigned char)buf[n % sizeof buf] + ((uintptr_t)buf & 63);
}

__attribute__((noinline)) unsigned long opt_aligned_vla(size_t len, size_t n, shapes_fn fn) {
    _Alignas(64) char buf[64];
    char vla[len];
    memset(buf, (int)n, sizeof buf);
    memset(vla, (int)len, len);
    USE(buf);
    USE(vla);
    unsigned long r = fn(n);
    KEEP(r);
    return r + (unsigned char)buf[n % sizeof buf] + (unsigned char)vla[len - 1] +
           ((uintptr_t)buf & 63);
}

#if defined(__aarch64__)
// GCC never realigns sp on aarch64 (an over-aligned local gets a pointer
// rounded up in a scratch register, and a VLA makes x29 the CFA base), so
// it emits no DRAP and no CFA expression there. This hand-written frame
// stands in for x86_64's DRAP: sp is rounded down to 64 bytes while fn
// runs, and the CFA is given by DW_CFA_def_cfa_expression {DW_OP_breg29 16}
// instead of a register and an offset. Its frame record {x29, x30} is
// exact, so only the form of the CFA rule is out of the ordinary: an
// unwinder must evaluate the expression (libunwind does) or give up.
// (An expression over x19, the register DRAP would use, made libunwind
// 1.6.2 itself fault inside unw_step under qemu-aarch64, reading address
// -6, with libcrossfree at 72f9ce4 and some CROSSFREE_OPTIONS values, not
// with others; at 2322cd5 it no longer did. A fault that comes and goes
// with the stack's layout would make a flaky test: the expression reads
// x29.)
//   unsigned long opt_cfa_expr(size_t n, shapes_fn fn): returns fn(n)
__asm__(".text\n"
        ".globl opt_cfa_expr\n"
        ".type opt_cfa_expr, %function\n"
        ".p2align 2\n"
        "opt_cfa_expr:\n"
        ".cfi_startproc\n"
        "  stp x29, x30, [sp, #-16]!\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset x29, -16\n"
        ".cfi_offset x30, -8\n"
        "  mov x29, sp\n"
        // DW_CFA_def_cfa_expression, 2 bytes: DW_OP_breg29, SLEB128 16
        ".cfi_escape 0x0f, 0x02, 0x8d, 0x10\n"
        "  sub x9, sp, #64\n"
        "  and sp, x9, #-64\n"
        "  blr x1\n"
        "  mov sp, x29\n"
        ".cfi_def_cfa sp, 16\n"
        "  ldp x29, x30, [sp], #16\n"
        ".cfi_restore x30\n"
        ".cfi_restore x29\n"
        ".cfi_def_cfa_offset 0\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size opt_cfa_expr, .-opt_cfa_expr\n");
#endif
