// SPDX-License-Identifier: MIT
// A plugin that hands out a new[] block and is then unloaded by its host
// (dlclose_main.c). Kept free of inline statics and templates so that
// dlclose really unmaps it (no STB_GNU_UNIQUE symbols pin it).

extern "C" __attribute__((visibility("default"))) char *plugin_make(void) {
    return new char[72]; /* @dc_alloc */
}
