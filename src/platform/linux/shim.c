// SPDX-License-Identifier: MIT
// The Linux shim: every allocation entry point of glibc and every
// replaceable C++ operator new/delete, exported under its own name so that
// LD_PRELOAD puts them first, dlclose and pthread_create. Each wrapper calls the real
// function (real.h) and hands the result to the runtime; this is the hot
// path, and nothing else lives here: finding the real functions and dlsym
// are lookup.c's, start-up is startup.c's.
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/header.h"
#include "platform/linux/entry_points.h"
#include "platform/linux/real.h"
#include "platform/platform.h"
#include "platform/shim.h"
#include "runtime/runtime.h"

#define CF_EXPORT __attribute__((visibility("default")))

typedef void (*delete_fn)(void *);
typedef void (*delete_align_fn)(void *, size_t);

// With the program's own operators (cf_linux_cxx_replaced), a new-family
// block goes back through the C++ runtime's plain delete of its family,
// which reaches the program's replacement; under the guard, since that
// frees through crossfree's free. False when there is no C++ runtime.
static bool release_cxx(uintptr_t addr, unsigned family) {
    static const unsigned plain[] = {
        [CF_FAM_NEW] = W_DELETE_SINGLE,
        [CF_FAM_NEW_ARRAY] = W_DELETE_ARRAY,
        [CF_FAM_NEW_ALIGN] = W_DELETE_ALIGN,
        [CF_FAM_NEW_ARRAY_ALIGN] = W_DELETE_ARRAY_ALIGN,
    };
    unsigned idx = plain[family];
    uintptr_t fn = cf_linux_cxx_target(idx);
    if (fn == 0)
        return false;
    CF_RT_GUARDED;
    if (idx == W_DELETE_ALIGN || idx == W_DELETE_ARRAY_ALIGN)
        ((delete_align_fn)fn)((void *)addr, 16); // the alignment is not recorded
    else
        ((delete_fn)fn)((void *)addr);
    return true;
}

void cf_platform_release(uintptr_t addr, unsigned family) {
    // Every built-in family on glibc is carved from the malloc heap; a
    // program-registered family's memory belongs to the program.
    if (family >= CF_FAM_CUSTOM_FIRST)
        return;
    if (cf_linux_cxx_replaced && cf_family_is_new(family) && release_cxx(addr, family))
        return;
    REAL(FREE, free_fn)((void *)addr);
}

// ---------------------------------------------------------------------------
// malloc family

// Records a successful allocation that has no header (its record goes to
// the owner table); the caller's errno stays as the real allocator left it.
static inline void *track(cf_alloc_fn fn, void *p, size_t n) {
    if (p != NULL) {
        int e = errno;
        cf_rt_on_alloc(fn, p, n);
        errno = e;
    }
    return p;
}

// Records a successful allocation made with room for the header in front
// (cf_rt_header_bytes more than the program asked for) and returns the
// program's pointer; errno as the real allocator left it.
static inline void *track_header(cf_alloc_fn fn, void *real, size_t n) {
    if (real == NULL)
        return NULL;
    int e = errno;
    void *p = cf_rt_on_alloc_header(fn, real, n);
    errno = e;
    return p;
}

// n plus the header, in *total; false when that overflows (the request is
// then passed on as it is, to fail the way the real allocator fails).
static inline bool with_header(size_t n, size_t *total) {
    return !__builtin_add_overflow(n, cf_rt_header_bytes, total);
}

// Blocks aligned beyond malloc's own 16 bytes keep their address and no
// header: a header would cost the whole alignment in front of each.
#define HEADER_ALIGN_MAX 16u

static inline __attribute__((always_inline)) void *malloc_body(size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 16);
    size_t total;
    if (!with_header(n, &total))
        return track(CF_ALLOC_MALLOC, REAL(MALLOC, malloc_fn)(n), n);
    return track_header(CF_ALLOC_MALLOC, REAL(MALLOC, malloc_fn)(total), n);
}

