// SPDX-License-Identifier: MIT
// The owner record in front of each block (core/header.h), run preloaded:
// a header's bytes copied in front of another address are no header; an
// interior pointer far into a block finds the block; blocks that keep their
// record in the table (aligned beyond 16 bytes, a page-aligned pointer
// whose header sits on the page before, a thread numbered past what a
// header holds) are still checked; and all of them, freed right, are clean.
// Run as `headers MODE`.
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT[copied,far-interior]: invalid-free
// EXPECT-WORDS[copied]: free() on an address that no tracked allocator handed out: 64 bytes inside a 128-byte region allocated by malloc()
// EXPECT-FREE-FRAME[copied]: #0 copied_header() @h_copied_free
// EXPECT-ALLOC-FRAME[copied]: #0 copied_header() @h_copied_alloc
// EXPECT-WORDS[far-interior]: free() on an address that no tracked allocator handed out: 8224 bytes inside a 12288-byte region allocated by malloc()
// EXPECT-FREE-FRAME[far-interior]: #0 far_interior() @h_far_free
//
// EXPECT[aligned,memalign16,page-start,late-thread]: alloc-dealloc-mismatch
// EXPECT-WORDS[aligned]: allocated by posix_memalign(), freed by operator delete
// EXPECT-FREE-FRAME[aligned]: #0 aligned_delete() @h_aligned_free
// EXPECT-ALLOC-FRAME[aligned]: #0 aligned_delete() @h_aligned_alloc
// EXPECT-WORDS[memalign16]: allocated by memalign(), freed by operator delete[]
// EXPECT-ALLOC-FRAME[memalign16]: #0 memalign16_delete() @h_m16_alloc
// EXPECT-WORDS[page-start]: allocated by malloc(), freed by operator delete
// EXPECT-FREE-FRAME[page-start]: #0 page_start_delete() @h_page_free
// EXPECT-ALLOC-FRAME[page-start]: #0 page_start_block(std::vector<void*, std::allocator<void*> >*) @h_page_alloc
// EXPECT-WORDS[late-thread]: allocated by malloc(), freed by operator delete[]
// EXPECT-LINE[late-thread]: is a 24-byte region allocated by malloc\(\) in thread T2[0-9]{3} \(.*tid [0-9]+\) here:$
// EXPECT-ALLOC-FRAME[late-thread]: #0 late_thread_alloc(void*) @h_late_alloc
// EXPECT-FREE-FRAME[late-thread]: #0 late_thread_delete() @h_late_free
//
// EXPECT[page-double]: double-free
// EXPECT-FREE-FRAME[page-double]: #0 page_start_double() @h_pd_second
// EXPECT-FIRST-FREE-FRAME[page-double]: #0 page_start_double() @h_pd_first
//
// EXPECT[clean]: clean
// EXPECT-EXIT[clean]: 0
// EXPECT-STDOUT[clean]: headers: ok
// SKIP-EXIT: 77
// clang-format on

NI static void copied_header(void) {
    char *a = (char *)malloc(64);
    char *b = (char *)malloc(128); /* @h_copied_alloc */
    memset(b, 0, 128);
    // a's header, copied in front of an address inside b.
    memcpy(b + 48, a - 16, 16);
    char *volatile inside = b + 64;
    free(inside); /* @h_copied_free */
}

NI static void far_interior(void) {
    char *p = (char *)malloc(3 * 4096);
    memset(p, 1, 3 * 4096);
    char *volatile inside = p + 2 * 4096 + 32;
    free(inside); /* @h_far_free */
}

NI static void aligned_delete(void) {
    void *p = nullptr;
    if (posix_memalign(&p, 64, 200) != 0) /* @h_aligned_alloc */
        exit(3);
    if (((uintptr_t)p & 63) != 0)
        exit(4);
    operator delete(p); /* @h_aligned_free */
}

NI static void memalign16_delete(void) {
    char *volatile p = (char *)memalign(16, 40); /* @h_m16_alloc */
    if (((uintptr_t)p & 15) != 0)
        exit(4);
    delete[] p;
}

