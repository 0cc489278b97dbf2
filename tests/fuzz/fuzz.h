// SPDX-License-Identifier: MIT
// What every fuzz target shares: libFuzzer's two entry points, and a
// NUL-terminated copy of the input for the parsers that take a C string.
// A target must never keep state that makes one input's outcome depend on
// the inputs before it, or a crash found by libFuzzer will not replay.
#ifndef CF_FUZZ_H
#define CF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

// A malloc'd copy of data with a NUL after it (the caller frees it).
static inline char *fuzz_cstring(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
