// SPDX-License-Identifier: MIT
// What the Windows shim's two halves tell each other: hooks.c owns the
// wrappers and knows which real function each replaces; patch.c walks the
// loaded modules and points their import tables at the wrappers.
#ifndef CF_PLATFORM_WINDOWS_HOOKS_H
#define CF_PLATFORM_WINDOWS_HOOKS_H

#include <stdint.h>
#include <windows.h>

enum { CF_CRT_MSVCRT, CF_CRT_UCRTBASE, CF_CRT_COUNT };

enum {
    CF_C_MALLOC,
    CF_C_CALLOC,
    CF_C_REALLOC,
    CF_C_FREE,
    CF_C_RECALLOC,
    CF_C_MSIZE,
    CF_C_ALIGNED_MALLOC,
    CF_C_ALIGNED_REALLOC,
    CF_C_ALIGNED_FREE,
    CF_C_STRDUP,
    CF_C_WCSDUP,
    CF_C_COUNT
};

enum { CF_COM_ALLOC, CF_COM_REALLOC, CF_COM_FREE, CF_COM_COUNT };

enum {
    CF_X_NEW,
    CF_X_NEW_ARRAY,
    CF_X_NEW_NOTHROW,
    CF_X_NEW_ARRAY_NOTHROW,
    CF_X_NEW_ALIGN,
    CF_X_NEW_ARRAY_ALIGN,
    CF_X_NEW_ALIGN_NOTHROW,
    CF_X_NEW_ARRAY_ALIGN_NOTHROW,
    CF_X_DELETE,
    CF_X_DELETE_ARRAY,
    CF_X_DELETE_SIZED,
    CF_X_DELETE_ARRAY_SIZED,
    CF_X_DELETE_NOTHROW,
    CF_X_DELETE_ARRAY_NOTHROW,
    CF_X_DELETE_ALIGN,
    CF_X_DELETE_ARRAY_ALIGN,
    CF_X_DELETE_SIZED_ALIGN,
    CF_X_DELETE_ARRAY_SIZED_ALIGN,
    CF_X_COUNT
};

enum {
    CF_L_LOADLIBRARYA,
    CF_L_LOADLIBRARYW,
    CF_L_LOADLIBRARYEXA,
    CF_L_LOADLIBRARYEXW,
    CF_L_FREELIBRARY,
    CF_L_GETPROCADDRESS,
    CF_L_COUNT
};

// The wrapper that replaces the function at `real`, or 0 (lock-free).
uintptr_t cf_win_wrapper_for(uintptr_t real);

// Finds the loader functions (once, at start-up), then the C runtimes and
// COM whenever a module may have brought one in; registers their families.
void cf_win_find_loader(void);
void cf_win_find_providers(void);

// Offers a module as the C++ runtime (it exports operator new/delete).
void cf_win_note_cxx_module(HMODULE m);

// Re-reads the providers and patches the import tables of every loaded
// module that is not crossfree's or the system's (patch.c).
void cf_win_patch_all(void);

#endif
