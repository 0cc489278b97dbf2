// SPDX-License-Identifier: MIT
// The text report. Its shape is a contract with users and tools (see
// docs/reports.md): ERROR line, plain words, deallocation stack, the block
// and its allocation stack, SUMMARY, HINT. Change it only with the docs.
#include "report/report.h"

#include "report/hosts.h"

#include "core/family.h"
#include "stack/depot.h"
#include "support/fmt.h"

static const char *const kind_names[CF_ERR_KIND_COUNT] = {
    [CF_ERR_MISMATCH] = "alloc-dealloc-mismatch",
    [CF_ERR_DOUBLE_FREE] = "double-free",
    [CF_ERR_INVALID_FREE] = "invalid-free",
};

const char *cf_error_kind_name(cf_error_kind kind) {
    return (unsigned)kind < CF_ERR_KIND_COUNT ? kind_names[kind] : "unknown-error";
}

void cf_report_format_frame(cf_buf *out, unsigned n, const cf_frame_info *f) {
    cf_buf_str(out, "    #");
    cf_buf_dec(out, n);
    cf_buf_char(out, ' ');
    cf_buf_hex(out, f->pc);
    if (f->function[0] != '\0') {
        cf_buf_str(out, " in ");
        cf_buf_str(out, f->function);
        if (f->file[0] != '\0') {
            cf_buf_char(out, ' ');
            cf_buf_str(out, f->file);
            if (f->line != 0) {
                cf_buf_char(out, ':');
                cf_buf_dec(out, f->line);
            }
        } else if (f->func_offset != 0) {
            cf_buf_char(out, '+');
            cf_buf_hex(out, f->func_offset);
        }
    }
    cf_buf_str(out, " (");
    if (f->module[0] != '\0') {
        cf_buf_str(out, f->module);
        cf_buf_char(out, '+');
        cf_buf_hex(out, f->offset);
    } else if (f->jit) {
        cf_buf_str(out, "[jit] ");
        cf_buf_hex(out, f->pc);
    } else {
        cf_buf_str(out, "<unknown module>");
    }
    cf_buf_char(out, ')');
    if (f->unloaded)
        cf_buf_str(out, " [unloaded]");
    cf_buf_char(out, '\n');
}

// A frame line with a tag: the frame where an FFI host entered native code.
static void format_frame_tagged(cf_buf *out, unsigned n, const cf_frame_info *f, const char *tag) {
    cf_report_format_frame(out, n, f);
    if (tag == NULL || out->truncated)
        return; // the line is not whole: reopening it would cut the line before
    out->len--; // reopen the line
    out->data[out->len] = '\0';
    cf_buf_str(out, " [host boundary: ");
    cf_buf_str(out, tag);
    cf_buf_str(out, "]\n");
}

static void format_stack_marked(cf_buf *out, const uintptr_t *pcs, unsigned n, bool names,
                                cf_symbolizer sym, const cf_host_side *side) {
    cf_frame_info f;
    if (n == 0) {
        cf_buf_str(out, "    <no stack recorded: malloc_context_size=0 or depot full>\n");
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        cf_frame_resolve(sym, pcs[i], names, &f);
        bool boundary = side != NULL && side->found && side->frame == i && side->host[0] != '\0';
        format_frame_tagged(out, i, &f, boundary ? side->host : NULL);
    }
}

static void format_stack(cf_buf *out, const uintptr_t *pcs, unsigned n, bool names,
                         cf_symbolizer sym) {
    format_stack_marked(out, pcs, n, names, sym, NULL);
}

static void format_depot_stack(cf_buf *out, uint32_t id, bool names, cf_symbolizer sym) {
    const uintptr_t *pcs;
    unsigned n = cf_depot_get(id, &pcs);
    format_stack(out, pcs, n, names, sym);
}

static void thread_words(cf_buf *out, uint32_t tid) {
    cf_buf_str(out, " in thread T");
    cf_buf_dec(out, tid);
}

static void pid_prefix(cf_buf *out, int pid) {
    cf_buf_str(out, "==");
    cf_buf_sdec(out, pid);
    cf_buf_str(out, "==");
}

static const char *alloc_words(const cf_record *r) {
    return cf_alloc_fn_words((cf_alloc_fn)cf_record_alloc_fn(r), cf_record_family(r));
}

static const char *dealloc_words(unsigned fn, unsigned family) {
    return cf_dealloc_fn_words((cf_dealloc_fn)fn, family);
}

// "0x... is a N-byte region allocated by WORDS in thread T here:" + stack.
static void format_block(cf_buf *out, const cf_record *r, const char *lead, bool names,
                         cf_symbolizer sym) {
    cf_buf_str(out, lead);
    cf_buf_str(out, alloc_words(r));
    thread_words(out, cf_record_tid(r));
    cf_buf_str(out, " here:\n");
    format_depot_stack(out, r->stack, names, sym);
}

