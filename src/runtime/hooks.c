// SPDX-License-Identifier: MIT
// The hooks every platform wrapper calls: after an allocation, instead of
// a deallocation, around realloc. This is the hot path, and it reads like
// the rule it enforces: take the record, compare its family with the
// caller's, rarely judge (judge.c, out of line), quarantine or release.
// Order matters: the stack is captured before any lock is taken, the
// record is retired before the block is released (a reused address never
// meets a stale record), and the real allocator is never called with a
// lock held. No malloc, no global lock, no syscall unless a table grows.
#include "core/header.h"
#include "core/hosts.h"
#include "core/quarantine.h"
#include "runtime/internal.h"
#include "runtime/options.h"
#include "stack/capture.h"
#include "stack/depot.h"
#include "support/fmt.h"
#include "support/log.h"

// The depot id of the calling thread's stack (0 with malloc_context_size=0).
// Always inline: a frame of its own would be one more crossfree frame for
// every capture to walk past.
static inline __attribute__((always_inline)) uint32_t current_stack_id(void) {
    if (cf_rt_set.context_size == 0)
        return 0;
    CF_RT_GUARDED;
    return cf_capture_id(cf_rt_set.context_size);
}

// ---------------------------------------------------------------------------
// Code ranges: the modules cf_os_module_ranges lists for a predicate, read
// by any thread while another refreshes them (a reader may see a mix for a
// moment: the callers below tolerate that).

#define CF_RANGES_MAX 16
typedef struct code_ranges {
    _Atomic unsigned n;
    _Atomic uintptr_t lo[CF_RANGES_MAX], hi[CF_RANGES_MAX];
} code_ranges;

static unsigned ranges_refresh(code_ranges *r, bool (*want)(const char *path)) {
    uintptr_t lo[CF_RANGES_MAX], hi[CF_RANGES_MAX];
    unsigned n = cf_os_module_ranges(want, lo, hi, CF_RANGES_MAX);
    atomic_store_explicit(&r->n, 0, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++) {
        atomic_store_explicit(&r->lo[i], lo[i], memory_order_relaxed);
        atomic_store_explicit(&r->hi[i], hi[i], memory_order_relaxed);
    }
    atomic_store_explicit(&r->n, n, memory_order_release);
    return n;
}

static bool ranges_hold(code_ranges *r, uintptr_t pc) {
    unsigned n = atomic_load_explicit(&r->n, memory_order_acquire);
    for (unsigned i = 0; i < n && i < CF_RANGES_MAX; i++)
        if (pc >= atomic_load_explicit(&r->lo[i], memory_order_relaxed) &&
            pc < atomic_load_explicit(&r->hi[i], memory_order_relaxed))
            return true;
    return false;
}

// ---------------------------------------------------------------------------
// crossfree's private code: itself and the libraries it links for its own
// use (libdw, libelf, libunwind and their decompressors), loaded with it and
// never unloaded. A block such code allocates under the recursion guard is
// crossfree's alone (CF_ALLOC_PRIVATE), which no other code may free. Ports
// that list no modules have none: their guarded blocks stay
// CF_ALLOC_INTERNAL.

static code_ranges private_code;

static bool is_private(const char *path) {
    static const char *const prefixes[] = {"libcrossfree", "libdw.so",  "libdw-",  "libelf.so",
                                           "libelf-",      "libunwind", "libz.so", "liblzma.so",
                                           "libbz2.so",    "libzstd.so"};
    const char *base = cf_path_base(path);
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (cf_streqn(base, prefixes[i], cf_strlen(prefixes[i])))
            return true;
    return false;
}

void cf_rt_private_code_note(void) { (void)ranges_refresh(&private_code, is_private); }

// Off the hot path: only blocks allocated or released under the guard, or
// crossfree's own, ask.
static bool in_private_code(uintptr_t pc) { return ranges_hold(&private_code, pc); }

// Set once the table could not take a record (no memory to grow it): from
// then on a release of a block crossfree has no record of may be one of
// those, so it is neither reported nor released (the block leaks).
static atomic_bool records_lost;

