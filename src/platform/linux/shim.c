// SPDX-License-Identifier: MIT
// The Linux shim: every allocation entry point of glibc and every
// replaceable C++ operator new/delete, exported under its own name so that
// LD_PRELOAD puts them first, plus dlsym/dlvsym so lookups by name through
// a library's own handle reach them too. Each wrapper calls the real
// function and hands the result to the runtime; nothing else lives here.
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/header.h"
#include "platform/linux/entry_points.h"
#include "platform/linux/resolve.h"
#include "platform/platform.h"
#include "platform/shim.h"
#include "runtime/runtime.h"
#include "stack/capture.h"
#include "stack/symbolize.h"
#include "support/fmt.h"

#define CF_EXPORT __attribute__((visibility("default")))

// ---------------------------------------------------------------------------
// The wrapped names and their real functions

// X(index, symbol): the wrapper below carries the symbol's own name.
#define CF_WRAPPED(X)                                                                              \
    X(MALLOC, malloc)                                                                              \
    X(FREE, free)                                                                                  \
    X(CALLOC, calloc)                                                                              \
    X(REALLOC, realloc)                                                                            \
    X(REALLOCARRAY, reallocarray)                                                                  \
    X(MEMALIGN, memalign)                                                                          \
    X(POSIX_MEMALIGN, posix_memalign)                                                              \
    X(ALIGNED_ALLOC, aligned_alloc)                                                                \
    X(VALLOC, valloc)                                                                              \
    X(PVALLOC, pvalloc)                                                                            \
    X(MALLOC_USABLE_SIZE, malloc_usable_size)                                                      \
    X(CFREE, cfree)                                                                                \
    X(LIBC_MALLOC, __libc_malloc)                                                                  \
    X(LIBC_FREE, __libc_free)                                                                      \
    X(LIBC_CALLOC, __libc_calloc)                                                                  \
    X(LIBC_REALLOC, __libc_realloc)                                                                \
    X(LIBC_MEMALIGN, __libc_memalign)                                                              \
    X(LIBC_VALLOC, __libc_valloc)                                                                  \
    X(LIBC_PVALLOC, __libc_pvalloc)                                                                \
    X(DLCLOSE, dlclose)                                                                            \
    X(DLOPEN, dlopen)                                                                              \
    X(DLMOPEN, dlmopen)

// The C++ operators follow, from the one list every shim expands
// (platform/shim.h); they resolve on first use.
#define CF_OPERATOR(id, sym, shape, fn) X(id, sym)
#define CF_WRAPPED_ALL(X) CF_WRAPPED(X) CF_CXX_OPERATORS(CF_OPERATOR)

enum {
#define X(id, sym) W_##id,
    CF_WRAPPED_ALL(X)
#undef X
        W_COUNT
};

#define CF_STRING_(s) #s
#define CF_STRING(s) CF_STRING_(s)
static const char *const wrapped_names[W_COUNT] = {
#define X(id, sym) [W_##id] = CF_STRING(sym),
    CF_WRAPPED_ALL(X)
#undef X
};

// Real functions, found with dlsym(RTLD_NEXT) (C++ ones on first need,
// since libstdc++ may be loaded later). Our own wrappers' addresses, for
// answering dlsym lookups, are filled in at start-up.
static _Atomic uintptr_t real_addr[W_COUNT];
static uintptr_t wrapper_addr[W_COUNT];

// Set by cf_resolve_dlsyms; read by the assembly entry points below.
__attribute__((used)) uintptr_t cf_real_dlsym;
__attribute__((used)) uintptr_t cf_real_dlvsym;
// Set by cf_before_dlopen.
__attribute__((used)) uintptr_t cf_real_dlopen;
__attribute__((used)) uintptr_t cf_real_dlmopen;

typedef void *(*dlsym_fn)(void *, const char *);
typedef void *(*dlvsym_fn)(void *, const char *, const char *);

