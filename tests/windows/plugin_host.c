// SPDX-License-Identifier: MIT
// Loads cf_plugin.dll late, takes a buffer from it and frees it with
// CoTaskMemFree (imported): the allocation stack must name the plugin's
// function, which shows the plugin's imports were patched on load.
//
// EXPECT: alloc-dealloc-mismatch
// EXPECT-WORDS: allocated by malloc (msvcrt.dll), freed by CoTaskMemFree
// EXPECT-TEXT: is a 100-byte region allocated by malloc (msvcrt.dll) in thread T0 here:
// EXPECT-ALLOC-FRAME: #0 plugin_make_buffer
// EXPECT-ALLOC-MODULE: #0 cf_plugin\.dll$
// EXPECT-FREE-FRAME: #0 main
#include <objbase.h>
#include <stdio.h>
#include <windows.h>

typedef char *(*make_fn)(size_t);

int main(void) {
    HMODULE plugin = LoadLibraryA("cf_plugin.dll");
    if (plugin == NULL) {
        printf("cannot load cf_plugin.dll: %lu\n", (unsigned long)GetLastError());
        return 3;
    }
    make_fn make = (make_fn)(uintptr_t)GetProcAddress(plugin, "plugin_make_buffer");
    char *p = make(100);
    printf("plugin gave %c\n", p[0]);
    fflush(stdout);
    CoTaskMemFree(p);
    printf("not reached\n");
    return 0;
}
