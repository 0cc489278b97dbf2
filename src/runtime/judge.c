// SPDX-License-Identifier: MIT
// The slow judgements: what a release that failed the hot path's one
// comparison really is. An unknown pointer is classified (interior, stack,
// static data, double free from the quarantine), a family difference is
// checked against modules' private operators, semantics=windows judges a
// pair as Windows would. Every function here is out of line and may take
// stacks, symbolize and allocate under the recursion guard.
#include "core/header.h"
#include "core/quarantine.h"
#include "runtime/internal.h"
#include "runtime/options.h"
#include "runtime/private_ops.h"
#include "runtime/winsem.h"
#include "stack/capture.h"
#include "stack/depot.h"
#include "stack/symbolize.h"
#include "support/fmt.h"

#define NOINLINE __attribute__((noinline))

// ---------------------------------------------------------------------------
// Invalid and double frees

// How far from a block an invalid-free address may lie and still be
// described by that block ("8 bytes before a 1-byte region"): a pointer
// off by a header, a field or a few elements, not one into a neighbour.
#define NEAR_WINDOW 64u

// Keeps `r` in *best when it is nearer `p` than what *best holds.
static void keep_nearer(uintptr_t p, const cf_record *r, bool *found, cf_record *best) {
    if (!*found || cf_record_distance(r, p) < cf_record_distance(best, p)) {
        *best = *r;
        *found = true;
    }
}

// The live header at `u` (a candidate user pointer whose header bytes are
// readable), if any.
static bool live_header_at(uintptr_t u, cf_record *out) {
    const cf_header *h = (const cf_header *)(u - CF_HEADER_SIZE);
    if (!cf_header_valid(u, h->w0, h->w1, cf_rt_set.header_secret) ||
        cf_header_state(h->w0) != CF_HDR_LIVE)
        return false;
    *out = cf_header_record(u, *h);
    return true;
}

// The live block with a header nearest `p`, within `window` bytes (or
// containing p). Backwards: the first valid header below p, within p's
// readable mapping and at most `limit` bytes back, is the only block that
// can contain p or end just before it. Forwards: the first valid header
// within the window, whose bytes are read only on pages known readable
// (a header never crosses a page). Error path only.
static bool header_near(uintptr_t p, uint64_t window, cf_record *out) {
    const uintptr_t limit = (uintptr_t)64 << 20;
    uintptr_t lo;
    bool found = false;
    cf_record r;
    if (!cf_rt_set.headers || !cf_os_readable_from(p, &lo))
        return false;
    uintptr_t stop = p - lo > limit ? p - limit : lo;
    for (uintptr_t u = p & ~(uintptr_t)15; u >= stop + CF_HEADER_SIZE; u -= 16) {
        if (live_header_at(u, &r)) {
            if (cf_record_distance(&r, p) <= window)
                keep_nearer(p, &r, &found, out);
            break;
        }
    }
    uintptr_t page = p & ~(uintptr_t)(CF_HEADER_PAGE - 1);
    for (uintptr_t u = (p & ~(uintptr_t)15) + 16; u - p <= window && u > p; u += 16) {
        if (!cf_header_readable(u))
            continue;
        uintptr_t upage = (u - CF_HEADER_SIZE) & ~(uintptr_t)(CF_HEADER_PAGE - 1);
        if (upage != page) {
            uintptr_t ulo;
            if (!cf_os_readable_from(u - CF_HEADER_SIZE, &ulo))
                break;
            page = upage;
        }
        if (live_header_at(u, &r)) {
            keep_nearer(p, &r, &found, out);
            break;
        }
    }
    return found;
}

// Which of the block kinds `r` gives `p`: inside, in front or behind it.
static cf_where where_by_block(const cf_record *r, uintptr_t p, bool freed) {
    cf_where w = cf_record_distance(r, p) == 0 ? CF_WHERE_INTERIOR
                 : p < r->addr                 ? CF_WHERE_BEFORE
                                               : CF_WHERE_AFTER;
    return freed ? (cf_where)(w - CF_WHERE_INTERIOR + CF_WHERE_FREED_INSIDE) : w;
}

// Describes an address no live record starts at by the nearest block: a
// live block that contains it, then a freed one that does (the quarantine
// holds its memory, so no live block can), then the nearest of either
// within NEAR_WINDOW (a live block wins a tie).
static bool near_block(cf_error *e) {
    uintptr_t p = e->addr;
    bool live = false;
    cf_record r, t;
    cf_qentry q;
    if (header_near(p, NEAR_WINDOW, &r))
        live = true;
    if (cf_table_find_near(p, live ? cf_record_distance(&r, p) : NEAR_WINDOW, &t))
        keep_nearer(p, &t, &live, &r);
    bool freed = cf_quarantine_find_near(p, NEAR_WINDOW, &q);
    if (freed && live && cf_record_distance(&r, p) <= cf_record_distance(&q.rec, p))
        freed = false;
    if (!live && !freed)
        return false;
    if (freed) {
        if (q.free_stack == 0 && q.free_pc != 0)
            q.free_stack = cf_depot_put(&q.free_pc, 1);
        e->prev_free = q;
        e->has_prev_free = true;
        r = q.rec;
    }
    e->where = where_by_block(&r, p, freed);
    e->alloc = r;
    e->has_alloc = true;
    return true;
}

