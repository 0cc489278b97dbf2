// SPDX-License-Identifier: MIT
// The Windows shim: wrappers for the CRT heaps (msvcrt.dll, ucrtbase.dll),
// CoTaskMem*, HeapAlloc (per heap), LocalAlloc, GlobalAlloc and BSTRs, the
// C++ operators a MinGW libstdc++ exports, and the loader
// calls that reach them by name (GetProcAddress) or bring in new modules
// (LoadLibrary*). Each wrapper calls the real function (providers.h) and
// hands the result to the runtime; this is the hot path, and nothing else
// lives here: finding the providers and start-up are startup.c's, pointing
// import slots at the wrappers is patch.c's.
#include <errno.h>
#include <objbase.h>
#include <windows.h>

#include "core/quarantine.h"
#include "platform/platform.h"
#include "platform/shim.h"
#include "platform/windows/patch.h"
#include "platform/windows/providers.h"
#include "runtime/runtime.h"
#include "stack/capture.h"
#include "stack/symbolize.h"
#include "support/fmt.h"

// ---------------------------------------------------------------------------
// Small helpers for the wrappers

#define REAL(type, addr) ((type)(addr))

typedef void *(__cdecl *malloc_fn)(size_t);
typedef void *(__cdecl *calloc_fn)(size_t, size_t);
typedef void *(__cdecl *realloc_fn)(void *, size_t);
typedef void *(__cdecl *recalloc_fn)(void *, size_t, size_t);
typedef void(__cdecl *free_fn)(void *);
typedef size_t(__cdecl *msize_fn)(void *);
typedef void *(__cdecl *aligned_malloc_fn)(size_t, size_t);
typedef void *(__cdecl *aligned_realloc_fn)(void *, size_t, size_t);
typedef char *(__cdecl *strdup_fn)(const char *);
typedef wchar_t *(__cdecl *wcsdup_fn)(const wchar_t *);
typedef LPVOID(WINAPI *com_alloc_fn)(SIZE_T);
typedef LPVOID(WINAPI *com_realloc_fn)(LPVOID, SIZE_T);
typedef void(WINAPI *com_free_fn)(LPVOID);
typedef HRESULT(WINAPI *co_get_malloc_fn)(DWORD, IMalloc **);

// True when the call should be checked: the runtime is ready and this is
// not crossfree's own work (or a real operator new calling malloc inside).
static inline bool checking_call(void) { return cf_rt_enter() && !cf_rt_guarded(); }

// The caller's errno and last-error survive crossfree's bookkeeping.
typedef struct saved_errors {
    int err;
    DWORD last;
} saved_errors;
static inline saved_errors save_errors(void) { return (saved_errors){errno, GetLastError()}; }
static inline void restore_errors(saved_errors s) {
    errno = s.err;
    SetLastError(s.last);
}

static inline void *record(cf_alloc_fn fn, unsigned family, void *p, size_t n) {
    if (p != NULL) {
        saved_errors s = save_errors();
        cf_rt_on_alloc_family(fn, family, p, n);
        restore_errors(s);
    }
    return p;
}

// crossfree knows p: a live record, or a freed block its quarantine holds
// (the heap still owns it, but releasing it again is a double free).
static bool dead_record(const cf_record *r);
static bool family_is_dead_heap(unsigned family);

// The live record of p; a destroyed heap's is dropped and not found.
static bool lookup_live(void *p, cf_record *r) {
    return cf_table_lookup((uintptr_t)p, r) && !dead_record(r);
}

// A freed block the quarantine still holds, unless its heap is gone.
static bool held(void *p) {
    cf_qentry q;
    return cf_quarantine_find((uintptr_t)p, &q) && !q.ghost &&
           !family_is_dead_heap(cf_record_family(&q.rec));
}

static bool tracked(void *p) {
    cf_record r;
    return lookup_live(p, &r) || held(p);
}

// A block crossfree never saw (allocated before it loaded, or by the CRT or
// COM for the caller, like _strdup inside msvcrt) may still be a valid block
// of the allocator asked to release it: then it is released without a word.
static bool crt_owns(unsigned i, void *p) {
    return cf_win_crts[i].heap != NULL && HeapValidate(cf_win_crts[i].heap, 0, p);
}

static bool any_crt_owns(void *p) {
    for (unsigned i = 0; i < CF_CRT_COUNT; i++)
        if (cf_win_crts[i].present && crt_owns(i, p))
            return true;
    return false;
}

static bool com_owns(void *p) {
    return cf_win_com_malloc != NULL &&
           cf_win_com_malloc->lpVtbl->DidAlloc(cf_win_com_malloc, p) == 1;
}

// ---------------------------------------------------------------------------
// libstdc++'s own calls

// Inside libstdc++-6.dll, operator new and delete are called directly, not
// through its import table, and they call malloc/free through it: a string
// built inside the DLL and destroyed by inline code in the program would
// look like malloc'd memory released by operator delete. So malloc called
// from the body of a real operator new records that operator's family, and
// free called from anywhere in the C++ runtime accepts any new family.
static bool in_cxx_module(uintptr_t ret) { return ret >= cf_win_cxx_lo && ret < cf_win_cxx_hi; }

