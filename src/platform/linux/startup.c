// SPDX-License-Identifier: MIT
// Start-up and exit of the Linux platform: the real functions are found
// (with fallbacks for what an old or non-glibc C library lacks), capture
// learns where crossfree's own code is, fork handlers are registered, and
// a constructor and a destructor bracket the program's run.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "platform/linux/real.h"
#include "platform/linux/resolve.h"
#include "platform/platform.h"
#include "runtime/runtime.h"
#include "stack/capture.h"
#include "support/fmt.h"
#include "support/log.h"

// Fallbacks for allocation functions the C library does not export. They
// are built only from the four every C library has, or from each other.
static int fallback_posix_memalign(void **out, size_t align, size_t n) {
    // Over-allocate and align by hand is impossible without a header, so
    // without any aligned allocator only malloc's own alignment is offered.
    if (align == 0 || (align & (align - 1)) != 0 || align % sizeof(void *) != 0)
        return EINVAL;
    if (align > 16)
        return ENOMEM;
    void *p = REAL(MALLOC, malloc_fn)(n ? n : 1);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

static void *fallback_memalign(size_t align, size_t n) {
    void *p = NULL;
    int (*pm)(void **, size_t, size_t) = REAL(POSIX_MEMALIGN, posix_memalign_fn);
    int err = pm(&p, align < sizeof(void *) ? sizeof(void *) : align, n);
    if (err != 0) {
        errno = err;
        return NULL;
    }
    return p;
}

static void *fallback_valloc(size_t n) { return REAL(MEMALIGN, memalign_fn)(cf_os_page_size(), n); }

static void *fallback_pvalloc(size_t n) {
    size_t page = cf_os_page_size();
    size_t rounded = (n + page - 1) & ~(page - 1);
    if (rounded < n) {
        errno = ENOMEM;
        return NULL;
    }
    return REAL(MEMALIGN, memalign_fn)(page, rounded ? rounded : page);
}

static size_t fallback_usable_size(void *p) {
    (void)p;
    return 0; // unknown: callers of this glibc extension must cope
}

// The bounds of cf_rt_thread_start's section (runtime/threads.c).
extern const char __start_cf_thread_start_text[] __attribute__((visibility("hidden")));
extern const char __stop_cf_thread_start_text[] __attribute__((visibility("hidden")));

bool cf_platform_init(void) {
    cf_resolve_dlsyms();
    static const unsigned required[] = {W_MALLOC, W_FREE, W_CALLOC, W_REALLOC};
    cf_linux_resolve_allocator();
    for (unsigned i = 0; i < W_COUNT; i++) {
        // C++ operators resolve on first use: libstdc++ may not be loaded yet.
        if (i < W_NEW_SINGLE)
            cf_linux_resolve_next(i);
    }
    for (unsigned i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (atomic_load(&cf_linux_real[required[i]]) == 0) {
            cf_log_error("cannot find the real malloc/free in the lookup order; exiting");
            return false;
        }
    }
    // Functions a very old or a non-glibc C library may lack fall back to
    // relatives, so that no wrapper ever calls a null pointer.
    static const struct {
        unsigned idx;
        uintptr_t fallback;
    } fallbacks[] = {
        {W_MEMALIGN, (uintptr_t)fallback_memalign},
        {W_ALIGNED_ALLOC, (uintptr_t)fallback_memalign},
        {W_POSIX_MEMALIGN, (uintptr_t)fallback_posix_memalign},
        {W_VALLOC, (uintptr_t)fallback_valloc},
        {W_PVALLOC, (uintptr_t)fallback_pvalloc},
        {W_MALLOC_USABLE_SIZE, (uintptr_t)fallback_usable_size},
    };
    for (unsigned i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++)
        if (atomic_load(&cf_linux_real[fallbacks[i].idx]) == 0)
            atomic_store(&cf_linux_real[fallbacks[i].idx], fallbacks[i].fallback);

    cf_linux_cxx_replaced = cf_linux_find_cxx_replacement();

    uintptr_t lo, hi;
    if (cf_linux_object_range((uintptr_t)&cf_platform_init, &lo, &hi))
        cf_capture_set_self(lo, hi);
    // Stacks of the threads crossfree starts end at its start routine.
    cf_capture_set_base((uintptr_t)__start_cf_thread_start_text,
                        (uintptr_t)__stop_cf_thread_start_text);
    pthread_atfork(cf_rt_fork_prepare, cf_rt_fork_parent, cf_rt_fork_child);
    return true;
}

__attribute__((constructor)) static void crossfree_start(void) { (void)cf_rt_enter(); }

__attribute__((destructor)) static void crossfree_stop(void) { cf_rt_at_exit(); }

bool cf_platform_operators_replaced(void) { return cf_linux_cxx_replaced; }

bool cf_platform_allocator_shadowed(char *line, size_t cap) {
    const cf_linux_shadow_info *sh = &cf_linux_shadow;
    if (!sh->shadowed)
        return false;
    cf_buf b;
    cf_buf_init(&b, line, cap);
    unsigned cxx = cf_linux_cxx_before;
    const char *what = cxx == 0 ? "malloc and free" : "malloc, free and C++ new/delete";
    if (sh->name != NULL)
        cf_buf_printf(&b, "%s are %s's, in %s,", what, sh->name, sh->path);
    else if (sh->in_executable)
        cf_buf_printf(&b, "%s are the program's own, in %s,", what, sh->path);
    else
        cf_buf_printf(&b, "%s are those of %s,", what, sh->path);
    cf_buf_printf(&b, " ahead of crossfree's, which does not see the calls that bind to them");
    if (cxx == 0)
        cf_buf_printf(&b, "; C++ new and delete are still checked, their blocks taken from that "
                          "malloc (new[] then delete is reported, new[] then free() is not)");
    else if (cxx < W_CXX_COUNT)
        cf_buf_printf(&b,
                      "; only calls to the %u forms of C++ new/delete it does not define reach "
                      "crossfree",
                      W_CXX_COUNT - cxx);
    else
        cf_buf_printf(&b, ": nothing is checked");
    if (cxx > 0 && sh->in_executable) {
        cf_buf_printf(&b, " (an executable's own allocator always comes first)");
    } else if (cxx > 0) {
        Dl_info self;
        const char *me = dladdr((void *)(uintptr_t)&cf_platform_allocator_shadowed, &self) != 0 &&
                                 self.dli_fname != NULL
                             ? self.dli_fname
                             : "libcrossfree.so";
        cf_buf_printf(&b, " (preload crossfree first to check them: LD_PRELOAD=%s:%s)", me,
                      sh->path);
    }
    return true;
}
