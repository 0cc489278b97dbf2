// SPDX-License-Identifier: MIT
// What the Windows shim's files share: the list of hooked functions, and
// the providers whose real functions the wrappers call (each C runtime,
// COM's task allocator, the C++ runtime, the loader). startup.c finds the
// providers and fills this state; shim.c's wrappers read it.
#ifndef CF_PLATFORM_WINDOWS_PROVIDERS_H
#define CF_PLATFORM_WINDOWS_PROVIDERS_H

#include <objbase.h>
#include <stdbool.h>
#include <stdint.h>
#include <windows.h>

#include "platform/shim.h"

// ---------------------------------------------------------------------------
// What is hooked: one line per function, by provider

// X(id, name): each C runtime's heap functions. Each has a wrapper
// crtI_<name> per C runtime slot I.
#define CF_WIN_CRT_FUNCTIONS(X)                                                                    \
    X(MALLOC, malloc)                                                                              \
    X(CALLOC, calloc)                                                                              \
    X(REALLOC, realloc)                                                                            \
    X(FREE, free)                                                                                  \
    X(RECALLOC, _recalloc)                                                                         \
    X(MSIZE, _msize)                                                                               \
    X(ALIGNED_MALLOC, _aligned_malloc)                                                             \
    X(ALIGNED_REALLOC, _aligned_realloc)                                                           \
    X(ALIGNED_FREE, _aligned_free)                                                                 \
    X(STRDUP, _strdup)                                                                             \
    X(WCSDUP, _wcsdup)

// X(id, name): COM's task allocator (ole32, forwarded to combase), and the
// loader (kernel32, forwarded to kernelbase). Each has a wrapper
// wrap_<name>.
#define CF_WIN_COM_FUNCTIONS(X)                                                                    \
    X(ALLOC, CoTaskMemAlloc)                                                                       \
    X(REALLOC, CoTaskMemRealloc)                                                                   \
    X(FREE, CoTaskMemFree)
#define CF_WIN_LOADER_FUNCTIONS(X)                                                                 \
    X(LOADLIBRARYA, LoadLibraryA)                                                                  \
    X(LOADLIBRARYW, LoadLibraryW)                                                                  \
    X(LOADLIBRARYEXA, LoadLibraryExA)                                                              \
    X(LOADLIBRARYEXW, LoadLibraryExW)                                                              \
    X(FREELIBRARY, FreeLibrary)                                                                    \
    X(GETPROCADDRESS, GetProcAddress)

// X(id, name): Windows' own allocators in kernel32 (forwarded to
// kernelbase, and the Heap* calls to ntdll's Rtl*Heap), and BSTRs in
// oleaut32. Each has a wrapper wrap_<name>. Only patched modules (the
// program's own, never a system DLL) reach the wrappers, so the CRTs' and
// COM's internal HeapAlloc calls are never seen.
#define CF_WIN_MEM_FUNCTIONS(X)                                                                    \
    X(HEAPALLOC, HeapAlloc)                                                                        \
    X(HEAPREALLOC, HeapReAlloc)                                                                    \
    X(HEAPFREE, HeapFree)                                                                          \
    X(HEAPDESTROY, HeapDestroy)                                                                    \
    X(LOCALALLOC, LocalAlloc)                                                                      \
    X(LOCALREALLOC, LocalReAlloc)                                                                  \
    X(LOCALFREE, LocalFree)                                                                        \
    X(GLOBALALLOC, GlobalAlloc)                                                                    \
    X(GLOBALREALLOC, GlobalReAlloc)                                                                \
    X(GLOBALFREE, GlobalFree)
#define CF_WIN_BSTR_FUNCTIONS(X)                                                                   \
    X(ALLOC, SysAllocString)                                                                       \
    X(ALLOCLEN, SysAllocStringLen)                                                                 \
    X(ALLOCBYTELEN, SysAllocStringByteLen)                                                         \
    X(REALLOC, SysReAllocString)                                                                   \
    X(REALLOCLEN, SysReAllocStringLen)                                                             \
    X(FREE, SysFreeString)

// The C++ operators are platform/shim.h's list; each has a wrapper
// w<mangled name>.

enum { CF_CRT_MSVCRT, CF_CRT_UCRTBASE, CF_CRT_COUNT };
#define X(id, name) CF_C_##id,
enum { CF_WIN_CRT_FUNCTIONS(X) CF_C_COUNT };
#undef X
#define X(id, name) CF_COM_##id,
enum { CF_WIN_COM_FUNCTIONS(X) CF_COM_COUNT };
#undef X
#define X(id, name) CF_L_##id,
enum { CF_WIN_LOADER_FUNCTIONS(X) CF_L_COUNT };
#undef X
#define X(id, name) CF_M_##id,
enum { CF_WIN_MEM_FUNCTIONS(X) CF_M_COUNT };
#undef X
#define X(id, name) CF_B_##id,
enum { CF_WIN_BSTR_FUNCTIONS(X) CF_B_COUNT };
#undef X
#define X(id, symbol, shape, fn) CF_X_##id,
enum { CF_CXX_OPERATORS(X) CF_X_COUNT };
#undef X

// ---------------------------------------------------------------------------
// The providers, found by startup.c

typedef struct crt_state {
    uintptr_t real[CF_C_COUNT];
    HANDLE heap;             // _get_heap_handle(): validates blocks we never saw
    unsigned heap_family;    // "malloc (msvcrt.dll)" / "free (msvcrt.dll)"
    unsigned aligned_family; // "_aligned_malloc (...)" / "_aligned_free (...)"
    volatile LONG present;   // set last, after everything above
} crt_state;

extern crt_state cf_win_crts[CF_CRT_COUNT];
extern uintptr_t cf_win_com_real[CF_COM_COUNT];
extern IMalloc *cf_win_com_malloc; // the task allocator, to recognise blocks we never saw
extern uintptr_t cf_win_cxx_real[CF_X_COUNT];
// The C++ runtime's image, [lo, hi): its own calls are told apart by
// return address.
extern uintptr_t cf_win_cxx_lo, cf_win_cxx_hi;
extern uintptr_t cf_win_loader_real[CF_L_COUNT];
extern uintptr_t cf_win_mem_real[CF_M_COUNT];
extern uintptr_t cf_win_bstr_real[CF_B_COUNT]; // set last when oleaut32 is found
// The registered families of LocalAlloc, GlobalAlloc and BSTR blocks
// (HeapAlloc's are per heap: shim.c).
extern unsigned cf_win_local_family, cf_win_global_family, cf_win_bstr_family;

extern const char *const cf_win_crt_names[CF_C_COUNT];
extern const char *const cf_win_com_names[CF_COM_COUNT];
extern const char *const cf_win_bstr_names[CF_B_COUNT];

// Finds the C runtimes and COM whenever a module may have brought one in,
// and registers their families and hooks.
void cf_win_find_providers(void);

// Re-reads the providers and patches the import tables of every loaded
// module that is not crossfree's or the system's.
void cf_win_patch_all(void);

// ---------------------------------------------------------------------------
// The wrappers, by provider (shim.c), for the hook table

extern const uintptr_t cf_win_crt_wrapper[CF_CRT_COUNT][CF_C_COUNT];
extern const uintptr_t cf_win_com_wrapper[CF_COM_COUNT];
extern const uintptr_t cf_win_cxx_wrapper[CF_X_COUNT];
extern const uintptr_t cf_win_loader_wrapper[CF_L_COUNT];
extern const uintptr_t cf_win_mem_wrapper[CF_M_COUNT];
extern const uintptr_t cf_win_bstr_wrapper[CF_B_COUNT];

#endif
