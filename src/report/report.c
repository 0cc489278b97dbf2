// SPDX-License-Identifier: MIT
// The text report. Its shape is a contract with users and tools (see
// docs/reports.md): ERROR line, plain words, deallocation stack, the block
// and its allocation stack, SUMMARY, HINT. Change it only with the docs.
#include "report/report.h"

#include "report/hosts.h"

#include "core/family.h"
#include "stack/depot.h"
#include "support/check.h"
#include "support/fmt.h"

static const char *const kind_names[CF_ERR_KIND_COUNT] = {
    [CF_ERR_MISMATCH] = "alloc-dealloc-mismatch",
    [CF_ERR_DOUBLE_FREE] = "double-free",
    [CF_ERR_INVALID_FREE] = "invalid-free",
    [CF_ERR_SIZE_MISMATCH] = "new-delete-size-mismatch",
    [CF_ERR_ALIGN_MISMATCH] = "new-delete-alignment-mismatch",
};

const char *cf_error_kind_name(cf_error_kind kind) {
    return (unsigned)kind < CF_ERR_KIND_COUNT ? kind_names[kind] : "unknown-error";
}

void cf_error_check(const cf_error *e) {
    CF_CHECK((unsigned)e->kind < CF_ERR_KIND_COUNT);
    CF_CHECK(e->n_pcs == 0 || e->pcs != NULL);
    CF_CHECK((unsigned)e->where < CF_WHERE_COUNT);
    CF_CHECK(e->has_alloc || (e->kind == CF_ERR_INVALID_FREE && !cf_where_has_block(e->where)));
    CF_CHECK(e->kind != CF_ERR_SIZE_MISMATCH || e->delete_size != 0);
    CF_CHECK(e->kind != CF_ERR_ALIGN_MISMATCH || e->delete_align != 0);
    CF_CHECK(!e->has_prev_free || e->kind == CF_ERR_DOUBLE_FREE ||
             (e->kind == CF_ERR_INVALID_FREE && cf_where_freed(e->where)));
}

// One frame line: "#N PC in FUNCTION FILE:LINE (MODULE+OFFSET)" and its tags
// (inlined, where an FFI host entered native code).
static void format_one_line(cf_buf *out, unsigned n, const cf_frame_info *f, const char *function,
                            const char *file, unsigned line, bool inlined, const char *tag) {
    cf_buf_printf(out, "    #%u %p", n, (void *)f->pc);
    if (function[0] != '\0') {
        cf_buf_printf(out, " in %s", function);
        if (file[0] != '\0') {
            cf_buf_printf(out, " %s", file);
            if (line != 0)
                cf_buf_printf(out, ":%u", line);
        } else if (!inlined && f->func_offset != 0) {
            cf_buf_printf(out, "+0x%zx", (size_t)f->func_offset);
        }
    }
    if (f->module[0] != '\0')
        cf_buf_printf(out, " (%s+0x%zx)", f->module, (size_t)f->offset);
    else if (f->jit)
        cf_buf_printf(out, " ([jit] %p)", (void *)f->pc);
    else
        cf_buf_printf(out, " (<unknown module>)");
    if (inlined)
        cf_buf_printf(out, " [inlined]");
    if (f->unloaded)
        cf_buf_printf(out, " [unloaded]");
    if (tag != NULL)
        cf_buf_printf(out, " [host boundary: %s]", tag);
    cf_buf_printf(out, "\n");
}

// The lines of one pc, numbered from *n on: its inlined functions, innermost
// first, then the function the code is in, tagged where an FFI host entered
// native code.
static void format_frame_lines(cf_buf *out, unsigned *n, const cf_frame_info *f, const char *tag) {
    for (unsigned i = 0; i < f->n_inlined; i++)
        format_one_line(out, (*n)++, f, cf_inline_function(f, i), cf_inline_file(f, i),
                        f->inlined[i].line, true, NULL);
    format_one_line(out, (*n)++, f, f->function, f->file, f->line, false, tag);
}

void cf_report_format_frame(cf_buf *out, unsigned n, const cf_frame_info *f) {
    format_frame_lines(out, &n, f, NULL);
}