// The operator new whose body holds `ret` (a return address into it), as an
// allocation kind; CF_ALLOC_CUSTOM when `ret` is anywhere else.
static cf_alloc_fn cxx_new_kind(uintptr_t ret) {
    if (!in_cxx_module(ret))
        return CF_ALLOC_CUSTOM;
    DWORD64 image = 0;
    PRUNTIME_FUNCTION f = RtlLookupFunctionEntry((DWORD64)ret, &image, NULL);
    if (f == NULL)
        return CF_ALLOC_CUSTOM;
    uintptr_t begin = (uintptr_t)image + f->BeginAddress;
    static const struct {
        unsigned x;
        cf_alloc_fn kind;
    } news[] = {
#define X(id, symbol, shape, fn) {CF_X_##id, fn},
        CF_CXX_NEW_FORMS(X)
#undef X
    };
    for (unsigned k = 0; k < sizeof news / sizeof news[0]; k++)
        if (cf_win_cxx_real[news[k].x] == begin)
            return news[k].kind;
    return CF_ALLOC_CUSTOM;
}

// Records a CRT block, or the operator new that asked the CRT for it.
static void *record_crt(unsigned family, void *p, size_t n, uintptr_t ret) {
    cf_alloc_fn kind = cxx_new_kind(ret);
    if (kind != CF_ALLOC_CUSTOM)
        return record(kind, cf_family_of_alloc(kind), p, n);
    return record(CF_ALLOC_CUSTOM, family, p, n);
}

// ---------------------------------------------------------------------------
// CRT heap wrappers, one set per C runtime

static void *crt_malloc(unsigned i, size_t n, uintptr_t ret) {
    void *p = REAL(malloc_fn, cf_win_crts[i].real[CF_C_MALLOC])(n);
    if (!checking_call())
        return p;
    return record_crt(cf_win_crts[i].heap_family, p, n, ret);
}

static void *crt_calloc(unsigned i, size_t n, size_t size) {
    void *p = REAL(calloc_fn, cf_win_crts[i].real[CF_C_CALLOC])(n, size);
    if (!checking_call())
        return p;
    return record(CF_ALLOC_CUSTOM, cf_win_crts[i].heap_family, p, n * size);
}

static char *crt_strdup(unsigned i, const char *s) {
    char *p = REAL(strdup_fn, cf_win_crts[i].real[CF_C_STRDUP])(s);
    if (!checking_call())
        return p;
    return record(CF_ALLOC_CUSTOM, cf_win_crts[i].heap_family, p, p != NULL ? cf_strlen(p) + 1 : 0);
}

static wchar_t *crt_wcsdup(unsigned i, const wchar_t *s) {
    wchar_t *p = REAL(wcsdup_fn, cf_win_crts[i].real[CF_C_WCSDUP])(s);
    if (!checking_call() || p == NULL)
        return p;
    size_t n = 0;
    while (p[n] != 0)
        n++;
    return record(CF_ALLOC_CUSTOM, cf_win_crts[i].heap_family, p, (n + 1) * sizeof(wchar_t));
}

// free and _aligned_free: `family` is the CRT family that owns the call.
static void crt_release_checked(unsigned i, void *p, unsigned family, bool aligned, uintptr_t ret) {
    uintptr_t real = cf_win_crts[i].real[aligned ? CF_C_ALIGNED_FREE : CF_C_FREE];
    if (p == NULL)
        return;
    if (!checking_call()) {
        REAL(free_fn, real)(p);
        return;
    }
    saved_errors s = save_errors();
    // An _aligned_malloc block is interior to a heap block, so only the
    // plain heap can vouch for a block crossfree never saw.
    cf_record rec;
    bool found = lookup_live(p, &rec);
    if (!found && (aligned || crt_owns(i, p)) && !held(p)) {
        REAL(free_fn, real)(p);
    } else if (found && in_cxx_module(ret) && cf_family_is_new(cf_record_family(&rec))) {
        // libstdc++'s own operator delete, called inside it.
        unsigned fam = cf_record_family(&rec);
        cf_rt_on_free(cf_family_dealloc_fn(fam), fam, p);
    } else {
        cf_rt_on_free(CF_DEALLOC_CUSTOM, family, p);
    }
    restore_errors(s);
}

static void crt_free(unsigned i, void *p, uintptr_t ret) {
    crt_release_checked(i, p, cf_win_crts[i].heap_family, false, ret);
}

static void crt_aligned_free(unsigned i, void *p, uintptr_t ret) {
    crt_release_checked(i, p, cf_win_crts[i].aligned_family, true, ret);
}

// The resizing calls share one path: `resize` performs the real call on p.
typedef void *(*resize_fn)(unsigned i, void *p, size_t a, size_t b);

static void *real_realloc(unsigned i, void *p, size_t a, size_t b) {
    (void)b;
    return REAL(realloc_fn, cf_win_crts[i].real[CF_C_REALLOC])(p, a);
}
static void *real_recalloc(unsigned i, void *p, size_t a, size_t b) {
    return REAL(recalloc_fn, cf_win_crts[i].real[CF_C_RECALLOC])(p, a, b);
}
static void *real_aligned_realloc(unsigned i, void *p, size_t a, size_t b) {
    return REAL(aligned_realloc_fn, cf_win_crts[i].real[CF_C_ALIGNED_REALLOC])(p, a, b);
}