static __attribute__((noinline, cold)) void lost_record(void) {
    if (atomic_exchange(&records_lost, true))
        return;
    cf_log_error("cannot map memory to grow its table: blocks allocated from now on may go "
                 "unchecked, and frees of pointers it has no record of are no longer reported "
                 "(those blocks are not released)");
}

// Whether a release of `p`, which has no live record, must pass silently
// because its record may be one the table could not keep: a block the
// quarantine holds is a double free all the same.
static inline bool maybe_lost(const void *p) {
    return __builtin_expect(atomic_load_explicit(&records_lost, memory_order_relaxed), 0) &&
           !cf_quarantine_holds((uintptr_t)p);
}

static void table_insert(const cf_record *r) {
    if (__builtin_expect(!cf_table_insert(r), 0))
        lost_record();
}

// Keeps the record of a live block: in its header when it has one that can
// be read and holds it, else in the table (the header then says so).
static void store_record(const cf_record *r) {
    if (!cf_record_has_header(r)) {
        table_insert(r);
        return;
    }
    cf_header *h = (cf_header *)(r->addr - CF_HEADER_SIZE);
    cf_header v = cf_header_make(r, CF_HDR_LIVE, cf_rt_set.header_secret);
    if (cf_header_state(v.w0) == CF_HDR_LIVE && cf_header_readable(r->addr)) {
        *h = v;
        return;
    }
    *h = cf_header_make(r, CF_HDR_TABLE, cf_rt_set.header_secret);
    table_insert(r);
}

static inline __attribute__((always_inline)) void record_alloc(cf_tls *t, cf_alloc_fn fn,
                                                               unsigned family, uintptr_t p,
                                                               size_t size, uint32_t stack,
                                                               bool header, size_t align) {
    if (t->guard > 0) {
        fn = in_private_code(cf_capture_caller()) ? CF_ALLOC_PRIVATE : CF_ALLOC_INTERNAL;
        family = CF_FAM_MALLOC;
        align = 0;
    }
    cf_record r = cf_record_make(p, size, family, fn, stack, cf_rt_tid());
    if (header)
        cf_record_set_header(&r);
    if (align != 0)
        cf_record_set_align(&r, align);
    store_record(&r);
}

// The header of `p` when it has a live one that holds its record (read
// into *v), else NULL: the record, if any, is in the table.
static inline cf_header *live_header(uintptr_t p, cf_header *v) {
    if (!cf_rt_set.headers || !cf_header_readable(p))
        return NULL;
    cf_header *h = (cf_header *)(p - CF_HEADER_SIZE);
    v->w0 = __atomic_load_n(&h->w0, __ATOMIC_RELAXED);
    v->w1 = __atomic_load_n(&h->w1, __ATOMIC_RELAXED);
    return cf_header_state(v->w0) == CF_HDR_LIVE &&
                   cf_header_valid(p, v->w0, v->w1, cf_rt_set.header_secret)
               ? h
               : NULL;
}

// Detaches the live record of `p` (its header turns FREED, or it leaves the
// table). False when there is none: never allocated or already freed.
static bool take_record(uintptr_t p, cf_record *out) {
    cf_header v;
    cf_header *h = live_header(p, &v);
    if (h == NULL)
        return cf_table_remove(p, out);
    // The state change invalidates the check too: a FREED header never
    // reads as anything. A plain store, not a compare-and-swap: the locked
    // instruction cost a third of the free path, and only two threads
    // freeing one block at the same instant (a race the program's own
    // allocator would not survive either) could both pass the check.
    __atomic_store_n(&h->w0,
                     (v.w0 & ~CF_HDR_STATE_MASK) | (uint64_t)CF_HDR_FREED << CF_HDR_STATE_SHIFT,
                     __ATOMIC_RELAXED);
    *out = cf_header_record(p, v);
    return true;
}

bool cf_rt_lookup(const void *p, cf_record *out) {
    cf_header v;
    if (live_header((uintptr_t)p, &v) != NULL) {
        *out = cf_header_record((uintptr_t)p, v);
        return true;
    }
    return cf_table_lookup((uintptr_t)p, out);
}

