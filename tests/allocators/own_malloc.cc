// SPDX-License-Identifier: MIT
// A program with a malloc of its own, as Rust's mimalloc crate with
// `override` makes one: the executable exports malloc, free, calloc and
// realloc (here counting wrappers over glibc's __libc_* entry points), which
// come before any preloaded library's, while its C++ operators are the C++
// runtime's, so crossfree's. Modes:
//   clean             new/delete, new[]/delete[], malloc/free, strdup/free
//   malloc-delete     a malloc block released by delete: crossfree never saw
//                     the malloc; natively it works, and must under crossfree
//   new-array-delete  new[] released by scalar delete: reported
//   double-delete     new[] released twice by delete[]: reported
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);

static unsigned long own_calls;

__attribute__((visibility("default"))) void *malloc(size_t n) {
    own_calls++;
    return __libc_malloc(n);
}
__attribute__((visibility("default"))) void free(void *p) { __libc_free(p); }
__attribute__((visibility("default"))) void *calloc(size_t n, size_t size) {
    own_calls++;
    return __libc_calloc(n, size);
}
__attribute__((visibility("default"))) void *realloc(void *p, size_t n) {
    own_calls++;
    return __libc_realloc(p, n);
}
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    unsigned long s = 0;
    int *one = new int(3);
    int *many = new int[40]();
    s += *one + many[39];
    delete one;
    char *d = strdup("own malloc");
    s += strlen(d);
    free(d);
    if (strcmp(mode, "clean") == 0) {
        delete[] many;
    } else if (strcmp(mode, "malloc-delete") == 0) {
        delete[] many;
        int *x = static_cast<int *>(malloc(sizeof(int)));
        *x = 4;
        s += *x;
        delete x;
    } else if (strcmp(mode, "new-array-delete") == 0) {
        delete many; /* @delete_scalar */
    } else if (strcmp(mode, "double-delete") == 0) {
        delete[] many;
        delete[] many; /* @delete_again */
    }
    // The executable's own functions served the program's malloc calls.
    printf("%s: %lu %s\n", mode, s, own_calls > 0 ? "own malloc used" : "own malloc unused");
    return 0;
}