static void *crt_resize(unsigned i, resize_fn resize, void *p, size_t a, size_t b, size_t total,
                        bool aligned) {
    unsigned family = aligned ? cf_win_crts[i].aligned_family : cf_win_crts[i].heap_family;
    if (!checking_call())
        return resize(i, p, a, b);
    if (p == NULL)
        return record(CF_ALLOC_CUSTOM, family, resize(i, NULL, a, b), total);
    if (total == 0) {
        // Both CRTs free the block and return NULL for a zero size.
        crt_release_checked(i, p, family, aligned, 0);
        return NULL;
    }
    saved_errors s = save_errors();
    cf_record rec;
    bool found = lookup_live(p, &rec);
    if ((found && cf_record_family(&rec) == family) ||
        (!found && (aligned || crt_owns(i, p)) && !held(p))) {
        if (found)
            cf_table_remove((uintptr_t)p, &rec);
        restore_errors(s);
        void *q = resize(i, p, a, b);
        s = save_errors();
        if (q != NULL)
            cf_rt_on_alloc_family(CF_ALLOC_CUSTOM, family, q, total);
        else if (found)
            cf_table_insert(&rec); // the real call failed: the old block lives on
        restore_errors(s);
        return q;
    }
    // Another family's block, a freed one, or a foreign pointer: the runtime
    // reports it. Resizing another allocator's block would corrupt its heap,
    // so with halt_on_error=0 the call fails and the block lives on.
    cf_record saved;
    if (cf_rt_realloc_begin(CF_DEALLOC_REALLOC, p, &saved) && found)
        cf_table_insert(&saved);
    restore_errors(s);
    errno = ENOMEM;
    return NULL;
}

static void *crt_realloc(unsigned i, void *p, size_t n) {
    return crt_resize(i, real_realloc, p, n, 0, n, false);
}

static void *crt_recalloc(unsigned i, void *p, size_t n, size_t size) {
    size_t total = 0;
    if (__builtin_mul_overflow(n, size, &total))
        return real_recalloc(i, p, n, size); // fails in the CRT, with its errno
    return crt_resize(i, real_recalloc, p, n, size, total, false);
}

static size_t crt_msize(unsigned i, void *p) {
    if (p != NULL && cf_rt_is_bootstrap(p))
        return cf_rt_bootstrap_size(p);
    return REAL(msize_fn, cf_win_crts[i].real[CF_C_MSIZE])(p);
}

static void *crt_aligned_malloc(unsigned i, size_t n, size_t align, uintptr_t ret) {
    void *p = REAL(aligned_malloc_fn, cf_win_crts[i].real[CF_C_ALIGNED_MALLOC])(n, align);
    if (!checking_call())
        return p;
    return record_crt(cf_win_crts[i].aligned_family, p, n, ret);
}

static void *crt_aligned_realloc(unsigned i, void *p, size_t n, size_t align) {
    return crt_resize(i, real_aligned_realloc, p, n, align, n, true);
}

// One set of entry points per CRT slot, each a call with the slot (and,
// where libstdc++ matters, the caller's address) baked in.
#define CALLER ((uintptr_t)__builtin_return_address(0))
#define CRT_WRAPPERS(I)                                                                            \
    static void *__cdecl crt##I##_malloc(size_t n) { return crt_malloc(I, n, CALLER); }            \
    static void *__cdecl crt##I##_calloc(size_t n, size_t s) { return crt_calloc(I, n, s); }       \
    static void *__cdecl crt##I##_realloc(void *p, size_t n) { return crt_realloc(I, p, n); }      \
    static void __cdecl crt##I##_free(void *p) { crt_free(I, p, CALLER); }                         \
    static void *__cdecl crt##I##__recalloc(void *p, size_t n, size_t s) {                         \
        return crt_recalloc(I, p, n, s);                                                           \
    }                                                                                              \
    static size_t __cdecl crt##I##__msize(void *p) { return crt_msize(I, p); }                     \
    static void *__cdecl crt##I##__aligned_malloc(size_t n, size_t a) {                            \
        return crt_aligned_malloc(I, n, a, CALLER);                                                \
    }                                                                                              \
    static void *__cdecl crt##I##__aligned_realloc(void *p, size_t n, size_t a) {                  \
        return crt_aligned_realloc(I, p, n, a);                                                    \
    }                                                                                              \
    static void __cdecl crt##I##__aligned_free(void *p) { crt_aligned_free(I, p, CALLER); }        \
    static char *__cdecl crt##I##__strdup(const char *s) { return crt_strdup(I, s); }              \
    static wchar_t *__cdecl crt##I##__wcsdup(const wchar_t *s) { return crt_wcsdup(I, s); }

CRT_WRAPPERS(0)
CRT_WRAPPERS(1)

#define CRT_WRAPPER_CELL(I, id, name) [CF_C_##id] = (uintptr_t)crt##I##_##name,
#define CRT0_CELL(id, name) CRT_WRAPPER_CELL(0, id, name)
#define CRT1_CELL(id, name) CRT_WRAPPER_CELL(1, id, name)
const uintptr_t cf_win_crt_wrapper[CF_CRT_COUNT][CF_C_COUNT] = {
    {CF_WIN_CRT_FUNCTIONS(CRT0_CELL)},
    {CF_WIN_CRT_FUNCTIONS(CRT1_CELL)},
};

// ---------------------------------------------------------------------------
// CoTaskMem

static LPVOID WINAPI wrap_CoTaskMemAlloc(SIZE_T n) {
    void *p = REAL(com_alloc_fn, cf_win_com_real[CF_COM_ALLOC])(n);
    if (!checking_call())
        return p;
    return record(CF_ALLOC_COTASKMEMALLOC, CF_FAM_COTASKMEM, p, n);
}

static void com_free_checked(void *p, cf_dealloc_fn fn) {
    if (!tracked(p) && com_owns(p))
        REAL(com_free_fn, cf_win_com_real[CF_COM_FREE])(p);
    else
        cf_rt_on_free(fn, CF_FAM_COTASKMEM, p);
}

