// SPDX-License-Identifier: MIT
// The reverse mistake: a CoTaskMemAlloc'd block released with the C
// runtime's free. Under Wine it silently leaks; on Windows it corrupts the
// CRT heap (or not, when the CRT shares the process heap).
//
// EXPECT: alloc-dealloc-mismatch
// EXPECT-WORDS: allocated by CoTaskMemAlloc, freed by free (msvcrt.dll)
// EXPECT-TEXT: is a 64-byte region allocated by CoTaskMemAlloc in thread T0 here:
// EXPECT-FREE-FRAME: main
// EXPECT-ALLOC-FRAME: #0 com_make_buffer
#include <objbase.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void *com_make_buffer(void) { return CoTaskMemAlloc(64); }

int main(void) {
    void *p = com_make_buffer();
    printf("allocated\n");
    fflush(stdout);
    free(p);
    printf("not reached\n");
    return 0;
}