__attribute__((used)) void cf_resolve_dlsyms(void);
void cf_resolve_dlsyms(void) {
    if (cf_real_dlsym != 0)
        return;
    uintptr_t s = cf_linux_libc_symbol("dlsym");
    uintptr_t v = cf_linux_libc_symbol("dlvsym");
    if (s == 0 || v == 0) {
        static const char msg[] = "crossfree: cannot find dlsym in the C library (crossfree "
                                  "supports glibc on Linux); exiting\n";
        cf_os_write_all(CF_FD_STDERR, msg, sizeof msg - 1);
        _exit(127);
    }
    cf_real_dlvsym = v;
    cf_real_dlsym = s;
}

static uintptr_t resolve_next(unsigned idx) {
    uintptr_t r = atomic_load_explicit(&real_addr[idx], memory_order_relaxed);
    if (r != 0)
        return r;
    cf_resolve_dlsyms();
    // Called from crossfree's own code, so RTLD_NEXT means "after crossfree".
    r = (uintptr_t)((dlsym_fn)cf_real_dlsym)(RTLD_NEXT, wrapped_names[idx]);
    atomic_store_explicit(&real_addr[idx], r, memory_order_relaxed);
    return r;
}

#define REAL(idx, type) ((type)atomic_load_explicit(&real_addr[W_##idx], memory_order_relaxed))

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void *(*memalign_fn)(size_t, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef size_t (*usable_fn)(void *);
typedef int (*dlclose_fn)(void *);

void cf_platform_release(uintptr_t addr, unsigned family) {
    // Every built-in family on glibc is carved from the malloc heap; a
    // program-registered family's memory belongs to the program.
    if (family < CF_FAM_CUSTOM_FIRST)
        REAL(FREE, free_fn)((void *)addr);
}

// ---------------------------------------------------------------------------
// malloc family

// Records a successful allocation that has no header (its record goes to
// the owner table); the caller's errno stays as the real allocator left it.
static inline void *track(cf_alloc_fn fn, void *p, size_t n) {
    if (p != NULL) {
        int e = errno;
        cf_rt_on_alloc(fn, p, n);
        errno = e;
    }
    return p;
}

// Records a successful allocation made with room for the header in front
// (cf_rt_header_bytes more than the program asked for) and returns the
// program's pointer; errno as the real allocator left it.
static inline void *track_header(cf_alloc_fn fn, void *real, size_t n) {
    if (real == NULL)
        return NULL;
    int e = errno;
    void *p = cf_rt_on_alloc_header(fn, real, n);
    errno = e;
    return p;
}

// n plus the header, in *total; false when that overflows (the request is
// then passed on as it is, to fail the way the real allocator fails).
static inline bool with_header(size_t n, size_t *total) {
    return !__builtin_add_overflow(n, cf_rt_header_bytes, total);
}

// Blocks aligned beyond malloc's own 16 bytes keep their address and no
// header: a header would cost the whole alignment in front of each.
#define HEADER_ALIGN_MAX 16u

CF_EXPORT void *malloc(size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 16);
    size_t total;
    if (!with_header(n, &total))
        return track(CF_ALLOC_MALLOC, REAL(MALLOC, malloc_fn)(n), n);
    return track_header(CF_ALLOC_MALLOC, REAL(MALLOC, malloc_fn)(total), n);
}

CF_EXPORT void free(void *p) {
    if (p == NULL || !cf_rt_enter())
        return; // during start-up only bootstrap blocks exist, and they stay
    int e = errno;
    cf_rt_on_free(CF_DEALLOC_FREE, CF_FAM_MALLOC, p);
    errno = e;
}

CF_EXPORT void *calloc(size_t n, size_t size) {
    if (!cf_rt_enter()) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total)) {
            errno = ENOMEM;
            return NULL;
        }
        return cf_rt_bootstrap_alloc(total, 16); // static, hence zeroed
    }
    size_t total, ask;
    if (__builtin_mul_overflow(n, size, &total) || !with_header(total, &ask))
        return track(CF_ALLOC_CALLOC, REAL(CALLOC, calloc_fn)(n, size), n * size);
    return track_header(CF_ALLOC_CALLOC, REAL(CALLOC, calloc_fn)(1, ask), total);
}