static void WINAPI wrap_CoTaskMemFree(LPVOID p) {
    if (p == NULL)
        return;
    if (!checking_call()) {
        REAL(com_free_fn, cf_win_com_real[CF_COM_FREE])(p);
        return;
    }
    saved_errors s = save_errors();
    com_free_checked(p, CF_DEALLOC_COTASKMEMFREE);
    restore_errors(s);
}

static LPVOID WINAPI wrap_CoTaskMemRealloc(LPVOID p, SIZE_T n) {
    com_realloc_fn real = REAL(com_realloc_fn, cf_win_com_real[CF_COM_REALLOC]);
    if (!checking_call())
        return real(p, n);
    if (p == NULL)
        return record(CF_ALLOC_COTASKMEMREALLOC, CF_FAM_COTASKMEM, real(NULL, n), n);
    saved_errors s = save_errors();
    if (n == 0) {
        // CoTaskMemRealloc(p, 0) frees p and returns NULL.
        com_free_checked(p, CF_DEALLOC_COTASKMEMREALLOC);
        restore_errors(s);
        return NULL;
    }
    if (!tracked(p) && com_owns(p)) {
        restore_errors(s);
        return record(CF_ALLOC_COTASKMEMREALLOC, CF_FAM_COTASKMEM, real(p, n), n);
    }
    cf_record saved;
    if (!cf_rt_realloc_begin(CF_DEALLOC_COTASKMEMREALLOC, p, &saved)) {
        restore_errors(s);
        return NULL;
    }
    if (cf_record_family(&saved) != CF_FAM_COTASKMEM) {
        // Reported, halt_on_error=0: another allocator's block stays as it is.
        cf_table_insert(&saved);
        restore_errors(s);
        return NULL;
    }
    restore_errors(s);
    void *q = real(p, n);
    s = save_errors();
    cf_rt_realloc_end(CF_ALLOC_COTASKMEMREALLOC, &saved, q, n);
    restore_errors(s);
    return q;
}

const uintptr_t cf_win_com_wrapper[CF_COM_COUNT] = {
#define X(id, name) [CF_COM_##id] = (uintptr_t)wrap_##name,
    CF_WIN_COM_FUNCTIONS(X)
#undef X
};

// ---------------------------------------------------------------------------
// HeapAlloc: one family per heap handle

// A heap's family is registered the first time the program allocates from
// it ("HeapAlloc (process heap)", "HeapAlloc (heap 0x...)"). HeapDestroy
// marks it dead: its blocks' records are stale from then on and are dropped
// wherever they are met (dead_record), so an address the next heap hands
// out is never taken for the old block. The table is append-only and read
// without a lock; past its size new heaps go untracked (never a report).
#define MAX_HEAPS 40
typedef struct heap_slot {
    HANDLE heap;
    unsigned family;
    volatile LONG dead;
} heap_slot;
static heap_slot heaps[MAX_HEAPS];
static volatile LONG heap_count;
static unsigned char heap_of_family[CF_FAM_MAX]; // slot + 1; 0 for other families
static SRWLOCK heaps_lock = SRWLOCK_INIT;

static heap_slot *live_heap(HANDLE h) {
    LONG n = __atomic_load_n(&heap_count, __ATOMIC_ACQUIRE); // slots are published before it
    for (LONG i = n; i-- > 0;)
        if (heaps[i].heap == h && !heaps[i].dead)
            return &heaps[i];
    return NULL;
}

// The family of heap h, registered now if need be; 0 when none can be.
static unsigned heap_family(HANDLE h) {
    heap_slot *s = live_heap(h);
    if (s != NULL)
        return s->family;
    AcquireSRWLockExclusive(&heaps_lock);
    unsigned family = 0;
    s = live_heap(h);
    if (s != NULL) {
        family = s->family;
    } else if (heap_count < MAX_HEAPS) {
        char name[64], alloc_w[64], free_w[64];
        cf_buf b;
        cf_buf_init(&b, name, sizeof name);
        const char *crt = NULL;
        for (unsigned i = 0; i < CF_CRT_COUNT; i++)
            if (cf_win_crts[i].present && cf_win_crts[i].heap == h)
                crt = i == CF_CRT_MSVCRT ? "msvcrt.dll" : "ucrtbase.dll";
        // A handle can come back after HeapDestroy: each life is its own family.
        unsigned life = 1;
        for (LONG i = 0; i < heap_count; i++)
            life += heaps[i].heap == h;
        if (h == GetProcessHeap())
            cf_buf_printf(&b, "process heap");
        else if (crt != NULL)
            cf_buf_printf(&b, "%s heap", crt);
        else if (life > 1)
            cf_buf_printf(&b, "heap %p #%u", (void *)h, life);
        else
            cf_buf_printf(&b, "heap %p", (void *)h);
        cf_buf_init(&b, alloc_w, sizeof alloc_w);
        cf_buf_printf(&b, "HeapAlloc (%s)", name);
        cf_buf_init(&b, free_w, sizeof free_w);
        cf_buf_printf(&b, "HeapFree (%s)", name);
        family = cf_family_register(alloc_w, alloc_w, free_w);
        if (family != 0 && family < CF_FAM_MAX) {
            LONG n = heap_count;
            heaps[n] = (heap_slot){h, family, 0};
            heap_of_family[family] = (unsigned char)(n + 1);
            InterlockedExchange(&heap_count, n + 1); // publishes the slot
        } else {
            family = 0;
        }
    }
    ReleaseSRWLockExclusive(&heaps_lock);
    return family;
}

static bool family_is_dead_heap(unsigned family) {
    unsigned k = family < CF_FAM_MAX ? heap_of_family[family] : 0;
    return k != 0 && heaps[k - 1].dead;
}

