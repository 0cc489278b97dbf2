// SPDX-License-Identifier: MIT
// The library half of compilers_main.cc: allocates with malloc, and is
// dlclose'd before the block is freed with operator delete.
#include <stdlib.h>

extern "C" __attribute__((noinline)) void *cc_lib_alloc(unsigned long n) {
    void *p = malloc(n); /* @cc_alloc */
    // Keeps the malloc call out of tail position at -O2.
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}
