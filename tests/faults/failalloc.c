// SPDX-License-Identifier: MIT
// A real allocator that can be told to fail: glibc's malloc underneath
// (libc.so.6's own definitions, looked up in its handle: crossfree exports
// the __libc_* names too), every entry point returning NULL with errno
// ENOMEM (posix_memalign: ENOMEM returned) while `failalloc_armed` is
// non-zero. Preloaded after crossfree it is the program's real allocator,
// so crossfree's wrappers see every call fail; preloaded alone it gives
// the native behaviour the test compares against.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static void *(*libc_malloc)(size_t);
static void *(*libc_calloc)(size_t, size_t);
static void *(*libc_realloc)(void *, size_t);
static void *(*libc_memalign)(size_t, size_t);
static void *(*libc_valloc)(size_t);
static void *(*libc_pvalloc)(size_t);
static void (*libc_free)(void *);

// dlopen allocates: while the functions are looked up, allocations come
// from a static buffer that free() recognises and ignores.
static _Alignas(64) char boot[1 << 16];
static size_t boot_used;
static int resolving;

static void *boot_alloc(size_t n) {
    n = (n + 63) & ~(size_t)63;
    if (boot_used + n > sizeof boot)
        abort();
    void *p = boot + boot_used;
    boot_used += n;
    return p;
}

static int is_boot(const void *p) {
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

// dlsym's object pointer into a function pointer, without ISO C's warning.
#define LOOKUP(var, name)                                                                          \
    do {                                                                                           \
        void *sym_ = dlsym(libc, name);                                                            \
        memcpy(&(var), &sym_, sizeof(var));                                                        \
    } while (0)

static void resolve(void) {
    if (libc_free != NULL)
        return;
    resolving = 1;
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (libc == NULL)
        abort();
    LOOKUP(libc_malloc, "malloc");
    LOOKUP(libc_calloc, "calloc");
    LOOKUP(libc_realloc, "realloc");
    LOOKUP(libc_memalign, "memalign");
    LOOKUP(libc_valloc, "valloc");
    LOOKUP(libc_pvalloc, "pvalloc");
    void (*f)(void *);
    LOOKUP(f, "free");
    resolving = 0;
    libc_free = f;
}

#define __libc_malloc(n) (resolve(), libc_malloc(n))
#define __libc_calloc(n, m) (resolve(), libc_calloc(n, m))
#define __libc_realloc(p, n) (resolve(), libc_realloc(p, n))
#define __libc_memalign(a, n) (resolve(), libc_memalign(a, n))
#define __libc_valloc(n) (resolve(), libc_valloc(n))
#define __libc_pvalloc(n) (resolve(), libc_pvalloc(n))
#define __libc_free(p) (resolve(), libc_free(p))

EXPORT volatile int failalloc_armed;
EXPORT volatile unsigned long failalloc_failed; // calls that failed

static int fail(void) {
    if (!failalloc_armed)
        return 0;
    failalloc_failed++;
    errno = ENOMEM;
    return 1;
}

EXPORT void *malloc(size_t n) {
    if (resolving)
        return boot_alloc(n);
    return fail() ? NULL : __libc_malloc(n);
}

EXPORT void *calloc(size_t n, size_t m) {
    if (resolving)
        return boot_alloc(n * m); // static: zeroed
    return fail() ? NULL : __libc_calloc(n, m);
}

EXPORT void *realloc(void *p, size_t n) {
    if (resolving || is_boot(p))
        abort(); // not needed by dlopen
    return fail() ? NULL : __libc_realloc(p, n);
}

EXPORT void free(void *p) {
    if (!is_boot(p) && p != NULL)
        __libc_free(p);
}
EXPORT void *memalign(size_t a, size_t n) { return fail() ? NULL : __libc_memalign(a, n); }
EXPORT void *aligned_alloc(size_t a, size_t n) { return fail() ? NULL : __libc_memalign(a, n); }
EXPORT void *valloc(size_t n) { return fail() ? NULL : __libc_valloc(n); }
EXPORT void *pvalloc(size_t n) { return fail() ? NULL : __libc_pvalloc(n); }

EXPORT void *reallocarray(void *p, size_t n, size_t m) {
    size_t total;
    if (__builtin_mul_overflow(n, m, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return fail() ? NULL : __libc_realloc(p, total);
}

EXPORT int posix_memalign(void **out, size_t a, size_t n) {
    if (a < sizeof(void *) || (a & (a - 1)) != 0)
        return EINVAL;
    int saved = errno;
    if (fail()) {
        errno = saved; // POSIX: the error is returned, errno is not set
        return ENOMEM;
    }
    void *p = __libc_memalign(a, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}
