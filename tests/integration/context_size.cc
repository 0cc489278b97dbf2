// SPDX-License-Identifier: MIT
// malloc_context_size=2 keeps two frames per stack: the allocation and the
// free each happen four calls deep, and each stack must show exactly the two
// innermost frames, in order.
#include <cstdlib>

#define NI __attribute__((noinline))

// clang-format off
// OPTIONS: malloc_context_size=2
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-STACK-DEPTH: 2
// EXPECT-FREE-FRAME: #0 free3(char*) @cs_free
// EXPECT-FREE-FRAME: #1 free2(char*) @cs_free_call
// EXPECT-ALLOC-FRAME: #0 alloc3() @cs_alloc
// EXPECT-ALLOC-FRAME: #1 alloc2() @cs_alloc_call
// clang-format on

NI char *alloc3() { return new char[10]; /* @cs_alloc */ }
NI char *alloc2() { return alloc3(); /* @cs_alloc_call */ }
NI char *alloc1() { return alloc2(); }

NI void free3(char *p) { free(p); /* @cs_free */ }
NI void free2(char *p) { free3(p); /* @cs_free_call */ }
NI void free1(char *p) { free2(p); }

int main() {
    free1(alloc1());
    return 0;
}
