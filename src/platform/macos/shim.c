// SPDX-License-Identifier: MIT
// The macOS shim: a wrapper for every allocation entry point of libSystem's
// malloc (plain, typed and zone-based) and for libc++'s operator new and
// delete, each listed in `__DATA,__interpose` so that dyld rebinds every
// other image's calls to it when the library is inserted with
// DYLD_INSERT_LIBRARIES. dyld leaves this image's own references alone, so a
// wrapper reaches the real function by calling it by name.
#include <dlfcn.h>
#include <errno.h>
#include <malloc/malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/quarantine.h"
#include "core/table.h"
#include "platform/macos/macos.h"
#include "platform/platform.h"
#include "platform/shim.h"
#include "runtime/runtime.h"
#include "stack/symbolize.h"

// ---------------------------------------------------------------------------
// The functions that may be missing at run time

// Typed allocation (macOS 14) and malloc_zone_malloc_with_options (macOS
// 26) are newer than the deployment target: they are weak imports, null on
// older systems, where dyld skips their tuples (a replacee that resolves to
// nothing is never interposed). Clang weak-links them on its own because of
// their availability; the attribute says so in the source, and the
// availability warning is the point of this block, not a mistake.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunguarded-availability-new"
#pragma clang diagnostic ignored "-Wunguarded-availability"

// The replaceable operators of libc++abi (re-exported by libc++.1.dylib,
// which libcxx.tbd describes to the linker), by their Itanium names, from
// the one list (platform/shim.h). At the symbol level Mach-O adds one more
// leading underscore: __Znwm. Each is declared with no parameters: only
// its address is taken, to call it through a pointer of the right type.
#define CF_REAL_OPERATOR(id, sym, shape, fn) void sym(void) __attribute__((weak_import));
CF_CXX_OPERATORS(CF_REAL_OPERATOR)
#undef CF_REAL_OPERATOR

// ---------------------------------------------------------------------------
// Shared helpers

// Records a successful allocation; the caller's errno stays as the real
// allocator left it.
static inline void *track(cf_alloc_fn fn, void *p, size_t n) {
    if (p != NULL) {
        int e = errno;
        cf_rt_on_alloc(fn, p, n);
        errno = e;
    }
    return p;
}

// A block crossfree holds no record of, yet a malloc zone owns: it was made
// through a path no wrapper sees (code calling a zone's function pointers
// directly). It is legitimately freed with free() on macOS, so it is not
// crossfree's to judge: the caller passes it straight to the real function.
// An interior, stack, static or foreign pointer has no owning zone
// (malloc_size is 0) and is still checked, and reported; so is a block
// crossfree holds in its quarantine (a zone owns it, but it was freed).
static bool untracked_heap_block(const void *p) {
    cf_record r;
    return !cf_table_lookup((uintptr_t)p, &r) && malloc_size(p) != 0 &&
           !cf_quarantine_holds((uintptr_t)p);
}

// The free path shared by every deallocator of the malloc family.
static inline void free_common(cf_dealloc_fn fn, void *p) {
    int e = errno;
    cf_rt_on_free(fn, cf_family_of_dealloc(fn), p);
    errno = e;
}

void cf_platform_release(uintptr_t addr, unsigned family) {
    // Every built-in family on macOS is carved from malloc zones, and free()
    // finds a block's zone itself; a program-registered family's memory
    // belongs to the program.
    if (family < CF_FAM_CUSTOM_FIRST)
        free((void *)addr);
}

// ---------------------------------------------------------------------------
// malloc, calloc, valloc, aligned_alloc, posix_memalign (plain and typed)

static void *cf_mac_malloc(size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 16);
    return track(CF_ALLOC_MALLOC, malloc(n), n);
}

static void *cf_mac_malloc_type_malloc(size_t n, malloc_type_id_t type) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 16);
    return track(CF_ALLOC_MALLOC, malloc_type_malloc(n, type), n);
}

// Serves a calloc during start-up: the bootstrap arena is static, hence
// zeroed.
static void *bootstrap_calloc(size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return cf_rt_bootstrap_alloc(total, 16);
}

static void *cf_mac_calloc(size_t n, size_t size) {
    if (!cf_rt_enter())
        return bootstrap_calloc(n, size);
    return track(CF_ALLOC_CALLOC, calloc(n, size), n * size);
}