static void format_stack_marked(cf_buf *out, const uintptr_t *pcs, unsigned n, bool names,
                                cf_symbolizer sym, const cf_host_side *side) {
    cf_frame_info f;
    if (n == 0) {
        cf_buf_printf(out, "    <no stack recorded: malloc_context_size=0 or depot full>\n");
        return;
    }
    unsigned line_no = 0;
    for (unsigned i = 0; i < n; i++) {
        cf_frame_resolve(sym, pcs[i], names, &f);
        bool boundary = side != NULL && side->found && side->frame == i && side->host[0] != '\0';
        format_frame_lines(out, &line_no, &f, boundary ? side->host : NULL);
    }
}

static void format_depot_stack(cf_buf *out, uint32_t id, bool names, cf_symbolizer sym) {
    const uintptr_t *pcs;
    unsigned n = cf_depot_get(id, &pcs);
    format_stack_marked(out, pcs, n, names, sym, NULL);
}

// ---------------------------------------------------------------------------
// Threads

// Adds `tid` once; false when it was there already or there is no room or
// nothing is known of it.
static bool add_thread(const cf_error *e, cf_report_threads *ts, uint32_t tid) {
    for (unsigned i = 0; i < ts->n; i++)
        if (ts->tid[i] == tid)
            return false;
    if (ts->n == CF_REPORT_THREADS_MAX)
        return false;
    cf_thread_desc *d = &ts->desc[ts->n];
    *d = (cf_thread_desc){0};
    if (!e->threads(tid, d))
        return false;
    ts->tid[ts->n++] = tid;
    return true;
}

void cf_report_threads_collect(const cf_error *e, cf_report_threads *out) {
    out->n = 0;
    if (e->threads == NULL)
        return;
    add_thread(e, out, e->tid);
    if (e->has_alloc)
        add_thread(e, out, cf_record_tid(&e->alloc));
    if (e->has_prev_free)
        add_thread(e, out, e->prev_free.free_tid);
    // Then whoever created those, and their creators (added at the end, so
    // the loop reaches them too).
    for (unsigned i = 0; i < out->n; i++)
        if (out->desc[i].created)
            add_thread(e, out, out->desc[i].created_by);
}

static const cf_thread_desc *find_thread(const cf_report_threads *ts, uint32_t tid) {
    for (unsigned i = 0; ts != NULL && i < ts->n; i++)
        if (ts->tid[i] == tid)
            return &ts->desc[i];
    return NULL;
}

void cf_report_format_thread(cf_buf *out, uint32_t tid, const cf_report_threads *ts) {
    cf_buf_printf(out, "T%u", tid);
    const cf_thread_desc *d = find_thread(ts, tid);
    if (d == NULL || d->main || d->os_tid == 0)
        return;
    if (d->name[0] != '\0')
        cf_buf_printf(out, " (%s, tid %d)", d->name, d->os_tid);
    else
        cf_buf_printf(out, " (tid %d)", d->os_tid);
}

// "Thread T2 (consumer, tid 4242) created by T0 here:" and the stack of
// the call that created it, for each thread the report names that
// crossfree saw created, as ASan prints them.
static void format_thread_origins(cf_buf *out, const cf_report_threads *ts, bool names,
                                  cf_symbolizer sym) {
    for (unsigned i = 0; i < ts->n; i++) {
        const cf_thread_desc *d = &ts->desc[i];
        if (!d->created)
            continue;
        cf_buf_printf(out, "Thread ");
        cf_report_format_thread(out, ts->tid[i], ts);
        cf_buf_printf(out, " created by ");
        cf_report_format_thread(out, d->created_by, ts);
        cf_buf_printf(out, " here:\n");
        format_depot_stack(out, d->create_stack, names, sym);
    }
}

static const char *alloc_words(const cf_record *r) {
    return cf_alloc_fn_words((cf_alloc_fn)cf_record_alloc_fn(r), cf_record_family(r));
}

static const char *dealloc_words(unsigned fn, unsigned family) {
    return cf_dealloc_fn_words((cf_dealloc_fn)fn, family);
}

