// SPDX-License-Identifier: MIT
// The JSON report: one object per error on one line. Its field names and
// types are a contract with `crossfree report` and with users' scripts (see
// docs/json-report.md); change them only with the docs and the schema
// version. Never allocates, and never emits an incomplete or invalid line.
#include "report/json.h"

#include "report/hosts.h"

#include "core/family.h"
#include "stack/depot.h"

// ---------------------------------------------------------------------------
// A writer that cannot leave a line half-written
//
// While the object is written, CF_JSON_RESERVE bytes of the buffer are held
// back. The first piece that does not fit in the rest is undone, the
// reserve is released, and from then on every string is written as null and
// every frame left out: what remains is the fixed syntax of the object
// (keys, numbers, brackets), which is shorter than the reserve.

typedef struct jw {
    cf_buf *b;
    size_t reserve; // bytes still held back (0 once released)
    bool cut;       // something was left out: strings are null from now on
    bool fresh;     // just after '{' or '[': the next member needs no comma
} jw;

typedef struct jmark {
    size_t len;
    bool fresh;
} jmark;

static jmark mark(const jw *w) {
    jmark m = {w->b->len, w->fresh};
    return m;
}

// Called after writing a piece that began at `m`: true when it fit. On the
// first overflow, undoes the piece and switches to the short form.
static bool fit(jw *w, jmark m) {
    if (!w->b->truncated || w->cut)
        return true; // a buffer below the reserve: nothing more can be done
    w->b->len = m.len;
    if (w->b->cap > 0)
        w->b->data[m.len] = '\0';
    w->b->truncated = false;
    w->b->cap += w->reserve;
    w->reserve = 0;
    w->fresh = m.fresh;
    w->cut = true;
    return false;
}

static void sep(jw *w) {
    if (!w->fresh)
        cf_buf_char(w->b, ',');
    w->fresh = false;
}

// Keys are crossfree's own words: no escaping needed.
static void raw_key(jw *w, const char *key) {
    sep(w);
    cf_buf_printf(w->b, "\"%s\":", key);
}

static void raw_string(cf_buf *b, const char *s) {
    cf_buf_char(b, '"');
    cf_buf_json_str(b, s);
    cf_buf_char(b, '"');
}

// "key": followed by '{' or '[' (key NULL: an array element).
static void open_value(jw *w, const char *key, char bracket) {
    for (;;) {
        jmark m = mark(w);
        if (key != NULL)
            raw_key(w, key);
        else
            sep(w);
        cf_buf_char(w->b, bracket);
        if (fit(w, m))
            break;
    }
    w->fresh = true;
}

static void close_value(jw *w, char bracket) {
    for (;;) {
        jmark m = mark(w);
        cf_buf_char(w->b, bracket);
        if (fit(w, m))
            break;
    }
    w->fresh = false;
}

// A string member; NULL or "" is written as null, and so is a string that
// does not fit.
static void member_str(jw *w, const char *key, const char *s) {
    jmark m = mark(w);
    raw_key(w, key);
    if (s == NULL || s[0] == '\0' || w->cut)
        cf_buf_str(w->b, "null");
    else
        raw_string(w->b, s);
    if (!fit(w, m)) {
        raw_key(w, key);
        cf_buf_str(w->b, "null");
    }
}

// A string member of fixed short length (kind names, family names of the
// built-in families, hex numbers): never replaced by null.
static void member_fixed(jw *w, const char *key, const char *s) {
    for (;;) {
        jmark m = mark(w);
        raw_key(w, key);
        raw_string(w->b, s);
        if (fit(w, m))
            break;
    }
}

static void member_hex(jw *w, const char *key, uint64_t v) {
    for (;;) {
        jmark m = mark(w);
        raw_key(w, key);
        cf_buf_printf(w->b, "\"0x%llx\"", (unsigned long long)v);
        if (fit(w, m))
            break;
    }
}

static void member_dec(jw *w, const char *key, int64_t v) {
    for (;;) {
        jmark m = mark(w);
        raw_key(w, key);
        cf_buf_printf(w->b, "%lld", (long long)v);
        if (fit(w, m))
            break;
    }
}

// true, false or null.
static void member_lit(jw *w, const char *key, const char *literal) {
    for (;;) {
        jmark m = mark(w);
        raw_key(w, key);
        cf_buf_str(w->b, literal);
        if (fit(w, m))
            break;
    }
}