CF_EXPORT void *malloc(size_t n) { return malloc_body(n); }

static inline __attribute__((always_inline)) void free_body(void *p) {
    if (p == NULL || !cf_rt_enter())
        return; // during start-up only bootstrap blocks exist, and they stay
    int e = errno;
    cf_rt_on_free(CF_DEALLOC_FREE, CF_FAM_MALLOC, p);
    errno = e;
}

CF_EXPORT void free(void *p) { free_body(p); }

static inline __attribute__((always_inline)) void *calloc_body(size_t n, size_t size) {
    if (!cf_rt_enter()) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total)) {
            errno = ENOMEM;
            return NULL;
        }
        return cf_rt_bootstrap_alloc(total, 16); // static, hence zeroed
    }
    size_t total, ask;
    if (__builtin_mul_overflow(n, size, &total) || !with_header(total, &ask))
        return track(CF_ALLOC_CALLOC, REAL(CALLOC, calloc_fn)(n, size), n * size);
    return track_header(CF_ALLOC_CALLOC, REAL(CALLOC, calloc_fn)(1, ask), total);
}

CF_EXPORT void *calloc(size_t n, size_t size) { return calloc_body(n, size); }

// realloc and reallocarray share everything but the real call.
static void *realloc_common(void *p, size_t n, size_t size, bool array) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!cf_rt_enter() || cf_rt_is_bootstrap(p))
        return cf_shim_bootstrap_realloc(p, total, malloc);
    cf_alloc_fn fn = array ? CF_ALLOC_REALLOCARRAY : CF_ALLOC_REALLOC;
    if (p == NULL) {
        size_t ask;
        if (!with_header(total, &ask))
            return track(fn, REAL(REALLOC, realloc_fn)(NULL, total), total);
        return track_header(fn, REAL(REALLOC, realloc_fn)(NULL, ask), total);
    }
    int e = errno;
    cf_record saved;
    if (!cf_rt_realloc_begin(CF_DEALLOC_REALLOC, p, &saved)) {
        errno = ENOMEM; // the pointer was not ours to resize: fail like an allocator
        return NULL;
    }
    errno = e;
    // Not the real reallocarray: glibc's calls realloc through the PLT,
    // which would reach our realloc with a record already detached. The
    // overflow check above is all it adds to realloc. A block with a header
    // keeps one (it moves with the data); a size of 0 is passed on as it is,
    // so that the real allocator frees or shrinks the block its own way.
    size_t ask = total;
    void *q = NULL;
    if (cf_record_has_header(&saved) && total != 0 &&
        __builtin_add_overflow(total, (size_t)CF_HEADER_SIZE, &ask)) {
        e = ENOMEM;
    } else {
        q = REAL(REALLOC, realloc_fn)((void *)cf_record_real_addr(&saved), ask);
        e = errno;
    }
    q = cf_rt_realloc_end(fn, &saved, q, total);
    errno = e;
    return q;
}

CF_EXPORT void *realloc(void *p, size_t n) { return realloc_common(p, n, 1, false); }

CF_EXPORT void *reallocarray(void *p, size_t n, size_t size) {
    return realloc_common(p, n, size, true);
}

// memalign and aligned_alloc: within malloc's alignment the block gets a
// header like any other (the real function still sees the program's
// alignment, and rejects it as it would); beyond it, no header.
static inline void *aligned_common(cf_alloc_fn fn, memalign_fn real, size_t align, size_t n) {
    size_t total;
    if (align <= HEADER_ALIGN_MAX && with_header(n, &total))
        return track_header(fn, real(align, total), n);
    return track(fn, real(align, n), n);
}

static inline void *memalign_body(size_t align, size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return aligned_common(CF_ALLOC_MEMALIGN, REAL(MEMALIGN, memalign_fn), align, n);
}

CF_EXPORT void *memalign(size_t align, size_t n) { return memalign_body(align, n); }

CF_EXPORT void *aligned_alloc(size_t align, size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return aligned_common(CF_ALLOC_ALIGNED_ALLOC, REAL(ALIGNED_ALLOC, memalign_fn), align, n);
}

