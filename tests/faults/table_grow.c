// SPDX-License-Identifier: MIT
// crossfree's tables cannot grow: with failmmap.c armed after start-up
// (every anonymous mmap crossfree makes fails), the program makes many
// blocks whose records live in crossfree's table (aligned_alloc) and
// frees them all. crossfree must say once that it stopped checking, and
// never report (nor abort on) a block whose record it could not keep.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 400000;
    volatile int *armed = dlsym(RTLD_DEFAULT, "failmmap_armed");
    volatile unsigned long *failed = dlsym(RTLD_DEFAULT, "failmmap_failed");
    if (armed == NULL || failed == NULL) {
        puts("table_grow: libfailmmap.so is not preloaded");
        return 77;
    }
    void **blocks = malloc(n * sizeof *blocks);
    if (blocks == NULL)
        return 1;
    *armed = 1;
    for (size_t i = 0; i < n; i++) {
        blocks[i] = aligned_alloc(64, 64);
        if (blocks[i] == NULL)
            return 1;
        memset(blocks[i], 0, 64);
    }
    for (size_t i = 0; i < n; i++)
        free(blocks[i]);
    *armed = 0;
    free(blocks);
    printf("table_grow: %zu blocks, %lu mmap calls failed\n", n, *failed);
    return 0;
}
