// SPDX-License-Identifier: MIT
// Functions of unwind_shapes_opt.c, which is built -O2 -fomit-frame-pointer
// so that rbp (x29 on aarch64) is an ordinary register there, of
// unwind_shapes_pac.c (aarch64 only), and the one hook they call back into
// the -O0 program. Every function returns a value the caller uses, so
// that no call below is a tail call and every frame stays on the stack.
#ifndef CROSSFREE_TESTS_UNWIND_SHAPES_H
#define CROSSFREE_TESTS_UNWIND_SHAPES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// For the optimized frames: KEEP(x) makes x opaque to the optimizer after a
// call (so the call is no tail call), USE(p) makes the memory at p read.
#define KEEP(x) __asm__ volatile("" : "+r"(x))
#define USE(p) __asm__ volatile("" : : "r"(p) : "memory")

// Defined in unwind_shapes.cc: takes a block that was just allocated, mixes
// its address into a number and frees it. Opaque to the optimizer, so the
// allocation cannot be dropped.
unsigned long shapes_sink(void *p);

// A callback the optimized frames call at their deepest point.
typedef unsigned long (*shapes_fn)(size_t n);

// Allocates n bytes and hands them to shapes_sink.
unsigned long opt_leaf(size_t n);
// `depth` optimized frames, then fn(n).
unsigned long opt_recurse(int depth, size_t n, shapes_fn fn);
// `depth` frames that keep six values alive across their call, which takes
// every callee-saved register, rbp included.
unsigned long opt_pressure(const unsigned long *v, int depth, size_t n, shapes_fn fn);
// Sets rbp (x29) to the address of a local array that looks like a frame record
// (a saved rbp and a code address) while fn(n) runs.
unsigned long opt_fake_bp(size_t n, shapes_fn fn);
// alloca(len) in every one of `depth` frames, the lengths changing per frame.
unsigned long opt_alloca(size_t len, int depth, size_t n, shapes_fn fn);
// A variable-length array of len bytes.
unsigned long opt_vla(size_t len, size_t n, shapes_fn fn);
// A 64-byte aligned local: on x86_64 the stack is realigned, with rbp as the
// CFA base; on aarch64 GCC rounds a pointer up instead (CFA from sp).
unsigned long opt_aligned(size_t n, shapes_fn fn);
// A 64-byte aligned local and a variable-length array: on x86_64 GCC
// realigns through a DRAP register and describes the CFA with a DWARF
// expression; on aarch64 the VLA makes x29 the CFA base.
unsigned long opt_aligned_vla(size_t len, size_t n, shapes_fn fn);

// `kib` KiB of locals (up to 200) around a call of fn(n): a frame whose
// save slots may lie far from its CFA (GCC puts an aarch64 frame record at
// the bottom of the frame).
unsigned long opt_big_frame(unsigned kib, size_t n, shapes_fn fn);

#if defined(__aarch64__)
// Assembly in unwind_shapes_opt.c: fn(n) called with the CFA given by a
// DWARF expression and sp rounded down to 64 bytes (in place of x86_64's
// DRAP; GCC emits nothing like it on aarch64).
unsigned long opt_cfa_expr(size_t n, shapes_fn fn);

// unwind_shapes_pac.c, built -O2 -mbranch-protection=pac-ret: each saves a
// return address signed with PACIASP (the CFI says so with
// DW_CFA_AARCH64_negate_ra_state) and authenticates it before returning.
// `depth` frames with a frame record {x29, signed x30}, then fn(n).
unsigned long pac_recurse(int depth, size_t n, shapes_fn fn);
// The same without frame record (x29 is the caller's; x30 saved beside x19).
unsigned long pac_omit_recurse(int depth, size_t n, shapes_fn fn);
// alloca(len) in every one of `depth` frames: the CFA is x29-based.
unsigned long pac_alloca(size_t len, int depth, size_t n, shapes_fn fn);
// Allocates n bytes and hands them to shapes_sink.
unsigned long pac_leaf(size_t n);
// `depth` frames with a frame record, then returns alloc(n).
void *pac_alloc_through(int depth, size_t n, void *(*alloc)(size_t));
#endif

#ifdef __cplusplus
}
#endif

#endif
