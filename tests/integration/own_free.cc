// SPDX-License-Identifier: MIT
// A program that deletes a pointer it never allocated can hit a block that
// crossfree's own libraries (the symbolizer, the unwinder) allocated. The
// first report makes the symbolizer allocate and keep its state; the
// program then finds one of those blocks through crossfree_owner and hands
// it to operator delete (mode `delete`) or to free() (mode `free`). That
// must read as an invalid free of crossfree's own memory (not a mismatch,
// not a silent release), and the block must stay allocated: a later
// report symbolizes again with it. (A free() of such a block from the C or
// C++ runtime is right, an exception object for one: semantics_cc.)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <crossfree/crossfree.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <unistd.h>

#define NI __attribute__((noinline))

// crossfree is preloaded, not linked: its API resolves at run time.
#pragma weak crossfree_owner

// clang-format off
// EXPECT: invalid-free
// OPTIONS: halt_on_error=0
// EXPECT-EXIT: 23
// EXPECT-REPORTS: 3
// EXPECT-FREE-FRAME: #0 free_static() @of_static
// EXPECT-LINE[delete]: ^operator delete on crossfree's own memory: a \d+-byte block that crossfree's libraries allocated for it, not the program; it was not released$
// EXPECT-LINE[free]: ^free\(\) on crossfree's own memory: a \d+-byte block that crossfree's libraries allocated for it, not the program; it was not released$
// EXPECT-LINE: ^0x[0-9a-f]+ is a \d+-byte region of crossfree's own \(its allocation stack is not recorded\)$
// EXPECT-TEXT: HINT: the program never allocated this block, so the pointer is stale, uninitialised or computed wrongly; crossfree kept the block, which its own code still uses
// EXPECT-STDOUT: found a block of crossfree's own
// EXPECT-STDOUT: after the free: malloc() (inside crossfree), live
// EXPECT-STDOUT: done
// clang-format on

static char static_buf[64];

// An invalid free whose report symbolizes (and so makes crossfree's
// libraries allocate).
NI static void free_static(void) {
    char *volatile p = static_buf;
    free(p); /* @of_static */
}

NI static void delete_own(void *p) { ::operator delete(p); /* @of_own */ }
NI static void free_own(void *p) { free(p); /* @of_own_free */ }

// The bounds of the mapping that holds address `in` (a block from the main
// heap), from /proc/self/maps read without stdio (whose buffers would be the
// program's own blocks). Not found by its `[heap]` name: qemu-user's
// emulated maps (the aarch64 suite) give the guest's brk heap no name.
static int heap_bounds(uintptr_t in, uintptr_t *lo, uintptr_t *hi) {
    static char maps[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return 0;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof maps - 1 && (r = read(fd, maps + n, sizeof maps - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    maps[n] = '\0';
    for (char *line = maps; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        {
            unsigned long a, b;
            if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a <= in && in < b) {
                *lo = a;
                *hi = b;
                return 1;
            }
        }
        line = next;
    }
    return 0;
}

static const char own_words[] = "malloc() (inside crossfree)";

// The first live block in the heap that crossfree's libraries allocated.
static void *find_own_block(void) {
    uintptr_t lo, hi;
    void *probe = malloc(32);
    int found = heap_bounds(reinterpret_cast<uintptr_t>(probe), &lo, &hi);
    free(probe);
    if (!found)
        return nullptr;
    for (uintptr_t a = lo; a < hi; a += 16) {
        crossfree_block_info info;
        if (crossfree_owner(reinterpret_cast<void *>(a), &info) && !info.freed &&
            strcmp(info.allocator, own_words) == 0)
            return (void *)a;
    }
    return nullptr;
}

int main(int argc, char **argv) {
    bool use_free = argc > 1 && strcmp(argv[1], "free") == 0;
    if (crossfree_owner == nullptr) {
        printf("crossfree is not loaded\n");
        return 1;
    }
    free_static();
    void *own = find_own_block();
    if (own == nullptr) {
        printf("no block of crossfree's own in the heap\n");
        return 1;
    }
    printf("found a block of crossfree's own\n");
    fflush(stdout);
    if (use_free)
        free_own(own);
    else
        delete_own(own);
    crossfree_block_info info;
    if (!crossfree_owner(own, &info)) {
        printf("after the free: not tracked\n");
        return 1;
    }
    printf("after the free: %s, %s\n", info.allocator, info.freed ? "freed" : "live");
    fflush(stdout);
    free_static(); // symbolizes again, with the block still crossfree's
    printf("done\n");
    return 0;
}
