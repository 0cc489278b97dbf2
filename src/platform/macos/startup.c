// SPDX-License-Identifier: MIT
// Start-up and exit of libcrossfree.dylib: capture learns where crossfree's
// own code is, the per-thread state pool starts once libSystem has, fork
// handlers are registered, and a constructor and a destructor bracket the
// program's run. The real functions need no finding: they are this image's
// own imports, which dyld never interposes.
#include <mach-o/loader.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "platform/macos/macos.h"
#include "platform/platform.h"
#include "runtime/runtime.h"
#include "stack/capture.h"

// This library's own Mach-O header, found by walking down from one of its
// functions to the page where __TEXT (and the header) starts. No dyld call:
// cf_platform_init may run inside libSystem's initializer.
static const struct mach_header_64 *own_header(void) {
    uintptr_t page = (uintptr_t)&own_header & ~(uintptr_t)4095;
    for (;; page -= 4096) {
        const struct mach_header_64 *h = (const struct mach_header_64 *)page;
        if (h->magic == MH_MAGIC_64 && h->filetype == MH_DYLIB)
            return h;
    }
}

// Not told apart here: macOS interposes every image's operators, the
// program's own included, and Windows patches only the C++ runtime's.
bool cf_platform_operators_replaced(void) { return false; }

// Only the Linux loader lets a program's own malloc come before crossfree's.
bool cf_platform_allocator_shadowed(char *line, size_t cap) {
    (void)line;
    (void)cap;
    return false;
}

bool cf_platform_init(void) {
    const struct mach_header_64 *h = own_header();
    const struct load_command *lc = (const struct load_command *)(h + 1);
    for (uint32_t i = 0; i < h->ncmds; i++) {
        if (lc->cmd == LC_SEGMENT_64) {
            const struct segment_command_64 *seg = (const struct segment_command_64 *)lc;
            if (strcmp(seg->segname, SEG_TEXT) == 0)
                cf_capture_set_self((uintptr_t)h, (uintptr_t)h + seg->vmsize);
        }
        lc = (const struct load_command *)((const char *)lc + lc->cmdsize);
    }
    return true; // the real functions are this image's own imports: always there
}

__attribute__((constructor)) static void crossfree_start(void) {
    // libSystem is initialised now (dyld runs its initializer first), and
    // the program has not started any thread yet.
    cf_macos_threads_start();
    // The pool's handlers go first so that its lock is taken last.
    pthread_atfork(cf_macos_threads_fork_prepare, cf_macos_threads_fork_release,
                   cf_macos_threads_fork_release);
    pthread_atfork(cf_rt_fork_prepare, cf_rt_fork_parent, cf_rt_fork_child);
    (void)cf_rt_enter();
}

__attribute__((destructor)) static void crossfree_stop(void) { cf_rt_at_exit(); }
