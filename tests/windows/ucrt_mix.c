// SPDX-License-Identifier: MIT
// Two C runtimes in one process: a block from ucrtbase.dll's malloc (looked
// up by name, as a UCRT-built DLL would import it) released with msvcrt's
// free. Each CRT is its own family.
//
// EXPECT: alloc-dealloc-mismatch
// EXPECT-WORDS: allocated by malloc (ucrtbase.dll), freed by free (msvcrt.dll)
// EXPECT-ALLOC-FRAME: #0 ucrt_buffer
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

typedef void *(__cdecl *malloc_fn)(size_t);

static malloc_fn ucrt_malloc;

__attribute__((noinline)) static void *ucrt_buffer(void) { return ucrt_malloc(16); }

int main(void) {
    HMODULE ucrt = LoadLibraryA("ucrtbase.dll");
    if (ucrt == NULL)
        return 77; // no UCRT here: nothing to test
    ucrt_malloc = (malloc_fn)(uintptr_t)GetProcAddress(ucrt, "malloc");
    void *p = ucrt_buffer();
    printf("allocated\n");
    fflush(stdout);
    free(p);
    printf("not reached\n");
    return 0;
}