CF_EXPORT int posix_memalign(void **out, size_t align, size_t n) {
    if (!cf_rt_enter()) {
        void *p = cf_rt_bootstrap_alloc(n, align);
        if (p == NULL)
            return ENOMEM;
        *out = p;
        return 0;
    }
    void *p = NULL;
    int e = errno;
    size_t total;
    bool header = align <= HEADER_ALIGN_MAX && with_header(n, &total);
    int r = REAL(POSIX_MEMALIGN, posix_memalign_fn)(&p, align, header ? total : n);
    if (r == 0) {
        if (header)
            p = cf_rt_on_alloc_header(CF_ALLOC_POSIX_MEMALIGN, p, n);
        else
            cf_rt_on_alloc(CF_ALLOC_POSIX_MEMALIGN, p, n);
        *out = p;
    }
    errno = e;
    return r;
}

static inline void *valloc_body(size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 4096);
    return track(CF_ALLOC_VALLOC, REAL(VALLOC, malloc_fn)(n), n);
}

CF_EXPORT void *valloc(size_t n) { return valloc_body(n); }

static inline void *pvalloc_body(size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 4096);
    return track(CF_ALLOC_PVALLOC, REAL(PVALLOC, malloc_fn)(n), n);
}

CF_EXPORT void *pvalloc(size_t n) { return pvalloc_body(n); }

CF_EXPORT size_t malloc_usable_size(void *p) {
    if (p == NULL)
        return 0;
    if (cf_rt_is_bootstrap(p))
        return cf_rt_bootstrap_size(p);
    if (!cf_rt_enter())
        return 0;
    // What the real allocator gives the whole block, less the header.
    uintptr_t real = cf_rt_real_block(p);
    size_t usable = REAL(MALLOC_USABLE_SIZE, usable_fn)((void *)real);
    size_t before = (uintptr_t)p - real;
    return usable > before ? usable - before : 0;
}

// glibc's own names for the same functions, which some programs call
// directly, often from their own malloc replacements. When such a
// replacement comes before crossfree's malloc (cf_linux_shadow), it is
// built on these: they go straight to the real ones (glibc's), untracked,
// since crossfree sees neither the program's malloc nor its free; through
// crossfree's malloc they would come back to the program's. Otherwise they
// are crossfree's malloc, free... under another name. Blocks of the
// bootstrap arena (start-up) never reach the real functions.
#define LIBC_SHADOWED (cf_rt_enter() && cf_linux_shadow.shadowed)
CF_EXPORT void *__libc_malloc(size_t n) {
    return LIBC_SHADOWED ? REAL(LIBC_MALLOC, malloc_fn)(n) : malloc_body(n);
}
CF_EXPORT void __libc_free(void *p) {
    if (LIBC_SHADOWED && !cf_rt_is_bootstrap(p))
        REAL(LIBC_FREE, free_fn)(p);
    else
        free_body(p);
}
CF_EXPORT void *__libc_calloc(size_t n, size_t s) {
    return LIBC_SHADOWED ? REAL(LIBC_CALLOC, calloc_fn)(n, s) : calloc_body(n, s);
}
CF_EXPORT void *__libc_realloc(void *p, size_t n) {
    if (!LIBC_SHADOWED)
        return realloc_common(p, n, 1, false);
    if (cf_rt_is_bootstrap(p))
        return cf_shim_bootstrap_realloc(p, n, REAL(LIBC_MALLOC, malloc_fn));
    return REAL(LIBC_REALLOC, realloc_fn)(p, n);
}
CF_EXPORT void *__libc_memalign(size_t a, size_t n) {
    return LIBC_SHADOWED ? REAL(LIBC_MEMALIGN, memalign_fn)(a, n) : memalign_body(a, n);
}
CF_EXPORT void *__libc_valloc(size_t n) {
    return LIBC_SHADOWED ? REAL(LIBC_VALLOC, malloc_fn)(n) : valloc_body(n);
}
CF_EXPORT void *__libc_pvalloc(size_t n) {
    return LIBC_SHADOWED ? REAL(LIBC_PVALLOC, malloc_fn)(n) : pvalloc_body(n);
}
#undef LIBC_SHADOWED
// cfree is a compat-only symbol of glibc that old binaries still import.
CF_EXPORT void cfree(void *p) { free(p); }

