// SPDX-License-Identifier: MIT
// reallocarray on a live block, then free: clean. glibc's reallocarray
// calls realloc through the PLT, which once met crossfree's realloc with
// the block already detached and aborted plain `grep`.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

// EXPECT: clean
// EXPECT-STDOUT: grown 80, overflow ENOMEM, shrunk to zero
int main(void) {
    char *p = malloc(8);
    char *q = reallocarray(p, 10, 8);
    if (q == NULL)
        return 1;
    q[79] = 'x';
    errno = 0;
    char *r = reallocarray(q, (size_t)-1, 16);
    int overflow = r == NULL && errno == ENOMEM;
    char *z = reallocarray(q, 0, 8); // frees q, like realloc(q, 0)
    printf("grown 80, overflow %s, shrunk to zero\n", overflow ? "ENOMEM" : "??");
    free(z);
    return 0;
}