static void format_summary(cf_buf *out, const cf_error *e, bool names, cf_symbolizer sym) {
    cf_buf_str(out, "SUMMARY: crossfree: ");
    cf_buf_str(out, cf_error_kind_name(e->kind));
    if (e->n_pcs > 0) {
        cf_frame_info f;
        cf_frame_resolve(sym, e->pcs[0], names, &f);
        if (f.file[0] != '\0') {
            cf_buf_char(out, ' ');
            cf_buf_str(out, f.file);
            if (f.line != 0) {
                cf_buf_char(out, ':');
                cf_buf_dec(out, f.line);
            }
        } else if (f.module[0] != '\0') {
            cf_buf_str(out, " (");
            cf_buf_str(out, cf_path_base(f.module));
            cf_buf_char(out, '+');
            cf_buf_hex(out, f.offset);
            cf_buf_char(out, ')');
        }
        if (f.function[0] != '\0') {
            cf_buf_str(out, " in ");
            cf_buf_str(out, f.function);
        }
    }
    cf_buf_char(out, '\n');
}

static bool is_new_family(unsigned fam) {
    return fam == CF_FAM_NEW || fam == CF_FAM_NEW_ARRAY || fam == CF_FAM_NEW_ALIGN ||
           fam == CF_FAM_NEW_ARRAY_ALIGN;
}

// The fix that fits the pair, naming the host and the native module when
// the report knows them.
static void format_hint(cf_buf *out, const cf_error *e, const cf_host_side *side,
                        const char *native_module) {
    cf_buf_str(out, "HINT: ");
    switch (e->kind) {
    case CF_ERR_MISMATCH: {
        if (e->win != NULL && e->win->linux_ok) {
            // Only Windows rejects the pair: the Linux advice would not fit.
            cf_winview_format_hint(e->win, out);
            break;
        }
        unsigned fam = cf_record_family(&e->alloc);
        const char *release = cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, fam);
        unsigned freeing = e->dealloc_family;
        cf_buf_str(out, "memory from ");
        cf_buf_str(out, alloc_words(&e->alloc));
        cf_buf_str(out, " must be released with ");
        cf_buf_str(out, release);
        if (is_new_family(fam) && side->found && side->host[0] != '\0') {
            cf_buf_str(out, "; export a release function from ");
            cf_buf_str(out, native_module[0] != '\0' ? native_module : "the native library");
            cf_buf_str(out, " that uses ");
            cf_buf_str(out, release);
            cf_buf_str(out, " and call it from ");
            cf_buf_str(out, side->host);
            cf_buf_str(out, " instead of ");
            cf_buf_str(out, dealloc_words(e->dealloc_fn, e->dealloc_family));
            cf_buf_str(out, ", or allocate the buffer with malloc() if the host must free it");
        } else if (is_new_family(fam)) {
            cf_buf_str(out, "; if another language frees it, export a release function that uses ");
            cf_buf_str(out, release);
            cf_buf_str(out, " and call that instead, or allocate the buffer with ");
            cf_buf_str(out, freeing == CF_FAM_COTASKMEM ? "CoTaskMemAlloc" : "malloc()");
        } else if (freeing == CF_FAM_COTASKMEM) {
            cf_buf_str(out, "; memory that CoTaskMemFree releases (package:ffi's free on Windows, "
                            ".NET's marshaller) must come from CoTaskMemAlloc");
        } else if (fam == CF_FAM_MALLOC) {
            cf_buf_str(out, "; whoever frees it must use free(), or allocate it with the "
                            "allocator that matches the freeing code");
        }
        if (side->found && side->dart)
            cf_buf_str(out, "; on Windows package:ffi frees with CoTaskMemFree, so memory Dart "
                            "frees must come from a DartReadable-style allocator (CoTaskMemAlloc "
                            "on Windows, malloc elsewhere): see docs/ffi-hosts.md");
        break;
    }
    case CF_ERR_DOUBLE_FREE:
        cf_buf_str(out, "the block was freed twice; clear the pointer after the first free or "
                        "give the block a single owner");
        break;
    case CF_ERR_INVALID_FREE:
        cf_buf_str(out, "pass a deallocator only the exact pointer its allocator returned; memory "
                        "from another allocator must go back to that allocator");
        break;
    default:
        break;
    }
    cf_buf_str(out, " (CROSSFREE_OPTIONS=halt_on_error=0 continues after a report)\n");
}

// "freed from HOST (frame #N); allocated in MODULE by WORDS in FUNCTION"
static void format_sides(cf_buf *out, const cf_error *e, const cf_host_side *side, bool names,
                         cf_symbolizer sym, char *native_module, size_t cap) {
    native_module[0] = '\0';
    if (!side->found || side->host[0] == '\0' || !e->has_alloc)
        return;
    cf_buf_str(out, "freed from ");
    cf_buf_str(out, side->host);
    cf_buf_str(out, " (frame #");
    cf_buf_dec(out, side->frame);
    cf_buf_char(out, ')');
    const uintptr_t *apcs;
    unsigned an = cf_depot_get(e->alloc.stack, &apcs);
    cf_frame_info f;
    if (cf_hosts_native_frame(apcs, an, sym, names, &f) >= 0) {
        cf_strlcpy(native_module, cf_path_base(f.module), cap);
        cf_buf_str(out, "; allocated in ");
        cf_buf_str(out, native_module);
        cf_buf_str(out, " by ");
        cf_buf_str(out, alloc_words(&e->alloc));
        if (f.function[0] != '\0') {
            cf_buf_str(out, " in ");
            cf_buf_str(out, f.function);
        }
    }
    cf_buf_char(out, '\n');
}

