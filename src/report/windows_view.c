// SPDX-License-Identifier: MIT
// Words for the Windows view of a release (semantics=windows). The line
// names both halves the way a Windows developer would: which heap the
// block comes from and who frees it with what. Kept apart from the
// decision (runtime/winsem.c) so the wording can be tested alone.
#include "report/windows_view.h"

bool cf_winview_same(const cf_win_side *a, const cf_win_side *b) {
    if (a->kind != b->kind)
        return false;
    // COM's task allocator and the local heap are one per process; every
    // CRT heap is its own.
    return a->kind == CF_WIN_COTASKMEM || a->kind == CF_WIN_LOCAL || a->heap == b->heap;
}

const char *cf_winview_heap_name(const cf_win_side *s) {
    if (s->kind == CF_WIN_COTASKMEM)
        return "cotaskmem";
    if (s->kind == CF_WIN_LOCAL)
        return "local";
    return s->heap != 0 ? "static-crt" : "crt";
}

const char *cf_winview_origin_name(const cf_win_side *s) {
    switch (s->origin) {
    case CF_WIN_FROM_RUNTIME:
        return "runtime";
    case CF_WIN_FROM_HOST:
        return "host";
    case CF_WIN_FROM_HOST_ALLOCATOR:
        return "host-allocator";
    default:
        return "native";
    }
}

static bool is_cxx(const cf_win_side *s) {
    return s->kind == CF_WIN_NEW || s->kind == CF_WIN_NEW_ARRAY || s->kind == CF_WIN_NEW_ALIGN ||
           s->kind == CF_WIN_NEW_ARRAY_ALIGN;
}

// "the CRT heap of libplugin.so", "the static CRT heap of libplugin.so",
// "the shared CRT heap". A host's shared heap is named as shared: the host
// module's own name would only mislead.
static void heap_words(cf_buf *out, const cf_win_side *s, bool name_shared) {
    if (s->heap != 0)
        cf_buf_printf(out, "the static CRT heap of %s",
                      s->module[0] != '\0' ? s->module : "its module");
    else if (name_shared && s->module[0] != '\0' && s->origin != CF_WIN_FROM_HOST &&
             s->origin != CF_WIN_FROM_HOST_ALLOCATOR)
        cf_buf_printf(out, "the CRT heap of %s", s->module);
    else
        cf_buf_printf(out, "the shared CRT heap");
}

// Where the block comes from: "the CRT heap of libplugin.so (malloc)".
static void alloc_words(cf_buf *out, const cf_winview *v) {
    const cf_win_side *s = &v->alloc;
    if (s->kind == CF_WIN_COTASKMEM) {
        if (s->origin == CF_WIN_FROM_HOST_ALLOCATOR)
            cf_buf_printf(out, "CoTaskMemAlloc through %s, a host allocator,", s->function);
        else if (s->origin == CF_WIN_FROM_HOST)
            cf_buf_printf(out, "%s (CoTaskMemAlloc)", v->host_words);
        else if (s->module[0] != '\0')
            cf_buf_printf(out, "CoTaskMemAlloc in %s", s->module);
        else
            cf_buf_printf(out, "CoTaskMemAlloc");
        return;
    }
    if (s->kind == CF_WIN_LOCAL) {
        if (s->origin == CF_WIN_FROM_HOST && s->function[0] != '\0')
            cf_buf_printf(out, "%s (LocalAlloc)", s->function);
        else if (s->module[0] != '\0')
            cf_buf_printf(out, "LocalAlloc in %s", s->module);
        else
            cf_buf_printf(out, "LocalAlloc");
        return;
    }
    if (is_cxx(s)) {
        cf_buf_printf(out, "%s on ", s->call);
        heap_words(out, s, true);
        return;
    }
    heap_words(out, s, true);
    if (s->origin == CF_WIN_FROM_HOST)
        cf_buf_printf(out, " (%s, through %s)", s->call, v->host_words);
    else if (s->origin == CF_WIN_FROM_HOST_ALLOCATOR)
        cf_buf_printf(out, " (%s, through %s, a host allocator)", s->call, s->function);
    else
        cf_buf_printf(out, " (%s)", s->call);
}

// Who frees it and with what: "Dart's package:ffi with CoTaskMemFree".
static void dealloc_words(cf_buf *out, const cf_winview *v) {
    const cf_win_side *s = &v->dealloc;
    if (s->origin == CF_WIN_FROM_HOST)
        cf_buf_printf(out, "%s", s->function[0] != '\0' ? s->function : v->host_words);
    else if (s->origin == CF_WIN_FROM_HOST_ALLOCATOR)
        cf_buf_printf(out, "%s, a host allocator,", s->function);
    else if (s->module[0] != '\0')
        cf_buf_printf(out, "%s", s->module);
    else
        cf_buf_printf(out, "code in an unknown module");
    cf_buf_printf(out, " with %s", s->call);
    if (s->kind == CF_WIN_COTASKMEM || s->kind == CF_WIN_LOCAL)
        return;
    cf_buf_printf(out, "%s on ", s->kind == CF_WIN_CRT ? "()" : "");
    heap_words(out, s, false);
}

