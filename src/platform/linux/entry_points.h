// SPDX-License-Identifier: MIT
// Prototypes of the entry points libcrossfree.so exports on Linux that no
// system header declares: glibc's internal aliases and the mangled C++
// operators. The names are fixed by the ABI; their definitions are in
// preload.c.
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
void *_Znwm(size_t n);
void *_Znam(size_t n);
void *_ZnwmRKSt9nothrow_t(size_t n, const void *tag);
void *_ZnamRKSt9nothrow_t(size_t n, const void *tag);
void *_ZnwmSt11align_val_t(size_t n, size_t align);
void *_ZnamSt11align_val_t(size_t n, size_t align);
void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag);
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag);

// operator delete: plain, sized, nothrow, aligned, sized aligned, aligned nothrow.
void _ZdlPv(void *p);
void _ZdaPv(void *p);
void _ZdlPvm(void *p, size_t n);
void _ZdaPvm(void *p, size_t n);
void _ZdlPvRKSt9nothrow_t(void *p, const void *tag);
void _ZdaPvRKSt9nothrow_t(void *p, const void *tag);
void _ZdlPvSt11align_val_t(void *p, size_t align);
void _ZdaPvSt11align_val_t(void *p, size_t align);
void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t align);
void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t align);
void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag);
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag);

#endif
