// SPDX-License-Identifier: MIT
// Freeing the old pointer after realloc moved the block: realloc already
// released it, so this second release is a double-free, and the report
// names realloc() as the first one. Also realloc(p, 0) followed by free(p).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: double-free
// EXPECT-WORDS[moved]: freed twice: first by realloc(), now by free()
// EXPECT-FREE-FRAME[moved]: #0 free_stale @rs_free
// EXPECT-FIRST-FREE-FRAME[moved]: #0 grow @rs_realloc
// EXPECT-ALLOC-FRAME[moved]: #0 main @rs_alloc
// EXPECT-STDOUT[moved]: moved
// EXPECT-WORDS[zero]: freed twice: first by realloc(), now by free()
// EXPECT-FIRST-FREE-FRAME[zero]: #0 main @rs_zero
// clang-format on

NI static char *grow(char *p) { return realloc(p, 4000); /* @rs_realloc */ }

NI static void free_stale(char *p) { free(p); /* @rs_free */ }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "moved";
    char *p = malloc(16);       /* @rs_alloc */
    char *blocker = malloc(16); // keeps realloc from growing p in place
    strcpy(p, "hi");
    if (strcmp(mode, "moved") == 0) {
        char *q = grow(p);
        puts(q != p ? "moved" : "in place");
        fflush(stdout);
        free_stale(p);
        free(q);
    } else {
        char *volatile z = realloc(p, 0); /* @rs_zero */
        (void)z;
        free(p);
    }
    free(blocker);
    return 0;
}
