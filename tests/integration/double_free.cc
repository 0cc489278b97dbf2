// SPDX-License-Identifier: MIT
// Double frees, detected while the first free is still remembered: the
// report names both deallocators and shows the current free, the first free
// and the allocation. Run as `double_free MODE`; meson runs every mode.
#include <cstdlib>
#include <cstring>
#include <new>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: double-free
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS[malloc]: freed twice: first by free(), now by free()
// EXPECT-TEXT[malloc]: is a 48-byte region freed by free() in thread T0 here:
// EXPECT-TEXT[malloc]: previously allocated by malloc() in thread T0 here:
// EXPECT-FREE-FRAME[malloc]: #0 twice_malloc() @df_second
// EXPECT-FIRST-FREE-FRAME[malloc]: #0 twice_malloc() @df_first
// EXPECT-ALLOC-FRAME[malloc]: #0 twice_malloc() @df_alloc
//
// EXPECT-WORDS[new-arr]: freed twice: first by operator delete[], now by operator delete[]
// EXPECT-TEXT[new-arr]: is a 48-byte region freed by operator delete[] in thread T0 here:
// EXPECT-TEXT[new-arr]: previously allocated by operator new[] in thread T0 here:
// EXPECT-FREE-FRAME[new-arr]: #0 twice_new_arr() @dfa_second
// EXPECT-FIRST-FREE-FRAME[new-arr]: #0 twice_new_arr() @dfa_first
// EXPECT-ALLOC-FRAME[new-arr]: #0 twice_new_arr() @dfa_alloc
//
// A block already given back to delete[] and then to free() is a double
// free, not a mismatch: the second call sees no live owner.
// EXPECT-WORDS[delete-then-free]: freed twice: first by operator delete[], now by free()
// EXPECT-TEXT[delete-then-free]: previously allocated by operator new[] in thread T0 here:
// EXPECT-FREE-FRAME[delete-then-free]: #0 second_free(void*) @dtf_second
// EXPECT-FREE-FRAME[delete-then-free]: #1 delete_then_free() @dtf_call
// EXPECT-FIRST-FREE-FRAME[delete-then-free]: #0 delete_then_free() @dtf_first
// EXPECT-ALLOC-FRAME[delete-then-free]: #0 delete_then_free() @dtf_alloc
// EXPECT-ALLOC-FRAME[delete-then-free]: #1 main @dtf_main
// clang-format on

NI void twice_malloc() {
    char *p = static_cast<char *>(malloc(48)); /* @df_alloc */
    memset(p, 1, 48);
    free(p); /* @df_first */
    free(p); /* @df_second */
}

NI void twice_new_arr() {
    char *p = new char[48]; /* @dfa_alloc */
    memset(p, 1, 48);
    delete[] p; /* @dfa_first */
    delete[] p; /* @dfa_second */
}

NI void second_free(void *p) { free(p); /* @dtf_second */ }

NI void delete_then_free() {
    char *p = new char[48]; /* @dtf_alloc */
    delete[] p;             /* @dtf_first */
    second_free(p);         /* @dtf_call */
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    if (strcmp(argv[1], "malloc") == 0)
        twice_malloc();
    else if (strcmp(argv[1], "new-arr") == 0)
        twice_new_arr();
    else if (strcmp(argv[1], "delete-then-free") == 0)
        delete_then_free(); /* @dtf_main */
    else
        return 2;
    return 0;
}
