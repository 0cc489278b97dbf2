// SPDX-License-Identifier: MIT
// The test executable's own malloc family: every call forwards to glibc's
// __libc_* entry points and, while a window is open, bumps a counter. Never
// linked into the ASan variants (the sanitizer interposes these itself).
#include "alloc_counter.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#if !CF_TEST_COUNTS_ALLOCS
#error "alloc_counter.c must not be built into the ASan variant"
#endif

// glibc's real allocator, exported for exactly this kind of override.
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

static atomic_bool counting;
static atomic_ulong calls;

static void note_call(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
}

void cf_test_alloc_count_start(void) {
    atomic_store(&calls, 0);
    atomic_store(&counting, true);
}

unsigned long cf_test_alloc_count_stop(void) {
    atomic_store(&counting, false);
    return atomic_load(&calls);
}

void *malloc(size_t size) {
    note_call();
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
    note_call();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    note_call();
    return __libc_realloc(p, size);
}

void free(void *p) {
    note_call();
    __libc_free(p);
}

// The aligned entry points also count: code that must not allocate must not
// call these either. They keep glibc's argument checks.
static bool power_of_two(size_t a) { return a != 0 && (a & (a - 1)) == 0; }

void *aligned_alloc(size_t align, size_t size) {
    note_call();
    if (!power_of_two(align)) {
        errno = EINVAL;
        return NULL;
    }
    return __libc_memalign(align, size);
}

void *memalign(size_t align, size_t size);
void *memalign(size_t align, size_t size) {
    note_call();
    return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size) {
    note_call();
    if (!power_of_two(align) || align % sizeof(void *) != 0)
        return EINVAL;
    void *p = __libc_memalign(align, size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}
