// SPDX-License-Identifier: MIT
// The Dart VM's way to free: CoTaskMemFree looked up by name in ole32.dll
// (DynamicLibrary.open('ole32.dll').lookup('CoTaskMemFree')). This program
// does not import ole32 at all, so only the GetProcAddress wrapper can
// catch the malloc'd block it frees.
//
// EXPECT: alloc-dealloc-mismatch
// EXPECT-WORDS: allocated by malloc (msvcrt.dll), freed by CoTaskMemFree
// EXPECT-TEXT: is a 40-byte region allocated by malloc (msvcrt.dll) in thread T0 here:
// EXPECT-FREE-FRAME: #0 dart_free
// EXPECT-ALLOC-FRAME: #0 native_make_string
// EXPECT-NO-IMPORT: ole32.dll
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

typedef void(WINAPI *co_task_mem_free_fn)(void *);

static co_task_mem_free_fn win_co_task_mem_free;

__attribute__((noinline)) static char *native_make_string(void) {
    char *s = malloc(40);
    strcpy(s, "returned to Dart");
    return s;
}

__attribute__((noinline)) static void dart_free(void *p) { win_co_task_mem_free(p); }

int main(void) {
    HMODULE ole32 = LoadLibraryA("ole32.dll");
    win_co_task_mem_free = (co_task_mem_free_fn)(uintptr_t)GetProcAddress(ole32, "CoTaskMemFree");
    if (win_co_task_mem_free == NULL) {
        printf("no CoTaskMemFree\n");
        return 3;
    }
    char *s = native_make_string();
    printf("%s\n", s);
    fflush(stdout);
    dart_free(s);
    printf("not reached\n");
    return 0;
}
