// SPDX-License-Identifier: MIT
// libcxx_buffers.so: a C++ library that a Rust program loads at run time,
// after start-up, as plugins are: its operator new[] and delete bind to
// whatever comes first in lookup order then (crossfree's, preloaded), not
// to the executable's mimalloc, whose C++ operators nothing linked to it
// asked to export. Built -O0 with frame pointers so each function is a frame.
#define API extern "C" __attribute__((visibility("default"), noinline))

API int *make_array(int n) {
    int *a = new int[n]; /* @alloc_array */
    for (int i = 0; i < n; i++)
        a[i] = i % 7;
    return a;
}

// The right way to give a new[] buffer back.
API void release_array(int *a) { delete[] a; }

// The wrong one: scalar delete of a new[] buffer.
API void release_scalar(int *a) { delete a; /* @delete_scalar */ }
