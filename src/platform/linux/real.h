// SPDX-License-Identifier: MIT
// What the Linux shim's files share: the list of wrapped functions, and
// where each one's real function is. shim.c holds the wrappers (the hot
// path), lookup.c finds the real functions and answers dlsym, startup.c
// starts the platform up.
#ifndef CF_PLATFORM_LINUX_REAL_H
#define CF_PLATFORM_LINUX_REAL_H

#include <stdatomic.h>
#include <stdbool.h>
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
    X(DLMOPEN, dlmopen)                                                                            \
    X(PTHREAD_CREATE, pthread_create)

// The C++ operators follow, from the one list every shim expands
// (platform/shim.h); they resolve on first use.
#define CF_OPERATOR(id, sym, shape, fn) X(id, sym)
#define CF_WRAPPED_ALL(X) CF_WRAPPED(X) CF_CXX_OPERATORS(CF_OPERATOR)

enum {
#define X(id, sym) W_##id,
    CF_WRAPPED_ALL(X)
#undef X
        W_COUNT,
    W_CXX_COUNT = W_COUNT - W_NEW_SINGLE
};

// The real function behind each wrapper: for the C allocation functions,
// the program's own (cf_linux_resolve_allocator, at start-up); for the
// others, the next after crossfree, found with dlsym(RTLD_NEXT) by
// cf_linux_resolve_next (lookup.c): the C++ operators on first need, since
// libstdc++ may be loaded later.
extern _Atomic uintptr_t cf_linux_real[W_COUNT];
#define REAL(idx, type) ((type)atomic_load_explicit(&cf_linux_real[W_##idx], memory_order_relaxed))

// The real function of wrapper `idx`, looked up now if it was not yet; 0
// when nothing after crossfree defines it.
uintptr_t cf_linux_resolve_next(unsigned idx);

// Whether the program (the executable, an earlier preload, or a library
// after crossfree but before the C++ runtime) defines a replaceable C++
// operator of its own: any form of CF_CXX_OPERATORS that lookup by name
// finds outside crossfree and the C++ runtime. Set by cf_platform_init.
// Then every operator wrapper forwards to the C++ runtime's own form,
// which reaches the replacement as the standard's default forms do, and
// blocks keep their records in the owner table (a replacement's pointer
// need not start a block of ours).
extern bool cf_linux_cxx_replaced;
// Whether one of the forms the executable (or an earlier preload) replaces
// is an operator new: such a replacement may hand out malloc'd blocks
// directly, which operator delete then rightly releases (and which,
// inlined into its caller, no stack can tell from a plain malloc).
extern bool cf_linux_new_replaced;
// How many operator forms (of CF_CXX_OPERATORS) lookup finds before
// crossfree's, outside the C++ runtime: calls to those never reach crossfree.
extern unsigned cf_linux_cxx_before;
bool cf_linux_find_cxx_replacement(void);
// What a call to operator form `idx` by name reaches with crossfree out of
// the way: the program's own definition if lookup finds one first, else
// the next one after crossfree (the C++ runtime's); 0 if none.
uintptr_t cf_linux_cxx_target(unsigned idx);

// The allocator the program itself uses when its malloc or free is not
// crossfree's (the executable's own, or a library preloaded ahead of
// crossfree): set by cf_linux_resolve_allocator.
typedef struct cf_linux_shadow_info {
    bool shadowed;      // malloc or free binds to a definition before crossfree's
    bool in_executable; // that definition is in the executable
    const char *name;   // "jemalloc", "mimalloc"...; NULL when unknown
    char path[512];     // the module that defines it
} cf_linux_shadow_info;
extern cf_linux_shadow_info cf_linux_shadow;

// Points every C allocation function's real function (malloc up to
// __libc_pvalloc) at what the program itself would call: the first
// definition in lookup order that is not crossfree's (the executable's, an
// earlier preload's, else the next after crossfree); fills cf_linux_shadow.
void cf_linux_resolve_allocator(void);

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
typedef int (*pthread_create_fn)(void *, const void *, void *(*)(void *), void *);

#endif