// A record of a destroyed heap's block: forgotten, as the heap forgot it.
static bool dead_record(const cf_record *r) {
    if (!family_is_dead_heap(cf_record_family(r)))
        return false;
    cf_table_remove(r->addr, NULL);
    return true;
}

// ---------------------------------------------------------------------------
// Windows' own allocators: HeapAlloc, LocalAlloc, GlobalAlloc, BSTRs
//
// A block crossfree never saw (a system DLL's, or one from before it
// loaded) goes to the real function untouched: its allocator judges it.
// A tracked block goes to the runtime, which checks the pair and releases
// it through cf_platform_release (or holds it in the quarantine).

typedef LPVOID(WINAPI *heap_alloc_fn)(HANDLE, DWORD, SIZE_T);
typedef LPVOID(WINAPI *heap_realloc_fn)(HANDLE, DWORD, LPVOID, SIZE_T);
typedef BOOL(WINAPI *heap_free_fn)(HANDLE, DWORD, LPVOID);
typedef BOOL(WINAPI *heap_destroy_fn)(HANDLE);
typedef HLOCAL(WINAPI *local_alloc_fn)(UINT, SIZE_T);
typedef HLOCAL(WINAPI *local_realloc_fn)(HLOCAL, SIZE_T, UINT);
typedef HLOCAL(WINAPI *local_free_fn)(HLOCAL);
typedef BSTR(WINAPI *sys_alloc_fn)(const OLECHAR *);
typedef BSTR(WINAPI *sys_alloc_len_fn)(const OLECHAR *, UINT);
typedef BSTR(WINAPI *sys_alloc_bytelen_fn)(LPCSTR, UINT);
typedef INT(WINAPI *sys_realloc_fn)(BSTR *, const OLECHAR *);
typedef INT(WINAPI *sys_realloc_len_fn)(BSTR *, const OLECHAR *, UINT);
typedef void(WINAPI *sys_free_fn)(BSTR);

#define MEM_REAL(type, id) REAL(type, cf_win_mem_real[CF_M_##id])
#define BSTR_REAL(type, id) REAL(type, cf_win_bstr_real[CF_B_##id])

// A release of p by `family`'s deallocator: true when crossfree took the
// call (a tracked block, or one its quarantine holds: a double free), false
// when the real function should have it.
static void release_tracked(unsigned family, void *p) {
    saved_errors s = save_errors();
    cf_rt_on_free(CF_DEALLOC_CUSTOM, family, p);
    restore_errors(s);
}

static bool take_release(unsigned family, void *p) {
    if (!checking_call() || !tracked(p))
        return false;
    release_tracked(family, p);
    return true;
}

// Before a resizing call on p of `family`: 1 to make the real call (*found
// says whether *saved holds p's record, taken out of the table), 0 when it
// must fail (reported: another family's block, or a freed one; with
// halt_on_error=0 the block lives on untouched).
static int resize_begin(unsigned family, void *p, cf_record *saved, bool *found) {
    *found = false;
    if (p == NULL || !checking_call())
        return 1;
    cf_record rec;
    saved_errors s = save_errors();
    int go = 1;
    bool live = lookup_live(p, &rec);
    if (live && cf_record_family(&rec) == family) {
        *found = cf_table_remove((uintptr_t)p, saved);
    } else if (live) {
        if (cf_rt_resize_begin(CF_DEALLOC_CUSTOM, family, p, saved))
            cf_table_insert(saved); // reported, halt_on_error=0
        go = 0;
    } else if (held(p)) {
        (void)cf_rt_resize_begin(CF_DEALLOC_CUSTOM, family, p, saved); // a double free
        go = 0;
    }
    restore_errors(s);
    return go;
}

// After it: the new block, or the old one back when the call failed.
static void resize_end(unsigned family, bool found, const cf_record *saved, void *q, size_t n) {
    if (!checking_call())
        return;
    saved_errors s = save_errors();
    if (q != NULL)
        cf_rt_on_alloc_family(CF_ALLOC_CUSTOM, family, q, n);
    else if (found)
        cf_table_insert(saved);
    restore_errors(s);
}

static LPVOID WINAPI wrap_HeapAlloc(HANDLE h, DWORD flags, SIZE_T n) {
    void *p = MEM_REAL(heap_alloc_fn, HEAPALLOC)(h, flags, n);
    if (p == NULL || !checking_call())
        return p;
    unsigned family = heap_family(h);
    return family != 0 ? record(CF_ALLOC_CUSTOM, family, p, n) : p;
}

static LPVOID WINAPI wrap_HeapReAlloc(HANDLE h, DWORD flags, LPVOID p, SIZE_T n) {
    heap_realloc_fn real = MEM_REAL(heap_realloc_fn, HEAPREALLOC);
    unsigned family = checking_call() ? heap_family(h) : 0;
    if (family == 0)
        return real(h, flags, p, n);
    cf_record saved;
    bool found;
    if (!resize_begin(family, p, &saved, &found)) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    void *q = real(h, flags, p, n);
    resize_end(family, found, &saved, q, n);
    return q;
}

static BOOL WINAPI wrap_HeapFree(HANDLE h, DWORD flags, LPVOID p) {
    if (p != NULL && checking_call() && tracked(p)) {
        release_tracked(heap_family(h), p);
        return TRUE;
    }
    return MEM_REAL(heap_free_fn, HEAPFREE)(h, flags, p);
}

