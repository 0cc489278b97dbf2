// SPDX-License-Identifier: MIT
// symbolize=0: frames carry module+offset only, no function and no
// file:line. The runner reads the offsets back with addr2line to prove they
// still point at the marked lines.
#include <cstdlib>

#define NI __attribute__((noinline))

// clang-format off
// OPTIONS: symbolize=0
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS: allocated by operator new[], freed by free()
// EXPECT-UNSYMBOLIZED
// EXPECT-FREE-MODULE: #0 /symbolize_off$
// EXPECT-ALLOC-MODULE: #0 /symbolize_off$
// EXPECT-FREE-OFFSET: @so_free
// EXPECT-ALLOC-OFFSET: @so_alloc
// EXPECT-NO-LINE: symbolize_off\.cc
// clang-format on

NI char *make() { return new char[24]; /* @so_alloc */ }

NI void release(char *p) { free(p); /* @so_free */ }

int main() {
    release(make());
    return 0;
}
