// SPDX-License-Identifier: MIT
// What every platform's shim (platform/<os>/shim.c) shares: the replaceable
// C++ operators as one list, expanded by each shim into its wrappers, and
// the bodies that are the same on every OS (calling the real operator new
// under the recursion guard, the bookkeeping around unloading a module).
// A shim differs from the others only in how a wrapper is named and
// exported and in how it reaches the real function. Included by shim.c
// files only.
#ifndef CF_PLATFORM_SHIM_H
#define CF_PLATFORM_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/family.h"
#include "platform/platform.h"
#include "runtime/runtime.h"
#include "stack/symbolize.h"
#include "support/log.h"

// ---------------------------------------------------------------------------
// The replaceable operators

// size_t in a mangled name: unsigned long (m) on LP64, unsigned long long
// (y) on 64-bit Windows.
#if CF_OS_WINDOWS
#define CF_CXX_SIZE_CODE y
#else
#define CF_CXX_SIZE_CODE m
#endif
#define CF_CXX_PASTE_(a, b, c) a##b##c
#define CF_CXX_PASTE(a, b, c) CF_CXX_PASTE_(a, b, c)
// The mangled name of an operator whose parameters after `head` start
// with size_t.
#define CF_CXX_SIZED(head, tail) CF_CXX_PASTE(head, CF_CXX_SIZE_CODE, tail)

// X(id, symbol, shape, fn): every form of operator new, with the
// allocation function (core/family.h) it is recorded as. (The ids avoid
// DELETE, which <windows.h> defines.)
#define CF_CXX_NEW_FORMS(X)                                                                        \
    X(NEW_SINGLE, CF_CXX_SIZED(_Znw, ), NEW_PLAIN, CF_ALLOC_NEW)                                   \
    X(NEW_ARRAY, CF_CXX_SIZED(_Zna, ), NEW_PLAIN, CF_ALLOC_NEW_ARRAY)                              \
    X(NEW_NOTHROW, CF_CXX_SIZED(_Znw, RKSt9nothrow_t), NEW_NOTHROW, CF_ALLOC_NEW)                  \
    X(NEW_ARRAY_NOTHROW, CF_CXX_SIZED(_Zna, RKSt9nothrow_t), NEW_NOTHROW, CF_ALLOC_NEW_ARRAY)      \
    X(NEW_ALIGN, CF_CXX_SIZED(_Znw, St11align_val_t), NEW_ALIGN, CF_ALLOC_NEW_ALIGN)               \
    X(NEW_ARRAY_ALIGN, CF_CXX_SIZED(_Zna, St11align_val_t), NEW_ALIGN, CF_ALLOC_NEW_ARRAY_ALIGN)   \
    X(NEW_ALIGN_NOTHROW, CF_CXX_SIZED(_Znw, St11align_val_tRKSt9nothrow_t), NEW_ALIGN_NOTHROW,     \
      CF_ALLOC_NEW_ALIGN)                                                                          \
    X(NEW_ARRAY_ALIGN_NOTHROW, CF_CXX_SIZED(_Zna, St11align_val_tRKSt9nothrow_t),                  \
      NEW_ALIGN_NOTHROW, CF_ALLOC_NEW_ARRAY_ALIGN)