static BOOL WINAPI wrap_HeapDestroy(HANDLE h) {
    // Its blocks are gone with it: their records become stale (dead_record).
    LONG n = __atomic_load_n(&heap_count, __ATOMIC_ACQUIRE);
    for (LONG i = 0; i < n; i++)
        if (heaps[i].heap == h)
            InterlockedExchange(&heaps[i].dead, 1);
    return MEM_REAL(heap_destroy_fn, HEAPDESTROY)(h);
}

// LocalAlloc and GlobalAlloc: LMEM_MOVEABLE/GMEM_MOVEABLE blocks are
// handles, not pointers; the handle is what comes back to LocalFree, so
// the handle is what is recorded.
static HLOCAL local_alloc(unsigned family, uintptr_t real, UINT flags, SIZE_T n) {
    HLOCAL p = REAL(local_alloc_fn, real)(flags, n);
    if (p == NULL || !checking_call() || family == 0)
        return p;
    return record(CF_ALLOC_CUSTOM, family, p, n);
}

static HLOCAL local_realloc(unsigned family, uintptr_t real, HLOCAL p, SIZE_T n, UINT flags) {
    // LMEM_MODIFY (GMEM_MODIFY) changes the block's attributes only.
    if (family == 0 || (flags & LMEM_MODIFY) != 0)
        return REAL(local_realloc_fn, real)(p, n, flags);
    cf_record saved;
    bool found;
    if (!resize_begin(family, p, &saved, &found)) {
        SetLastError(ERROR_INVALID_HANDLE);
        return NULL;
    }
    HLOCAL q = REAL(local_realloc_fn, real)(p, n, flags);
    resize_end(family, found, &saved, q, n);
    return q;
}

static HLOCAL local_free(unsigned family, uintptr_t real, HLOCAL p) {
    if (p != NULL && family != 0 && take_release(family, p))
        return NULL; // success
    return REAL(local_free_fn, real)(p);
}

static HLOCAL WINAPI wrap_LocalAlloc(UINT flags, SIZE_T n) {
    return local_alloc(cf_win_local_family, cf_win_mem_real[CF_M_LOCALALLOC], flags, n);
}
static HLOCAL WINAPI wrap_LocalReAlloc(HLOCAL p, SIZE_T n, UINT flags) {
    return local_realloc(cf_win_local_family, cf_win_mem_real[CF_M_LOCALREALLOC], p, n, flags);
}
static HLOCAL WINAPI wrap_LocalFree(HLOCAL p) {
    return local_free(cf_win_local_family, cf_win_mem_real[CF_M_LOCALFREE], p);
}
static HGLOBAL WINAPI wrap_GlobalAlloc(UINT flags, SIZE_T n) {
    return local_alloc(cf_win_global_family, cf_win_mem_real[CF_M_GLOBALALLOC], flags, n);
}
static HGLOBAL WINAPI wrap_GlobalReAlloc(HGLOBAL p, SIZE_T n, UINT flags) {
    return local_realloc(cf_win_global_family, cf_win_mem_real[CF_M_GLOBALREALLOC], p, n, flags);
}
static HGLOBAL WINAPI wrap_GlobalFree(HGLOBAL p) {
    return local_free(cf_win_global_family, cf_win_mem_real[CF_M_GLOBALFREE], p);
}

const uintptr_t cf_win_mem_wrapper[CF_M_COUNT] = {
#define X(id, name) [CF_M_##id] = (uintptr_t)wrap_##name,
    CF_WIN_MEM_FUNCTIONS(X)
#undef X
};

// BSTRs point 4 bytes past their allocation, just after a length prefix:
// the BSTR itself is what is recorded, so CoTaskMemFree or free() of one
// finds its record and is reported as the mismatch it is.
static BSTR record_bstr(BSTR b) {
    if (b == NULL || !checking_call())
        return b;
    UINT bytes = ((const UINT *)(const void *)b)[-1];
    return record(CF_ALLOC_CUSTOM, cf_win_bstr_family, b, (size_t)bytes + sizeof(OLECHAR));
}

static BSTR WINAPI wrap_SysAllocString(const OLECHAR *s) {
    return record_bstr(BSTR_REAL(sys_alloc_fn, ALLOC)(s));
}
static BSTR WINAPI wrap_SysAllocStringLen(const OLECHAR *s, UINT n) {
    return record_bstr(BSTR_REAL(sys_alloc_len_fn, ALLOCLEN)(s, n));
}
static BSTR WINAPI wrap_SysAllocStringByteLen(LPCSTR s, UINT n) {
    return record_bstr(BSTR_REAL(sys_alloc_bytelen_fn, ALLOCBYTELEN)(s, n));
}

static INT WINAPI wrap_SysReAllocString(BSTR *pb, const OLECHAR *s) {
    cf_record saved;
    bool found;
    BSTR old = pb != NULL ? *pb : NULL;
    if (!resize_begin(cf_win_bstr_family, old, &saved, &found))
        return FALSE;
    INT ok = BSTR_REAL(sys_realloc_fn, REALLOC)(pb, s);
    BSTR b = ok && pb != NULL ? *pb : NULL;
    resize_end(cf_win_bstr_family, found, &saved, b,
               b != NULL ? ((const UINT *)(const void *)b)[-1] + sizeof(OLECHAR) : 0);
    return ok;
}

static INT WINAPI wrap_SysReAllocStringLen(BSTR *pb, const OLECHAR *s, UINT n) {
    cf_record saved;
    bool found;
    BSTR old = pb != NULL ? *pb : NULL;
    if (!resize_begin(cf_win_bstr_family, old, &saved, &found))
        return FALSE;
    INT ok = BSTR_REAL(sys_realloc_len_fn, REALLOCLEN)(pb, s, n);
    BSTR b = ok && pb != NULL ? *pb : NULL;
    resize_end(cf_win_bstr_family, found, &saved, b,
               b != NULL ? ((const UINT *)(const void *)b)[-1] + sizeof(OLECHAR) : 0);
    return ok;
}