// "0x... is a N-byte region allocated by WORDS in thread T here:" and the
// allocation stack.
static void format_block(cf_buf *out, uintptr_t addr, const cf_record *r, bool names,
                         cf_symbolizer sym, const cf_report_threads *ts) {
    cf_buf_printf(out, "%p is a %zu-byte region allocated by %s in thread ", (void *)addr,
                  (size_t)cf_record_size(r), alloc_words(r));
    cf_report_format_thread(out, cf_record_tid(r), ts);
    cf_buf_printf(out, " here:\n");
    format_depot_stack(out, r->stack, names, sym);
}

// A freed block (a double free's, or the one a stray pointer is near):
// where it was freed first, then where it was made.
static void format_freed_block(cf_buf *out, const cf_error *e, bool names, cf_symbolizer sym,
                               const cf_report_threads *ts) {
    const cf_record *r = &e->alloc;
    cf_buf_printf(out, "%p is a %zu-byte region freed by ", (void *)r->addr,
                  (size_t)cf_record_size(r));
    if (e->has_prev_free) {
        const cf_qentry *q = &e->prev_free;
        cf_buf_printf(out, "%s in thread ",
                      dealloc_words(q->dealloc_fn, cf_record_family(&q->rec)));
        cf_report_format_thread(out, q->free_tid, ts);
        cf_buf_printf(out, " here:\n");
        format_depot_stack(out, q->free_stack, names, sym);
    } else {
        cf_buf_printf(out, "an earlier deallocation (its stack is no longer remembered):\n");
    }
    cf_buf_printf(out, "previously allocated by %s in thread ", alloc_words(r));
    cf_report_format_thread(out, cf_record_tid(r), ts);
    cf_buf_printf(out, " here:\n");
    format_depot_stack(out, r->stack, names, sym);
}

// "SUMMARY: crossfree: KIND FILE:LINE in FUNCTION", or the module and
// offset when the frame has no file.
static void format_summary(cf_buf *out, const cf_error *e, bool names, cf_symbolizer sym) {
    cf_buf_printf(out, "SUMMARY: crossfree: %s", cf_error_kind_name(e->kind));
    if (e->n_pcs > 0) {
        cf_frame_info f;
        cf_frame_resolve(sym, e->pcs[0], names, &f);
        // The innermost function at the pc, inlined or not, as ASan names it.
        bool in = f.n_inlined > 0;
        const char *file = in ? cf_inline_file(&f, 0) : f.file;
        const char *function = in ? cf_inline_function(&f, 0) : f.function;
        unsigned line = in ? f.inlined[0].line : f.line;
        if (file[0] != '\0') {
            cf_buf_printf(out, " %s", file);
            if (line != 0)
                cf_buf_printf(out, ":%u", line);
        } else if (f.module[0] != '\0') {
            cf_buf_printf(out, " (%s+0x%zx)", cf_path_base(f.module), (size_t)f.offset);
        }
        if (function[0] != '\0')
            cf_buf_printf(out, " in %s", function);
    }
    cf_buf_char(out, '\n');
}

