// SPDX-License-Identifier: MIT
// semantics=windows. Each frame of a stack gets a class (C/C++ runtime,
// libffi bridge, host code, JIT code, native module) and, for modules linked
// with a static CRT, a heap number. The frame that called the allocator
// decides a side: host code uses the host's Windows allocator, a native
// module its CRT heap, the C runtime the heap of whoever called it. Classes
// are cached by pc in one lock-free table, so a program that frees a
// million blocks from a hundred call sites symbolizes a few hundred frames.
#include "runtime/winsem.h"

#include <stdatomic.h>

#include "core/family.h"
#include "core/hosts.h"
#include "platform/platform.h"
#include "runtime/options.h"
#include "stack/depot.h"
#include "support/fmt.h"
#include "support/glob.h"
#include "support/lock.h"
#include "support/log.h"
#include "support/names.h"

// ---------------------------------------------------------------------------
// State
//
// The hosts, and which modules are whose, are in core/hosts.h (shared with
// the reports); host_modules entries are read from there too.

#define LIST_MAX 1024
#define HA_MAX 32
#define HA_LEN 128
#define STATIC_MAX 63 // heap numbers fit in 6 bits; 0 is the shared heap
#define NAME_LEN 96

static bool enabled;
static cf_host_id active_id = CF_HOST_NONE; // host=
static char static_globs[LIST_MAX];         // static_crt_modules

static char ha_globs[HA_MAX][HA_LEN];
static atomic_uint ha_count;
static cf_lock ha_lock;

static char static_names[STATIC_MAX][NAME_LEN];
static atomic_uint static_count;
static cf_lock static_lock;

// ---------------------------------------------------------------------------
// Frame classes and their cache
//
// A cache entry is one 64-bit word: pc << 16 | class data, so a reader sees
// a whole entry or none. Class data: class (3 bits), host-allocator flag
// (1), heap (6), generation (6). An entry of another generation is stale:
// the generation moves when a module is unloaded or a host allocator is
// added, and the table is wiped when it wraps.

// C_JIT_HGLOBAL: JIT code that a perf map names as one of .NET's
// Marshal.*HGlobal methods, which use LocalAlloc/LocalFree on Windows.
// C_HOST_VM: with host=dotnet, the .NET runtime itself (mono-sgen): a
// native module, except that its frames under a Marshal.*HGlobal method
// serve that method.
enum { C_RUNTIME = 1, C_BRIDGE, C_HOST, C_JIT, C_NATIVE, C_JIT_HGLOBAL, C_HOST_VM };

#define D_CLASS(d) ((unsigned)(d)&7u)
#define D_HOSTALLOC(d) (((unsigned)(d) >> 3) & 1u)
#define D_HEAP(d) (((unsigned)(d) >> 4) & 63u)
#define D_GEN(d) (((unsigned)(d) >> 10) & 63u)

#define CACHE_BITS 18
#define CACHE_SLOTS (1u << CACHE_BITS)
#define CACHE_PROBES 16

static _Atomic(uint64_t) *cache;
static atomic_uint generation;

static unsigned static_heap(const char *base) {
    if (static_globs[0] == '\0' || !cf_glob_match_list(static_globs, base))
        return 0;
    unsigned n = atomic_load_explicit(&static_count, memory_order_acquire);
    for (unsigned i = 0; i < n; i++)
        if (cf_strcmp(static_names[i], base) == 0)
            return i + 1;
    cf_lock_acquire(&static_lock);
    n = atomic_load_explicit(&static_count, memory_order_relaxed);
    unsigned found = 0;
    for (unsigned i = 0; i < n && found == 0; i++)
        if (cf_strcmp(static_names[i], base) == 0)
            found = i + 1;
    if (found == 0 && n < STATIC_MAX) {
        cf_strlcpy(static_names[n], base, NAME_LEN);
        atomic_store_explicit(&static_count, n + 1, memory_order_release);
        found = n + 1;
    }
    cf_lock_release(&static_lock);
    // Past 63 static modules the last heap number is shared (documented).
    return found != 0 ? found : STATIC_MAX;
}

// host_allocators globs see a function's name in the three forms of
// support/names.h, as suppressions do.
static bool is_host_allocator(const char *function) {
    unsigned n = atomic_load_explicit(&ha_count, memory_order_acquire);
    if (n == 0 || function[0] == '\0')
        return false;
    cf_function_names names;
    cf_function_names_of(function, &names);
    for (unsigned i = 0; i < n; i++)
        if (cf_function_names_match(&names, ha_globs[i], cf_strlen(ha_globs[i])))
            return true;
    return false;
}