uintptr_t cf_rt_real_block(const void *p) {
    cf_record r;
    if (cf_rt_is_bootstrap(p) || !cf_rt_set.headers || !cf_rt_lookup(p, &r))
        return (uintptr_t)p;
    return cf_record_real_addr(&r);
}

static inline __attribute__((always_inline)) void on_alloc(cf_alloc_fn fn, unsigned family, void *p,
                                                           size_t size, size_t align) {
    if (p == NULL || !cf_rt_set.checking)
        return;
    cf_tls *t = &cf_tls_data;
    // A block that already has a live header was made through our own
    // malloc (by the real operator new, under the guard): its header
    // takes the new record.
    cf_record old;
    bool header = cf_rt_set.headers && cf_rt_lookup(p, &old) && cf_record_has_header(&old);
    if (!cf_rt_set.headers)
        cf_table_prefetch((uintptr_t)p); // the stack capture hides the cache miss
    record_alloc(t, fn, family, (uintptr_t)p, size, t->guard > 0 ? 0 : current_stack_id(), header,
                 align);
}

void cf_rt_on_alloc_family(cf_alloc_fn fn, unsigned family, void *p, size_t size) {
    on_alloc(fn, family, p, size, 0);
}

void cf_rt_on_alloc_aligned(cf_alloc_fn fn, void *p, size_t size, size_t align) {
    on_alloc(fn, cf_family_of_alloc(fn), p, size, align);
}

void *cf_rt_on_alloc_header(cf_alloc_fn fn, void *real, size_t size) {
    if (real == NULL || !cf_rt_set.checking)
        return real;
    if (!cf_rt_set.headers) {
        cf_rt_on_alloc(fn, real, size);
        return real;
    }
    cf_tls *t = &cf_tls_data;
    uintptr_t user = (uintptr_t)real + CF_HEADER_SIZE;
    record_alloc(t, fn, cf_family_of_alloc(fn), user, size, t->guard > 0 ? 0 : current_stack_id(),
                 true, 0);
    return (void *)user;
}

// crossfree's own dependencies free what they allocated: no checks.
static inline void release_own(uintptr_t p) {
    cf_record r;
    if (take_record(p, &r))
        cf_platform_release(cf_record_real_addr(&r), cf_record_family(&r));
    else
        cf_platform_release(p, CF_FAM_MALLOC);
}

// ---------------------------------------------------------------------------
// FFI bridges
//
// A free that an FFI host makes through libffi is called from libffi's
// code: one frame (free_context_size=1) would say only that libffi freed
// first. Such a release keeps CF_BRIDGE_FREE_FRAMES frames, enough to
// reach the host's own module. The bridges' address ranges are listed at
// start-up, before each dlopen and after each dlclose (a host loads libffi,
// then opens the library whose memory it frees). While none is loaded,
// releases pay nothing: the depth they read is the plain 1 of
// free_context_size; with one loaded it reads DEPTH_BRIDGED, and only then
// compares its calling pc with the ranges.

#define CF_BRIDGE_FREE_FRAMES 16u
// free_context_size=1 while a bridge is loaded. Its sign bit keeps it below
// every context size in the signed comparison that tells whether a capture
// is a whole stack.
#define DEPTH_BRIDGED 0x80000001u
static code_ranges bridges;
// The depth a release keeps: free_context_size, or DEPTH_BRIDGED.
static _Atomic unsigned free_depth;

static bool is_bridge(const char *path) {
    const cf_host_module *m = cf_host_module_of(path);
    return m != NULL && m->bridge;
}

void cf_rt_bridges_refresh(void) {
    // A release that reads a mix keeps one frame or a few more, never
    // anything wrong.
    unsigned n = ranges_refresh(&bridges, is_bridge);
    unsigned depth = cf_rt_set.free_context;
    atomic_store_explicit(&free_depth, depth == 1 && n > 0 ? DEPTH_BRIDGED : depth,
                          memory_order_relaxed);
}

static bool in_bridge(uintptr_t pc) { return ranges_hold(&bridges, pc); }

