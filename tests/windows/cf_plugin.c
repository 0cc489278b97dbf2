// SPDX-License-Identifier: MIT
// A plugin loaded with LoadLibrary after the program started: it hands the
// host a malloc'd buffer. crossfree must have patched its import table when
// it was loaded, or the allocation would be invisible.
#include <stdlib.h>
#include <string.h>

__declspec(dllexport) char *plugin_make_buffer(size_t n);

__declspec(dllexport) char *plugin_make_buffer(size_t n) {
    char *p = malloc(n);
    if (p != NULL)
        memset(p, 'x', n);
    return p;
}