// ---------------------------------------------------------------------------
// Time

// Days since 1970-01-01 to a proleptic Gregorian date: the era-based
// civil-from-days conversion (400-year eras of 146097 days, years starting
// in March so the leap day is the last day of the year).
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468; // days from 0000-03-01 to 1970-01-01
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    uint64_t doe = (uint64_t)(z - era * 146097);                          // [0, 146096]
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
    uint64_t mp = (5 * doy + 2) / 153;                                    // [0, 11], March = 0
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void cf_json_format_time(cf_buf *out, uint64_t us) {
    uint64_t secs = us / 1000000u;
    int64_t days = (int64_t)(secs / 86400u);
    unsigned sod = (unsigned)(secs % 86400u);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    // Years past 9999 are not a concern.
    cf_buf_printf(out, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ", (unsigned)y, m, d, sod / 3600,
                  sod / 60 % 60, sod % 60, (unsigned)(us % 1000000u));
}

// ---------------------------------------------------------------------------
// Frames and stacks

// One frame object; `in` is the index of an inlined function at the pc, or
// -1 for the function the code is in.
static void write_frame(jw *w, const cf_frame_info *f, int in) {
    open_value(w, NULL, '{');
    member_hex(w, "pc", f->pc);
    bool have_module = f->module[0] != '\0';
    member_str(w, "module", f->module);
    if (have_module)
        member_hex(w, "offset", f->offset);
    else
        member_lit(w, "offset", "null");
    member_str(w, "function", in < 0 ? f->function : cf_inline_function(f, (unsigned)in));
    member_str(w, "file", in < 0 ? f->file : cf_inline_file(f, (unsigned)in));
    unsigned line = in < 0 ? f->line : f->inlined[in].line;
    if (line != 0)
        member_dec(w, "line", line);
    else
        member_lit(w, "line", "null");
    member_lit(w, "unloaded", f->unloaded ? "true" : "false");
    member_lit(w, "jit", f->jit ? "true" : "false");
    member_lit(w, "inlined", in < 0 ? "false" : "true");
    close_value(w, '}');
}

// Each pc's inlined functions come first, innermost first, as frames of
// their own with the same pc.
static void write_stack(jw *w, const char *key, const uintptr_t *pcs, unsigned n, bool names,
                        cf_symbolizer sym) {
    cf_frame_info f;
    open_value(w, key, '[');
    for (unsigned i = 0; i < n && !w->cut; i++) {
        cf_frame_resolve(sym, pcs[i], names, &f);
        for (unsigned j = 0; j < f.n_inlined && !w->cut; j++)
            write_frame(w, &f, (int)j);
        if (!w->cut)
            write_frame(w, &f, -1);
    }
    close_value(w, ']');
}

static void write_depot_stack(jw *w, const char *key, uint32_t id, bool names, cf_symbolizer sym) {
    const uintptr_t *pcs = NULL;
    unsigned n = cf_depot_get(id, &pcs);
    write_stack(w, key, pcs, n, names, sym);
}

// ---------------------------------------------------------------------------
// The object

static const char *const where_names[CF_WHERE_COUNT] = {
    [CF_WHERE_UNKNOWN] = "unknown",
    [CF_WHERE_STACK] = "stack",
    [CF_WHERE_STATIC] = "static",
    [CF_WHERE_INTERIOR] = "interior",
    [CF_WHERE_BEFORE] = "before",
    [CF_WHERE_AFTER] = "after",
    [CF_WHERE_FREED_INSIDE] = "freed-interior",
    [CF_WHERE_FREED_BEFORE] = "freed-before",
    [CF_WHERE_FREED_AFTER] = "freed-after",
    [CF_WHERE_OWN] = "crossfree-own",
};

static const char *where_name(cf_where where) {
    return (unsigned)where < CF_WHERE_COUNT ? where_names[where] : "unknown";
}

// The family a deallocation function releases into: its built-in family,
// or for a program-registered deallocator the family it was called for.
static unsigned dealloc_family(unsigned fn, unsigned family) {
    return fn == CF_DEALLOC_CUSTOM ? family : cf_family_of_dealloc((cf_dealloc_fn)fn);
}