// The stack of this release that the quarantine keeps: `depth` frames (by
// default just the calling pc, found without unwinding; with a bridge
// loaded, more when that pc is in it).
static inline unsigned release_stack(uintptr_t *pcs, unsigned depth) {
    if (depth == 1) {
        pcs[0] = cf_capture_caller();
        return pcs[0] != 0;
    }
    if (depth == DEPTH_BRIDGED) {
        pcs[0] = cf_capture_caller();
        if (!in_bridge(pcs[0]))
            return pcs[0] != 0;
        depth = cf_rt_set.context_size < CF_BRIDGE_FREE_FRAMES ? cf_rt_set.context_size
                                                               : CF_BRIDGE_FREE_FRAMES;
    }
    if (depth == 0)
        return 0;
    CF_RT_GUARDED;
    return cf_capture(pcs, depth);
}

// Parks the released block in the calling thread's quarantine shard; false
// when the quarantine would not take it (the caller releases it now).
static inline bool quarantine(const cf_record *rec, cf_dealloc_fn fn, const uintptr_t *pcs,
                              unsigned n) {
    cf_qentry q = {0};
    q.rec = *rec;
    // One frame (free_context_size=1, the default) waits in the entry
    // itself: hashing it into the depot on every free would cost more
    // than the rare report that reads it.
    if (n == 1)
        q.free_pc = pcs[0];
    else
        q.free_stack = cf_depot_put(pcs, n);
    q.free_tid = cf_rt_tid();
    q.dealloc_fn = (uint8_t)fn;
    return cf_quarantine_push(q.free_tid, &q, cf_platform_release);
}

// Whether `p`, which has no live record, belongs to the program's own
// allocator rather than being a wild pointer or a second free: true when
// another allocator's malloc comes before crossfree's (its blocks are made
// unseen) and the quarantine does not hold the block (a block it holds was
// freed once already, and its allocator cannot have handed it out again).
// Out of line: the hot path never comes here.
static __attribute__((noinline, cold)) bool foreign_block(const void *p) {
    return cf_rt_set.shadowed && !cf_quarantine_holds((uintptr_t)p);
}

// The size or alignment a sized or aligned operator delete was given does
// not fit the block (each check unless its option is off). The alignment
// is the one operator new was asked for when it was recorded; when it was
// not (a block made under the recursion guard), what is known is whether
// the address has it, so only a larger alignment is caught.
static inline cf_error_kind delete_shape(const cf_record *rec, const void *p, size_t size,
                                         size_t align) {
    if (size != 0 && size != cf_record_size(rec) && cf_flags.new_delete_size_mismatch)
        return CF_ERR_SIZE_MISMATCH;
    if (align == 0 || !cf_flags.new_delete_alignment_mismatch)
        return CF_ERR_KIND_COUNT;
    unsigned log2 = cf_record_align_log2(rec);
    bool wrong = log2 != 0 ? align != (size_t)1 << log2 : ((uintptr_t)p & (align - 1)) != 0;
    return wrong ? CF_ERR_ALIGN_MISMATCH : CF_ERR_KIND_COUNT;
}

// A block allocated under the recursion guard, released outside it. Any
// library crossfree calls (libc, OpenSSL under libdw's debuginfod client)
// may rightly free() what it allocated then, from its exit handlers say,
// and it may be one the program shares; what crossfree's private code
// allocated only that code frees. `pcs`/`n` hold the release's stack when
// taken.
static __attribute__((noinline)) bool own_block_misused(const cf_record *rec, unsigned family,
                                                        const uintptr_t *pcs, unsigned n) {
    if (cf_record_family(rec) != family)
        return true;
    if (cf_record_alloc_fn(rec) != CF_ALLOC_PRIVATE)
        return false;
    uintptr_t caller = n > 0 ? pcs[0] : cf_capture_caller();
    return caller != 0 && !in_private_code(caller);
}

