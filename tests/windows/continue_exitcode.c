// SPDX-License-Identifier: MIT
// halt_on_error=0: both mismatches are reported, the program runs to its
// end, and the process then exits with crossfree's exitcode (23) -- set
// from DLL_PROCESS_DETACH, after the program's own exit code.
//
// OPTIONS: halt_on_error=0
// EXPECT: alloc-dealloc-mismatch
// EXPECT-REPORTS: 2
// EXPECT-EXIT: 23
// EXPECT-STDOUT: end of main
// EXPECT-TEXT: crossfree: 2 error(s) reported
#include <objbase.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    void *a = malloc(8);
    CoTaskMemFree(a);
    void *b = CoTaskMemAlloc(8);
    free(b);
    printf("end of main\n");
    return 0;
}