static void write_command_line(jw *w, const cf_report_meta *meta) {
    open_value(w, "command_line", '[');
    size_t i = 0;
    while (meta->cmdline != NULL && i < meta->cmdline_len && !w->cut) {
        size_t start = i;
        while (i < meta->cmdline_len && meta->cmdline[i] != '\0')
            i++;
        jmark m = mark(w);
        sep(w);
        cf_buf_char(w->b, '"');
        cf_buf_json_strn(w->b, meta->cmdline + start, i - start);
        cf_buf_char(w->b, '"');
        fit(w, m); // an argument that does not fit is left out, with the rest
        i++;       // past the NUL
    }
    close_value(w, ']');
}

static void write_win_side(jw *w, const char *key, const char *call_key, const cf_win_side *s) {
    open_value(w, key, '{');
    member_str(w, call_key, s->call);
    member_fixed(w, "heap", cf_winview_heap_name(s));
    member_str(w, "module", s->module);
    member_fixed(w, "origin", cf_winview_origin_name(s));
    member_str(w, "host_allocator", s->function);
    close_value(w, '}');
}

// semantics=windows: what a Windows build would do with the same pair.
static void write_windows_view(jw *w, const cf_winview *v) {
    open_value(w, "windows_view", '{');
    member_str(w, "host", v->host);
    member_fixed(w, "linux", v->linux_ok ? "works" : "mismatch");
    member_fixed(w, "windows", v->windows_ok ? "works" : "crashes");
    write_win_side(w, "allocated", "allocator", &v->alloc);
    write_win_side(w, "freed", "deallocator", &v->dealloc);
    char line[1024];
    cf_buf lb;
    cf_buf_init(&lb, line, sizeof line);
    cf_winview_format_line(v, &lb);
    member_str(w, "message", line);
    close_value(w, '}');
}

// Every thread the report names (cf_report_threads_collect): its number,
// OS thread id, name, and where it was created.
static void write_threads(jw *w, const cf_report_threads *ts, bool names, cf_symbolizer sym) {
    open_value(w, "threads", '[');
    for (unsigned i = 0; i < ts->n && !w->cut; i++) {
        const cf_thread_desc *d = &ts->desc[i];
        open_value(w, NULL, '{');
        member_dec(w, "id", ts->tid[i]);
        if (d->os_tid != 0)
            member_dec(w, "os_tid", d->os_tid);
        else
            member_lit(w, "os_tid", "null");
        member_str(w, "name", d->name);
        member_lit(w, "main", d->main ? "true" : "false");
        if (d->created) {
            member_dec(w, "created_by", d->created_by);
            write_depot_stack(w, "creation_stack", d->create_stack, names, sym);
        } else {
            member_lit(w, "created_by", "null");
            member_lit(w, "creation_stack", "null");
        }
        close_value(w, '}');
    }
    close_value(w, ']');
}