// The release path of cf_rt_on_free and cf_rt_on_delete: `size`/`align`
// are 0 unless the deallocation form has them.
static inline __attribute__((always_inline)) bool on_release(cf_dealloc_fn fn, unsigned family,
                                                             void *p, size_t size, size_t align) {
    if (cf_rt_is_bootstrap(p))
        return true;
    if (!cf_rt_set.checking) {
        cf_platform_release((uintptr_t)p, family);
        return true;
    }
    if (!cf_rt_set.headers)
        cf_table_prefetch((uintptr_t)p);
    if (cf_tls_data.guard > 0) {
        release_own((uintptr_t)p);
        return true;
    }
    // Blocks of program-registered families are remembered in the
    // quarantine too (for double frees), but the program releases them
    // itself: cf_platform_release ignores them. semantics=windows needs the
    // whole stack to see which side freed.
    bool quarantined = cf_quarantine_enabled();
    unsigned depth = cf_rt_set.winsem ? cf_rt_set.context_size
                                      : atomic_load_explicit(&free_depth, memory_order_relaxed);
    uintptr_t pcs[CF_DEPOT_MAX_FRAMES];
    unsigned n = quarantined ? release_stack(pcs, depth) : 0;
    // A report shows the whole stack of the bad call: a shallower capture
    // is passed as none, and the report takes it again (error path).
    bool whole = (int)depth >= (int)cf_rt_set.context_size;

    cf_record rec;
    if (!take_record((uintptr_t)p, &rec)) {
        if (foreign_block(p)) {
            cf_platform_release((uintptr_t)p, family);
            return true;
        }
        if (maybe_lost(p))
            return false;
        // A double free if the quarantine remembers the block, else invalid.
        cf_rt_report_bad_free(CF_ERR_INVALID_FREE, fn, family, p, NULL, whole ? pcs : NULL,
                              whole ? n : 0, NULL);
        return false; // halt_on_error=0: never hand the real allocator a foreign or held pointer
    }
    unsigned fam = cf_record_family(&rec);
    bool ok = true;
    cf_error_kind bad;
    // A block allocated while crossfree's own code ran is not the
    // program's: released through another family, or (one that crossfree's
    // private code made) freed by any other code, it is a stale or
    // computed pointer, reported and kept.
    if (__builtin_expect(cf_alloc_fn_is_own(cf_record_alloc_fn(&rec)), 0) &&
        own_block_misused(&rec, family, pcs, n)) {
        store_record(&rec);
        cf_rt_report_own_free(fn, family, p, &rec, whole ? pcs : NULL, whole ? n : 0);
        return false;
    }
    if (fam != family) {
        ok = cf_rt_judge_mismatch(fn, family, p, &rec, pcs, n, whole);
    } else if (__builtin_expect((size | align) != 0, 0) &&
               (bad = delete_shape(&rec, p, size, align)) != CF_ERR_KIND_COUNT) {
        ok = cf_rt_report_delete_shape(bad, fn, family, p, &rec, size, align, whole ? pcs : NULL,
                                       whole ? n : 0);
    } else if (cf_rt_set.winsem)
        ok = cf_rt_windows_accepts(fn, family, p, &rec, pcs, n);
    // The block goes back through the deallocator of the family that made
    // it, which is the safest thing to do after a mismatch too.
    if (!quarantined || !quarantine(&rec, fn, pcs, n))
        cf_platform_release(cf_record_real_addr(&rec), fam);
    return ok;
}

bool cf_rt_on_free(cf_dealloc_fn fn, unsigned family, void *p) {
    return on_release(fn, family, p, 0, 0);
}

bool cf_rt_on_delete(cf_dealloc_fn fn, unsigned family, void *p, size_t size, size_t align) {
    return on_release(fn, family, p, size, align);
}

bool cf_rt_realloc_begin(cf_dealloc_fn fn, void *p, cf_record *saved) {
    return cf_rt_resize_begin(fn, cf_family_of_dealloc(fn), p, saved);
}