void cf_winview_format_line(const cf_winview *v, cf_buf *out) {
    cf_buf_printf(out, "Linux: %s (%s freed by %s); on Windows this block comes from ",
                  v->linux_ok ? "works here" : "mismatch", v->linux_alloc, v->linux_dealloc);
    alloc_words(out, v);
    cf_buf_printf(out, " and is freed by ");
    dealloc_words(out, v);
    if (v->windows_ok)
        cf_buf_printf(out, ": that pair works there, but not here.");
    else
        cf_buf_printf(out, ": that crashes there%s.", v->linux_ok ? "" : " too");
}

static const char *static_module(const cf_winview *v) {
    if (v->alloc.heap != 0 && v->alloc.module[0] != '\0')
        return v->alloc.module;
    if (v->dealloc.heap != 0 && v->dealloc.module[0] != '\0')
        return v->dealloc.module;
    return NULL;
}

void cf_winview_format_hint(const cf_winview *v, cf_buf *out) {
    const cf_win_side *a = &v->alloc;
    const cf_win_side *d = &v->dealloc;
    const char *maker = a->module[0] != '\0' ? a->module : "the native library";
    const char *m = static_module(v);
    if (d->kind == CF_WIN_COTASKMEM && a->kind != CF_WIN_COTASKMEM &&
        d->origin == CF_WIN_FROM_HOST && v->host != NULL && cf_strcmp(v->host, "dotnet") == 0) {
        cf_buf_printf(out,
                      "on Windows %s frees a returned string or array with CoTaskMemFree: "
                      "return it as IntPtr and free it with a release function exported from %s "
                      "(called through P/Invoke), or allocate it with CoTaskMemAlloc on Windows "
                      "(malloc elsewhere); see docs/ffi-hosts.md",
                      v->host_words, maker);
    } else if (d->kind == CF_WIN_COTASKMEM && a->kind != CF_WIN_COTASKMEM) {
        cf_buf_printf(out,
                      "on Windows %s frees with CoTaskMemFree: allocate what the host frees with "
                      "a host-compatible allocator (CoTaskMemAlloc on Windows, malloc elsewhere, "
                      "as DartReadable's dart_malloc does) and name it in host_allocators or "
                      "mark it CROSSFREE_HOST_ALLOCATOR, or export a release function from %s "
                      "and have the host call it; see docs/windows-on-linux.md",
                      d->origin == CF_WIN_FROM_HOST ? v->host_words : d->function, maker);
    } else if (d->kind == CF_WIN_LOCAL && a->kind != CF_WIN_LOCAL) {
        cf_buf_printf(out,
                      "on Windows %s is LocalFree: only memory from LocalAlloc "
                      "(Marshal.AllocHGlobal) may go there; export a release function from %s "
                      "and call it through P/Invoke instead; see docs/ffi-hosts.md",
                      d->function[0] != '\0' ? d->function : d->call, maker);
    } else if (a->kind == CF_WIN_LOCAL && d->kind != CF_WIN_LOCAL) {
        cf_buf_printf(out,
                      "on Windows this block comes from LocalAlloc (Marshal.AllocHGlobal): "
                      "release it with Marshal.FreeHGlobal (LocalFree), not with %s; see "
                      "docs/ffi-hosts.md",
                      d->call);
    } else if (a->kind == CF_WIN_COTASKMEM && d->kind != CF_WIN_COTASKMEM) {
        cf_buf_printf(out,
                      "on Windows this block comes from CoTaskMemAlloc: release it with "
                      "CoTaskMemFree (through the host, or the free function of the host "
                      "allocator named in host_allocators), not with %s; see "
                      "docs/windows-on-linux.md",
                      d->call);
    } else if (m != NULL) {
        cf_buf_printf(out,
                      "%s links its C runtime statically (static_crt_modules), so on Windows its "
                      "heap is its own: memory it allocates must be freed by its own code (export "
                      "a release function from %s and call that), or build it with the shared "
                      "CRT (/MD); see docs/windows-on-linux.md",
                      m, m);
    } else {
        cf_buf_printf(out, "on Windows the block must go back to the allocator that made it "
                           "there; see docs/windows-on-linux.md");
    }
}
