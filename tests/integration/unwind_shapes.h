// SPDX-License-Identifier: MIT
// Functions of unwind_shapes_opt.c, which is built -O2 -fomit-frame-pointer
// so that rbp is an ordinary register there, and the one hook they call back
// into the -O0 program. Every function returns a value the caller uses, so
// that no call below is a tail call and every frame stays on the stack.
#ifndef CROSSFREE_TESTS_UNWIND_SHAPES_H
#define CROSSFREE_TESTS_UNWIND_SHAPES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

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
// Sets rbp to the address of a local array that looks like a frame record
// (a saved rbp and a code address) while fn(n) runs.
unsigned long opt_fake_bp(size_t n, shapes_fn fn);
// alloca(len) in every one of `depth` frames, the lengths changing per frame.
unsigned long opt_alloca(size_t len, int depth, size_t n, shapes_fn fn);
// A variable-length array of len bytes.
unsigned long opt_vla(size_t len, size_t n, shapes_fn fn);
// A 64-byte aligned local: the stack is realigned, with rbp as the CFA base.
unsigned long opt_aligned(size_t n, shapes_fn fn);
// A 64-byte aligned local and a variable-length array: GCC realigns through
// a DRAP register and describes the CFA with a DWARF expression.
unsigned long opt_aligned_vla(size_t len, size_t n, shapes_fn fn);

#ifdef __cplusplus
}
#endif

#endif