static void *cf_mac_malloc_type_calloc(size_t n, size_t size, malloc_type_id_t type) {
    if (!cf_rt_enter())
        return bootstrap_calloc(n, size);
    return track(CF_ALLOC_CALLOC, malloc_type_calloc(n, size, type), n * size);
}

static void *cf_mac_valloc(size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, cf_os_page_size());
    return track(CF_ALLOC_VALLOC, valloc(n), n);
}

static void *cf_mac_malloc_type_valloc(size_t n, malloc_type_id_t type) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, cf_os_page_size());
    return track(CF_ALLOC_VALLOC, malloc_type_valloc(n, type), n);
}

static void *cf_mac_aligned_alloc(size_t align, size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return track(CF_ALLOC_ALIGNED_ALLOC, aligned_alloc(align, n), n);
}

static void *cf_mac_malloc_type_aligned_alloc(size_t align, size_t n, malloc_type_id_t type) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return track(CF_ALLOC_ALIGNED_ALLOC, malloc_type_aligned_alloc(align, n, type), n);
}

// posix_memalign and its typed twin share everything but the real call
// (`typed` selects it).
static int memalign_common(void **out, size_t align, size_t n, bool typed, malloc_type_id_t type) {
    if (!cf_rt_enter()) {
        void *p = cf_rt_bootstrap_alloc(n, align);
        if (p == NULL)
            return ENOMEM;
        *out = p;
        return 0;
    }
    void *p = NULL;
    int e = errno;
    int r = typed ? malloc_type_posix_memalign(&p, align, n, type) : posix_memalign(&p, align, n);
    if (r == 0) {
        cf_rt_on_alloc(CF_ALLOC_POSIX_MEMALIGN, p, n);
        *out = p;
    }
    errno = e;
    return r;
}

static int cf_mac_posix_memalign(void **out, size_t align, size_t n) {
    return memalign_common(out, align, n, false, 0);
}

static int cf_mac_malloc_type_posix_memalign(void **out, size_t align, size_t n,
                                             malloc_type_id_t type) {
    return memalign_common(out, align, n, true, type);
}

// ---------------------------------------------------------------------------
// free and malloc_size

static void cf_mac_free(void *p) {
    if (p == NULL || !cf_rt_enter() || cf_rt_is_bootstrap(p))
        return; // bootstrap blocks stay where they are
    if (untracked_heap_block(p)) {
        free(p);
        return;
    }
    free_common(CF_DEALLOC_FREE, p);
}

void cf_macos_free(void *p) { cf_mac_free(p); }

static void cf_mac_malloc_type_free(void *p, malloc_type_id_t type) {
    if (p == NULL || !cf_rt_enter() || cf_rt_is_bootstrap(p))
        return;
    if (untracked_heap_block(p)) {
        malloc_type_free(p, type);
        return;
    }
    free_common(CF_DEALLOC_FREE, p);
}

static size_t cf_mac_malloc_size(const void *p) {
    if (p != NULL && cf_rt_is_bootstrap(p))
        return cf_rt_bootstrap_size(p);
    return malloc_size(p);
}

// ---------------------------------------------------------------------------
// realloc in all its forms

// Which real function a realloc wrapper stands for, with the extra
// arguments it must pass on.
typedef enum { RE_PLAIN, RE_TYPED, RE_ZONE, RE_TYPED_ZONE } realloc_kind;
typedef struct realloc_call {
    realloc_kind kind;
    malloc_zone_t *zone;
    malloc_type_id_t type;
} realloc_call;

static void *real_realloc(const realloc_call *c, void *p, size_t n) {
    switch (c->kind) {
    case RE_TYPED:
        return malloc_type_realloc(p, n, c->type);
    case RE_ZONE:
        return malloc_zone_realloc(c->zone, p, n);
    case RE_TYPED_ZONE:
        return malloc_type_zone_realloc(c->zone, p, n, c->type);
    case RE_PLAIN:
    default:
        return realloc(p, n);
    }
}

