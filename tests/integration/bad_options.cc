// SPDX-License-Identifier: MIT
// A malformed CROSSFREE_OPTIONS never breaks the host: crossfree warns,
// naming each bad key, keeps the defaults and the program runs as usual
// (and a mismatch is still caught with the default halt_on_error=1).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#define NI __attribute__((noinline))

// clang-format off
// OPTIONS[clean,default-kept]: halt_on_error=maybe:bogus=1
// EXPECT-STDERR[clean,default-kept]: halt_on_error
// EXPECT-STDERR[clean,default-kept]: bogus
//
// EXPECT[clean]: clean
// EXPECT-EXIT[clean]: 0
// EXPECT-STDOUT[clean]: ran normally
//
// EXPECT[default-kept]: alloc-dealloc-mismatch
// EXPECT-EXIT[default-kept]: SIGABRT
// EXPECT-FREE-FRAME[default-kept]: #0 main @bo_free
//
// An out-of-range value keeps the default too: exit status 23, not 300.
// OPTIONS[range]: halt_on_error=0:exitcode=300
// EXPECT[range]: alloc-dealloc-mismatch
// EXPECT-EXIT[range]: 23
// EXPECT-STDERR[range]: exitcode
// clang-format on

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "clean") != 0) {
        char *p = new char[16];
        free(p); /* @bo_free */
    } else {
        char *q = static_cast<char *>(malloc(16));
        free(q);
        std::printf("ran normally\n");
    }
    return 0;
}
