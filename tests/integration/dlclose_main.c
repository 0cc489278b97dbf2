// SPDX-License-Identifier: MIT
// The allocation stack of a report runs through a library that was
// dlclose'd before the bad free: its frame must still print as
// module+offset (the runner checks the offset with addr2line).
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

// clang-format off
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS: allocated by operator new[], freed by free()
// EXPECT-FREE-FRAME: #0 main @dc_free
// EXPECT-ALLOC-MODULE: #0 /libdlclose_plugin\.so$
// EXPECT-ALLOC-OFFSET: dlclose_lib.cc@dc_alloc
// EXPECT-TEXT: is a 72-byte region allocated by operator new[] in thread T0 here:
// EXPECT-STDOUT: plugin unloaded
// clang-format on

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        return 3;
    }
    char *(*make)(void) = (char *(*)(void))dlsym(h, "plugin_make");
    char *p = make();
    p[0] = 1;
    dlclose(h);
    // Prove the library is gone, not just unreferenced.
    printf("plugin %s\n", dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD) ? "still loaded" : "unloaded");
    fflush(stdout);
    free(p); /* @dc_free */
    return 0;
}
