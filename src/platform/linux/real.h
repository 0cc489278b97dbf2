// SPDX-License-Identifier: MIT
// What the Linux shim's files share: the list of wrapped functions, and
// where each one's real function is. shim.c holds the wrappers (the hot
// path), lookup.c finds the real functions and answers dlsym, startup.c
// starts the platform up.
#ifndef CF_PLATFORM_LINUX_REAL_H
#define CF_PLATFORM_LINUX_REAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/shim.h"

// X(index, symbol): the wrapper below carries the symbol's own name.
#define CF_WRAPPED(X)                                                                              \
    X(MALLOC, malloc)                                                                              \
    X(FREE, free)                                                                                  \
    X(CALLOC, calloc)                                                                              \
    X(REALLOC, realloc)                                                                            \
    X(REALLOCARRAY, reallocarray)                                                                  \
    X(MEMALIGN, memalign)                                                                          \
    X(POSIX_MEMALIGN, posix_memalign)                                                              \
    X(ALIGNED_ALLOC, aligned_alloc)                                                                \
    X(VALLOC, valloc)                                                                              \
    X(PVALLOC, pvalloc)                                                                            \
    X(MALLOC_USABLE_SIZE, malloc_usable_size)                                                      \
    X(CFREE, cfree)                                                                                \
    X(LIBC_MALLOC, __libc_malloc)                                                                  \
    X(LIBC_FREE, __libc_free)                                                                      \
    X(LIBC_CALLOC, __libc_calloc)                                                                  \
    X(LIBC_REALLOC, __libc_realloc)                                                                \
    X(LIBC_MEMALIGN, __libc_memalign)                                                              \
    X(LIBC_VALLOC, __libc_valloc)                                                                  \
    X(LIBC_PVALLOC, __libc_pvalloc)                                                                \
    X(DLCLOSE, dlclose)                                                                            \
    X(DLOPEN, dlopen)                                                                              \
    X(DLMOPEN, dlmopen)

// The C++ operators follow, from the one list every shim expands
// (platform/shim.h); they resolve on first use.
#define CF_OPERATOR(id, sym, shape, fn) X(id, sym)
#define CF_WRAPPED_ALL(X) CF_WRAPPED(X) CF_CXX_OPERATORS(CF_OPERATOR)

enum {
#define X(id, sym) W_##id,
    CF_WRAPPED_ALL(X)
#undef X
        W_COUNT
};

// The real function behind each wrapper, found with dlsym(RTLD_NEXT) by
// cf_linux_resolve_next (lookup.c): the C ones at start-up, the C++ ones
// on first need, since libstdc++ may be loaded later.
extern _Atomic uintptr_t cf_linux_real[W_COUNT];
#define REAL(idx, type) ((type)atomic_load_explicit(&cf_linux_real[W_##idx], memory_order_relaxed))

// The real function of wrapper `idx`, looked up now if it was not yet; 0
// when nothing after crossfree defines it.
uintptr_t cf_linux_resolve_next(unsigned idx);

// Each wrapper's own address (shim.c), for answering dlsym lookups.
extern const uintptr_t cf_linux_wrapper[W_COUNT];

// Finds libc's own dlsym and dlvsym (exits the process without them).
void cf_resolve_dlsyms(void);

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void *(*memalign_fn)(size_t, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef size_t (*usable_fn)(void *);
typedef int (*dlclose_fn)(void *);

#endif
