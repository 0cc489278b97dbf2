// SPDX-License-Identifier: MIT
// libbuffers.so: a C++ library that hands buffers to FFI hosts, one made
// with new[] (which a host must not free with free()) and one with malloc
// (which it may). Built -O0 with frame pointers so make_array is a frame.
#include <cstdlib>

#define API extern "C" __attribute__((visibility("default"), noinline))

API int *make_array(int n) {
    int *a = new int[n]; /* @alloc_array */
    for (int i = 0; i < n; i++)
        a[i] = i * i;
    return a;
}

API int *make_malloc(int n) {
    int *a = static_cast<int *>(malloc(sizeof(int) * n)); /* @alloc_malloc */
    for (int i = 0; i < n; i++)
        a[i] = i * i;
    return a;
}

// The right way to give a new[] buffer back.
API void release_array(int *a) { delete[] a; }