// The active host's own code: its modules that call its FFI, and every
// host_modules entry.
static bool host_module(const cf_host_module *m) {
    if (m == NULL || active_id == CF_HOST_NONE)
        return false;
    return m->given || (m->host == active_id && m->code);
}

// Class data for one pc, without the generation.
static unsigned classify(uintptr_t pc, cf_symbolizer sym) {
    cf_frame_info f;
    bool names = atomic_load_explicit(&ha_count, memory_order_acquire) > 0;
    cf_frame_resolve(sym, pc, names, &f);
    unsigned d;
    if (f.module[0] == '\0') {
        d = C_JIT; // JIT code, or code a runtime mapped by hand
        // Mono names its wrappers "(wrapper managed-to-native)
        // System.Runtime.InteropServices.Marshal:FreeHGlobal (intptr)".
        static const char hglobal[] = "*Marshal[:.]*HGlobal*";
        if (active_id == CF_HOST_DOTNET && cf_glob_match(hglobal, sizeof hglobal - 1, f.function))
            d = C_JIT_HGLOBAL;
    } else {
        // A bridge is a runtime module too: ask about bridges first.
        const cf_host_module *m = cf_host_module_of(f.module);
        if (m != NULL && m->bridge)
            d = C_BRIDGE;
        else if (cf_runtime_module(f.module))
            d = C_RUNTIME;
        else
            d = host_module(m) ? C_HOST : C_NATIVE;
        if (d == C_HOST || d == C_NATIVE)
            d |= static_heap(cf_path_base(f.module)) << 4;
        if (d == C_NATIVE && m != NULL && active_id == CF_HOST_DOTNET && m->host == active_id)
            d = (d & ~7u) | C_HOST_VM;
    }
    bool host_alloc = names && is_host_allocator(f.function);
    for (unsigned i = 0; names && i < f.n_inlined && !host_alloc; i++)
        host_alloc = is_host_allocator(cf_inline_function(&f, i));
    if (host_alloc)
        d |= 1u << 3;
    return d;
}

static unsigned class_of(uintptr_t pc, cf_symbolizer sym) {
    unsigned gen = atomic_load_explicit(&generation, memory_order_acquire) & 63u;
    _Atomic(uint64_t) *table = cache;
    if (table == NULL || pc == 0 || (pc >> 48) != 0)
        return classify(pc, sym) | gen << 10;
    uint64_t h = (uint64_t)pc * UINT64_C(0x9E3779B97F4A7C15) >> (64 - CACHE_BITS);
    _Atomic(uint64_t) *slot = NULL;
    uint64_t old = 0;
    for (unsigned p = 0; p < CACHE_PROBES; p++) {
        _Atomic(uint64_t) *s = &table[(h + p) & (CACHE_SLOTS - 1)];
        uint64_t e = atomic_load_explicit(s, memory_order_acquire);
        if (e == 0) {
            slot = s;
            old = 0;
            break;
        }
        if (e >> 16 == pc && D_GEN(e) == gen)
            return (unsigned)(e & 0xffff);
        if (slot == NULL && D_GEN(e) != gen) {
            slot = s; // a stale entry (this pc's or another's) can be reused
            old = e;
        }
    }
    unsigned d = classify(pc, sym) | gen << 10;
    // Losing the race to another thread only costs a repeated lookup.
    if (slot != NULL)
        atomic_compare_exchange_strong(slot, &old, (uint64_t)pc << 16 | d);
    return d;
}