// The shared realloc. *attempted tells reallocf whether the real realloc
// ran (and failed), after which the old block is still live and must go.
static void *realloc_common(const realloc_call *c, void *p, size_t n, bool *attempted) {
    *attempted = false;
    if (!cf_rt_enter() || cf_rt_is_bootstrap(p))
        return cf_shim_bootstrap_realloc(p, n, cf_mac_malloc);
    *attempted = true;
    if (p == NULL || untracked_heap_block(p))
        return track(CF_ALLOC_REALLOC, real_realloc(c, p, n), n);
    int e = errno;
    cf_record saved;
    if (!cf_rt_realloc_begin(CF_DEALLOC_REALLOC, p, &saved)) {
        *attempted = false;
        errno = ENOMEM; // the pointer was not ours to resize: fail like an allocator
        return NULL;
    }
    errno = e;
    void *q = real_realloc(c, p, n);
    e = errno;
    cf_rt_realloc_end(CF_ALLOC_REALLOC, &saved, q, n);
    errno = e;
    return q;
}

static void *cf_mac_realloc(void *p, size_t n) {
    realloc_call c = {RE_PLAIN, NULL, 0};
    bool attempted;
    return realloc_common(&c, p, n, &attempted);
}

static void *cf_mac_malloc_type_realloc(void *p, size_t n, malloc_type_id_t type) {
    realloc_call c = {RE_TYPED, NULL, type};
    bool attempted;
    return realloc_common(&c, p, n, &attempted);
}

// reallocf frees the old block when the resize fails. It is wrapped on its
// own because libmalloc's reallocf calls realloc and free internally,
// where no interposing reaches.
static void *cf_mac_reallocf(void *p, size_t n) {
    realloc_call c = {RE_PLAIN, NULL, 0};
    bool attempted;
    void *q = realloc_common(&c, p, n, &attempted);
    if (q == NULL && attempted && p != NULL && n != 0) {
        int e = errno;
        cf_mac_free(p);
        errno = e;
    }
    return q;
}

// ---------------------------------------------------------------------------
// Zones

// Blocks of every zone are the malloc family: free() releases a block of
// any registered zone, and malloc_zone_free with the right zone releases a
// block malloc() made, so only the family matters to a mismatch.

static void *cf_mac_malloc_zone_malloc(malloc_zone_t *z, size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 16);
    return track(CF_ALLOC_MALLOC, malloc_zone_malloc(z, n), n);
}

static void *cf_mac_malloc_type_zone_malloc(malloc_zone_t *z, size_t n, malloc_type_id_t type) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 16);
    return track(CF_ALLOC_MALLOC, malloc_type_zone_malloc(z, n, type), n);
}

static void *cf_mac_malloc_zone_calloc(malloc_zone_t *z, size_t n, size_t size) {
    if (!cf_rt_enter())
        return bootstrap_calloc(n, size);
    return track(CF_ALLOC_CALLOC, malloc_zone_calloc(z, n, size), n * size);
}

static void *cf_mac_malloc_type_zone_calloc(malloc_zone_t *z, size_t n, size_t size,
                                            malloc_type_id_t type) {
    if (!cf_rt_enter())
        return bootstrap_calloc(n, size);
    return track(CF_ALLOC_CALLOC, malloc_type_zone_calloc(z, n, size, type), n * size);
}

static void *cf_mac_malloc_zone_valloc(malloc_zone_t *z, size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, cf_os_page_size());
    return track(CF_ALLOC_VALLOC, malloc_zone_valloc(z, n), n);
}

static void *cf_mac_malloc_type_zone_valloc(malloc_zone_t *z, size_t n, malloc_type_id_t type) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, cf_os_page_size());
    return track(CF_ALLOC_VALLOC, malloc_type_zone_valloc(z, n, type), n);
}

static void *cf_mac_malloc_zone_memalign(malloc_zone_t *z, size_t align, size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return track(CF_ALLOC_MEMALIGN, malloc_zone_memalign(z, align, n), n);
}

static void *cf_mac_malloc_type_zone_memalign(malloc_zone_t *z, size_t align, size_t n,
                                              malloc_type_id_t type) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return track(CF_ALLOC_MEMALIGN, malloc_type_zone_memalign(z, align, n, type), n);
}