// realloc and reallocarray share everything but the real call.
static void *realloc_common(void *p, size_t n, size_t size, bool array) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!cf_rt_enter() || cf_rt_is_bootstrap(p)) {
        // A bootstrap block moves to the real heap (or stays in bootstrap
        // during start-up); its old copy is never released.
        void *q = cf_rt_enter() ? malloc(total) : cf_rt_bootstrap_alloc(total, 16);
        if (q != NULL && p != NULL) {
            size_t old = cf_rt_bootstrap_size(p);
            memcpy(q, p, old < total ? old : total);
        }
        return q;
    }
    cf_alloc_fn fn = array ? CF_ALLOC_REALLOCARRAY : CF_ALLOC_REALLOC;
    if (p == NULL) {
        size_t ask;
        if (!with_header(total, &ask))
            return track(fn, REAL(REALLOC, realloc_fn)(NULL, total), total);
        return track_header(fn, REAL(REALLOC, realloc_fn)(NULL, ask), total);
    }
    int e = errno;
    cf_record saved;
    if (!cf_rt_realloc_begin(CF_DEALLOC_REALLOC, p, &saved)) {
        errno = ENOMEM; // the pointer was not ours to resize: fail like an allocator
        return NULL;
    }
    errno = e;
    // Not the real reallocarray: glibc's calls realloc through the PLT,
    // which would reach our realloc with a record already detached. The
    // overflow check above is all it adds to realloc. A block with a header
    // keeps one (it moves with the data); a size of 0 is passed on as it is,
    // so that the real allocator frees or shrinks the block its own way.
    size_t ask = total;
    void *q = NULL;
    if (cf_record_has_header(&saved) && total != 0 &&
        __builtin_add_overflow(total, (size_t)CF_HEADER_SIZE, &ask)) {
        e = ENOMEM;
    } else {
        q = REAL(REALLOC, realloc_fn)((void *)cf_record_real_addr(&saved), ask);
        e = errno;
    }
    q = cf_rt_realloc_end(fn, &saved, q, total);
    errno = e;
    return q;
}

CF_EXPORT void *realloc(void *p, size_t n) { return realloc_common(p, n, 1, false); }

CF_EXPORT void *reallocarray(void *p, size_t n, size_t size) {
    return realloc_common(p, n, size, true);
}

// memalign and aligned_alloc: within malloc's alignment the block gets a
// header like any other (the real function still sees the program's
// alignment, and rejects it as it would); beyond it, no header.
static inline void *aligned_common(cf_alloc_fn fn, memalign_fn real, size_t align, size_t n) {
    size_t total;
    if (align <= HEADER_ALIGN_MAX && with_header(n, &total))
        return track_header(fn, real(align, total), n);
    return track(fn, real(align, n), n);
}

CF_EXPORT void *memalign(size_t align, size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return aligned_common(CF_ALLOC_MEMALIGN, REAL(MEMALIGN, memalign_fn), align, n);
}

CF_EXPORT void *aligned_alloc(size_t align, size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, align);
    return aligned_common(CF_ALLOC_ALIGNED_ALLOC, REAL(ALIGNED_ALLOC, memalign_fn), align, n);
}

CF_EXPORT int posix_memalign(void **out, size_t align, size_t n) {
    if (!cf_rt_enter()) {
        void *p = cf_rt_bootstrap_alloc(n, align);
        if (p == NULL)
            return ENOMEM;
        *out = p;
        return 0;
    }
    void *p = NULL;
    int e = errno;
    size_t total;
    bool header = align <= HEADER_ALIGN_MAX && with_header(n, &total);
    int r = REAL(POSIX_MEMALIGN, posix_memalign_fn)(&p, align, header ? total : n);
    if (r == 0) {
        if (header)
            p = cf_rt_on_alloc_header(CF_ALLOC_POSIX_MEMALIGN, p, n);
        else
            cf_rt_on_alloc(CF_ALLOC_POSIX_MEMALIGN, p, n);
        *out = p;
    }
    errno = e;
    return r;
}

CF_EXPORT void *valloc(size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 4096);
    return track(CF_ALLOC_VALLOC, REAL(VALLOC, malloc_fn)(n), n);
}

CF_EXPORT void *pvalloc(size_t n) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n, 4096);
    return track(CF_ALLOC_PVALLOC, REAL(PVALLOC, malloc_fn)(n), n);
}

