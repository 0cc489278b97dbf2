// SPDX-License-Identifier: MIT
// Words for the Windows view of a release (semantics=windows). The line
// names both halves the way a Windows developer would: which heap the
// block comes from and who frees it with what. Kept apart from the
// decision (runtime/winsem.c) so the wording can be tested alone.
#include "report/windows_view.h"

bool cf_winview_same(const cf_win_side *a, const cf_win_side *b) {
    if (a->kind != b->kind)
        return false;
    // COM's task allocator is one per process; every CRT heap is its own.
    return a->kind == CF_WIN_COTASKMEM || a->heap == b->heap;
}

const char *cf_winview_heap_name(const cf_win_side *s) {
    if (s->kind == CF_WIN_COTASKMEM)
        return "cotaskmem";
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
    if (s->heap != 0) {
        cf_buf_str(out, "the static CRT heap of ");
        cf_buf_str(out, s->module[0] != '\0' ? s->module : "its module");
    } else if (name_shared && s->module[0] != '\0' && s->origin != CF_WIN_FROM_HOST &&
               s->origin != CF_WIN_FROM_HOST_ALLOCATOR) {
        cf_buf_str(out, "the CRT heap of ");
        cf_buf_str(out, s->module);
    } else {
        cf_buf_str(out, "the shared CRT heap");
    }
}

// Where the block comes from: "the CRT heap of libplugin.so (malloc)".
static void alloc_words(cf_buf *out, const cf_winview *v) {
    const cf_win_side *s = &v->alloc;
    if (s->kind == CF_WIN_COTASKMEM) {
        if (s->origin == CF_WIN_FROM_HOST_ALLOCATOR) {
            cf_buf_str(out, "CoTaskMemAlloc through ");
            cf_buf_str(out, s->function);
            cf_buf_str(out, ", a host allocator,");
        } else if (s->origin == CF_WIN_FROM_HOST) {
            cf_buf_str(out, v->host_words);
            cf_buf_str(out, " (CoTaskMemAlloc)");
        } else {
            cf_buf_str(out, "CoTaskMemAlloc");
            if (s->module[0] != '\0') {
                cf_buf_str(out, " in ");
                cf_buf_str(out, s->module);
            }
        }
        return;
    }
    if (is_cxx(s)) {
        cf_buf_str(out, s->call);
        cf_buf_str(out, " on ");
        heap_words(out, s, true);
        return;
    }
    heap_words(out, s, true);
    cf_buf_str(out, " (");
    cf_buf_str(out, s->call);
    if (s->origin == CF_WIN_FROM_HOST) {
        cf_buf_str(out, ", through ");
        cf_buf_str(out, v->host_words);
    } else if (s->origin == CF_WIN_FROM_HOST_ALLOCATOR) {
        cf_buf_str(out, ", through ");
        cf_buf_str(out, s->function);
        cf_buf_str(out, ", a host allocator");
    }
    cf_buf_char(out, ')');
}

// Who frees it and with what: "Dart's package:ffi with CoTaskMemFree".
static void dealloc_words(cf_buf *out, const cf_winview *v) {
    const cf_win_side *s = &v->dealloc;
    if (s->origin == CF_WIN_FROM_HOST) {
        cf_buf_str(out, v->host_words);
    } else if (s->origin == CF_WIN_FROM_HOST_ALLOCATOR) {
        cf_buf_str(out, s->function);
        cf_buf_str(out, ", a host allocator,");
    } else if (s->module[0] != '\0') {
        cf_buf_str(out, s->module);
    } else {
        cf_buf_str(out, "code in an unknown module");
    }
    cf_buf_str(out, " with ");
    cf_buf_str(out, s->call);
    if (s->kind == CF_WIN_COTASKMEM)
        return;
    if (s->kind == CF_WIN_CRT)
        cf_buf_str(out, "()");
    cf_buf_str(out, " on ");
    heap_words(out, s, false);
}

void cf_winview_format_line(const cf_winview *v, cf_buf *out) {
    cf_buf_str(out, v->linux_ok ? "Linux: works here (" : "Linux: mismatch (");
    cf_buf_str(out, v->linux_alloc);
    cf_buf_str(out, " freed by ");
    cf_buf_str(out, v->linux_dealloc);
    cf_buf_str(out, "); on Windows this block comes from ");
    alloc_words(out, v);
    cf_buf_str(out, " and is freed by ");
    dealloc_words(out, v);
    if (v->windows_ok)
        cf_buf_str(out, ": that pair works there, but not here.");
    else
        cf_buf_str(out, v->linux_ok ? ": that crashes there." : ": that crashes there too.");
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
    if (d->kind == CF_WIN_COTASKMEM && a->kind != CF_WIN_COTASKMEM) {
        cf_buf_str(out, "on Windows ");
        cf_buf_str(out, d->origin == CF_WIN_FROM_HOST ? v->host_words : d->function);
        cf_buf_str(out, " frees with CoTaskMemFree: allocate what the host frees with a "
                        "host-compatible allocator (CoTaskMemAlloc on Windows, malloc elsewhere, "
                        "as DartReadable's dart_malloc does) and name it in host_allocators or "
                        "mark it CROSSFREE_HOST_ALLOCATOR, or export a release function from ");
        cf_buf_str(out, maker);
        cf_buf_str(out, " and have the host call it; see docs/windows-on-linux.md");
    } else if (a->kind == CF_WIN_COTASKMEM && d->kind != CF_WIN_COTASKMEM) {
        cf_buf_str(out, "on Windows this block comes from CoTaskMemAlloc: release it with "
                        "CoTaskMemFree (through the host, or the free function of the host "
                        "allocator named in host_allocators), not with ");
        cf_buf_str(out, d->call);
        cf_buf_str(out, "; see docs/windows-on-linux.md");
    } else if (static_module(v) != NULL) {
        const char *m = static_module(v);
        cf_buf_str(out, m);
        cf_buf_str(out, " links its C runtime statically (static_crt_modules), so on Windows "
                        "its heap is its own: memory it allocates must be freed by its own code "
                        "(export a release function from ");
        cf_buf_str(out, m);
        cf_buf_str(out, " and call that), or build it with the shared CRT (/MD); see "
                        "docs/windows-on-linux.md");
    } else {
        cf_buf_str(out, "on Windows the block must go back to the allocator that made it there; "
                        "see docs/windows-on-linux.md");
    }
}