// X(id, symbol, shape, fn): every form of operator delete, with the
// deallocation function it is checked as. Sized and nothrow forms release
// like the plain one of their family.
#define CF_CXX_DELETE_FORMS(X)                                                                     \
    X(DELETE_SINGLE, _ZdlPv, DELETE_PLAIN, CF_DEALLOC_DELETE)                                      \
    X(DELETE_ARRAY, _ZdaPv, DELETE_PLAIN, CF_DEALLOC_DELETE_ARRAY)                                 \
    X(DELETE_SIZED, CF_CXX_SIZED(_ZdlPv, ), DELETE_SIZED, CF_DEALLOC_DELETE)                       \
    X(DELETE_ARRAY_SIZED, CF_CXX_SIZED(_ZdaPv, ), DELETE_SIZED, CF_DEALLOC_DELETE_ARRAY)           \
    X(DELETE_NOTHROW, _ZdlPvRKSt9nothrow_t, DELETE_NOTHROW, CF_DEALLOC_DELETE)                     \
    X(DELETE_ARRAY_NOTHROW, _ZdaPvRKSt9nothrow_t, DELETE_NOTHROW, CF_DEALLOC_DELETE_ARRAY)         \
    X(DELETE_ALIGN, _ZdlPvSt11align_val_t, DELETE_ALIGN, CF_DEALLOC_DELETE_ALIGN)                  \
    X(DELETE_ARRAY_ALIGN, _ZdaPvSt11align_val_t, DELETE_ALIGN, CF_DEALLOC_DELETE_ARRAY_ALIGN)      \
    X(DELETE_SIZED_ALIGN, CF_CXX_SIZED(_ZdlPv, St11align_val_t), DELETE_SIZED_ALIGN,               \
      CF_DEALLOC_DELETE_ALIGN)                                                                     \
    X(DELETE_ARRAY_SIZED_ALIGN, CF_CXX_SIZED(_ZdaPv, St11align_val_t), DELETE_SIZED_ALIGN,         \
      CF_DEALLOC_DELETE_ARRAY_ALIGN)                                                               \
    X(DELETE_ALIGN_NOTHROW, _ZdlPvSt11align_val_tRKSt9nothrow_t, DELETE_ALIGN_NOTHROW,             \
      CF_DEALLOC_DELETE_ALIGN)                                                                     \
    X(DELETE_ARRAY_ALIGN_NOTHROW, _ZdaPvSt11align_val_tRKSt9nothrow_t, DELETE_ALIGN_NOTHROW,       \
      CF_DEALLOC_DELETE_ARRAY_ALIGN)

#define CF_CXX_OPERATORS(X) CF_CXX_NEW_FORMS(X) CF_CXX_DELETE_FORMS(X)

// The wrappers, one body per shape. Before expanding
// CF_CXX_OPERATORS(CF_SHIM_CXX_WRAPPER), a shim defines:
//   CF_SHIM_CXX_DECL(ret, symbol)  the wrapper's storage class, type and
//                                  name: an exported `symbol`, a static
//                                  `w_symbol`, ...;
//   CF_SHIM_NEW(id, symbol, fn, n, align, nothrow, tag)
//                                  the body of operator new (align 0: none);
//   CF_SHIM_DELETE(id, fn, p, size, align, tag)
//                                  the body of operator delete (size and align
//                                  0 and tag NULL where the form has none).
// Each wrapper is declared before it is defined (-Wmissing-prototypes).
#define CF_SHIM_CXX_WRAPPER(id, symbol, shape, fn) CF_SHIM_##shape##_(id, symbol, fn)

#define CF_SHIM_NEW_PLAIN_(id, symbol, fn)                                                         \
    CF_SHIM_CXX_DECL(void *, symbol)(size_t n);                                                    \
    CF_SHIM_CXX_DECL(void *, symbol)(size_t n) {                                                   \
        return CF_SHIM_NEW(id, symbol, fn, n, 0, false, NULL);                                     \
    }
#define CF_SHIM_NEW_NOTHROW_(id, symbol, fn)                                                       \
    CF_SHIM_CXX_DECL(void *, symbol)(size_t n, const void *tag);                                   \
    CF_SHIM_CXX_DECL(void *, symbol)(size_t n, const void *tag) {                                  \
        return CF_SHIM_NEW(id, symbol, fn, n, 0, true, tag);                                       \
    }
#define CF_SHIM_NEW_ALIGN_(id, symbol, fn)                                                         \
    CF_SHIM_CXX_DECL(void *, symbol)(size_t n, size_t al);                                         \
    CF_SHIM_CXX_DECL(void *, symbol)(size_t n, size_t al) {                                        \
        return CF_SHIM_NEW(id, symbol, fn, n, al, false, NULL);                                    \
    }
#define CF_SHIM_NEW_ALIGN_NOTHROW_(id, symbol, fn)                                                 \
    CF_SHIM_CXX_DECL(void *, symbol)(size_t n, size_t al, const void *tag);                        \
    CF_SHIM_CXX_DECL(void *, symbol)(size_t n, size_t al, const void *tag) {                       \
        return CF_SHIM_NEW(id, symbol, fn, n, al, true, tag);                                      \
    }