CF_EXPORT size_t malloc_usable_size(void *p) {
    if (p == NULL)
        return 0;
    if (cf_rt_is_bootstrap(p))
        return cf_rt_bootstrap_size(p);
    if (!cf_rt_enter())
        return 0;
    // What the real allocator gives the whole block, less the header.
    uintptr_t real = cf_rt_real_block(p);
    size_t usable = REAL(MALLOC_USABLE_SIZE, usable_fn)((void *)real);
    size_t before = (uintptr_t)p - real;
    return usable > before ? usable - before : 0;
}

// glibc's own names for the same functions, which some programs call
// directly (often from their own malloc replacements).
CF_EXPORT void *__libc_malloc(size_t n) { return malloc(n); }
CF_EXPORT void __libc_free(void *p) { free(p); }
CF_EXPORT void *__libc_calloc(size_t n, size_t s) { return calloc(n, s); }
CF_EXPORT void *__libc_realloc(void *p, size_t n) { return realloc(p, n); }
CF_EXPORT void *__libc_memalign(size_t a, size_t n) { return memalign(a, n); }
CF_EXPORT void *__libc_valloc(size_t n) { return valloc(n); }
CF_EXPORT void *__libc_pvalloc(size_t n) { return pvalloc(n); }
// cfree is a compat-only symbol of glibc that old binaries still import.
CF_EXPORT void cfree(void *p) { free(p); }

// ---------------------------------------------------------------------------
// C++ operator new / delete

// The fast path allocates straight from the real malloc. Only when that
// fails does the real operator new run (cf_shim_real_new), so that
// std::new_handler and std::bad_alloc behave exactly as libstdc++ says.
static inline void *new_common(cf_alloc_fn kind, unsigned slow_idx, size_t n, size_t align,
                               bool nothrow, const void *tag) {
    if (!cf_rt_enter())
        return cf_rt_bootstrap_alloc(n ? n : 1, align ? align : 16);
    void *p;
    size_t total;
    if (align == 0 && with_header(n ? n : 1, &total)) {
        p = REAL(MALLOC, malloc_fn)(total);
        if (p != NULL)
            return track_header(kind, p, n);
    } else if (align == 0) {
        p = NULL; // cannot be satisfied: the real operator new decides what happens
    } else {
        // libstdc++'s rule: at least pointer alignment, size a multiple of it.
        size_t al = align < sizeof(void *) ? sizeof(void *) : align;
        size_t sz = n ? n : 1;
        p = NULL;
        if (sz + al - 1 >= sz && (al & (al - 1)) == 0)
            p = REAL(ALIGNED_ALLOC, memalign_fn)(al, (sz + al - 1) & ~(al - 1));
    }
    if (p == NULL)
        p = cf_shim_real_new(resolve_next(slow_idx), n, align, nothrow, tag);
    if (p != NULL)
        cf_rt_on_alloc(kind, p, n);
    return p;
}

static inline void delete_common(cf_dealloc_fn fn, void *p) {
    if (p == NULL || !cf_rt_enter())
        return;
    int e = errno;
    cf_rt_on_free(fn, cf_family_of_dealloc(fn), p);
    errno = e;
}

