// SPDX-License-Identifier: MIT
// The malloc half of the Windows-semantics plugin (libplugin.so, linked
// with the seed example's ui_command.cc): a buffer the host frees, and a
// function that frees a buffer the host allocated. Both are right on Linux
// and macOS; on Windows the first crashes when Dart frees it (package:ffi
// uses CoTaskMemFree there) and the second when Dart allocated it.
#include <stdint.h>
#include <stdlib.h>

#define PLUGIN_API __attribute__((visibility("default")))

PLUGIN_API int *make_buffer(uint32_t n);
PLUGIN_API int64_t consume_buffer(int *buffer, uint32_t n);
PLUGIN_API void release_buffer(int *buffer);

// n ints, 0..n-1, for the host to read and free.
int *make_buffer(uint32_t n) {
    int *buffer = malloc(n * sizeof *buffer); /* @make_buffer_malloc */
    for (uint32_t i = 0; buffer != NULL && i < n; i++)
        buffer[i] = (int)i;
    return buffer;
}

// Sums a buffer the host filled, then frees it as if it were its own.
int64_t consume_buffer(int *buffer, uint32_t n) {
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += buffer[i];
    free(buffer); /* @plugin_free */
    return sum;
}

// The release function the host should call for make_buffer's memory.
void release_buffer(int *buffer) { free(buffer); /* @plugin_release */ }