void cf_report_format_message(const cf_error *e, cf_buf *out) {
    const char *now = dealloc_words(e->dealloc_fn, e->dealloc_family);
    switch (e->kind) {
    case CF_ERR_MISMATCH:
        cf_buf_str(out, "allocated by ");
        cf_buf_str(out, alloc_words(&e->alloc));
        cf_buf_str(out, ", freed by ");
        cf_buf_str(out, now);
        break;
    case CF_ERR_DOUBLE_FREE:
        cf_buf_str(out, "freed twice: first by ");
        cf_buf_str(out, e->has_prev_free ? dealloc_words(e->prev_free.dealloc_fn,
                                                         cf_record_family(&e->prev_free.rec))
                                         : "an earlier deallocation");
        cf_buf_str(out, ", now by ");
        cf_buf_str(out, now);
        break;
    case CF_ERR_INVALID_FREE:
        cf_buf_str(out, now);
        cf_buf_str(out, " on an address that no tracked allocator handed out: ");
        switch (e->where) {
        case CF_WHERE_INTERIOR:
            cf_buf_dec(out, e->addr - e->alloc.addr);
            cf_buf_str(out, " bytes inside a ");
            cf_buf_dec(out, cf_record_size(&e->alloc));
            cf_buf_str(out, "-byte region allocated by ");
            cf_buf_str(out, alloc_words(&e->alloc));
            break;
        case CF_WHERE_STACK:
            cf_buf_str(out, "an address on the stack of thread T");
            cf_buf_dec(out, e->tid);
            break;
        case CF_WHERE_STATIC:
            cf_buf_str(out, "a static address in ");
            cf_buf_str(out, e->where_module);
            break;
        default:
            cf_buf_str(out, "memory crossfree does not track (an allocator that bypasses libc, "
                            "or a block from before crossfree was loaded)");
            break;
        }
        break;
    default:
        break;
    }
}

void cf_report_format(const cf_error *e, bool names, cf_symbolizer sym, cf_buf *out) {
    pid_prefix(out, e->pid);
    cf_buf_str(out, "ERROR: crossfree: ");
    cf_buf_str(out, cf_error_kind_name(e->kind));
    cf_buf_str(out, " on address ");
    cf_buf_hex(out, e->addr);
    thread_words(out, e->tid);
    cf_buf_char(out, '\n');
    cf_report_format_message(e, out);
    cf_buf_char(out, '\n');
    cf_host_side side;
    char native_module[128] = "";
    cf_hosts_find(e->pcs, e->n_pcs, sym, &side);
    if (e->kind == CF_ERR_MISMATCH)
        format_sides(out, e, &side, names, sym, native_module, sizeof native_module);
    if (e->kind == CF_ERR_MISMATCH && e->win != NULL) {
        cf_winview_format_line(e->win, out); // semantics=windows: both views
        cf_buf_char(out, '\n');
    }
    format_stack_marked(out, e->pcs, e->n_pcs, names, sym, &side);

    switch (e->kind) {
    case CF_ERR_MISMATCH:
        cf_buf_hex(out, e->addr);
        cf_buf_str(out, " is a ");
        cf_buf_dec(out, cf_record_size(&e->alloc));
        format_block(out, &e->alloc, "-byte region allocated by ", names, sym);
        break;
    case CF_ERR_DOUBLE_FREE:
        cf_buf_hex(out, e->addr);
        cf_buf_str(out, " is a ");
        cf_buf_dec(out, cf_record_size(&e->alloc));
        cf_buf_str(out, "-byte region freed by ");
        if (e->has_prev_free) {
            cf_buf_str(out,
                       dealloc_words(e->prev_free.dealloc_fn, cf_record_family(&e->prev_free.rec)));
            thread_words(out, e->prev_free.free_tid);
            cf_buf_str(out, " here:\n");
            format_depot_stack(out, e->prev_free.free_stack, names, sym);
        } else {
            cf_buf_str(out, "an earlier deallocation (its stack is no longer remembered):\n");
        }
        format_block(out, &e->alloc, "previously allocated by ", names, sym);
        break;
    case CF_ERR_INVALID_FREE:
        if (e->where == CF_WHERE_INTERIOR) {
            cf_buf_hex(out, e->alloc.addr);
            cf_buf_str(out, " is a ");
            cf_buf_dec(out, cf_record_size(&e->alloc));
            format_block(out, &e->alloc, "-byte region allocated by ", names, sym);
        }
        break;
    default:
        break;
    }
    format_summary(out, e, names, sym);
    format_hint(out, e, &side, native_module);
}