static void classify_invalid(cf_error *e) {
    CF_RT_GUARDED; // reading /proc and the symbolizer may allocate
    cf_frame_info f;
    if (near_block(e)) {
        return;
    } else if (cf_os_addr_on_current_stack(e->addr)) {
        e->where = CF_WHERE_STACK;
    } else if (cf_symbolize(e->addr, false, &f) && f.module[0] != '\0') {
        e->where = CF_WHERE_STATIC;
        cf_strlcpy(e->where_module, f.module, sizeof e->where_module);
    } else {
        e->where = CF_WHERE_UNKNOWN;
    }
}

// The whole stack of the release being judged, when the hot path did not
// take it.
static unsigned capture_release_stack(uintptr_t *pcs) {
    CF_RT_GUARDED;
    return cf_capture(pcs, cf_rt_set.context_size);
}

// The fields of every release error: what was released, by whom, and the
// stack of the call (taken into `own` when the caller has none).
static void begin_error(cf_error *e, cf_error_kind kind, cf_dealloc_fn fn, unsigned family, void *p,
                        const uintptr_t *pcs, unsigned n, uintptr_t own[CF_DEPOT_MAX_FRAMES]) {
    *e = (cf_error){0};
    e->kind = kind;
    e->addr = (uintptr_t)p;
    e->tid = cf_rt_tid();
    e->dealloc_fn = fn;
    e->dealloc_family = family;
    // The report's HINT suggests halt_on_error=0 only when it is not set.
    e->halts = cf_flags.halt_on_error;
    if (n == 0 && cf_rt_set.context_size > 0) {
        // The quarantine is off, or took fewer frames than a report shows.
        n = capture_release_stack(own);
        pcs = own;
    }
    e->pcs = pcs;
    e->n_pcs = n;
}

NOINLINE void cf_rt_report_bad_free(cf_error_kind kind, cf_dealloc_fn fn, unsigned family, void *p,
                                    const cf_record *rec, const uintptr_t *pcs, unsigned n,
                                    const cf_winview *win) {
    uintptr_t own[CF_DEPOT_MAX_FRAMES];
    cf_error e;
    begin_error(&e, kind, fn, family, p, pcs, n, own);
    e.win = win;
    if (rec != NULL) {
        e.alloc = *rec;
        e.has_alloc = true;
    } else if (cf_quarantine_find(e.addr, &e.prev_free)) {
        if (e.prev_free.free_stack == 0 && e.prev_free.free_pc != 0)
            e.prev_free.free_stack = cf_depot_put(&e.prev_free.free_pc, 1);
        // No owner record, but the quarantine remembers freeing it.
        e.kind = kind = CF_ERR_DOUBLE_FREE;
        e.has_prev_free = true;
        e.alloc = e.prev_free.rec;
        e.has_alloc = true;
    }
    // An invalid free with a record is only ever of crossfree's own block.
    if (kind == CF_ERR_INVALID_FREE && rec == NULL)
        classify_invalid(&e);
    else if (kind == CF_ERR_INVALID_FREE)
        e.where = CF_WHERE_OWN;
    cf_rt_report_error(&e);
}

// A sized or aligned operator delete whose size or alignment does not fit
// the block it releases (same family, so the block goes back as usual).
NOINLINE bool cf_rt_report_delete_shape(cf_error_kind kind, cf_dealloc_fn fn, unsigned family,
                                        void *p, const cf_record *rec, size_t size, size_t align,
                                        const uintptr_t *pcs, unsigned n) {
    uintptr_t own[CF_DEPOT_MAX_FRAMES];
    cf_error e;
    begin_error(&e, kind, fn, family, p, pcs, n, own);
    e.alloc = *rec;
    e.has_alloc = true;
    e.delete_size = size;
    e.delete_align = align;
    cf_rt_report_error(&e);
    return false;
}

NOINLINE void cf_rt_report_own_free(cf_dealloc_fn fn, unsigned family, void *p,
                                    const cf_record *rec, const uintptr_t *pcs, unsigned n) {
    cf_rt_report_bad_free(CF_ERR_INVALID_FREE, fn, family, p, rec, pcs, n, NULL);
}

// ---------------------------------------------------------------------------
// Mismatches