static void next_generation(void) {
    unsigned g = atomic_fetch_add(&generation, 1) + 1;
    if ((g & 63u) == 0 && cache != NULL)
        for (unsigned i = 0; i < CACHE_SLOTS; i++)
            atomic_store_explicit(&cache[i], 0, memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Configuration

static bool add_host_allocator(const char *glob, size_t len) {
    if (len == 0 || len >= HA_LEN)
        return false;
    cf_lock_acquire(&ha_lock);
    unsigned n = atomic_load_explicit(&ha_count, memory_order_relaxed);
    bool ok = n < HA_MAX;
    if (ok) {
        cf_strlcpy(ha_globs[n], glob, len + 1);
        atomic_store_explicit(&ha_count, n + 1, memory_order_release);
    }
    cf_lock_release(&ha_lock);
    return ok;
}

bool cf_winsem_configure(const char *semantics, const char *host, const char *host_allocators,
                         const char *static_crt_modules, const char *host_modules, cf_buf *w) {
    (void)host_modules; // its entries are in core/hosts.h (cf_hosts_configure)
    enabled = false;
    active_id = CF_HOST_NONE;
    atomic_store(&ha_count, 0);
    atomic_store(&static_count, 0);
    static_globs[0] = '\0';
    if (cf_strcmp(semantics, "windows") == 0)
        enabled = true;
    else if (cf_strcmp(semantics, "linux") != 0)
        cf_options_warn_malformed(w, "semantics", semantics, "linux or windows");
    if (!cf_host_find(host, &active_id)) {
        char names[128];
        cf_buf nb;
        cf_buf_init(&nb, names, sizeof names);
        cf_host_names(&nb);
        cf_options_warn_malformed(w, "host", host, names);
    }
    cf_strlcpy(static_globs, static_crt_modules, sizeof static_globs);

    for (const char *p = host_allocators; *p != '\0';) {
        const char *end = p;
        while (*end != '\0' && *end != ',')
            end++;
        if (end > p && !add_host_allocator(p, (size_t)(end - p)))
            cf_log_append(w, CF_LOG_WARNING,
                          "option 'host_allocators': entry '%.*s' ignored (at most %d entries "
                          "of fewer than %d bytes)",
                          end - p > 64 ? 64 : (int)(end - p), p, HA_MAX, HA_LEN);
        p = *end == ',' ? end + 1 : end;
    }

    if (enabled && cache == NULL)
        cache = cf_os_map(CACHE_SLOTS * sizeof(uint64_t), true);
    next_generation();
    if (cache != NULL)
        for (unsigned i = 0; i < CACHE_SLOTS; i++)
            atomic_store_explicit(&cache[i], 0, memory_order_relaxed);
    return enabled;
}

bool cf_winsem_enabled(void) { return enabled; }

bool cf_winsem_add_host_allocator(const char *glob) {
    if (glob == NULL)
        return false;
    bool ok = add_host_allocator(glob, cf_strlen(glob));
    if (ok)
        next_generation(); // cached frames were classified without it
    return ok;
}

void cf_winsem_modules_changed(void) {
    if (enabled)
        next_generation();
}

void cf_winsem_fork_child(void) {
    atomic_store(&ha_lock.held, 0);
    atomic_store(&static_lock.held, 0);
}

// ---------------------------------------------------------------------------
// Judging

typedef struct side_eval {
    uint8_t kind, origin, heap;
    int frame;      // the frame the side is charged to (its module), -1 none
    int host_alloc; // the host_allocators frame, -1 none
} side_eval;

static uint8_t kind_of_family(unsigned family) {
    switch (family) {
    case CF_FAM_MALLOC:
        return CF_WIN_CRT;
    case CF_FAM_NEW:
        return CF_WIN_NEW;
    case CF_FAM_NEW_ARRAY:
        return CF_WIN_NEW_ARRAY;
    case CF_FAM_NEW_ALIGN:
        return CF_WIN_NEW_ALIGN;
    case CF_FAM_NEW_ARRAY_ALIGN:
        return CF_WIN_NEW_ARRAY_ALIGN;
    case CF_FAM_COTASKMEM:
        return CF_WIN_COTASKMEM;
    default:
        return CF_WIN_UNJUDGED;
    }
}

static uint8_t host_kind(void) {
    return cf_host_get(active_id)->cotaskmem ? CF_WIN_COTASKMEM : CF_WIN_CRT;
}

// The host's side of a call: the CRT calls (malloc/free) go to the host's
// Windows allocator; C++ operators stay what they are.
static void host_side(side_eval *s, uint8_t linux_kind, unsigned heap, int frame) {
    s->origin = CF_WIN_FROM_HOST;
    s->frame = frame;
    if (linux_kind == CF_WIN_CRT) {
        s->kind = host_kind();
        s->heap = s->kind == CF_WIN_COTASKMEM ? 0 : (uint8_t)heap;
    } else {
        s->kind = linux_kind;
        s->heap = (uint8_t)heap;
    }
}

static void eval_side(const uintptr_t *pcs, unsigned n, uint8_t linux_kind, cf_symbolizer sym,
                      side_eval *s) {
    s->kind = linux_kind;
    s->origin = CF_WIN_FROM_NATIVE;
    s->heap = 0;
    s->frame = -1;
    s->host_alloc = -1;
    if (linux_kind == CF_WIN_COTASKMEM)
        return; // CoTaskMem is CoTaskMem whoever calls it
    if (atomic_load_explicit(&ha_count, memory_order_acquire) > 0) {
        for (unsigned i = 0; i < n; i++) {
            if (D_HOSTALLOC(class_of(pcs[i], sym))) {
                s->origin = CF_WIN_FROM_HOST_ALLOCATOR;
                s->kind = host_kind();
                s->host_alloc = (int)i;
                s->frame = (int)i;
                return;
            }
        }
    }
    if (active_id == CF_HOST_DOTNET && linux_kind == CF_WIN_CRT) {
        // Marshal.AllocHGlobal/FreeHGlobal call the runtime, which calls
        // malloc/free: on Windows that is LocalAlloc/LocalFree.
        for (unsigned i = 0; i < n; i++) {
            unsigned c = D_CLASS(class_of(pcs[i], sym));
            if (c == C_JIT_HGLOBAL) {
                host_side(s, linux_kind, 0, -1);
                s->kind = CF_WIN_LOCAL;
                return;
            }
            if (c != C_RUNTIME && c != C_HOST_VM)
                break;
        }
    }
    unsigned c0 = class_of(pcs[0], sym);
    switch (D_CLASS(c0)) {
    case C_HOST:
        host_side(s, linux_kind, D_HEAP(c0), 0);
        return;
    case C_NATIVE:
    case C_HOST_VM:
        s->heap = (uint8_t)D_HEAP(c0);
        s->frame = 0;
        return;
    case C_JIT:
    case C_JIT_HGLOBAL:
        if (cf_host_get(active_id)->jit)
            host_side(s, linux_kind, 0, -1);
        return; // otherwise unknown code on the shared CRT heap
    case C_BRIDGE:
        if (cf_host_get(active_id)->bridge) {
            // The host module that called through libffi, for its name.
            for (unsigned i = 1; i < n; i++) {
                unsigned c = class_of(pcs[i], sym);
                if (D_CLASS(c) == C_HOST) {
                    host_side(s, linux_kind, D_HEAP(c), (int)i);
                    return;
                }
            }
            host_side(s, linux_kind, 0, -1);
            return;
        }
        break;
    default:
        break;
    }
    // The C runtime (or a bridge no host owns) made the call: the block
    // lives on the CRT heap of the first module outside it.
    s->origin = CF_WIN_FROM_RUNTIME;
    for (unsigned i = 1; i < n; i++) {
        unsigned c = class_of(pcs[i], sym);
        if (D_CLASS(c) == C_NATIVE || D_CLASS(c) == C_HOST || D_CLASS(c) == C_HOST_VM) {
            s->heap = (uint8_t)D_HEAP(c);
            s->frame = (int)i;
            return;
        }
    }
}

static const char *crt_alloc_call(unsigned fn) {
    switch (fn) {
    case CF_ALLOC_CALLOC:
        return "calloc";
    case CF_ALLOC_REALLOC:
        return "realloc";
    case CF_ALLOC_REALLOCARRAY:
        return "reallocarray";
    case CF_ALLOC_MEMALIGN:
        return "memalign";
    case CF_ALLOC_POSIX_MEMALIGN:
        return "posix_memalign";
    case CF_ALLOC_ALIGNED_ALLOC:
        return "aligned_alloc";
    case CF_ALLOC_VALLOC:
        return "valloc";
    case CF_ALLOC_PVALLOC:
        return "pvalloc";
    default:
        return "malloc";
    }
}

static void module_words(const uintptr_t *pcs, unsigned n, int frame, bool function,
                         cf_symbolizer sym, char *out, size_t cap) {
    out[0] = '\0';
    if (frame < 0 || (unsigned)frame >= n)
        return;
    cf_frame_info f;
    cf_frame_resolve(sym, pcs[frame], function, &f);
    if (!function) {
        cf_strlcpy(out, cf_path_base(f.module), cap);
        return;
    }
    // The function host_allocators named: it may be one inlined at the pc,
    // innermost first, as classify() looked.
    const char *chosen = f.function;
    for (unsigned i = 0; i < f.n_inlined; i++) {
        if (is_host_allocator(cf_inline_function(&f, i))) {
            chosen = cf_inline_function(&f, i);
            break;
        }
    }
    cf_function_names names;
    cf_function_names_of(chosen, &names);
    cf_strlcpy(out, names.qualified, cap);
}

static void fill_side(cf_win_side *w, const side_eval *s, const uintptr_t *pcs, unsigned n,
                      const char *call, cf_symbolizer sym) {
    w->kind = s->kind;
    w->origin = s->origin;
    w->heap = s->heap;
    w->call = call;
    module_words(pcs, n, s->frame, false, sym, w->module, sizeof w->module);
    w->function[0] = '\0';
    if (s->host_alloc >= 0)
        module_words(pcs, n, s->host_alloc, true, sym, w->function, sizeof w->function);
}

int cf_winsem_judge(const cf_record *rec, unsigned dealloc_fn, unsigned dealloc_family,
                    const uintptr_t *pcs, unsigned n, bool linux_ok, cf_symbolizer sym,
                    cf_winview *v) {
    unsigned afam = cf_record_family(rec);
    unsigned dfam =
        dealloc_fn == CF_DEALLOC_CUSTOM ? dealloc_family : cf_family_of_dealloc(dealloc_fn);
    uint8_t ak = kind_of_family(afam);
    uint8_t dk = kind_of_family(dfam);
    const uintptr_t *apcs = NULL;
    unsigned an = cf_depot_get(rec->stack, &apcs);
    if (ak == CF_WIN_UNJUDGED || dk == CF_WIN_UNJUDGED || an == 0 || n == 0 ||
        cf_alloc_fn_is_own(cf_record_alloc_fn(rec)))
        return -1;
    side_eval a, d;
    eval_side(apcs, an, ak, sym, &a);
    eval_side(pcs, n, dk, sym, &d);
    // A side the C runtime made entirely on its own (thread start-up and
    // exit, the loader) serves no module crossfree can name: a Windows CRT
    // keeps such memory to itself, so there is nothing to judge.
    if ((a.origin == CF_WIN_FROM_RUNTIME && a.frame < 0) ||
        (d.origin == CF_WIN_FROM_RUNTIME && d.frame < 0))
        return -1;
    cf_win_side as = {.kind = a.kind, .heap = a.heap};
    cf_win_side ds = {.kind = d.kind, .heap = d.heap};
    bool ok = cf_winview_same(&as, &ds);
    if (ok && linux_ok)
        return 1;

    // A report follows: the words.
    unsigned afn = cf_record_alloc_fn(rec);
    const char *acall = a.kind == CF_WIN_COTASKMEM ? "CoTaskMemAlloc"
                        : a.kind == CF_WIN_LOCAL   ? "LocalAlloc"
                        : a.kind == CF_WIN_CRT     ? crt_alloc_call(afn)
                                                   : cf_alloc_fn_words((cf_alloc_fn)afn, afam);
    const char *dcall = d.kind == CF_WIN_COTASKMEM ? "CoTaskMemFree"
                        : d.kind == CF_WIN_LOCAL   ? "LocalFree"
                        : d.kind == CF_WIN_CRT
                            ? (dealloc_fn == CF_DEALLOC_REALLOC ? "realloc" : "free")
                            : cf_dealloc_fn_words((cf_dealloc_fn)dealloc_fn, dfam);
    fill_side(&v->alloc, &a, apcs, an, acall, sym);
    fill_side(&v->dealloc, &d, pcs, n, dcall, sym);
    if (a.kind == CF_WIN_LOCAL && a.origin == CF_WIN_FROM_HOST)
        cf_strlcpy(v->alloc.function, "Marshal.AllocHGlobal", sizeof v->alloc.function);
    if (d.kind == CF_WIN_LOCAL && d.origin == CF_WIN_FROM_HOST)
        cf_strlcpy(v->dealloc.function, "Marshal.FreeHGlobal", sizeof v->dealloc.function);
    v->linux_ok = linux_ok;
    v->windows_ok = ok;
    v->host = cf_host_get(active_id)->name;
    v->host_words = cf_host_get(active_id)->words;
    v->linux_alloc = cf_alloc_fn_words((cf_alloc_fn)afn, afam);
    v->linux_dealloc = cf_dealloc_fn_words((cf_dealloc_fn)dealloc_fn, dfam);
    return ok ? 1 : 0;
}
