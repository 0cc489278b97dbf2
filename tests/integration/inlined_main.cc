// SPDX-License-Identifier: MIT
// A mismatch freed inside functions the compiler inlined: at -O2 the free
// call's return address is in main, and only the debug information's inline
// scopes know that inl_release and inl_drop were ever there. check_inlined.py
// builds this file with g++ and clang++ at -O2 and checks the text report,
// a suppression naming the inlined function, the JSON report and
// `crossfree report`. The functions are not static: g++ gives a static C++
// function no linkage name, and its inlined frame would read "inl_release"
// where clang's reads "inl_release(char*)".
// clang-format off
// EXPECT: alloc-dealloc-mismatch
// EXPECT-FREE-FRAME: #0 inl_release(char*) inlined_main.cc@inl_free
// EXPECT-FREE-FRAME: #1 inl_drop(char*) inlined_main.cc@inl_call_release
// EXPECT-FREE-FRAME: #2 main inlined_main.cc@inl_call_drop
// EXPECT-LINE: ^    #0 0x[0-9a-f]+ in inl_release\(char\*\) \S+/inlined_main\.cc:\d+ \(\S+\+0x[0-9a-f]+\) \[inlined\]$
// EXPECT-LINE: ^    #1 0x[0-9a-f]+ in inl_drop\(char\*\) \S+/inlined_main\.cc:\d+ \(\S+\+0x[0-9a-f]+\) \[inlined\]$
// EXPECT-LINE: ^SUMMARY: crossfree: alloc-dealloc-mismatch \S+/inlined_main\.cc:\d+ in inl_release\(char\*\)$
//
// JSON-KIND: alloc-dealloc-mismatch
// JSON-EXIT: SIGABRT
// JSON-FREE-FRAME: #0 inl_release(char*) @inl_free
// JSON-FREE-FRAME: #1 inl_drop(char*) @inl_call_release
// JSON-FREE-FRAME: #2 main @inl_call_drop
// JSON-FIELD: deallocation_stack.0.inlined=true
// JSON-FIELD: deallocation_stack.1.inlined=true
// JSON-FIELD: deallocation_stack.2.inlined=false
// clang-format on
#include <cstdlib>

inline __attribute__((always_inline)) void inl_release(char *p) {
    std::free(p); /* @inl_free */
    __asm__ volatile("" ::: "memory");
}

inline __attribute__((always_inline)) void inl_drop(char *p) {
    inl_release(p); /* @inl_call_release */
    __asm__ volatile("" ::: "memory");
}

int main() {
    char *p = new char[24];
    __asm__ volatile("" : : "r"(p) : "memory");
    inl_drop(p); /* @inl_call_drop */
    __asm__ volatile("" ::: "memory");
    return 0;
}