// A malloc block whose pointer is page aligned, so that its header lies on
// the page before and is never read: sizes alternate until one lands there.
// The blocks tried on the way are kept in `others`.
NI static char *page_start_block(std::vector<void *> *others) {
    for (int i = 0; i < 400000; i++) {
        size_t n = i % 3 == 0 ? 8 : i % 3 == 1 ? 24 : 40;
        char *p = (char *)malloc(n); /* @h_page_alloc */
        if (((uintptr_t)p & 4095) == 0)
            return p;
        others->push_back(p);
    }
    return nullptr;
}

static void free_all(std::vector<void *> *v) {
    for (void *p : *v)
        free(p);
    v->clear();
}

NI static void page_start_delete(void) {
    std::vector<void *> others;
    char *p = page_start_block(&others);
    if (p == nullptr) {
        fprintf(stderr, "skip: no malloc block of 400,000 started a page\n");
        exit(77);
    }
    free_all(&others);
    operator delete(p); /* @h_page_free */
}

NI static void page_start_double(void) {
    std::vector<void *> others;
    char *volatile p = page_start_block(&others);
    if (p == nullptr) {
        fprintf(stderr, "skip: no malloc block of 400,000 started a page\n");
        exit(77);
    }
    free_all(&others);
    free(p); /* @h_pd_first */
    free(p); /* @h_pd_second */
}

// Threads past the 2047th: a header cannot hold their number.
static void *touch(void *arg) {
    free(malloc(1));
    return arg;
}

NI static void *late_thread_alloc(void *arg) {
    (void)arg;
    return malloc(24); /* @h_late_alloc */
}

static void *late_block(void) {
    for (int i = 0; i < 2100; i++) {
        pthread_t t;
        if (pthread_create(&t, nullptr, touch, nullptr) != 0)
            exit(3);
        pthread_join(t, nullptr);
    }
    pthread_t t;
    void *p = nullptr;
    if (pthread_create(&t, nullptr, late_thread_alloc, nullptr) != 0)
        exit(3);
    pthread_join(t, &p);
    return p;
}

NI static void late_thread_delete(void) {
    char *volatile p = (char *)late_block();
    delete[] p; /* @h_late_free */
}

static int clean(void) {
    int ok = 1;
    // Aligned blocks, the page-start block and a late thread's block, all
    // freed right; realloc across the kinds keeps the data.
    void *a = nullptr;
    ok &= posix_memalign(&a, 256, 100) == 0 && ((uintptr_t)a & 255) == 0;
    memset(a, 7, 100);
    char *r = (char *)realloc(a, 5000);
    ok &= r != nullptr && r[99] == 7;
    ok &= malloc_usable_size(r) >= 5000;
    free(r);
    std::vector<void *> others;
    char *p = page_start_block(&others);
    if (p != nullptr) {
        ok &= malloc_usable_size(p) >= 8;
        memset(p, 3, 8);
        char *q = (char *)realloc(p, 100000);
        ok &= q != nullptr && q[7] == 3;
        free(q);
    }
    free_all(&others);
    char *l = (char *)late_block();
    memset(l, 5, 24);
    l = (char *)realloc(l, 48);
    ok &= l[23] == 5;
    free(l);
    int *n = new int[1000];
    delete[] n;
    char *v = (char *)valloc(100);
    ok &= ((uintptr_t)v & 4095) == 0;
    free(v);
    printf("headers: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    const char *m = argv[1];
    if (strcmp(m, "copied") == 0)
        copied_header();
    else if (strcmp(m, "far-interior") == 0)
        far_interior();
    else if (strcmp(m, "aligned") == 0)
        aligned_delete();
    else if (strcmp(m, "memalign16") == 0)
        memalign16_delete();
    else if (strcmp(m, "page-start") == 0)
        page_start_delete();
    else if (strcmp(m, "page-double") == 0)
        page_start_double();
    else if (strcmp(m, "late-thread") == 0)
        late_thread_delete();
    else if (strcmp(m, "clean") == 0)
        return clean();
    else
        return 2;
    return 0;
}
