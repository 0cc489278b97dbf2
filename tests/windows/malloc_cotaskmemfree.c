// SPDX-License-Identifier: MIT
// malloc'd memory released with CoTaskMemFree, both called through this
// program's import table (msvcrt.dll and ole32.dll): the bug package:ffi
// users hit when native code returns a malloc'd buffer to Dart on Windows.
//
// EXPECT: alloc-dealloc-mismatch
// EXPECT-WORDS: allocated by malloc (msvcrt.dll), freed by CoTaskMemFree
// EXPECT-TEXT: is a 24-byte region allocated by malloc (msvcrt.dll) in thread T0 here:
// EXPECT-FREE-FRAME: release_buffer
// EXPECT-ALLOC-FRAME: make_buffer
// EXPECT-ALLOC-FRAME: main
#include <objbase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static char *make_buffer(void) {
    char *p = malloc(24);
    strcpy(p, "from malloc");
    return p;
}

__attribute__((noinline)) static void release_buffer(char *p) { CoTaskMemFree(p); }

int main(void) {
    char *p = make_buffer();
    printf("%s\n", p);
    fflush(stdout);
    release_buffer(p);
    printf("not reached\n");
    return 0;
}