// ---------------------------------------------------------------------------
// C++ operator new / delete

// The program replaces an operator of its own: every form is the C++
// runtime's, as if crossfree were not there, which is how the standard's
// default forms reach the replacement (the default operator new[] calls
// operator new, the sized delete the unsized one...). The result is
// tracked as the family of the form the program called.
// Not under the guard: what the replacement allocates inside is the
// program's, checked as such when the replacement frees it.
static __attribute__((noinline)) void *forward_new(cf_alloc_fn kind, unsigned idx, size_t n,
                                                   size_t align, bool nothrow, const void *tag) {
    uintptr_t real = cf_linux_cxx_target(idx);
    void *p;
    if (real == 0)
        p = cf_shim_real_new(0, n, align, nothrow, tag); // no C++ runtime: fails as it would
    else if (align == 0)
        p = nothrow ? ((cf_new_nothrow_fn)real)(n, tag) : ((cf_new_fn)real)(n);
    else
        p = nothrow ? ((cf_new_align_nothrow_fn)real)(n, align, tag)
                    : ((cf_new_align_fn)real)(n, align);
    if (p != NULL) {
        int e = errno;
        cf_rt_on_alloc_aligned(kind, p, n, align);
        errno = e;
    }
    return p;
}

// The fast path allocates straight from the real malloc. Only when that
// fails does the real operator new run (cf_shim_real_new), so that
// std::new_handler and std::bad_alloc behave exactly as libstdc++ says.
static inline void *new_common(cf_alloc_fn kind, unsigned slow_idx, size_t n, size_t align,
                               bool nothrow, const void *tag) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n ? n : 1, align ? align : 16);
    if (cf_linux_cxx_replaced)
        return forward_new(kind, slow_idx, n, align, nothrow, tag);
    void *p;
    size_t total;
    if (align == 0 && with_header(n ? n : 1, &total)) {
        p = REAL(MALLOC, malloc_fn)(total);
        if (p != NULL)
            return track_header(kind, p, n);
    } else if (align == 0) {
        p = NULL; // cannot be satisfied: the real operator new decides what happens
    } else {
        // libstdc++'s rule: at least pointer alignment, size a multiple of it.
        size_t al = align < sizeof(void *) ? sizeof(void *) : align;
        size_t sz = n ? n : 1;
        p = NULL;
        if (sz + al - 1 >= sz && (al & (al - 1)) == 0)
            p = REAL(ALIGNED_ALLOC, memalign_fn)(al, (sz + al - 1) & ~(al - 1));
    }
    if (p == NULL)
        p = cf_shim_real_new(cf_linux_resolve_next(slow_idx), n, align, nothrow, tag);
    if (p != NULL)
        cf_rt_on_alloc_aligned(kind, p, n, align);
    return p;
}

// With the program's own operators, a delete goes at once to the form the
// program called, as found without crossfree (the C++ runtime's default
// hands it on to the replacement: the sized delete to the unsized one...),
// so the replacement runs when the program expects it to. A block
// crossfree recorded (made through one of its forms) is checked first and
// handed on under the guard (the replacement's free of the block under it
// is then crossfree's business, already judged); one it never saw was
// made by the replacement directly and is handed on untouched, so the
// replacement's own free() of it is checked as usual.
typedef void (*delete_sized_fn)(void *, size_t);
typedef void (*delete_tag_fn)(void *, const void *);
typedef void (*delete_sized_align_fn)(void *, size_t, size_t);
typedef void (*delete_align_tag_fn)(void *, size_t, const void *);

