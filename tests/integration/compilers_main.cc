// SPDX-License-Identifier: MIT
// A mismatch whose frames must come out with function and file:line however
// the program was built: check_compilers.py compiles this file and
// compilers_lib.cc with g++ and clang++ at -O0 and -O2, DWARF 4 and 5, with
// and without -gsplit-dwarf. clang emits no .debug_aranges, so a symbolizer
// that finds units only through it names clang frames `main+0x60`.
//
// The block is allocated inside a library that is dlclose'd before the
// report, so the allocation stack goes through the unloaded-module path and
// the deallocation stack through the live one.
// EXPECT: alloc-dealloc-mismatch
// EXPECT-FREE-FRAME: #0 cc_release compilers_main.cc@cc_free
// EXPECT-FREE-FRAME: #1 main compilers_main.cc@cc_call_release
// EXPECT-ALLOC-FRAME: #0 cc_lib_alloc compilers_lib.cc@cc_alloc
// EXPECT-ALLOC-FRAME: #1 main compilers_main.cc@cc_call_alloc
#include <dlfcn.h>
#include <new>
#include <stdio.h>

typedef void *alloc_fn(unsigned long n);

// noinline and the empty asm after the call keep each frame and its call
// line at -O2: no inlining, no tail call.
extern "C" __attribute__((noinline)) void cc_release(void *p) {
    ::operator delete(p); /* @cc_free */
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    alloc_fn *alloc;
    void *sym = dlsym(lib, "cc_lib_alloc");
    __builtin_memcpy(&alloc, &sym, sizeof alloc);
    void *p = alloc(24); /* @cc_call_alloc */
    __asm__ volatile("" ::: "memory");
    dlclose(lib);
    cc_release(p); /* @cc_call_release */
    __asm__ volatile("" ::: "memory");
    return 0;
}
