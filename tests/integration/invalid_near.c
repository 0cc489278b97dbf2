// SPDX-License-Identifier: MIT
// free() of a pointer a few bytes off a block: in front of it, just past
// its end, further past its end, inside or past a block that was already
// freed (the quarantine still holds it). Each report must name the block
// and the offset, not guess at a foreign allocator. Run as
// `invalid_near MODE`.
#include <stdlib.h>
#include <string.h>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: invalid-free
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS[before]: free() on an address that no tracked allocator handed out: 8 bytes before a 1-byte region allocated by malloc()
// EXPECT-WORDS[end]: free() on an address that no tracked allocator handed out: 0 bytes after the end of a 1-byte region allocated by malloc()
// EXPECT-WORDS[after]: free() on an address that no tracked allocator handed out: 7 bytes after the end of a 1-byte region allocated by malloc()
// EXPECT-TEXT[before,end,after]: is a 1-byte region allocated by malloc() in thread T0 here:
// EXPECT-ALLOC-FRAME[before,end,after]: #0 make_one @in_alloc
//
// EXPECT-WORDS[freed-inside]: free() on an address that no tracked allocator handed out: 8 bytes inside a freed 64-byte region allocated by malloc()
// EXPECT-WORDS[freed-after]: free() on an address that no tracked allocator handed out: 6 bytes after the end of a freed 64-byte region allocated by malloc()
// EXPECT-TEXT[freed-inside,freed-after]: is a 64-byte region freed by free() in thread T0 here:
// EXPECT-TEXT[freed-inside,freed-after]: previously allocated by malloc() in thread T0 here:
// EXPECT-ALLOC-FRAME[freed-inside,freed-after]: #0 make_freed @in_freed_alloc
// EXPECT-FREE-FRAME: #0 free_off @in_free
// EXPECT-NO-LINE: memory crossfree does not track
// clang-format on

NI static char *make_one(void) {
    char *p = malloc(1); /* @in_alloc */
    p[0] = 1;
    return p;
}

NI static char *make_freed(void) {
    char *volatile p = malloc(64); /* @in_freed_alloc */
    memset(p, 0, 64);
    free(p);
    return p;
}

// The offset pointer goes through a volatile so the compiler cannot see
// (and warn about) the bad free.
NI static void free_off(char *p, long off) {
    char *volatile q = p + off;
    free(q); /* @in_free */
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    if (strcmp(argv[1], "before") == 0)
        free_off(make_one(), -8);
    else if (strcmp(argv[1], "end") == 0)
        free_off(make_one(), 1);
    else if (strcmp(argv[1], "after") == 0)
        free_off(make_one(), 8);
    else if (strcmp(argv[1], "freed-inside") == 0)
        free_off(make_freed(), 8);
    else if (strcmp(argv[1], "freed-after") == 0)
        free_off(make_freed(), 70);
    else
        return 2;
    return 0;
}
