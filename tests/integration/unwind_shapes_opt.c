// SPDX-License-Identifier: MIT
// The optimized half of unwind_shapes: built -O2 -fomit-frame-pointer (see
// meson.build), so these frames have no frame record, rbp holds data, and
// the CFA is rsp-based except where alloca, a VLA or realignment forces
// another base. The empty asm statements after calls keep each call from
// becoming a tail call (a frame that vanished would be no test).
#include "unwind_shapes.h"

#include <alloca.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEEP(x) __asm__ volatile("" : "+r"(x))
#define USE(p) __asm__ volatile("" : : "r"(p) : "memory")

__attribute__((noinline)) unsigned long opt_leaf(size_t n) {
    unsigned long r = shapes_sink(malloc(n));
    KEEP(r);
    return r + 1;
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
    // rbp" that points just above it and a "return address" inside this
    // function. A walker that trusted rbp here would report this function
    // twice and then wander; the DWARF rule restores rbp from its save slot.
    volatile uintptr_t record[4];
    record[0] = (uintptr_t)&record[2];
    record[1] = (uintptr_t)&opt_fake_bp + 4;
    record[2] = 0;
    record[3] = 0;
    register uintptr_t bp __asm__("rbp") = (uintptr_t)&record[0];
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