// Every form is exported under its own mangled name.
#define CF_SHIM_CXX_DECL(ret, symbol) CF_EXPORT ret symbol
#define CF_SHIM_NEW(id, symbol, fn, n, align, nothrow, tag)                                        \
    new_common(fn, W_##id, n, align, nothrow, tag)
#define CF_SHIM_DELETE(id, fn, p, align) delete_common(fn, p)
CF_CXX_OPERATORS(CF_SHIM_CXX_WRAPPER)

// ---------------------------------------------------------------------------
// dlsym, dlvsym, dlclose

// A lookup through a library's own handle (CDLL("libc.so.6").free) finds
// the library's definition, not the interposed one; answer it with our
// wrapper when the definition is the very function we wrap.
static void *substitute(const char *name, void *found) {
    if (found == NULL || name == NULL)
        return found;
    for (unsigned i = 0; i < W_COUNT; i++) {
        if (cf_strcmp(wrapped_names[i], name) != 0)
            continue;
        if ((uintptr_t)found == resolve_next(i) && wrapper_addr[i] != 0)
            return (void *)wrapper_addr[i];
        break;
    }
    return found;
}

// RTLD_DEFAULT and RTLD_NEXT depend on who calls dlsym, so the assembly
// entry below jumps to the real dlsym for them without a frame of ours.
// Explicit handles do not, and come here.
__attribute__((used)) void *cf_dlsym_handle(void *handle, const char *name);
void *cf_dlsym_handle(void *handle, const char *name) {
    cf_resolve_dlsyms();
    return substitute(name, ((dlsym_fn)cf_real_dlsym)(handle, name));
}

__attribute__((used)) void *cf_dlvsym_handle(void *handle, const char *name, const char *ver);
void *cf_dlvsym_handle(void *handle, const char *name, const char *ver) {
    cf_resolve_dlsyms();
    return substitute(name, ((dlvsym_fn)cf_real_dlvsym)(handle, name, ver));
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl dlsym\n"
        ".type dlsym,@function\n"
        "dlsym:\n"
        "  .cfi_startproc\n"
        "  testq %rdi, %rdi\n"
        "  je 1f\n"
        "  cmpq $-1, %rdi\n"
        "  jne cf_dlsym_handle\n"
        "1:\n"
        "  movq cf_real_dlsym(%rip), %rax\n"
        "  testq %rax, %rax\n"
        "  je 2f\n"
        "  jmp *%rax\n"
        "2:\n"
        "  pushq %rdi\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  pushq %rsi\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  subq $8, %rsp\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  call cf_resolve_dlsyms\n"
        "  addq $8, %rsp\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  popq %rsi\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  popq %rdi\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  jmp *cf_real_dlsym(%rip)\n"
        "  .cfi_endproc\n"
        ".size dlsym, .-dlsym\n"
        ".globl dlvsym\n"
        ".type dlvsym,@function\n"
        "dlvsym:\n"
        "  .cfi_startproc\n"
        "  testq %rdi, %rdi\n"
        "  je 1f\n"
        "  cmpq $-1, %rdi\n"
        "  jne cf_dlvsym_handle\n"
        "1:\n"
        "  movq cf_real_dlvsym(%rip), %rax\n"
        "  testq %rax, %rax\n"
        "  je 2f\n"
        "  jmp *%rax\n"
        "2:\n"
        "  pushq %rdi\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  pushq %rsi\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  pushq %rdx\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  call cf_resolve_dlsyms\n"
        "  popq %rdx\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  popq %rsi\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  popq %rdi\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  jmp *cf_real_dlvsym(%rip)\n"
        "  .cfi_endproc\n"
        ".size dlvsym, .-dlvsym\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl dlsym\n"
        ".type dlsym,%function\n"
        "dlsym:\n"
        "  cbz x0, 1f\n"
        "  cmn x0, #1\n"
        "  b.eq 1f\n"
        "  b cf_dlsym_handle\n"
        "1:\n"
        "  adrp x16, cf_real_dlsym\n"
        "  ldr x16, [x16, :lo12:cf_real_dlsym]\n"
        "  cbz x16, 2f\n"
        "  br x16\n"
        "2:\n"
        "  stp x29, x30, [sp, #-32]!\n"
        "  mov x29, sp\n"
        "  stp x0, x1, [sp, #16]\n"
        "  bl cf_resolve_dlsyms\n"
        "  ldp x0, x1, [sp, #16]\n"
        "  ldp x29, x30, [sp], #32\n"
        "  adrp x16, cf_real_dlsym\n"
        "  ldr x16, [x16, :lo12:cf_real_dlsym]\n"
        "  br x16\n"
        ".size dlsym, .-dlsym\n"
        ".globl dlvsym\n"
        ".type dlvsym,%function\n"
        "dlvsym:\n"
        "  cbz x0, 1f\n"
        "  cmn x0, #1\n"
        "  b.eq 1f\n"
        "  b cf_dlvsym_handle\n"
        "1:\n"
        "  adrp x16, cf_real_dlvsym\n"
        "  ldr x16, [x16, :lo12:cf_real_dlvsym]\n"
        "  cbz x16, 2f\n"
        "  br x16\n"
        "2:\n"
        "  stp x29, x30, [sp, #-48]!\n"
        "  mov x29, sp\n"
        "  stp x0, x1, [sp, #16]\n"
        "  str x2, [sp, #32]\n"
        "  bl cf_resolve_dlsyms\n"
        "  ldp x0, x1, [sp, #16]\n"
        "  ldr x2, [sp, #32]\n"
        "  ldp x29, x30, [sp], #48\n"
        "  adrp x16, cf_real_dlvsym\n"
        "  ldr x16, [x16, :lo12:cf_real_dlvsym]\n"
        "  br x16\n"
        ".size dlvsym, .-dlvsym\n");
#else
#error "crossfree: write the dlsym/dlvsym entry points for this architecture"
#endif

// A module may now load where code without unwind information (JIT code,
// since unmapped) or an unloaded module was: the unwinders must not keep
// what they learnt about those addresses. Done before the real call, by
// the entry points below, so that dlopen still sees its real caller (its
// RUNPATH and $ORIGIN, its namespace); nothing can run at the new module's
// addresses before it is loaded, so forgetting first is enough.
__attribute__((used)) void cf_before_dlopen(void);
void cf_before_dlopen(void) {
    if (cf_real_dlopen == 0)
        cf_real_dlopen = resolve_next(W_DLOPEN);
    if (cf_real_dlmopen == 0)
        cf_real_dlmopen = resolve_next(W_DLMOPEN);
    cf_rt_modules_changed();
}

// One entry point: NAME saves its three argument registers, calls
// cf_before_dlopen, restores them and jumps to *REAL with the caller's
// return address still on top.
#if defined(__x86_64__)
#define CF_DLOPEN_ENTRY(name, real)                                                                \
    ".text\n"                                                                                      \
    ".globl " name "\n"                                                                            \
    ".type " name ",@function\n" name ":\n"                                                        \
    "  .cfi_startproc\n"                                                                           \
    "  pushq %rdi\n"                                                                               \
    "  .cfi_adjust_cfa_offset 8\n"                                                                 \
    "  pushq %rsi\n"                                                                               \
    "  .cfi_adjust_cfa_offset 8\n"                                                                 \
    "  pushq %rdx\n"                                                                               \
    "  .cfi_adjust_cfa_offset 8\n"                                                                 \
    "  call cf_before_dlopen\n"                                                                    \
    "  popq %rdx\n"                                                                                \
    "  .cfi_adjust_cfa_offset -8\n"                                                                \
    "  popq %rsi\n"                                                                                \
    "  .cfi_adjust_cfa_offset -8\n"                                                                \
    "  popq %rdi\n"                                                                                \
    "  .cfi_adjust_cfa_offset -8\n"                                                                \
    "  jmp *" real "(%rip)\n"                                                                      \
    "  .cfi_endproc\n"                                                                             \
    ".size " name ", .-" name "\n"
#elif defined(__aarch64__)
#define CF_DLOPEN_ENTRY(name, real)                                                                \
    ".text\n"                                                                                      \
    ".globl " name "\n"                                                                            \
    ".type " name ",%function\n" name ":\n"                                                        \
    "  stp x29, x30, [sp, #-48]!\n"                                                                \
    "  mov x29, sp\n"                                                                              \
    "  stp x0, x1, [sp, #16]\n"                                                                    \
    "  str x2, [sp, #32]\n"                                                                        \
    "  bl cf_before_dlopen\n"                                                                      \
    "  ldp x0, x1, [sp, #16]\n"                                                                    \
    "  ldr x2, [sp, #32]\n"                                                                        \
    "  ldp x29, x30, [sp], #48\n"                                                                  \
    "  adrp x16, " real "\n"                                                                       \
    "  ldr x16, [x16, :lo12:" real "]\n"                                                           \
    "  br x16\n"                                                                                   \
    ".size " name ", .-" name "\n"
#endif
__asm__(CF_DLOPEN_ENTRY("dlopen", "cf_real_dlopen") CF_DLOPEN_ENTRY("dlmopen", "cf_real_dlmopen"));

CF_EXPORT int dlclose(void *handle) {
    bool ready = cf_rt_enter();
    cf_shim_before_unload(ready);
    int rc = ((dlclose_fn)resolve_next(W_DLCLOSE))(handle);
    cf_shim_after_unload(ready);
    return rc;
}

// ---------------------------------------------------------------------------
// Start-up and exit

// Fallbacks for allocation functions the C library does not export. They
// are built only from the four every C library has, or from each other.
static int fallback_posix_memalign(void **out, size_t align, size_t n) {
    // Over-allocate and align by hand is impossible without a header, so
    // without any aligned allocator only malloc's own alignment is offered.
    if (align == 0 || (align & (align - 1)) != 0 || align % sizeof(void *) != 0)
        return EINVAL;
    if (align > 16)
        return ENOMEM;
    void *p = REAL(MALLOC, malloc_fn)(n ? n : 1);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

static void *fallback_memalign(size_t align, size_t n) {
    void *p = NULL;
    int (*pm)(void **, size_t, size_t) = REAL(POSIX_MEMALIGN, posix_memalign_fn);
    int err = pm(&p, align < sizeof(void *) ? sizeof(void *) : align, n);
    if (err != 0) {
        errno = err;
        return NULL;
    }
    return p;
}

static void *fallback_valloc(size_t n) { return REAL(MEMALIGN, memalign_fn)(cf_os_page_size(), n); }

static void *fallback_pvalloc(size_t n) {
    size_t page = cf_os_page_size();
    size_t rounded = (n + page - 1) & ~(page - 1);
    if (rounded < n) {
        errno = ENOMEM;
        return NULL;
    }
    return REAL(MEMALIGN, memalign_fn)(page, rounded ? rounded : page);
}

static size_t fallback_usable_size(void *p) {
    (void)p;
    return 0; // unknown: callers of this glibc extension must cope
}

bool cf_platform_init(void) {
    cf_resolve_dlsyms();
    static const unsigned required[] = {W_MALLOC, W_FREE, W_CALLOC, W_REALLOC};
    for (unsigned i = 0; i < W_COUNT; i++) {
        // C++ operators resolve on first use: libstdc++ may not be loaded yet.
        if (i < W_NEW_SINGLE)
            resolve_next(i);
    }
    for (unsigned i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (atomic_load(&real_addr[required[i]]) == 0) {
            static const char msg[] = "crossfree: cannot find the real malloc/free after "
                                      "crossfree in the lookup order; exiting\n";
            cf_os_write_all(CF_FD_STDERR, msg, sizeof msg - 1);
            return false;
        }
    }
    // Functions a very old or a non-glibc C library may lack fall back to
    // relatives, so that no wrapper ever calls a null pointer.
    static const struct {
        unsigned idx;
        uintptr_t fallback;
    } fallbacks[] = {
        {W_MEMALIGN, (uintptr_t)fallback_memalign},
        {W_ALIGNED_ALLOC, (uintptr_t)fallback_memalign},
        {W_POSIX_MEMALIGN, (uintptr_t)fallback_posix_memalign},
        {W_VALLOC, (uintptr_t)fallback_valloc},
        {W_PVALLOC, (uintptr_t)fallback_pvalloc},
        {W_MALLOC_USABLE_SIZE, (uintptr_t)fallback_usable_size},
    };
    for (unsigned i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++)
        if (atomic_load(&real_addr[fallbacks[i].idx]) == 0)
            atomic_store(&real_addr[fallbacks[i].idx], fallbacks[i].fallback);

#define X(id, sym) wrapper_addr[W_##id] = (uintptr_t)sym;
    CF_WRAPPED_ALL(X)
#undef X

    uintptr_t lo, hi;
    if (cf_linux_object_range((uintptr_t)&cf_platform_init, &lo, &hi))
        cf_capture_set_self(lo, hi);
    pthread_atfork(cf_rt_fork_prepare, cf_rt_fork_parent, cf_rt_fork_child);
    return true;
}

__attribute__((constructor)) static void crossfree_start(void) { (void)cf_rt_enter(); }

__attribute__((destructor)) static void crossfree_stop(void) { cf_rt_at_exit(); }