#define CF_SHIM_DELETE_PLAIN_(id, symbol, fn)                                                      \
    CF_SHIM_CXX_DECL(void, symbol)(void *p);                                                       \
    CF_SHIM_CXX_DECL(void, symbol)(void *p) { CF_SHIM_DELETE(id, fn, p, 0, 0, NULL); }
#define CF_SHIM_DELETE_SIZED_(id, symbol, fn)                                                      \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, size_t n);                                             \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, size_t n) { CF_SHIM_DELETE(id, fn, p, n, 0, NULL); }
#define CF_SHIM_DELETE_NOTHROW_(id, symbol, fn)                                                    \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, const void *tag);                                      \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, const void *tag) {                                     \
        CF_SHIM_DELETE(id, fn, p, 0, 0, tag);                                                      \
    }
#define CF_SHIM_DELETE_ALIGN_(id, symbol, fn)                                                      \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, size_t al);                                            \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, size_t al) { CF_SHIM_DELETE(id, fn, p, 0, al, NULL); }
#define CF_SHIM_DELETE_SIZED_ALIGN_(id, symbol, fn)                                                \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, size_t n, size_t al);                                  \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, size_t n, size_t al) {                                 \
        CF_SHIM_DELETE(id, fn, p, n, al, NULL);                                                    \
    }
#define CF_SHIM_DELETE_ALIGN_NOTHROW_(id, symbol, fn)                                              \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, size_t al, const void *tag);                           \
    CF_SHIM_CXX_DECL(void, symbol)(void *p, size_t al, const void *tag) {                          \
        CF_SHIM_DELETE(id, fn, p, 0, al, tag);                                                     \
    }

// ---------------------------------------------------------------------------
// Shared bodies

typedef void *(*cf_new_fn)(size_t);
typedef void *(*cf_new_nothrow_fn)(size_t, const void *);
typedef void *(*cf_new_align_fn)(size_t, size_t);
typedef void *(*cf_new_align_nothrow_fn)(size_t, size_t, const void *);

// Calls the real operator new at `real` (of the shape given by align and
// nothrow). std::new_handler and std::bad_alloc behave exactly as the C++
// runtime says. Not under the recursion guard: what runs inside is the
// program's business. The block the real operator new mallocs is recorded
// as malloc's and then as the caller's family; the program's new_handler
// is checked like the rest of its code; the std::bad_alloc object the C++
// runtime allocates is the program's, freed when it is caught (under the
// guard it would count as crossfree's own memory, which the program may
// not free). With no C++ runtime loaded (real is 0) a nothrow form fails
// and a throwing one aborts, since nothing could throw std::bad_alloc.
static inline void *cf_shim_real_new(uintptr_t real, size_t n, size_t align, bool nothrow,
                                     const void *tag) {
    if (real == 0) {
        if (nothrow)
            return NULL;
        cf_log_error("operator new failed and no C++ runtime is loaded to throw "
                     "std::bad_alloc; aborting");
        cf_os_abort();
    }
    if (align == 0)
        return nothrow ? ((cf_new_nothrow_fn)real)(n, tag) : ((cf_new_fn)real)(n);
    return nothrow ? ((cf_new_align_nothrow_fn)real)(n, align, tag)
                   : ((cf_new_align_fn)real)(n, align);
}

// realloc while crossfree starts up, or of a block from the bootstrap
// arena: the block moves to `alloc` (the shim's malloc once the runtime is
// ready, the arena before), and its old copy is never released.
static inline void *cf_shim_bootstrap_realloc(void *p, size_t n, void *(*alloc)(size_t)) {
    void *q = cf_rt_enter() ? alloc(n) : cf_rt_bootstrap_alloc(n, 16);
    if (q != NULL && p != NULL) {
        size_t old = cf_rt_bootstrap_size(p);
        memcpy(q, p, old < n ? old : n);
    }
    return q;
}

// Around the real call that unloads a module (dlclose, FreeLibrary).
// Before: frames recorded in it must still print as module+offset after
// it is gone. After: another module may now load at its addresses, so
// every cache keyed by code address forgets them. `ready` is
// cf_rt_enter()'s answer, taken once before.
static inline void cf_shim_before_unload(bool ready) {
    if (!ready)
        return;
    CF_RT_GUARDED;
    cf_symbolize_note_modules();
}
static inline void cf_shim_after_unload(bool ready) {
    if (ready)
        cf_rt_modules_changed();
}

#endif