// MALLOC_ZONE_MALLOC_OPTION_CLEAR makes these callocs; the bootstrap arena
// is zeroed either way.
static void *cf_mac_malloc_zone_malloc_with_options(malloc_zone_t *z, size_t align, size_t n,
                                                    malloc_zone_malloc_options_t opts) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return track(CF_ALLOC_MALLOC, malloc_zone_malloc_with_options(z, align, n, opts), n);
}

static void *cf_mac_malloc_type_zone_malloc_with_options(malloc_zone_t *z, size_t align, size_t n,
                                                         malloc_type_id_t type,
                                                         malloc_zone_malloc_options_t opts) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return track(CF_ALLOC_MALLOC, malloc_type_zone_malloc_with_options(z, align, n, type, opts), n);
}

static void *cf_mac_malloc_zone_realloc(malloc_zone_t *z, void *p, size_t n) {
    realloc_call c = {RE_ZONE, z, 0};
    bool attempted;
    return realloc_common(&c, p, n, &attempted);
}

static void *cf_mac_malloc_type_zone_realloc(malloc_zone_t *z, void *p, size_t n,
                                             malloc_type_id_t type) {
    realloc_call c = {RE_TYPED_ZONE, z, type};
    bool attempted;
    return realloc_common(&c, p, n, &attempted);
}

static void cf_mac_malloc_zone_free(malloc_zone_t *z, void *p) {
    if (p == NULL || !cf_rt_enter() || cf_rt_is_bootstrap(p))
        return;
    if (untracked_heap_block(p)) {
        malloc_zone_free(z, p);
        return;
    }
    free_common(CF_DEALLOC_FREE, p);
}

static void cf_mac_malloc_type_zone_free(malloc_zone_t *z, void *p, malloc_type_id_t type) {
    if (p == NULL || !cf_rt_enter() || cf_rt_is_bootstrap(p))
        return;
    if (untracked_heap_block(p)) {
        malloc_type_zone_free(z, p, type);
        return;
    }
    free_common(CF_DEALLOC_FREE, p);
}

static unsigned cf_mac_malloc_zone_batch_malloc(malloc_zone_t *z, size_t size, void **results,
                                                unsigned count) {
    if (!cf_rt_enter()) {
        unsigned got = 0;
        while (got < count && (results[got] = cf_rt_bootstrap_alloc(size, 16)) != NULL)
            got++;
        return got;
    }
    unsigned got = malloc_zone_batch_malloc(z, size, results, count);
    for (unsigned i = 0; i < got; i++)
        track(CF_ALLOC_MALLOC, results[i], size);
    return got;
}

static void cf_mac_malloc_zone_batch_free(malloc_zone_t *z, void **blocks, unsigned count) {
    for (unsigned i = 0; i < count; i++)
        cf_mac_malloc_zone_free(z, blocks[i]);
}

// A destroyed zone takes its blocks with it, including those crossfree
// still holds in the quarantine, which it would later hand to free(): the
// zone is kept instead (its memory stays until exit). Programs that create
// and destroy zones in a loop grow; docs/macos.md says so.
static void cf_mac_malloc_destroy_zone(malloc_zone_t *z) { (void)z; }

#pragma clang diagnostic pop

// ---------------------------------------------------------------------------
// C++ operator new / delete

// The fast path allocates straight from the real malloc (posix_memalign
// for the aligned forms, as libc++abi does), so the block is exactly what
// libc++abi would have made. Only when that fails does the real operator
// new run (cf_shim_real_new), so that std::new_handler and std::bad_alloc
// behave as libc++abi says. `real` is the operator being wrapped (libc++
// is a load command of this library); a nothrow form passes std::nothrow's
// address along as `tag`.
static inline void *new_common(cf_alloc_fn kind, void (*real)(void), size_t n, size_t align,
                               bool nothrow, const void *tag) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n ? n : 1, align ? align : 16);
    void *p = NULL;
    if (align == 0) {
        p = malloc(n ? n : 1);
    } else {
        size_t al = align < sizeof(void *) ? sizeof(void *) : align;
        if ((al & (al - 1)) != 0 || posix_memalign(&p, al, n ? n : 1) != 0)
            p = NULL;
    }
    if (p == NULL)
        p = cf_shim_real_new((uintptr_t)real, n, align, nothrow, tag);
    if (p != NULL)
        cf_rt_on_alloc_aligned(kind, p, n, align);
    return p;
}

