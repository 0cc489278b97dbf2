// SPDX-License-Identifier: MIT
// One allocation and one deallocation, chosen by name on the command line:
// `pairs ALLOC DEALLOC`. meson.build runs every pairing of the two lists below
// and tells the runner whether crossfree must report it; each call sits alone
// on a marked line in a named helper so the report's frames can be checked.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <new>

extern "C" {
// glibc's internal entry points; some programs and runtimes call them directly.
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
void *__libc_valloc(size_t);
void *__libc_pvalloc(size_t);
void __libc_free(void *);
}

#define NI __attribute__((noinline))

static const size_t kSize = 64;
static const std::align_val_t kAlign{64};

// Stops the compiler from pairing or removing the calls.
void *volatile g_sink;

// ---- allocators -----------------------------------------------------------

NI void *alloc_malloc() { return malloc(kSize); /* @alloc_malloc */ }
NI void *alloc_calloc() { return calloc(8, 8); /* @alloc_calloc */ }
// A volatile null keeps the compiler from turning realloc(NULL, n) into malloc(n).
static void *volatile null_block = nullptr;
NI void *alloc_realloc() { return realloc(null_block, kSize); /* @alloc_realloc */ }
NI void *alloc_reallocarray() { return reallocarray(nullptr, 8, 8); /* @alloc_reallocarray */ }
NI void *alloc_memalign() { return memalign(64, kSize); /* @alloc_memalign */ }
NI void *alloc_posix_memalign() {
    void *p = nullptr;
    if (posix_memalign(&p, 64, kSize) != 0) /* @alloc_posix_memalign */
        return nullptr;
    return p;
}
NI void *alloc_aligned_alloc() { return aligned_alloc(64, kSize); /* @alloc_aligned_alloc */ }
NI void *alloc_valloc() { return valloc(kSize); /* @alloc_valloc */ }
NI void *alloc_pvalloc() { return pvalloc(kSize); /* @alloc_pvalloc */ }
// 63 characters and the terminator: a 64-byte block like the others.
static const char kText[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
NI void *alloc_strdup() { return strdup(kText); /* @alloc_strdup */ }
NI void *alloc_libc_malloc() { return __libc_malloc(kSize); /* @alloc_libc_malloc */ }
NI void *alloc_libc_calloc() { return __libc_calloc(8, 8); /* @alloc_libc_calloc */ }
NI void *alloc_libc_realloc() { return __libc_realloc(nullptr, kSize); /* @alloc_libc_realloc */ }
NI void *alloc_libc_memalign() { return __libc_memalign(64, kSize); /* @alloc_libc_memalign */ }
NI void *alloc_libc_valloc() { return __libc_valloc(kSize); /* @alloc_libc_valloc */ }
NI void *alloc_libc_pvalloc() { return __libc_pvalloc(kSize); /* @alloc_libc_pvalloc */ }
NI void *alloc_new() { return ::operator new(kSize); /* @alloc_new */ }
NI void *alloc_new_nothrow() {
    return ::operator new(kSize, std::nothrow); /* @alloc_new_nothrow */
}
NI void *alloc_new_arr() { return ::operator new[](kSize); /* @alloc_new_arr */ }
NI void *alloc_new_arr_nothrow() {
    return ::operator new[](kSize, std::nothrow); /* @alloc_new_arr_nothrow */
}
NI void *alloc_new_align() { return ::operator new(kSize, kAlign); /* @alloc_new_align */ }
NI void *alloc_new_align_nothrow() {
    return ::operator new(kSize, kAlign, std::nothrow); /* @alloc_new_align_nothrow */
}
NI void *alloc_new_arr_align() {
    return ::operator new[](kSize, kAlign); /* @alloc_new_arr_align */
}
NI void *alloc_new_arr_align_nothrow() {
    return ::operator new[](kSize, kAlign, std::nothrow); /* @alloc_new_arr_align_nothrow */
}

// ---- deallocators -----------------------------------------------------------

NI void dealloc_free(void *p) { free(p); /* @dealloc_free */ }
NI void dealloc_realloc(void *p) {
    void *q = realloc(p, 2 * kSize); /* @dealloc_realloc */
    free(q);
}
NI void dealloc_libc_free(void *p) { __libc_free(p); /* @dealloc_libc_free */ }
NI void dealloc_libc_realloc(void *p) {
    void *q = __libc_realloc(p, 2 * kSize); /* @dealloc_libc_realloc */
    __libc_free(q);
}
NI void dealloc_delete(void *p) { ::operator delete(p); /* @dealloc_delete */ }
NI void dealloc_delete_sized(void *p) { ::operator delete(p, kSize); /* @dealloc_delete_sized */ }
NI void dealloc_delete_arr(void *p) { ::operator delete[](p); /* @dealloc_delete_arr */ }
NI void dealloc_delete_arr_sized(void *p) {
    ::operator delete[](p, kSize); /* @dealloc_delete_arr_sized */
}
NI void dealloc_delete_align(void *p) { ::operator delete(p, kAlign); /* @dealloc_delete_align */ }
NI void dealloc_delete_align_sized(void *p) {
    ::operator delete(p, kSize, kAlign); /* @dealloc_delete_align_sized */
}
NI void dealloc_delete_arr_align(void *p) {
    ::operator delete[](p, kAlign); /* @dealloc_delete_arr_align */
}
NI void dealloc_delete_arr_align_sized(void *p) {
    ::operator delete[](p, kSize, kAlign); /* @dealloc_delete_arr_align_sized */
}

// ---- dispatch -----------------------------------------------------------------

struct Alloc {
    const char *name;
    void *(*fn)();
};
struct Dealloc {
    const char *name;
    void (*fn)(void *);
};

#define A(n)                                                                                       \
    { #n, alloc_##n }
#define D(n)                                                                                       \
    { #n, dealloc_##n }
static const Alloc kAllocs[] = {
    A(malloc),        A(calloc),
    A(realloc),       A(reallocarray),
    A(memalign),      A(posix_memalign),
    A(aligned_alloc), A(valloc),
    A(pvalloc),       A(strdup),
    A(libc_malloc),   A(libc_calloc),
    A(libc_realloc),  A(libc_memalign),
    A(libc_valloc),   A(libc_pvalloc),
    A(new),           A(new_nothrow),
    A(new_arr),       A(new_arr_nothrow),
    A(new_align),     A(new_align_nothrow),
    A(new_arr_align), A(new_arr_align_nothrow),
};
static const Dealloc kDeallocs[] = {
    D(free),
    D(realloc),
    D(libc_free),
    D(libc_realloc),
    D(delete),
    D(delete_sized),
    D(delete_arr),
    D(delete_arr_sized),
    D(delete_align),
    D(delete_align_sized),
    D(delete_arr_align),
    D(delete_arr_align_sized),
};

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s ALLOC DEALLOC\n", argv[0]);
        return 2;
    }
    const Alloc *a = nullptr;
    const Dealloc *d = nullptr;
    for (const Alloc &x : kAllocs)
        if (strcmp(x.name, argv[1]) == 0)
            a = &x;
    for (const Dealloc &x : kDeallocs)
        if (strcmp(x.name, argv[2]) == 0)
            d = &x;
    if (!a || !d) {
        fprintf(stderr, "pairs: unknown allocator or deallocator: %s %s\n", argv[1], argv[2]);
        return 2;
    }
    void *p = a->fn();
    if (!p) {
        fprintf(stderr, "pairs: %s returned NULL (errno %d)\n", a->name, errno);
        return 3;
    }
    g_sink = p;
    memset(p, 0x5a, kSize);
    d->fn(p);
    printf("pair %s %s: ok\n", a->name, d->name);
    return 0;
}