static void call_delete(uintptr_t real, void *p, size_t size, size_t align, const void *tag) {
    if (size != 0 && align != 0)
        ((delete_sized_align_fn)real)(p, size, align);
    else if (size != 0)
        ((delete_sized_fn)real)(p, size);
    else if (align != 0 && tag != NULL)
        ((delete_align_tag_fn)real)(p, align, tag);
    else if (align != 0)
        ((delete_align_fn)real)(p, align);
    else if (tag != NULL)
        ((delete_tag_fn)real)(p, tag);
    else
        ((delete_fn)real)(p);
}

static __attribute__((noinline)) void forward_delete(unsigned idx, cf_dealloc_fn fn, void *p,
                                                     size_t size, size_t align, const void *tag) {
    cf_record rec;
    uintptr_t real = cf_linux_cxx_target(idx);
    if (real == 0) {
        cf_rt_on_delete(fn, cf_family_of_dealloc(fn), p, size, align); // no C++ runtime
        return;
    }
    if (!cf_rt_lookup(p, &rec) ||
        (cf_linux_new_replaced && cf_record_family(&rec) == CF_FAM_MALLOC)) {
        call_delete(real, p, size, align, tag);
        return;
    }
    int verdict = cf_rt_release_begin(fn, p, &rec);
    if (verdict < 0)
        return; // reported, and not to be touched (halt_on_error=0)
    unsigned family = cf_record_family(&rec);
    CF_RT_GUARDED;
    if (verdict > 0)
        call_delete(real, p, size, align, tag);
    else if (!cf_family_is_new(family) || !release_cxx((uintptr_t)p, family))
        REAL(FREE, free_fn)(p); // a reported mismatch: back the way it was made
}

static inline void delete_common(unsigned idx, cf_dealloc_fn fn, void *p, size_t size, size_t align,
                                 const void *tag) {
    if (p == NULL || !cf_rt_enter())
        return;
    int e = errno;
    if (cf_linux_cxx_replaced)
        forward_delete(idx, fn, p, size, align, tag);
    else
        cf_rt_on_delete(fn, cf_family_of_dealloc(fn), p, size, align);
    errno = e;
}

// Every form is exported under its own mangled name.
#define CF_SHIM_CXX_DECL(ret, symbol) CF_EXPORT ret symbol
#define CF_SHIM_NEW(id, symbol, fn, n, align, nothrow, tag)                                        \
    new_common(fn, W_##id, n, align, nothrow, tag)
#define CF_SHIM_DELETE(id, fn, p, size, align, tag) delete_common(W_##id, fn, p, size, align, tag)
CF_CXX_OPERATORS(CF_SHIM_CXX_WRAPPER)

// ---------------------------------------------------------------------------
// dlclose

CF_EXPORT int dlclose(void *handle) {
    bool ready = cf_rt_enter();
    cf_shim_before_unload(ready);
    int rc = ((dlclose_fn)cf_linux_resolve_next(W_DLCLOSE))(handle);
    cf_shim_after_unload(ready);
    return rc;
}

// ---------------------------------------------------------------------------
// pthread_create: reports say which thread was created where

// The new thread starts in cf_rt_thread_start, which numbers it and runs
// the program's start routine; the creating call's stack is kept for the
// report's "Thread T1 created by T0 here:".
CF_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                             void *arg) {
    pthread_create_fn real = (pthread_create_fn)cf_linux_resolve_next(W_PTHREAD_CREATE);
    void *slot = cf_rt_enter() ? cf_rt_thread_creating(start, arg) : NULL;
    if (slot == NULL)
        return real(thread, attr, start, arg);
    int rc = real(thread, attr, cf_rt_thread_start, slot);
    if (rc != 0)
        cf_rt_thread_create_failed(slot);
    return rc;
}

// ---------------------------------------------------------------------------
// The wrappers' addresses

const uintptr_t cf_linux_wrapper[W_COUNT] = {
#define X(id, sym) [W_##id] = (uintptr_t)sym,
    CF_WRAPPED_ALL(X)
#undef X
};