// The fix for a mismatch, naming the host and the native module when the
// report knows them.
static void format_mismatch_hint(cf_buf *out, const cf_error *e, const cf_ffi_facts *facts) {
    if (e->win != NULL && e->win->linux_ok) {
        // Only Windows rejects the pair: the Linux advice would not fit.
        cf_winview_format_hint(e->win, out);
        return;
    }
    const cf_host_side *side = &facts->side;
    unsigned fam = cf_record_family(&e->alloc);
    const char *release = cf_dealloc_fn_words(CF_DEALLOC_CUSTOM, fam);
    unsigned freeing = e->dealloc_family;
    // Native code in one library freeing what another allocated: the fix
    // is that library's, whoever called it.
    const char *lib = side->library;
    bool by_lib = lib[0] != '\0' && facts->native_module[0] != '\0' &&
                  cf_strcmp(lib, facts->native_module) != 0;
    if (by_lib)
        cf_buf_printf(out, "%s freed memory that %s allocated with %s: ", lib, facts->native_module,
                      alloc_words(&e->alloc));
    cf_buf_printf(out, "memory from %s must be released with %s", alloc_words(&e->alloc), release);
    if (cf_family_is_new(fam) && by_lib) {
        cf_buf_printf(out,
                      "; export a release function from %s that uses %s and call it from %s "
                      "instead of %s, or allocate the buffer with malloc() if %s must free it",
                      facts->native_module, release, lib,
                      dealloc_words(e->dealloc_fn, e->dealloc_family), lib);
    } else if (cf_family_is_new(fam) && side->found && side->host[0] != '\0') {
        cf_buf_printf(out,
                      "; export a release function from %s that uses %s and call it from %s "
                      "instead of %s, or allocate the buffer with malloc() if the host must free "
                      "it",
                      facts->native_module[0] != '\0' ? facts->native_module : "the native library",
                      release, side->host, dealloc_words(e->dealloc_fn, e->dealloc_family));
    } else if (cf_family_is_new(fam)) {
        cf_buf_printf(out,
                      "; if another language frees it, export a release function that uses %s "
                      "and call that instead, or allocate the buffer with %s",
                      release, freeing == CF_FAM_COTASKMEM ? "CoTaskMemAlloc" : "malloc()");
    } else if (freeing == CF_FAM_COTASKMEM) {
        cf_buf_printf(out, "; memory that CoTaskMemFree releases (package:ffi's free on Windows, "
                           ".NET's marshaller) must come from CoTaskMemAlloc");
    } else if (fam == CF_FAM_MALLOC) {
        cf_buf_printf(out, "; whoever frees it must use free(), or allocate it with the "
                           "allocator that matches the freeing code");
    }
    if (cf_strcmp(cf_family_name(fam), "BSTR") == 0)
        cf_buf_printf(out, "; a BSTR points 4 bytes past its allocation, just after its length, "
                           "so no other deallocator can release it");
    if (side->found && side->dart)
        cf_buf_printf(out, "; on Windows package:ffi frees with CoTaskMemFree, so memory Dart "
                           "frees must come from a DartReadable-style allocator (CoTaskMemAlloc "
                           "on Windows, malloc elsewhere): see docs/ffi-hosts.md");
}

// "the fix (CROSSFREE_OPTIONS=halt_on_error=0 continues after a report)":
// the suggestion only where it would change something.
void cf_report_format_hint(const cf_error *e, const cf_ffi_facts *facts, cf_buf *out) {
    switch (e->kind) {
    case CF_ERR_MISMATCH:
        format_mismatch_hint(out, e, facts);
        break;
    case CF_ERR_DOUBLE_FREE:
        cf_buf_printf(out, "the block was freed twice; clear the pointer after the first free or "
                           "give the block a single owner");
        break;
    case CF_ERR_INVALID_FREE:
        if (e->where == CF_WHERE_OWN)
            cf_buf_printf(out, "the program never allocated this block, so the pointer is stale, "
                               "uninitialised or computed wrongly; crossfree kept the block, "
                               "which its own code still uses");
        else
            cf_buf_printf(out, "pass a deallocator only the exact pointer its allocator "
                               "returned; memory from another allocator must go back to that "
                               "allocator");
        break;
    case CF_ERR_SIZE_MISMATCH:
        cf_buf_printf(out, "pass operator delete the size that operator new was given; deleting "
                           "an object through a pointer to its base class needs a virtual "
                           "destructor");
        break;
    case CF_ERR_ALIGN_MISMATCH:
        cf_buf_printf(out, "pass operator delete the alignment that operator new was given, or "
                           "delete the object through a pointer to its own type");
        break;
    default:
        break;
    }
    if (facts->side.found && facts->side.cgo) {
        // crossfree does not walk from the system stack back onto the
        // goroutine's: Go's runtime moves goroutine stacks, and its frame
        // layout is its own. Go's dump after SIGABRT has those frames.
        cf_buf_printf(out, "; the stacks end where cgo switched to the system stack, so the Go "
                           "code that called C is not in them");
        if (e->halts)
            cf_buf_printf(out, ": Go's goroutine dump after the abort lists it (the goroutine "
                               "[syscall] that ran runtime.cgocall, down to its .go file and "
                               "line)");
    }
    if (e->halts)
        cf_buf_printf(out, " (CROSSFREE_OPTIONS=halt_on_error=0 continues after a report)");
}

