// SPDX-License-Identifier: MIT
// The public API, called the way a program would: declared weak, so the
// same binary runs with or without crossfree. A program-registered pool
// family is checked like a built-in one. Run as `api MODE`.
#include <crossfree/crossfree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma weak crossfree_owner
#pragma weak crossfree_register_family
#pragma weak crossfree_note_alloc
#pragma weak crossfree_note_free

#define NI __attribute__((noinline))

// clang-format off
// FAMILY-WORDS: pool_alloc() | pool_free()
// EXPECT[owner,pool-ok,unpreloaded]: clean
// EXPECT-STDOUT[owner]: malloc calloc() 24 T0 live
// EXPECT-STDOUT[owner]: new[]? no
// EXPECT-STDOUT[owner]: stack? no
// EXPECT-STDOUT[pool-ok]: pool ok
// EXPECT[pool-free]: alloc-dealloc-mismatch
// EXPECT-WORDS[pool-free]: allocated by pool_alloc(), freed by free()
// EXPECT-FREE-FRAME[pool-free]: #0 release_with_free @api_free
// EXPECT-ALLOC-FRAME[pool-free]: #0 pool_alloc @api_note
// EXPECT[pool-double]: double-free
// EXPECT-WORDS[pool-double]: freed twice: first by pool_free(), now by pool_free()
// EXPECT[malloc-to-pool]: alloc-dealloc-mismatch
// EXPECT-WORDS[malloc-to-pool]: allocated by malloc(), freed by pool_free()
// EXPECT-FREE-FRAME[malloc-to-pool]: #0 pool_free @api_pool_free
// EXPECT[pool-continue]: alloc-dealloc-mismatch
// OPTIONS[pool-continue]: halt_on_error=0
// EXPECT-EXIT[pool-continue]: 23
// EXPECT-STDOUT[pool-continue]: note_free said 0
// clang-format on

static unsigned pool_family;
static char pool[4096];
static size_t pool_used;

NI static void *pool_alloc(size_t n) {
    void *p = pool + pool_used;
    pool_used += (n + 15) & ~(size_t)15;
    if (crossfree_note_alloc != NULL)
        crossfree_note_alloc(pool_family, p, n); /* @api_note */
    return p;
}

NI static int pool_free(void *p) {
    return crossfree_note_free == NULL || crossfree_note_free(pool_family, p); /* @api_pool_free */
}

NI static void release_with_free(void *p) { free(p); /* @api_free */ }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "owner";
    if (crossfree_register_family == NULL) {
        puts("crossfree is not loaded");
        return strcmp(mode, "unpreloaded") == 0 ? 0 : 1;
    }
    pool_family = crossfree_register_family("pool", "pool_alloc()", "pool_free()");
    if (pool_family == 0 || crossfree_register_family("pool", "x", "y") != pool_family)
        return 2;
    if (strcmp(mode, "owner") == 0) {
        crossfree_block_info info;
        char *p = calloc(3, 8);
        char local = 0;
        if (!crossfree_owner(p, &info))
            return 3;
        printf("%s %s %zu T%u %s\n", info.family, info.allocator, info.size, info.thread,
               info.freed ? "freed" : "live");
        printf("new[]? %s\n", crossfree_owner(p + 8, &info) ? "yes" : "no");
        printf("stack? %s\n", crossfree_owner(&local, &info) ? "yes" : "no");
        free(p);
    } else if (strcmp(mode, "pool-ok") == 0) {
        void *a = pool_alloc(32);
        void *b = pool_alloc(64);
        if (!pool_free(a) || !pool_free(b))
            return 4;
        puts("pool ok");
    } else if (strcmp(mode, "pool-free") == 0) {
        release_with_free(pool_alloc(32));
    } else if (strcmp(mode, "pool-double") == 0) {
        void *a = pool_alloc(32);
        pool_free(a);
        pool_free(a);
    } else if (strcmp(mode, "malloc-to-pool") == 0) {
        pool_free(malloc(16));
    } else if (strcmp(mode, "pool-continue") == 0) {
        int r = pool_free(malloc(16));
        printf("note_free said %d\n", r);
    }
    return 0;
}
