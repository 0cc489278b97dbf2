// SPDX-License-Identifier: MIT
// A program that uses every allocation function glibc and C++ offer, run
// with another allocator (jemalloc, tcmalloc, mimalloc) preloaded before or
// after crossfree, or linked into it. Its output depends only on what it
// computed, so a run under crossfree must print what a native run prints.
// Modes:
//   clean             every family, allocated and released by its own kind
//   new-array-free    a new[] buffer released with free()  (a mismatch)
//   malloc-delete     a malloc buffer released with delete (a mismatch)
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>
#include <string>
#include <vector>

static unsigned long sum(const unsigned char *p, size_t n) {
    unsigned long s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

static unsigned long every_family(void) {
    unsigned long s = 0;
    char *m = static_cast<char *>(malloc(100));
    memset(m, 1, 100);
    m = static_cast<char *>(realloc(m, 5000));
    memset(m, 2, 5000);
    s += sum(reinterpret_cast<unsigned char *>(m), 5000);
    free(m);
    char *c = static_cast<char *>(calloc(10, 30));
    s += sum(reinterpret_cast<unsigned char *>(c), 300);
    c = static_cast<char *>(reallocarray(c, 20, 30));
    memset(c, 3, 600);
    s += sum(reinterpret_cast<unsigned char *>(c), 600);
    free(c);
    void *a = memalign(64, 200);
    void *b = aligned_alloc(128, 256);
    void *v = valloc(1000);
    void *pm = nullptr;
    if (posix_memalign(&pm, 32, 48) != 0)
        return 0;
    s += ((reinterpret_cast<unsigned long>(a) & 63) == 0) +
         ((reinterpret_cast<unsigned long>(b) & 127) == 0) +
         ((reinterpret_cast<unsigned long>(v) & 4095) == 0) +
         ((reinterpret_cast<unsigned long>(pm) & 31) == 0);
    s += malloc_usable_size(pm) >= 48;
    free(a);
    free(b);
    free(v);
    free(pm);
    char *d = strdup("allocators");
    s += strlen(d);
    free(d);
    int *one = new int(7);
    int *many = new int[50]();
    s += *one + many[49];
    delete one;
    delete[] many;
    struct alignas(64) wide {
        char bytes[64];
    };
    wide *w = new wide();
    wide *ws = new wide[3]();
    s += ((reinterpret_cast<unsigned long>(w) & 63) == 0) +
         ((reinterpret_cast<unsigned long>(ws) & 63) == 0);
    delete w;
    delete[] ws;
    int *nt = new (std::nothrow) int[8]();
    s += nt != nullptr;
    delete[] nt;
    std::vector<std::string> words;
    for (int i = 0; i < 200; i++)
        words.push_back(
            std::string(static_cast<size_t>(i % 40 + 20), static_cast<char>('a' + i % 26)));
    for (const std::string &x : words)
        s += x.size();
    return s;
}

// Built without PIE (alloc_user_nopie), comparing malloc's address gives
// the executable a stub that lookup by name finds as "malloc": crossfree
// must not take it for the program's own malloc.
static void *(*volatile malloc_ptr)(size_t) = malloc;

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    unsigned long s = every_family() + (malloc_ptr == malloc);
    if (strcmp(mode, "new-array-free") == 0) {
        char *buf = new char[64]; /* @alloc_array */
        memset(buf, 4, 64);
        s += sum(reinterpret_cast<unsigned char *>(buf), 64);
        free(buf); /* @free_array */
    } else if (strcmp(mode, "malloc-delete") == 0) {
        int *x = static_cast<int *>(malloc(sizeof(int))); /* @alloc_malloc */
        *x = 5;
        s += *x;
        delete x; /* @delete_malloc */
    }
    printf("%s: %lu\n", mode, s);
    return 0;
}
