// SPDX-License-Identifier: MIT
// Finding the real functions behind the Linux shim's wrappers, and the
// loader's entry points crossfree exports: dlsym and dlvsym (so a lookup
// through a library's own handle still reaches a wrapper) and dlopen and
// dlmopen (so the unwinders forget code addresses before a module loads).
// The entry points are short assembly trampolines that leave the caller's
// address alone, since the loader's answer depends on it.
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "platform/linux/real.h"
#include "platform/linux/resolve.h"
#include "platform/platform.h"
#include "runtime/runtime.h"
#include "support/fmt.h"
#include "support/log.h"

// ---------------------------------------------------------------------------
// The real functions

_Atomic uintptr_t cf_linux_real[W_COUNT];

#define CF_STRING_(s) #s
#define CF_STRING(s) CF_STRING_(s)
static const char *const wrapped_names[W_COUNT] = {
#define X(id, sym) [W_##id] = CF_STRING(sym),
    CF_WRAPPED_ALL(X)
#undef X
};

// Set by cf_resolve_dlsyms; read by the assembly entry points below.
__attribute__((used)) uintptr_t cf_real_dlsym;
__attribute__((used)) uintptr_t cf_real_dlvsym;
// Set by cf_before_dlopen.
__attribute__((used)) uintptr_t cf_real_dlopen;
__attribute__((used)) uintptr_t cf_real_dlmopen;

typedef void *(*dlsym_fn)(void *, const char *);
typedef void *(*dlvsym_fn)(void *, const char *, const char *);

void cf_resolve_dlsyms(void) {
    if (cf_real_dlsym != 0)
        return;
    uintptr_t s = cf_linux_libc_symbol("dlsym");
    uintptr_t v = cf_linux_libc_symbol("dlvsym");
    if (s == 0 || v == 0) {
        cf_log_error("cannot find dlsym in the C library (crossfree supports glibc on "
                     "Linux); exiting");
        _exit(127);
    }
    cf_real_dlvsym = v;
    cf_real_dlsym = s;
}

uintptr_t cf_linux_resolve_next(unsigned idx) {
    uintptr_t r = atomic_load_explicit(&cf_linux_real[idx], memory_order_relaxed);
    if (r != 0)
        return r;
    cf_resolve_dlsyms();
    // Called from crossfree's own code, so RTLD_NEXT means "after crossfree".
    r = (uintptr_t)((dlsym_fn)cf_real_dlsym)(RTLD_NEXT, wrapped_names[idx]);
    atomic_store_explicit(&cf_linux_real[idx], r, memory_order_relaxed);
    return r;
}

// ---------------------------------------------------------------------------
// The program's own malloc

cf_linux_shadow_info cf_linux_shadow;

// The first definition of `name` in lookup order (the executable, the
// preloads in order) when it comes before crossfree's own; 0 if crossfree's
// comes first. Not dlsym(RTLD_DEFAULT): an executable built without PIE
// that compares a function's address (Debian's python3 and node do, for
// malloc and free) has a stub for it, an undefined symbol with a value,
// that lookup by name returns and that leads back to crossfree.
static uintptr_t defined_before_self(const char *name) {
    bool ifunc = false;
    uintptr_t first =
        cf_linux_symbol_before_self(name, (uintptr_t)&cf_linux_resolve_allocator, &ifunc);
    if (first != 0 && ifunc) // the loader's answer is the resolved function
        first = (uintptr_t)((dlsym_fn)cf_real_dlsym)(RTLD_DEFAULT, name);
    return first;
}

// What a program calls by the name of wrapper `idx`, crossfree aside: the
// first definition in lookup order that is not crossfree's own, else the
// next one after crossfree; 0 if none.
static uintptr_t first_outside_self(unsigned idx) {
    uintptr_t first = defined_before_self(wrapped_names[idx]);
    return first != 0 ? first : cf_linux_resolve_next(idx);
}

// Whether `name` is defined in the object whose load address is `base`.
static bool defined_in(const char *name, void *base) {
    void *s = ((dlsym_fn)cf_real_dlsym)(RTLD_DEFAULT, name);
    Dl_info info;
    return s != NULL && dladdr(s, &info) != 0 && info.dli_fbase == base;
}

// Names the allocator in the object loaded at `base`, by a function
// only it exports; NULL when none is known (a static copy in an
// executable usually exports nothing but the standard names).
static const char *allocator_name(void *base) {
    static const struct {
        const char *symbol, *name;
    } known[] = {
        {"mi_malloc", "mimalloc"},           {"mallctl", "jemalloc"},
        {"je_mallctl", "jemalloc"},          {"tc_malloc", "tcmalloc"},
        {"__asan_init", "AddressSanitizer"}, {"__hwasan_init", "HWAddressSanitizer"},
        {"__lsan_init", "LeakSanitizer"},    {"scudo_malloc_info", "Scudo"},
    };
    for (unsigned i = 0; i < sizeof known / sizeof known[0]; i++)
        if (defined_in(known[i].symbol, base))
            return known[i].name;
    return NULL;
}

