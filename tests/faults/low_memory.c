// SPDX-License-Identifier: MIT
// Runs under a low RLIMIT_AS (set by the test): allocates small blocks
// until malloc returns NULL, then frees them all, twice over, and makes
// one deliberate mismatch-free pair of the right kind. Prints how many
// blocks each round got. Under crossfree the real allocator, crossfree's
// own maps (start-up, the table, the depot) or both run out first; the
// program must end normally either way, with no false report.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    for (int round = 0; round < 2; round++) {
        size_t cap = 1 << 16, n = 0;
        void **blocks = malloc(cap * sizeof *blocks);
        if (blocks == NULL) {
            printf("low_memory: no room for the block list\n");
            return 0;
        }
        for (;;) {
            if (n == cap) {
                void **more = realloc(blocks, 2 * cap * sizeof *blocks);
                if (more == NULL)
                    break;
                blocks = more;
                cap *= 2;
            }
            errno = 0;
            // Sizes that differ make distinct stacks unlikely but keep
            // the heap from being one bin.
            void *p = malloc(24 + (n % 7) * 40);
            if (p == NULL) {
                if (errno != ENOMEM) {
                    printf("low_memory: malloc failed with errno %d, not ENOMEM\n", errno);
                    return 1;
                }
                break;
            }
            memset(p, 1, 24);
            blocks[n++] = p;
        }
        for (size_t i = 0; i < n; i++)
            free(blocks[i]);
        free(blocks);
        printf("low_memory: round %d: %s blocks\n", round, n > 1000 ? "over 1000" : "few");
    }
    printf("low_memory: done\n");
    return 0;
}
