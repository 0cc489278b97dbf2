// SPDX-License-Identifier: MIT
// CoTaskMemFree twice on one block: the first release is held in the
// quarantine, so the second is named as a double free with both stacks.
//
// EXPECT: double-free
// EXPECT-WORDS: freed twice: first by CoTaskMemFree, now by CoTaskMemFree
// EXPECT-FREE-FRAME: #0 second_release
#include <objbase.h>
#include <stdio.h>

__attribute__((noinline)) static void first_release(void *p) { CoTaskMemFree(p); }
__attribute__((noinline)) static void second_release(void *p) { CoTaskMemFree(p); }

int main(void) {
    void *p = CoTaskMemAlloc(32);
    first_release(p);
    second_release(p);
    printf("not reached\n");
    return 0;
}
