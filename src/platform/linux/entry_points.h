// SPDX-License-Identifier: MIT
// Prototypes of the entry points libcrossfree.so exports on Linux that no
// system header declares: glibc's internal aliases. The names are fixed by
// the ABI; their definitions are in shim.c (the C++ operators declare
// themselves, from platform/shim.h's list).
#ifndef CF_PLATFORM_LINUX_ENTRY_POINTS_H
#define CF_PLATFORM_LINUX_ENTRY_POINTS_H

#include <stddef.h>

void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *__libc_valloc(size_t n);
void *__libc_pvalloc(size_t n);
void cfree(void *p);

// operator new: plain, nothrow, align_val_t, align_val_t + nothrow.
#endif
