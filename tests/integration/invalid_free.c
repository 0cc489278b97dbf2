// SPDX-License-Identifier: MIT
// free() of addresses no tracked allocator handed out: an interior pointer,
// a stack address, a static address and a page from mmap (memory crossfree
// cannot know). Run as `invalid_free MODE`; each must be an invalid-free.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: invalid-free
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS[interior]: free() on an address that no tracked allocator handed out: 16 bytes inside a 64-byte region allocated by malloc()
// EXPECT-TEXT[interior]: is a 64-byte region allocated by malloc() in thread T0 here:
// EXPECT-FREE-FRAME[interior]: #0 free_interior @if_interior
// EXPECT-ALLOC-FRAME[interior]: #0 free_interior @if_alloc
//
// EXPECT-WORDS[stack]: free() on an address that no tracked allocator handed out: an address on the stack of thread T0
// EXPECT-FREE-FRAME[stack]: #0 free_stack @if_stack
//
// EXPECT-LINE[static]: ^free\(\) on an address that no tracked allocator handed out: a static address in \S*/invalid_free$
// EXPECT-FREE-FRAME[static]: #0 free_static @if_static
//
// EXPECT-WORDS[untracked]: free() on an address that no tracked allocator handed out: memory crossfree does not track (an allocator that bypasses libc, or a block from before crossfree was loaded)
// EXPECT-FREE-FRAME[untracked]: #0 free_untracked @if_untracked
// clang-format on

static char static_buf[64];

NI static void free_interior(void) {
    char *p = malloc(64); /* @if_alloc */
    memset(p, 0, 64);
    free(p + 16); /* @if_interior */
}

NI static void free_stack(void) {
    char buf[64];
    char *volatile p = buf;
    memset(p, 0, sizeof buf);
    free(p); /* @if_stack */
}

NI static void free_static(void) {
    char *volatile p = static_buf;
    free(p); /* @if_static */
}

NI static void free_untracked(void) {
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        exit(3);
    p[0] = 1;
    free(p); /* @if_untracked */
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    if (strcmp(argv[1], "interior") == 0)
        free_interior();
    else if (strcmp(argv[1], "stack") == 0)
        free_stack();
    else if (strcmp(argv[1], "static") == 0)
        free_static();
    else if (strcmp(argv[1], "untracked") == 0)
        free_untracked();
    else
        return 2;
    return 0;
}