bool cf_rt_resize_begin(cf_dealloc_fn fn, unsigned family, void *p, cf_record *saved) {
    cf_record rec;
    if (!cf_rt_set.checking) {
        cf_alloc_fn afn = family == CF_FAM_MALLOC ? CF_ALLOC_REALLOC : cf_family_alloc_fn(family);
        *saved = cf_record_make((uintptr_t)p, 0, family, afn, 0, 0);
        return true;
    }
    if (cf_tls_data.guard > 0) {
        if (!take_record((uintptr_t)p, saved))
            *saved = cf_record_make((uintptr_t)p, 0, CF_FAM_MALLOC, CF_ALLOC_INTERNAL, 0, 0);
        return true;
    }
    if (!take_record((uintptr_t)p, &rec)) {
        if (foreign_block(p)) {
            *saved = cf_record_make((uintptr_t)p, 0, CF_FAM_MALLOC, CF_ALLOC_REALLOC, 0, 0);
            saved->tid_flags |= (uint32_t)CF_REC_FOREIGN << 24;
            return true;
        }
        // The caller then fails the realloc (NULL, the block untouched).
        if (!maybe_lost(p))
            cf_rt_report_bad_free(CF_ERR_INVALID_FREE, fn, family, p, NULL, NULL, 0, NULL);
        return false;
    }
    bool linux_ok = cf_record_family(&rec) == family;
    if (!linux_ok || cf_rt_set.winsem)
        cf_rt_check_realloc_pair(fn, family, p, &rec, linux_ok);
    *saved = rec;
    return true;
}

int cf_rt_release_begin(cf_dealloc_fn fn, void *p, cf_record *saved) {
    unsigned family = cf_family_of_dealloc(fn);
    if (!cf_rt_set.checking || cf_tls_data.guard > 0) {
        if (!take_record((uintptr_t)p, saved))
            *saved = cf_record_make((uintptr_t)p, 0, family, cf_family_alloc_fn(family), 0, 0);
        return 1;
    }
    if (!take_record((uintptr_t)p, saved)) {
        if (foreign_block(p)) {
            *saved = cf_record_make((uintptr_t)p, 0, family, cf_family_alloc_fn(family), 0, 0);
            return 1;
        }
        if (!maybe_lost(p))
            cf_rt_report_bad_free(CF_ERR_INVALID_FREE, fn, family, p, NULL, NULL, 0, NULL);
        return -1;
    }
    if (cf_record_family(saved) != family)
        return cf_rt_judge_mismatch(fn, family, p, saved, NULL, 0, false) ? 1 : 0;
    if (cf_rt_set.winsem)
        return cf_rt_windows_accepts(fn, family, p, saved, NULL, 0) ? 1 : 0;
    return 1;
}

// realloc released the old block itself (it moved, or the size was 0):
// remember its address without holding memory, so a later free of the
// stale pointer reads as a double-free rather than an unknown pointer.
// If another thread is handed the same address meanwhile, its live record
// is found first and the ghost is never consulted.
static void remember_released(const cf_record *old, uint32_t free_stack) {
    if (!cf_quarantine_enabled())
        return;
    cf_qentry q = {0};
    q.rec = *old;
    q.free_stack = free_stack;
    q.free_tid = cf_rt_tid();
    q.dealloc_fn = CF_DEALLOC_REALLOC;
    q.ghost = 1;
    cf_quarantine_push(q.free_tid, &q, cf_platform_release);
}

void *cf_rt_realloc_end(cf_alloc_fn fn, const cf_record *saved, void *newp, size_t size) {
    if (!cf_rt_set.checking || cf_record_is_foreign(saved))
        return newp;
    cf_tls *t = &cf_tls_data;
    if (newp == NULL && size != 0) {
        store_record(saved); // the real call failed: the old block lives on
        return NULL;
    }
    bool header = cf_record_has_header(saved) && size != 0;
    uintptr_t user = newp == NULL ? 0 : (uintptr_t)newp + (header ? CF_HEADER_SIZE : 0);
    uint32_t stack = t->guard > 0 ? 0 : current_stack_id();
    if (newp != NULL)
        record_alloc(t, fn, cf_family_of_alloc(fn), user, size, stack, header, 0);
    if (t->guard == 0 && user != saved->addr)
        remember_released(saved, stack);
    return (void *)user;
}