static void WINAPI wrap_SysFreeString(BSTR b) {
    if (b != NULL && take_release(cf_win_bstr_family, b))
        return;
    // A hand-made BSTR (a length and text in another allocator's block):
    // SysFreeString would release 4 bytes before it, the block crossfree
    // knows; the runtime reports the pointer, 4 bytes inside that block.
    cf_record r;
    if (b != NULL && checking_call() && lookup_live((char *)b - sizeof(UINT), &r) &&
        cf_record_family(&r) != cf_win_bstr_family) {
        saved_errors s = save_errors();
        cf_rt_on_free(CF_DEALLOC_CUSTOM, cf_win_bstr_family, b);
        restore_errors(s);
        return;
    }
    BSTR_REAL(sys_free_fn, FREE)(b);
}

const uintptr_t cf_win_bstr_wrapper[CF_B_COUNT] = {
#define X(id, name) [CF_B_##id] = (uintptr_t)wrap_##name,
    CF_WIN_BSTR_FUNCTIONS(X)
#undef X
};

// ---------------------------------------------------------------------------
// C++ operator new / delete (a MinGW libstdc++ or compatible DLL)

// The real operator new runs under the recursion guard (cf_shim_real_new),
// so the malloc it makes inside is not recorded.
typedef void (*delete_fn)(void *);
typedef void (*delete_align_fn)(void *, size_t);

static void *new_common(cf_alloc_fn kind, unsigned x, size_t n, size_t align, bool nothrow,
                        const void *tag) {
    bool checking = checking_call();
    void *p = cf_shim_real_new(cf_win_cxx_real[x], n, align, nothrow, tag);
    if (checking && p != NULL) {
        saved_errors s = save_errors();
        cf_rt_on_alloc_aligned(kind, p, n, align);
        restore_errors(s);
    }
    return p;
}

// The plain operator delete of the family `fn` releases: what every sized
// and nothrow form does in libstdc++.
static unsigned plain_delete(cf_dealloc_fn fn) {
    switch (fn) {
    case CF_DEALLOC_DELETE_ARRAY:
        return CF_X_DELETE_ARRAY;
    case CF_DEALLOC_DELETE_ALIGN:
        return CF_X_DELETE_ALIGN;
    case CF_DEALLOC_DELETE_ARRAY_ALIGN:
        return CF_X_DELETE_ARRAY_ALIGN;
    default:
        return CF_X_DELETE_SINGLE;
    }
}

// Calls the real plain delete `x` under the guard: it calls free through a
// patched import.
static void real_delete(unsigned x, void *p, size_t align) {
    CF_RT_GUARDED;
    if (x == CF_X_DELETE_ALIGN || x == CF_X_DELETE_ARRAY_ALIGN)
        ((delete_align_fn)cf_win_cxx_real[x])(p, align);
    else
        ((delete_fn)cf_win_cxx_real[x])(p);
}

static void delete_common(cf_dealloc_fn fn, void *p, size_t size, size_t align) {
    if (p == NULL)
        return;
    if (!checking_call() || (!tracked(p) && any_crt_owns(p))) {
        // A block crossfree never saw that the C runtime under libstdc++
        // vouches for (new'd inside libstdc++ itself, or before crossfree).
        real_delete(plain_delete(fn), p, align);
        return;
    }
    saved_errors s = save_errors();
    cf_rt_on_delete(fn, cf_family_of_dealloc(fn), p, size, align);
    restore_errors(s);
}

