// SPDX-License-Identifier: MIT
// The Windows view of a release, for semantics=windows: which Windows
// allocator the block would come from and which one would free it, with
// the words reports use for both. Pure data and text: the runtime
// (runtime/winsem.c) decides, this file only says it, so the wording is
// unit tested with made-up views.
#ifndef CF_REPORT_WINDOWS_VIEW_H
#define CF_REPORT_WINDOWS_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "support/fmt.h"

// What a Windows build would use. The C++ kinds are CRT-backed too, but a
// block needs its own operator to go back.
typedef enum cf_win_kind {
    CF_WIN_UNJUDGED = 0,
    CF_WIN_CRT,       // malloc/calloc/realloc/free of a C runtime heap
    CF_WIN_NEW,       // operator new / delete
    CF_WIN_NEW_ARRAY, // operator new[] / delete[]
    CF_WIN_NEW_ALIGN,
    CF_WIN_NEW_ARRAY_ALIGN,
    CF_WIN_COTASKMEM, // CoTaskMemAlloc / CoTaskMemFree (COM's task allocator)
    CF_WIN_LOCAL,     // LocalAlloc / LocalFree (.NET's Marshal.AllocHGlobal/FreeHGlobal)
} cf_win_kind;

// Why a side got its kind.
typedef enum cf_win_origin {
    CF_WIN_FROM_NATIVE = 0,     // a native module called the allocator itself
    CF_WIN_FROM_RUNTIME,        // the C/C++ runtime did, on behalf of `module`
    CF_WIN_FROM_HOST,           // the FFI host's own code did (package:ffi, ctypes, ...)
    CF_WIN_FROM_HOST_ALLOCATOR, // the stack passes through a host_allocators function
} cf_win_origin;

typedef struct cf_win_side {
    uint8_t kind;      // cf_win_kind
    uint8_t origin;    // cf_win_origin
    uint8_t heap;      // 0: the shared CRT heap (UCRT, /MD); n > 0: `module`'s static CRT (/MT)
    const char *call;  // "malloc", "operator new[]", "free", "CoTaskMemFree", ... (static)
    char module[96];   // file name of the module the call is charged to; "" unknown
    char function[96]; // the host_allocators function, for CF_WIN_FROM_HOST_ALLOCATOR;
                       // for CF_WIN_FROM_HOST, the host's call when it is not the host's
                       // usual one ("Marshal.FreeHGlobal"), else ""
} cf_win_side;

typedef struct cf_winview {
    cf_win_side alloc;
    cf_win_side dealloc;
    bool linux_ok;           // the pair matches on Linux
    bool windows_ok;         // it would match on Windows
    const char *host;        // host profile name ("dart"), "none"
    const char *host_words;  // "Dart's package:ffi", "Python's ctypes/cffi"
    const char *linux_alloc; // the Linux words of both calls: "malloc()", "free()"
    const char *linux_dealloc;
} cf_winview;

// True when two sides name the same Windows allocator (kind and heap).
bool cf_winview_same(const cf_win_side *a, const cf_win_side *b);

// "cotaskmem", "local", "crt" or "static-crt": the heap a side uses, for JSON.
const char *cf_winview_heap_name(const cf_win_side *s);
// "native", "runtime", "host", "host-allocator".
const char *cf_winview_origin_name(const cf_win_side *s);

// The line that shows both views, without the newline:
// "Linux: works here (malloc() freed by free()); on Windows this block comes
// from the CRT heap of libplugin.so (malloc) and is freed by Dart's
// package:ffi with CoTaskMemFree: that crashes there."
void cf_winview_format_line(const cf_winview *v, cf_buf *out);

// The fix for a pair that only Windows rejects, without "HINT: " and
// without the newline.
void cf_winview_format_hint(const cf_winview *v, cf_buf *out);

#endif