void cf_linux_resolve_allocator(void) {
    cf_resolve_dlsyms();
    for (unsigned i = W_MALLOC; i <= W_LIBC_PVALLOC; i++)
        atomic_store_explicit(&cf_linux_real[i], first_outside_self(i), memory_order_relaxed);
    // Shadowed when the program's malloc or free is not crossfree's: then
    // calls that bind to it never reach crossfree.
    uintptr_t which = defined_before_self("free");
    if (which == 0)
        which = defined_before_self("malloc");
    if (which == 0)
        return;
    cf_linux_shadow.shadowed = true;
    Dl_info info;
    if (dladdr((void *)which, &info) == 0)
        return;
    cf_linux_shadow.name = allocator_name(info.dli_fbase);
    // The loader names the executable by argv[0] (or not at all): its
    // path comes from the system instead.
    uintptr_t elo = 0, ehi = 0;
    if (cf_linux_object_range((uintptr_t)getauxval(AT_PHDR), &elo, &ehi) && which >= elo &&
        which < ehi) {
        cf_linux_shadow.in_executable = true;
        cf_os_exe_path(cf_linux_shadow.path, sizeof cf_linux_shadow.path);
    } else if (info.dli_fname != NULL) {
        cf_strlcpy(cf_linux_shadow.path, info.dli_fname, sizeof cf_linux_shadow.path);
    }
}

// ---------------------------------------------------------------------------
// A program's own operator new/delete

bool cf_linux_cxx_replaced;
bool cf_linux_new_replaced;
unsigned cf_linux_cxx_before;

// Whether `addr` lies in a C++ runtime, whose operators are the standard's
// defaults: a C++ runtime library, or an object with a C++ runtime linked
// in statically (gcc's own cc1 has libstdc++'s operators, and exports
// them): one that also defines std::get_new_handler, which a program that
// merely replaces an operator does not.
static bool in_cxx_runtime(uintptr_t addr) {
    Dl_info info;
    if (dladdr((void *)addr, &info) == 0 || info.dli_fname == NULL)
        return false;
    const char *base = cf_path_base(info.dli_fname);
    if (cf_streqn(base, "libstdc++.so", 12) || cf_streqn(base, "libc++.so", 9) ||
        cf_streqn(base, "libc++abi.so", 12))
        return true;
    void *gnh = ((dlsym_fn)cf_real_dlsym)(RTLD_DEFAULT, "_ZSt15get_new_handlerv");
    Dl_info g;
    return gnh != NULL && dladdr(gnh, &g) != 0 && g.dli_fbase == info.dli_fbase;
}

static _Atomic uintptr_t cxx_target[W_COUNT];

uintptr_t cf_linux_cxx_target(unsigned idx) {
    uintptr_t t = atomic_load_explicit(&cxx_target[idx], memory_order_relaxed);
    if (t != 0)
        return t;
    uintptr_t lo = 0, hi = 0;
    cf_linux_object_range((uintptr_t)&cf_linux_cxx_target, &lo, &hi);
    t = (uintptr_t)((dlsym_fn)cf_real_dlsym)(RTLD_DEFAULT, wrapped_names[idx]);
    if (t == 0 || (t >= lo && t < hi))
        t = cf_linux_resolve_next(idx);
    atomic_store_explicit(&cxx_target[idx], t, memory_order_relaxed);
    return t;
}

bool cf_linux_find_cxx_replacement(void) {
    cf_resolve_dlsyms();
    // Crossfree's own wrappers, by address range: a reference to an exported
    // name from inside this library binds to the first definition in lookup
    // order, which is the program's own when it has one.
    uintptr_t lo = 0, hi = 0;
    cf_linux_object_range((uintptr_t)&cf_linux_find_cxx_replacement, &lo, &hi);
    bool any = false;
    for (unsigned i = W_NEW_SINGLE; i < W_COUNT; i++) {
        // Found before crossfree (the executable, an earlier preload) or
        // after it, ahead of the C++ runtime.
        uintptr_t first = (uintptr_t)((dlsym_fn)cf_real_dlsym)(RTLD_DEFAULT, wrapped_names[i]);
        uintptr_t next = cf_linux_resolve_next(i);
        bool before = first != 0 && (first < lo || first >= hi) && !in_cxx_runtime(first);
        bool after = next != 0 && !in_cxx_runtime(next);
        any = any || before || after;
        if (before)
            cf_linux_cxx_before++;
        if (before && i < W_DELETE_SINGLE)
            cf_linux_new_replaced = true;
    }
    return any;
}

