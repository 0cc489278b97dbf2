// SPDX-License-Identifier: MIT
// The library the soak dlopens and dlcloses over and over: it allocates
// with new[] and frees with delete[], and hands out a malloc'd buffer the
// caller frees, so records of blocks from a module that goes away remain.
#include <cstdlib>
#include <cstring>

extern "C" __attribute__((visibility("default"))) char *soak_plugin_work(unsigned n) {
    char *scratch = new char[64 + n % 512];
    std::memset(scratch, 'x', 64);
    delete[] scratch;
    char *out = static_cast<char *>(std::malloc(32));
    std::strcpy(out, "plugin");
    return out;
}