// Every form becomes a static w<mangled name>, found through the hook table.
#define CF_SHIM_CXX_DECL(ret, symbol) static ret CF_CXX_PASTE(w, symbol, )
#define CF_SHIM_NEW(id, symbol, fn, n, align, nothrow, tag)                                        \
    new_common(fn, CF_X_##id, n, align, nothrow, tag)
#define CF_SHIM_DELETE(id, fn, p, size, align, tag) ((void)(tag), delete_common(fn, p, size, align))
CF_CXX_OPERATORS(CF_SHIM_CXX_WRAPPER)

const uintptr_t cf_win_cxx_wrapper[CF_X_COUNT] = {
#define X(id, symbol, shape, fn) [CF_X_##id] = (uintptr_t)CF_CXX_PASTE(w, symbol, ),
    CF_CXX_OPERATORS(X)
#undef X
};

// ---------------------------------------------------------------------------
// The loader: late modules get patched, lookups by name get wrappers

typedef HMODULE(WINAPI *load_a_fn)(LPCSTR);
typedef HMODULE(WINAPI *load_w_fn)(LPCWSTR);
typedef HMODULE(WINAPI *load_exa_fn)(LPCSTR, HANDLE, DWORD);
typedef HMODULE(WINAPI *load_exw_fn)(LPCWSTR, HANDLE, DWORD);
typedef BOOL(WINAPI *free_library_fn)(HMODULE);
typedef FARPROC(WINAPI *get_proc_fn)(HMODULE, LPCSTR);

static HMODULE after_load(HMODULE m, DWORD flags) {
    // Data-only and image-resource loads run no code and need no patching.
    if (m != NULL &&
        (flags & (LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_DATAFILE_EXCLUSIVE |
                  LOAD_LIBRARY_AS_IMAGE_RESOURCE)) == 0 &&
        cf_rt_enter()) {
        saved_errors s = save_errors();
        cf_win_patch_all();
        restore_errors(s);
    }
    return m;
}

static HMODULE WINAPI wrap_LoadLibraryA(LPCSTR name) {
    return after_load(REAL(load_a_fn, cf_win_loader_real[CF_L_LOADLIBRARYA])(name), 0);
}
static HMODULE WINAPI wrap_LoadLibraryW(LPCWSTR name) {
    return after_load(REAL(load_w_fn, cf_win_loader_real[CF_L_LOADLIBRARYW])(name), 0);
}
static HMODULE WINAPI wrap_LoadLibraryExA(LPCSTR name, HANDLE file, DWORD flags) {
    return after_load(REAL(load_exa_fn, cf_win_loader_real[CF_L_LOADLIBRARYEXA])(name, file, flags),
                      flags);
}
static HMODULE WINAPI wrap_LoadLibraryExW(LPCWSTR name, HANDLE file, DWORD flags) {
    return after_load(REAL(load_exw_fn, cf_win_loader_real[CF_L_LOADLIBRARYEXW])(name, file, flags),
                      flags);
}

static BOOL WINAPI wrap_FreeLibrary(HMODULE m) {
    bool ready = cf_rt_enter();
    saved_errors s = save_errors();
    cf_shim_before_unload(ready);
    restore_errors(s);
    BOOL ok = REAL(free_library_fn, cf_win_loader_real[CF_L_FREELIBRARY])(m);
    s = save_errors();
    cf_shim_after_unload(ready);
    restore_errors(s);
    return ok;
}

// Whether a lookup by `name` (which may be an ordinal) asks for a function of
// a C runtime, of COM or of oleaut32 that crossfree wraps.
static bool is_wrapped_name(LPCSTR name) {
    if ((uintptr_t)name <= 0xffff)
        return false;
    for (unsigned f = 0; f < CF_C_COUNT; f++)
        if (cf_strcmp(name, cf_win_crt_names[f]) == 0)
            return true;
    for (unsigned f = 0; f < CF_COM_COUNT; f++)
        if (cf_strcmp(name, cf_win_com_names[f]) == 0)
            return true;
    for (unsigned f = 0; f < CF_B_COUNT; f++)
        if (cf_strcmp(name, cf_win_bstr_names[f]) == 0)
            return true;
    return false;
}

// GetProcAddress(LoadLibrary("ole32.dll"), "CoTaskMemFree") -- what the Dart
// VM does -- gets the wrapper whenever the real answer is a wrapped function.
static FARPROC WINAPI wrap_GetProcAddress(HMODULE m, LPCSTR name) {
    FARPROC f = REAL(get_proc_fn, cf_win_loader_real[CF_L_GETPROCADDRESS])(m, name);
    if (f == NULL)
        return f;
    DWORD last = GetLastError();
    uintptr_t w = cf_win_hook_find((uintptr_t)f);
    if (w == 0 && is_wrapped_name(name) && cf_rt_enter()) {
        // A C runtime or COM loaded by a system DLL behind our back: look again.
        cf_win_find_providers();
        w = cf_win_hook_find((uintptr_t)f);
    }
    SetLastError(last);
    return w != 0 ? (FARPROC)w : f;
}

const uintptr_t cf_win_loader_wrapper[CF_L_COUNT] = {
#define X(id, name) [CF_L_##id] = (uintptr_t)wrap_##name,
    CF_WIN_LOADER_FUNCTIONS(X)
#undef X
};

// ---------------------------------------------------------------------------
// Releasing a block

void cf_platform_release(uintptr_t addr, unsigned family) {
    void *p = (void *)addr;
    for (unsigned i = 0; i < CF_CRT_COUNT; i++) {
        if (!cf_win_crts[i].present)
            continue;
        if (family == cf_win_crts[i].heap_family) {
            REAL(free_fn, cf_win_crts[i].real[CF_C_FREE])(p);
            return;
        }
        if (family == cf_win_crts[i].aligned_family) {
            REAL(free_fn, cf_win_crts[i].real[CF_C_ALIGNED_FREE])(p);
            return;
        }
    }
    unsigned k = family < CF_FAM_MAX ? heap_of_family[family] : 0;
    if (k != 0) {
        if (!heaps[k - 1].dead) // a destroyed heap took its blocks with it
            MEM_REAL(heap_free_fn, HEAPFREE)(heaps[k - 1].heap, 0, p);
    } else if (family != 0 && family == cf_win_local_family) {
        MEM_REAL(local_free_fn, LOCALFREE)(p);
    } else if (family != 0 && family == cf_win_global_family) {
        MEM_REAL(local_free_fn, GLOBALFREE)(p);
    } else if (family != 0 && family == cf_win_bstr_family) {
        BSTR_REAL(sys_free_fn, FREE)((BSTR)p);
    } else if (family == CF_FAM_COTASKMEM) {
        REAL(com_free_fn, cf_win_com_real[CF_COM_FREE])(p);
    } else if (cf_family_is_new(family)) {
        unsigned x = plain_delete(cf_family_dealloc_fn(family));
        if (cf_win_cxx_real[x] != 0)
            real_delete(x, p, 16); // libstdc++ ignores the alignment here
    } else if (family == CF_FAM_MALLOC) {
        // Only crossfree's own dependencies make these; they use msvcrt.
        if (cf_win_crts[CF_CRT_MSVCRT].present)
            REAL(free_fn, cf_win_crts[CF_CRT_MSVCRT].real[CF_C_FREE])(p);
    }
    // Otherwise a program-registered family: the program releases it.
}