// ---------------------------------------------------------------------------
// dlsym, dlvsym, dlopen

// A lookup through a library's own handle (CDLL("libc.so.6").free) finds
// the library's definition, not the interposed one; answer it with our
// wrapper when the definition is the very function we wrap.
static void *substitute(const char *name, void *found) {
    if (found == NULL || name == NULL)
        return found;
    for (unsigned i = 0; i < W_COUNT; i++) {
        if (cf_strcmp(wrapped_names[i], name) != 0)
            continue;
        if ((uintptr_t)found == cf_linux_resolve_next(i) && cf_linux_wrapper[i] != 0)
            return (void *)cf_linux_wrapper[i];
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
//
// It also returns the flags the real call gets: `flags` without
// RTLD_DEEPBIND. A module opened with it (PHP opens every extension so)
// binds its own references to malloc and free to the C library's before
// crossfree's, so it would hand the C library blocks that crossfree's
// malloc made (with a header in front): glibc aborts ("free(): invalid
// size"), and its frees would go unchecked. AddressSanitizer refuses such
// a dlopen; PHP itself leaves the flag out in sanitizer builds.
__attribute__((used)) int cf_before_dlopen(int flags);
int cf_before_dlopen(int flags) {
    if (cf_real_dlopen == 0)
        cf_real_dlopen = cf_linux_resolve_next(W_DLOPEN);
    if (cf_real_dlmopen == 0)
        cf_real_dlmopen = cf_linux_resolve_next(W_DLMOPEN);
    cf_rt_modules_changed();
    return cf_rt_checking() ? flags & ~RTLD_DEEPBIND : flags;
}

// One entry point: NAME saves its three argument registers, calls
// cf_before_dlopen with the flags argument, restores them, puts the flags
// it returned in place and jumps to *REAL with the caller's return address
// still on top.
#if defined(__x86_64__)
#define CF_DLOPEN_ENTRY(name, real, flags32)                                                       \
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
    "  movl " flags32 ", %edi\n"                                                                   \
    "  call cf_before_dlopen\n"                                                                    \
    "  popq %rdx\n"                                                                                \
    "  .cfi_adjust_cfa_offset -8\n"                                                                \
    "  popq %rsi\n"                                                                                \
    "  .cfi_adjust_cfa_offset -8\n"                                                                \
    "  popq %rdi\n"                                                                                \
    "  .cfi_adjust_cfa_offset -8\n"                                                                \
    "  movl %eax, " flags32 "\n"                                                                   \
    "  jmp *" real "(%rip)\n"                                                                      \
    "  .cfi_endproc\n"                                                                             \
    ".size " name ", .-" name "\n"
#elif defined(__aarch64__)
#define CF_DLOPEN_ENTRY(name, real, flags32)                                                       \
    ".text\n"                                                                                      \
    ".globl " name "\n"                                                                            \
    ".type " name ",%function\n" name ":\n"                                                        \
    "  stp x29, x30, [sp, #-48]!\n"                                                                \
    "  mov x29, sp\n"                                                                              \
    "  stp x0, x1, [sp, #16]\n"                                                                    \
    "  str x2, [sp, #32]\n"                                                                        \
    "  mov w0, " flags32 "\n"                                                                      \
    "  bl cf_before_dlopen\n"                                                                      \
    "  mov w17, w0\n"                                                                              \
    "  ldp x0, x1, [sp, #16]\n"                                                                    \
    "  ldr x2, [sp, #32]\n"                                                                        \
    "  ldp x29, x30, [sp], #48\n"                                                                  \
    "  mov " flags32 ", w17\n"                                                                     \
    "  adrp x16, " real "\n"                                                                       \
    "  ldr x16, [x16, :lo12:" real "]\n"                                                           \
    "  br x16\n"                                                                                   \
    ".size " name ", .-" name "\n"
#endif
// dlopen(file, flags), dlmopen(lmid, file, flags).
#if defined(__x86_64__)
__asm__(CF_DLOPEN_ENTRY("dlopen", "cf_real_dlopen", "%esi")
            CF_DLOPEN_ENTRY("dlmopen", "cf_real_dlmopen", "%edx"));
#elif defined(__aarch64__)
__asm__(CF_DLOPEN_ENTRY("dlopen", "cf_real_dlopen", "w1")
            CF_DLOPEN_ENTRY("dlmopen", "cf_real_dlmopen", "w2"));
#endif