void cf_report_ffi_facts(const cf_error *e, bool names, cf_symbolizer sym, cf_ffi_facts *out) {
    cf_hosts_find(e->pcs, e->n_pcs, sym, names, &out->side);
    // Each function inlined at an earlier pc is a numbered frame too.
    out->side_line = out->side.frame;
    if (names && out->side.found) {
        cf_frame_info f;
        for (unsigned i = 0; i < out->side.frame && i < e->n_pcs; i++) {
            cf_frame_resolve(sym, e->pcs[i], names, &f);
            out->side_line += f.n_inlined;
        }
    }
    out->native_module[0] = '\0';
    out->native_function[0] = '\0';
    if (e->kind != CF_ERR_MISMATCH || !e->has_alloc)
        return;
    const uintptr_t *apcs;
    unsigned an = cf_depot_get(e->alloc.stack, &apcs);
    cf_frame_info f;
    if (cf_hosts_native_frame(apcs, an, sym, names, &f) < 0)
        return;
    cf_strlcpy(out->native_module, cf_path_base(f.module), sizeof out->native_module);
    // The innermost function at the pc, inlined or not, as the stack shows it.
    cf_strlcpy(out->native_function, f.n_inlined > 0 ? cf_inline_function(&f, 0) : f.function,
               sizeof out->native_function);
}

// "freed from HOST (frame #N); allocated in MODULE by WORDS in FUNCTION"
void cf_report_format_sides(const cf_error *e, const cf_ffi_facts *facts, cf_buf *out) {
    const cf_host_side *side = &facts->side;
    if (e->kind != CF_ERR_MISMATCH || !side->found || side->host[0] == '\0' || !e->has_alloc)
        return;
    cf_buf_printf(out, "freed from %s (frame #%u)", side->host, facts->side_line);
    if (facts->native_module[0] != '\0') {
        cf_buf_printf(out, "; allocated in %s by %s", facts->native_module, alloc_words(&e->alloc));
        if (facts->native_function[0] != '\0')
            cf_buf_printf(out, " in %s", facts->native_function);
    }
}

// The distance from an invalid-free address to the block that describes
// it: into it, in front of it, or past its last byte (0 = the byte just
// after the block).
static size_t where_offset(const cf_error *e) {
    uintptr_t start = e->alloc.addr;
    uint64_t size = cf_record_size(&e->alloc);
    switch (e->where) {
    case CF_WHERE_BEFORE:
    case CF_WHERE_FREED_BEFORE:
        return (size_t)(start - e->addr);
    case CF_WHERE_AFTER:
    case CF_WHERE_FREED_AFTER:
        return (size_t)(e->addr - start - size);
    default:
        return (size_t)(e->addr - start);
    }
}

// What an invalid-free address is, after "...: ".
static void format_where(cf_buf *out, const cf_error *e) {
    size_t size = (size_t)cf_record_size(&e->alloc);
    const char *freed = cf_where_freed(e->where) ? "freed " : "";
    switch (e->where) {
    case CF_WHERE_INTERIOR:
    case CF_WHERE_FREED_INSIDE:
        cf_buf_printf(out, "%zu bytes inside a %s%zu-byte region allocated by %s", where_offset(e),
                      freed, size, alloc_words(&e->alloc));
        break;
    case CF_WHERE_BEFORE:
    case CF_WHERE_FREED_BEFORE:
        cf_buf_printf(out, "%zu bytes before a %s%zu-byte region allocated by %s", where_offset(e),
                      freed, size, alloc_words(&e->alloc));
        break;
    case CF_WHERE_AFTER:
    case CF_WHERE_FREED_AFTER:
        cf_buf_printf(out, "%zu bytes after the end of a %s%zu-byte region allocated by %s",
                      where_offset(e), freed, size, alloc_words(&e->alloc));
        break;
    case CF_WHERE_STACK:
        cf_buf_printf(out, "an address on the stack of thread T%u", e->tid);
        break;
    case CF_WHERE_STATIC:
        cf_buf_printf(out, "a static address in %s", e->where_module);
        break;
    default:
        cf_buf_printf(out, "memory crossfree does not track (an allocator that bypasses libc, "
                           "or a block from before crossfree was loaded)");
        break;
    }
}

