// SPDX-License-Identifier: MIT
// `free` reached through the dynamic linker instead of a direct call, as FFI
// hosts do: dlsym on libc's own handle, dlvsym with glibc's version, and
// RTLD_DEFAULT / RTLD_NEXT. Each must still reach crossfree's checks.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS: allocated by operator new[], freed by free()
// EXPECT-FREE-FRAME: #0 call_free(void (*)(void*), void*) @ds_free
// EXPECT-ALLOC-FRAME: #0 make() @ds_alloc
// EXPECT-STDOUT: resolved free
//
// The same pointer on a malloc block is fine.
// EXPECT[dlopen-clean]: clean
// EXPECT-EXIT[dlopen-clean]: 0
// EXPECT-STDOUT[dlopen-clean]: freed malloc block
// clang-format on

typedef void (*free_fn)(void *);

NI char *make() { return new char[40]; /* @ds_alloc */ }

NI void call_free(free_fn f, void *p) { f(p); /* @ds_free */ }

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    const char *mode = argv[1];
    free_fn f = nullptr;
    if (strcmp(mode, "dlopen") == 0 || strcmp(mode, "dlopen-clean") == 0) {
        void *libc = dlopen("libc.so.6", RTLD_NOW);
        f = reinterpret_cast<free_fn>(dlsym(libc, "free"));
    } else if (strcmp(mode, "dlvsym") == 0) {
        void *libc = dlopen("libc.so.6", RTLD_NOW);
        // The version free has had since each port's first glibc.
#if defined(__aarch64__)
        f = reinterpret_cast<free_fn>(dlvsym(libc, "free", "GLIBC_2.17"));
#else
        f = reinterpret_cast<free_fn>(dlvsym(libc, "free", "GLIBC_2.2.5"));
#endif
    } else if (strcmp(mode, "default") == 0) {
        f = reinterpret_cast<free_fn>(dlsym(RTLD_DEFAULT, "free"));
    } else if (strcmp(mode, "next") == 0) {
        f = reinterpret_cast<free_fn>(dlsym(RTLD_NEXT, "free"));
    } else {
        return 2;
    }
    if (!f) {
        std::printf("dlsym failed: %s\n", dlerror());
        return 3;
    }
    std::printf("resolved free\n");
    std::fflush(stdout);
    if (strcmp(mode, "dlopen-clean") == 0) {
        call_free(f, malloc(40));
        std::printf("freed malloc block\n");
        return 0;
    }
    call_free(f, make());
    return 0;
}