void cf_report_format_json(const cf_error *e, const cf_report_meta *meta, bool names,
                           cf_symbolizer sym, cf_buf *out) {
    cf_error_check(e);
    jw w = {out, CF_JSON_RESERVE, false, true};
    cf_buf_char(out, '{');
    // Hold the reserve back; a buffer smaller than it starts in short form.
    if (out->cap > out->len + CF_JSON_RESERVE) {
        out->cap -= CF_JSON_RESERVE;
    } else {
        w.reserve = 0;
        w.cut = true;
    }
    member_dec(&w, "crossfree", CF_JSON_SCHEMA_VERSION);
    member_fixed(&w, "kind", cf_error_kind_name(e->kind));
    member_dec(&w, "pid", e->pid);
    member_str(&w, "executable", meta != NULL ? meta->executable : NULL);
    if (meta != NULL) {
        write_command_line(&w, meta);
    } else {
        open_value(&w, "command_line", '[');
        close_value(&w, ']');
    }
    member_dec(&w, "thread", e->tid);
    member_hex(&w, "address", e->addr);
    if (e->has_alloc)
        member_dec(&w, "size", (int64_t)cf_record_size(&e->alloc));
    else
        member_lit(&w, "size", "null");

    char msg[2048]; // the message, the hint, the freed-from line in turn
    cf_buf mb;
    cf_buf_init(&mb, msg, sizeof msg);
    cf_report_format_message(e, &mb);
    member_str(&w, "message", msg);

    // The text report's HINT, word for word: written before the stacks, so
    // that a record cut short by its frames still has it.
    cf_ffi_facts facts;
    cf_report_ffi_facts(e, names, sym, &facts);
    cf_buf_init(&mb, msg, sizeof msg);
    cf_report_format_hint(e, &facts, &mb);
    member_str(&w, "hint", msg);

    if (e->has_alloc) {
        unsigned fam = cf_record_family(&e->alloc);
        open_value(&w, "allocated_by", '{');
        member_str(&w, "family", cf_family_name(fam));
        member_str(&w, "function",
                   cf_alloc_fn_words((cf_alloc_fn)cf_record_alloc_fn(&e->alloc), fam));
        member_dec(&w, "thread", cf_record_tid(&e->alloc));
        close_value(&w, '}');
    } else {
        member_lit(&w, "allocated_by", "null");
    }
    open_value(&w, "freed_by", '{');
    member_str(&w, "family", cf_family_name(dealloc_family(e->dealloc_fn, e->dealloc_family)));
    member_str(&w, "function",
               cf_dealloc_fn_words((cf_dealloc_fn)e->dealloc_fn, e->dealloc_family));
    close_value(&w, '}');

    if (e->kind == CF_ERR_SIZE_MISMATCH)
        member_dec(&w, "delete_size", (int64_t)e->delete_size);
    if (e->kind == CF_ERR_ALIGN_MISMATCH) {
        member_dec(&w, "delete_alignment", (int64_t)e->delete_align);
        if (cf_record_align_log2(&e->alloc) != 0)
            member_dec(&w, "alignment", (int64_t)1 << cf_record_align_log2(&e->alloc));
    }
    if (e->kind == CF_ERR_INVALID_FREE) {
        member_fixed(&w, "where", where_name(e->where));
        member_str(&w, "where_module", e->where == CF_WHERE_STATIC ? e->where_module : NULL);
        if (cf_where_has_block(e->where))
            member_hex(&w, "block_address", e->alloc.addr);
        else
            member_lit(&w, "block_address", "null");
    }

    // Which FFI host made the bad call, where it entered native code, and
    // the text report's line that says so.
    if (facts.side.found) {
        open_value(&w, "freed_from", '{');
        member_str(&w, "host", facts.side.host);
        member_dec(&w, "frame", facts.side_line);
        cf_buf_init(&mb, msg, sizeof msg);
        cf_report_format_sides(e, &facts, &mb);
        member_str(&w, "message", msg);
        close_value(&w, '}');
    } else {
        member_lit(&w, "freed_from", "null");
    }

    if (e->kind == CF_ERR_MISMATCH && e->win != NULL)
        write_windows_view(&w, e->win);

    write_stack(&w, "deallocation_stack", e->pcs, e->n_pcs, names, sym);
    if (e->has_alloc)
        write_depot_stack(&w, "allocation_stack", e->alloc.stack, names, sym);
    else
        member_lit(&w, "allocation_stack", "null");

    if (e->kind == CF_ERR_DOUBLE_FREE) {
        if (e->has_prev_free) {
            const cf_qentry *q = &e->prev_free;
            open_value(&w, "first_free", '{');
            member_str(&w, "family",
                       cf_family_name(dealloc_family(q->dealloc_fn, cf_record_family(&q->rec))));
            member_str(
                &w, "function",
                cf_dealloc_fn_words((cf_dealloc_fn)q->dealloc_fn, cf_record_family(&q->rec)));
            member_dec(&w, "thread", q->free_tid);
            write_depot_stack(&w, "stack", q->free_stack, names, sym);
            close_value(&w, '}');
        } else {
            member_lit(&w, "first_free", "null");
        }
    }

    cf_report_threads ts;
    cf_report_threads_collect(e, &ts);
    write_threads(&w, &ts, names, sym);

    // Everything that may be cut is written: give the reserve back.
    if (w.reserve > 0) {
        out->cap += w.reserve;
        w.reserve = 0;
    }
    member_lit(&w, "truncated", w.cut ? "true" : "false");
    raw_key(&w, "time");
    cf_buf_char(out, '"');
    cf_json_format_time(out, meta != NULL ? meta->time_us : 0);
    cf_buf_str(out, "\"}\n");
}
