// SPDX-License-Identifier: MIT
// The real allocator's contract must survive the preload unchanged: sizes,
// alignment, NULL returns, errno, malloc_usable_size, realloc corner cases.
// Prints one line per property; any deviation shows up as a stdout diff.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// EXPECT-STDOUT: malloc_usable_size: ok
// EXPECT-STDOUT: malloc(0): ok
// EXPECT-STDOUT: realloc(NULL, n): ok
// EXPECT-STDOUT: realloc(p, 0): NULL
// EXPECT-STDOUT: realloc grow keeps contents: ok
// EXPECT-STDOUT: calloc zeroes: ok
// EXPECT-STDOUT: calloc overflow: NULL ENOMEM
// EXPECT-STDOUT: huge malloc: NULL ENOMEM
// EXPECT-STDOUT: huge realloc: NULL ENOMEM, old block intact
// EXPECT-STDOUT: huge memalign: NULL ENOMEM
// EXPECT-STDOUT: memalign alignment: ok
// EXPECT-STDOUT: aligned_alloc alignment: ok
// EXPECT-STDOUT: posix_memalign alignment: ok
// EXPECT-STDOUT: valloc/pvalloc page alignment: ok
// EXPECT-STDOUT: posix_memalign(3): EINVAL
// EXPECT-STDOUT: posix_memalign(4): EINVAL
// EXPECT-STDOUT: posix_memalign(0): EINVAL
// EXPECT-STDOUT: free keeps errno: ok
// EXPECT-STDOUT: free(NULL): ok
// EXPECT-STDOUT: errors: 0
// clang-format on

static int errors;

static void fail(const char *what, size_t a, size_t b) {
    printf("FAILED %s (%zu, %zu)\n", what, a, b);
    errors++;
}

static void check_usable_size(void) {
    static const size_t sizes[] = {1, 8, 24, 100, 1000, 4096, 100000, 1 << 20, 5 << 20};
    int ok = 1;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = malloc(sizes[i]);
        size_t u = malloc_usable_size(p);
        if (!p || u < sizes[i]) {
            fail("malloc_usable_size", sizes[i], u);
            ok = 0;
        } else {
            // The whole usable size belongs to the caller.
            memset(p, 0xab, u);
        }
        free(p);
    }
    if (malloc_usable_size(NULL) != 0)
        ok = 0, fail("malloc_usable_size(NULL)", 0, malloc_usable_size(NULL));
    if (ok)
        printf("malloc_usable_size: ok\n");
}

static void check_zero_and_realloc(void) {
    void *p = malloc(0);
    printf("malloc(0): %s\n", p ? "ok" : "NULL");
    free(p);

    char *q = realloc(NULL, 100);
    printf("realloc(NULL, n): %s\n", q && malloc_usable_size(q) >= 100 ? "ok" : "FAILED");
    // glibc frees the block and returns NULL for a zero size.
    void *r = realloc(q, 0);
    printf("realloc(p, 0): %s\n", r ? "non-NULL" : "NULL");
    free(r);

    char *g = malloc(16);
    for (int i = 0; i < 16; i++)
        g[i] = (char)i;
    g = realloc(g, 1 << 20);
    int same = g != NULL;
    for (int i = 0; same && i < 16; i++)
        same = g[i] == (char)i;
    printf("realloc grow keeps contents: %s\n", same ? "ok" : "FAILED");
    free(g);

    // A freed dirty block of the same size is likely to come back: calloc
    // must still hand out zeroes.
    unsigned char *d = malloc(256);
    memset(d, 0xff, 256);
    free(d);
    unsigned char *z = calloc(32, 8);
    int zero = z != NULL;
    for (int i = 0; zero && i < 256; i++)
        zero = z[i] == 0;
    printf("calloc zeroes: %s\n", zero ? "ok" : "FAILED");
    free(z);
}

static void check_failures(void) {
    volatile size_t half = SIZE_MAX / 2;
    errno = 0;
    void *p = calloc(half, 4);
    printf("calloc overflow: %s %s\n", p ? "non-NULL" : "NULL", errno == ENOMEM ? "ENOMEM" : "?");
    free(p);

    errno = 0;
    // Above PTRDIFF_MAX: glibc refuses before asking the kernel.
    volatile size_t huge = SIZE_MAX - 4096;
    p = malloc(huge);
    printf("huge malloc: %s %s\n", p ? "non-NULL" : "NULL", errno == ENOMEM ? "ENOMEM" : "?");
    free(p);

    char *keep = malloc(32);
    strcpy(keep, "still here");
    errno = 0;
    void *r = realloc(keep, huge);
    int intact = r == NULL && strcmp(keep, "still here") == 0;
    printf("huge realloc: %s %s, old block %s\n", r ? "non-NULL" : "NULL",
           errno == ENOMEM ? "ENOMEM" : "?", intact ? "intact" : "LOST");
    free(r ? r : keep);

    errno = 0;
    p = memalign(64, huge);
    printf("huge memalign: %s %s\n", p ? "non-NULL" : "NULL", errno == ENOMEM ? "ENOMEM" : "?");
    free(p);
}

static void check_alignment(void) {
    int ok_m = 1, ok_a = 1, ok_p = 1;
    for (size_t a = 1; a <= ((size_t)1 << 21); a <<= 1) {
        char *m = memalign(a, 100);
        if (!m || (uintptr_t)m % a != 0)
            ok_m = 0, fail("memalign", a, (uintptr_t)m);
        free(m);
        char *al = aligned_alloc(a, a * 2);
        if (!al || (uintptr_t)al % a != 0)
            ok_a = 0, fail("aligned_alloc", a, (uintptr_t)al);
        free(al);
        if (a >= sizeof(void *)) {
            void *pm = NULL;
            int rc = posix_memalign(&pm, a, 3 * a + 1);
            if (rc != 0 || (uintptr_t)pm % a != 0 || malloc_usable_size(pm) < 3 * a + 1)
                ok_p = 0, fail("posix_memalign", a, (uintptr_t)pm);
            free(pm);
        }
    }
    printf("memalign alignment: %s\n", ok_m ? "ok" : "FAILED");
    printf("aligned_alloc alignment: %s\n", ok_a ? "ok" : "FAILED");
    printf("posix_memalign alignment: %s\n", ok_p ? "ok" : "FAILED");

    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *v = valloc(10);
    void *pv = pvalloc(10);
    int ok_v = v && pv && (uintptr_t)v % page == 0 && (uintptr_t)pv % page == 0 &&
               malloc_usable_size(pv) >= page;
    printf("valloc/pvalloc page alignment: %s\n", ok_v ? "ok" : "FAILED");
    free(v);
    free(pv);

    static const size_t bad[] = {3, 4, 0};
    for (int i = 0; i < 3; i++) {
        void *sentinel = (void *)0x1234;
        void *pm = sentinel;
        int rc = posix_memalign(&pm, bad[i], 16);
        printf("posix_memalign(%zu): %s\n", bad[i],
               rc == EINVAL && pm == sentinel ? "EINVAL" : "FAILED");
        if (rc == 0)
            free(pm);
    }
}

static void check_errno_and_null(void) {
    void *p = malloc(40);
    errno = ERANGE;
    free(p);
    printf("free keeps errno: %s\n", errno == ERANGE ? "ok" : "FAILED");
    free(NULL);
    printf("free(NULL): ok\n");
}

int main(void) {
    check_usable_size();
    check_zero_and_realloc();
    check_failures();
    check_alignment();
    check_errno_and_null();
    printf("errors: %d\n", errors);
    return errors != 0;
}
