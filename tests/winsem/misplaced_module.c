// SPDX-License-Identifier: MIT
// A symbolizer regression the Windows-semantics tests ran into: after
// naming a frame in a freshly dlopen'd library, libelf's private mapping
// of that library's file sits right below the loaded image (mmap hands out
// addresses top-down), and when libdw reads /proc/self/maps again (another
// library was loaded since) it takes that mapping for part of the module,
// so the module's bias is wrong and the frame loses its name. The frame
// must keep it.
//
//   misplaced_module LIBRARY OTHER_LIBRARY   (LIBRARY exports make_buffer)
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "platform/platform.h"
#include "stack/symbolize.h"

static int named(const char *when, void *fn) {
    cf_frame_info f;
    // A return address inside the function, as a stack would hold.
    uintptr_t pc = (uintptr_t)fn + 4;
    if (!cf_symbolize(pc, true, &f)) {
        printf("FAIL: %s: no module for %p\n", when, fn);
        return 0;
    }
    if (strcmp(f.function, "make_buffer") != 0) {
        printf("FAIL: %s: frame in %s+0x%lx named '%s', not 'make_buffer'\n", when, f.module,
               (unsigned long)f.offset, f.function);
        return 0;
    }
    printf("ok: %s: make_buffer (%s+0x%lx)\n", when, f.module, (unsigned long)f.offset);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s LIBRARY OTHER_LIBRARY\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    void *fn = lib != NULL ? dlsym(lib, "make_buffer") : NULL;
    if (fn == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    int ok = named("first lookup", fn);
    // A library loaded after the first lookup makes the symbolizer read the
    // process's mappings again.
    if (dlopen(argv[2], RTLD_NOW | RTLD_LOCAL) == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    ok &= named("after another library was loaded", fn);
    ok &= named("once more", fn);
    return ok ? 0 : 1;
}
