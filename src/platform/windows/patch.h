// SPDX-License-Identifier: MIT
// Import-table patching, the Windows hooking mechanism: a table of
// (real function, wrapper) pairs and the pass that points every matching
// import slot of a module at its wrapper. A leaf: it knows nothing of what
// is hooked or why, and never calls back into the shim (shim.c).
#ifndef CF_PLATFORM_WINDOWS_PATCH_H
#define CF_PLATFORM_WINDOWS_PATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <windows.h>

// Adds the pair to the hook table (append-only, at most 256 pairs; a real
// address already there keeps its first wrapper). Either 0: nothing.
void cf_win_hook_add(uintptr_t real, uintptr_t wrapper);
// The wrapper that replaces the function at `real`, or 0. Lock-free.
uintptr_t cf_win_hook_find(uintptr_t real);

// A module's PE headers, or NULL when it does not look like a 64-bit image.
const IMAGE_NT_HEADERS *cf_win_nt_headers(HMODULE m);

// Remembers crossfree's own module and the Windows directory, which
// cf_win_patchable leaves alone. Called once at start-up.
void cf_win_patch_init(HMODULE self);

// Whether m is patched: neither crossfree itself nor a system module
// (Windows' own and Wine's builtin DLLs keep their imports: their CRT use
// is internal and paired).
bool cf_win_patchable(HMODULE m);

// Points every import slot of m (bound delay-load slots too) that holds a
// hooked function at its wrapper. Callers serialise the calls.
void cf_win_patch_module(HMODULE m);

#endif