void cf_report_format_message(const cf_error *e, cf_buf *out) {
    const char *now = dealloc_words(e->dealloc_fn, e->dealloc_family);
    switch (e->kind) {
    case CF_ERR_MISMATCH:
        cf_buf_printf(out, "allocated by %s, freed by %s", alloc_words(&e->alloc), now);
        break;
    case CF_ERR_DOUBLE_FREE:
        cf_buf_printf(out, "freed twice: first by %s, now by %s",
                      e->has_prev_free ? dealloc_words(e->prev_free.dealloc_fn,
                                                       cf_record_family(&e->prev_free.rec))
                                       : "an earlier deallocation",
                      now);
        break;
    case CF_ERR_INVALID_FREE:
        if (e->where == CF_WHERE_OWN) {
            cf_buf_printf(out,
                          "%s on crossfree's own memory: a %zu-byte block that crossfree's "
                          "libraries allocated for it, not the program; it was not released",
                          now, (size_t)cf_record_size(&e->alloc));
            break;
        }
        cf_buf_printf(out, "%s on an address that no tracked allocator handed out: ", now);
        format_where(out, e);
        break;
    case CF_ERR_SIZE_MISMATCH:
        cf_buf_printf(out, "sized %s was given %zu bytes for a %zu-byte region allocated by %s",
                      now, e->delete_size, (size_t)cf_record_size(&e->alloc),
                      alloc_words(&e->alloc));
        break;
    case CF_ERR_ALIGN_MISMATCH:
        if (cf_record_align_log2(&e->alloc) != 0)
            cf_buf_printf(out,
                          "%s was given an alignment of %zu bytes for a %zu-byte region "
                          "allocated by %s with an alignment of %zu bytes",
                          now, e->delete_align, (size_t)cf_record_size(&e->alloc),
                          alloc_words(&e->alloc), (size_t)1 << cf_record_align_log2(&e->alloc));
        else
            cf_buf_printf(out,
                          "%s was given an alignment of %zu bytes, which the address of a "
                          "block allocated by %s does not have",
                          now, e->delete_align, alloc_words(&e->alloc));
        break;
    default:
        break;
    }
}

void cf_report_format(const cf_error *e, bool names, cf_symbolizer sym, cf_buf *out) {
    cf_error_check(e);
    cf_report_threads ts;
    cf_report_threads_collect(e, &ts);
    cf_buf_printf(out, "==%d==ERROR: crossfree: %s on address %p in thread ", e->pid,
                  cf_error_kind_name(e->kind), (void *)e->addr);
    cf_report_format_thread(out, e->tid, &ts);
    cf_buf_char(out, '\n');
    cf_report_format_message(e, out);
    cf_buf_char(out, '\n');
    cf_ffi_facts facts;
    cf_report_ffi_facts(e, names, sym, &facts);
    size_t before = out->len;
    cf_report_format_sides(e, &facts, out);
    if (out->len != before)
        cf_buf_char(out, '\n');
    if (e->kind == CF_ERR_MISMATCH && e->win != NULL) {
        cf_winview_format_line(e->win, out); // semantics=windows: both views
        cf_buf_char(out, '\n');
    }
    format_stack_marked(out, e->pcs, e->n_pcs, names, sym, &facts.side);

    switch (e->kind) {
    case CF_ERR_MISMATCH:
    case CF_ERR_SIZE_MISMATCH:
    case CF_ERR_ALIGN_MISMATCH:
        format_block(out, e->addr, &e->alloc, names, sym, &ts);
        break;
    case CF_ERR_DOUBLE_FREE:
        format_freed_block(out, e, names, sym, &ts);
        break;
    case CF_ERR_INVALID_FREE:
        if (e->where == CF_WHERE_OWN)
            cf_buf_printf(out,
                          "%p is a %zu-byte region of crossfree's own (its allocation stack "
                          "is not recorded)\n",
                          (void *)e->alloc.addr, (size_t)cf_record_size(&e->alloc));
        else if (cf_where_freed(e->where))
            format_freed_block(out, e, names, sym, &ts);
        else if (cf_where_has_block(e->where))
            format_block(out, e->alloc.addr, &e->alloc, names, sym, &ts);
        break;
    default:
        break;
    }
    format_thread_origins(out, &ts, names, sym);
    format_summary(out, e, names, sym);
    cf_buf_printf(out, "HINT: ");
    cf_report_format_hint(e, &facts, out);
    cf_buf_char(out, '\n');
}
