// SPDX-License-Identifier: MIT
// libmono_strings.so: a native library that returns strings to C#, one
// made with new[] (no C# code may free it), one with malloc (what Mono's
// marshaller frees with free() on Linux, and .NET's with CoTaskMemFree on
// Windows), and the release function that the correct pattern calls.
// Built -O0 with frame pointers so that each function is a frame.
#include <cstdlib>
#include <cstring>

#define API extern "C" __attribute__((visibility("default"), noinline))

API char *make_new_string(void) {
    char *s = new char[16]; /* @alloc_new */
    strcpy(s, "from new[]");
    return s;
}

API char *make_malloc_string(void) {
    char *s = static_cast<char *>(malloc(16)); /* @alloc_malloc */
    strcpy(s, "from malloc");
    return s;
}

// The right way to give a string back: C# holds it as IntPtr and calls this.
API void release_string(char *s) { free(s); /* @release */ }
