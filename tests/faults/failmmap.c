// SPDX-License-Identifier: MIT
// mmap that fails: preloaded before crossfree, it is the mmap crossfree's
// own tables, depot and quarantine call (glibc's malloc maps through its
// internal alias and is not affected). Anonymous mappings fail with
// ENOMEM from start-up when FAILMMAP_AT_START is set, or once the program
// sets `failmmap_armed`.
// mmap and mmap64 are separate symbols here (no _FILE_OFFSET_BITS alias).
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT volatile int failmmap_armed;
EXPORT volatile unsigned long failmmap_failed;

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    // Read at the first call: crossfree starts before any constructor runs.
    static int checked;
    if (!checked) {
        checked = 1;
        if (getenv("FAILMMAP_AT_START") != NULL)
            failmmap_armed = 1;
    }
    if (failmmap_armed && (flags & MAP_ANONYMOUS) != 0) {
        failmmap_failed++;
        errno = ENOMEM;
        return MAP_FAILED;
    }
    long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return MAP_FAILED;
    }
    return (void *)r;
}

// crossfree is built with 64-bit file offsets: its calls reach mmap64.
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    return mmap(addr, len, prot, flags, fd, off);
}