static inline void delete_common(cf_dealloc_fn fn, void *p, size_t size, size_t align) {
    if (p == NULL || !cf_rt_enter() || cf_rt_is_bootstrap(p))
        return;
    if (untracked_heap_block(p)) {
        free(p); // libc++abi's operator delete is free()
        return;
    }
    int e = errno;
    cf_rt_on_delete(fn, cf_family_of_dealloc(fn), p, size, align);
    errno = e;
}

// Every form becomes a static cf_mac_<symbol>, reached through its
// interpose tuple below.
#define CF_SHIM_CXX_DECL(ret, symbol) static ret CF_CXX_PASTE(cf_mac_, symbol, )
#define CF_SHIM_NEW(id, symbol, fn, n, align, nothrow, tag)                                        \
    new_common(fn, &symbol, n, align, nothrow, tag)
#define CF_SHIM_DELETE(id, fn, p, size, align, tag) ((void)(tag), delete_common(fn, p, size, align))
CF_CXX_OPERATORS(CF_SHIM_CXX_WRAPPER)

// ---------------------------------------------------------------------------
// dlclose

static int cf_mac_dlclose(void *handle) {
    bool ready = cf_rt_enter();
    cf_shim_before_unload(ready);
    int rc = dlclose(handle);
    cf_shim_after_unload(ready);
    return rc;
}

// ---------------------------------------------------------------------------
// The interposing tuples

// Each entry names the replacee; its wrapper is cf_mac_<name>. dyld reads
// this section of every image inserted at launch (any section named
// __interpose in a __DATA segment) and rebinds every other image's imports
// of the replacee, and the results of dlsym, to the wrapper.
#define CF_INTERPOSED(X)                                                                           \
    X(malloc)                                                                                      \
    X(calloc)                                                                                      \
    X(realloc)                                                                                     \
    X(reallocf)                                                                                    \
    X(free)                                                                                        \
    X(posix_memalign)                                                                              \
    X(aligned_alloc)                                                                               \
    X(valloc)                                                                                      \
    X(malloc_size)                                                                                 \
    X(malloc_type_malloc)                                                                          \
    X(malloc_type_calloc)                                                                          \
    X(malloc_type_realloc)                                                                         \
    X(malloc_type_free)                                                                            \
    X(malloc_type_valloc)                                                                          \
    X(malloc_type_aligned_alloc)                                                                   \
    X(malloc_type_posix_memalign)                                                                  \
    X(malloc_zone_malloc)                                                                          \
    X(malloc_zone_calloc)                                                                          \
    X(malloc_zone_valloc)                                                                          \
    X(malloc_zone_memalign)                                                                        \
    X(malloc_zone_realloc)                                                                         \
    X(malloc_zone_free)                                                                            \
    X(malloc_zone_batch_malloc)                                                                    \
    X(malloc_zone_batch_free)                                                                      \
    X(malloc_destroy_zone)                                                                         \
    X(malloc_zone_malloc_with_options)                                                             \
    X(malloc_type_zone_malloc)                                                                     \
    X(malloc_type_zone_calloc)                                                                     \
    X(malloc_type_zone_valloc)                                                                     \
    X(malloc_type_zone_memalign)                                                                   \
    X(malloc_type_zone_realloc)                                                                    \
    X(malloc_type_zone_free)                                                                       \
    X(malloc_type_zone_malloc_with_options)                                                        \
    X(dlclose)

typedef struct interpose_tuple {
    const void *replacement;
    const void *replacee;
} interpose_tuple;

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunguarded-availability-new"
#pragma clang diagnostic ignored "-Wunguarded-availability"
__attribute__((used, section("__DATA,__interpose"))) static const interpose_tuple tuples[] = {
#define X(name) {(const void *)(uintptr_t)&cf_mac_##name, (const void *)(uintptr_t)&name},
    CF_INTERPOSED(X)
#undef X
#define X(id, sym, shape, fn)                                                                      \
    {(const void *)(uintptr_t)&CF_CXX_PASTE(cf_mac_, sym, ), (const void *)(uintptr_t)&sym},
        CF_CXX_OPERATORS(X)
#undef X
};
#pragma clang diagnostic pop