// A block that looks malloc'd but was made by a module's private copy of
// operator new (or is released by a private operator delete, which calls
// free) is really in the new family: libraries bound with -Bsymbolic, or
// with a static libstdc++, do this legitimately. On an apparent mismatch
// involving malloc/free, the innermost frames decide. Returns true when the
// pair matches after all; otherwise *rec, *fn and *family carry the
// operator's words for the report.
static bool private_operators_match(cf_record *rec, cf_dealloc_fn *fn, unsigned *family,
                                    const uintptr_t **pcs, unsigned *n, uintptr_t *own) {
    unsigned a = cf_record_family(rec);
    unsigned d = *family;
    if (a != CF_FAM_MALLOC && d != CF_FAM_MALLOC)
        return false;
    CF_RT_GUARDED; // symbolizing allocates
    if (a == CF_FAM_MALLOC) {
        const uintptr_t *apcs;
        if (cf_depot_get(rec->stack, &apcs) > 0)
            a = cf_private_operator_family(apcs[0], true);
        if (a == CF_FAM_NONE)
            a = CF_FAM_MALLOC;
    }
    if (d == CF_FAM_MALLOC && *fn == CF_DEALLOC_FREE) {
        if (*n == 0 && cf_rt_set.context_size > 0) {
            *n = cf_capture(own, cf_rt_set.context_size);
            *pcs = own;
        }
        if (*n > 0)
            d = cf_private_operator_family((*pcs)[0], false);
        if (d == CF_FAM_NONE)
            d = CF_FAM_MALLOC;
    }
    if (a != cf_record_family(rec))
        *rec = cf_record_make(rec->addr, cf_record_size(rec), a, cf_family_alloc_fn(a), rec->stack,
                              cf_record_tid(rec));
    if (d != *family) {
        *family = d;
        *fn = cf_family_dealloc_fn(d);
    }
    return a == d;
}

// semantics=windows: judges a release as a Windows build would make it
// (cf_winsem_judge's -1, 0 or 1), taking the release stack first if the
// caller has none yet.
static int windows_view(const cf_record *rec, cf_dealloc_fn fn, unsigned family,
                        const uintptr_t **pcs, unsigned *n, uintptr_t *own, bool linux_ok,
                        cf_winview *v) {
    CF_RT_GUARDED; // capture and the symbolizer may allocate
    if (*n == 0 && cf_rt_set.context_size > 0) {
        *n = cf_capture(own, cf_rt_set.context_size);
        *pcs = own;
    }
    return cf_winsem_judge(rec, fn, family, *pcs, *n, linux_ok, cf_rt_symbolize_for_report, v);
}

// Reports a Linux mismatch, with its Windows view under semantics=windows.
static void report_mismatch(cf_dealloc_fn fn, unsigned family, void *p, const cf_record *rec,
                            const uintptr_t *pcs, unsigned n, uintptr_t *own) {
    cf_winview v;
    const cf_winview *win = NULL;
    if (cf_rt_set.winsem && windows_view(rec, fn, family, &pcs, &n, own, false, &v) >= 0)
        win = &v;
    cf_rt_report_bad_free(CF_ERR_MISMATCH, fn, family, p, rec, pcs, n, win);
}

NOINLINE bool cf_rt_judge_mismatch(cf_dealloc_fn fn, unsigned family, void *p, const cf_record *rec,
                                   const uintptr_t *pcs, unsigned n, bool whole) {
    uintptr_t own[CF_DEPOT_MAX_FRAMES];
    const uintptr_t *stack = pcs;
    cf_record shown = *rec;
    if (private_operators_match(&shown, &fn, &family, &stack, &n, own))
        return true;
    if (stack == pcs && !whole) {
        stack = NULL; // only frame #0 was taken: let the report unwind
        n = 0;
    }
    report_mismatch(fn, family, p, &shown, stack, n, own);
    return false;
}

// ---------------------------------------------------------------------------
// semantics=windows on pairs that are right on Linux

NOINLINE bool cf_rt_windows_accepts(cf_dealloc_fn fn, unsigned family, void *p,
                                    const cf_record *rec, const uintptr_t *pcs, unsigned n) {
    uintptr_t own[CF_DEPOT_MAX_FRAMES];
    cf_winview v;
    if (windows_view(rec, fn, family, &pcs, &n, own, true, &v) != 0)
        return true;
    cf_rt_report_bad_free(CF_ERR_MISMATCH, fn, family, p, rec, pcs, n, &v);
    return false;
}

NOINLINE void cf_rt_check_realloc_pair(cf_dealloc_fn fn, unsigned family, void *p,
                                       const cf_record *rec, bool linux_ok) {
    uintptr_t own[CF_DEPOT_MAX_FRAMES];
    const uintptr_t *stack = NULL;
    unsigned n = 0;
    cf_winview v;
    int windows =
        cf_rt_set.winsem ? windows_view(rec, fn, family, &stack, &n, own, linux_ok, &v) : -1;
    if (!linux_ok || windows == 0)
        cf_rt_report_bad_free(CF_ERR_MISMATCH, fn, family, p, rec, stack, n,
                              windows >= 0 ? &v : NULL);
}
