// SPDX-License-Identifier: MIT
// The runtime: start-up, per-thread state, and the two hooks every
// platform wrapper calls (after an allocation, instead of a deallocation).
// This is the hot path: no malloc, no global lock, no syscall unless a table
// grows or an error is reported.
#ifndef CF_RUNTIME_RUNTIME_H
#define CF_RUNTIME_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/family.h"
#include "core/table.h"
#include "platform/platform.h"

enum { CF_RT_UNINIT = 0, CF_RT_INITIALIZING = 1, CF_RT_READY = 2 };

typedef struct cf_tls {
    uint32_t tid1;     // crossfree thread number + 1; 0 = not assigned yet
    int guard;         // > 0 inside crossfree's own code (and its dependencies)
    bool initializing; // this thread runs cf_rt_init
} cf_tls;

extern atomic_int cf_rt_state;
#if CF_OS_MACOS
// No __thread on macOS: the platform keeps the record (platform.h).
#define cf_tls_data (*cf_platform_tls())
#else
extern __thread cf_tls cf_tls_data __attribute__((tls_model("initial-exec")));
#endif

// True when the runtime is ready. Otherwise initialises it (or waits for
// the thread that does) and returns false only to the initialising thread
// itself, whose allocations must then come from the bootstrap arena.
bool cf_rt_enter_slow(void);
static inline bool cf_rt_enter(void) {
    return atomic_load_explicit(&cf_rt_state, memory_order_acquire) == CF_RT_READY ||
           cf_rt_enter_slow();
}

// The recursion guard: allocations made while it is held (by crossfree's
// own dependencies) are tracked without stacks or checks. CF_RT_GUARDED
// holds it from that line to the end of the enclosing scope, however the
// scope is left: a return, or a C++ exception from the real operator new
// passing through (crossfree is built with -fexceptions for that).
static inline bool cf_rt_guarded(void) { return cf_tls_data.guard > 0; }
static inline void cf_rt_guard_release_(const int *unused) {
    (void)unused;
    cf_tls_data.guard--;
}
#define CF_RT_GUARDED                                                                              \
    __attribute__((cleanup(cf_rt_guard_release_))) const int cf_rt_guard_scope_ =                  \
        cf_tls_data.guard++;                                                                       \
    (void)cf_rt_guard_scope_

// The calling thread's crossfree number (T0 is the first thread that
// allocated), assigned on first use. Inline: the hooks ask on every call.
uint32_t cf_rt_tid_assign(void);
static inline uint32_t cf_rt_tid(void) {
    uint32_t tid1 = cf_tls_data.tid1;
    return tid1 != 0 ? tid1 - 1 : cf_rt_tid_assign();
}

// Thread creation, for a shim that wraps the OS's call (pthread_create):
// cf_rt_thread_creating numbers the new thread, records its creator and the
// creating call's stack, and returns the argument to create it with
// instead, cf_rt_thread_start being its start routine; NULL means create
// it as asked (crossfree is not checking, or its registry is full). Never
// allocates. cf_rt_thread_create_failed undoes it when creation failed.
void *cf_rt_thread_creating(void *(*start)(void *), void *arg);
void *cf_rt_thread_start(void *slot);
void cf_rt_thread_create_failed(void *slot);

// Bootstrap arena for allocations made while crossfree initialises.
void *cf_rt_bootstrap_alloc(size_t size, size_t align);
// Inline: every free asks.
#define CF_RT_BOOTSTRAP_BYTES (256u * 1024u)
extern unsigned char cf_rt_bootstrap[CF_RT_BOOTSTRAP_BYTES];
static inline bool cf_rt_is_bootstrap(const void *p) {
    return (const unsigned char *)p >= cf_rt_bootstrap &&
           (const unsigned char *)p < cf_rt_bootstrap + CF_RT_BOOTSTRAP_BYTES;
}
size_t cf_rt_bootstrap_size(const void *p);

// Records a successful allocation of `size` bytes at `p` (p may be NULL)
// by `fn` of `family` (for built-in functions, cf_family_of_alloc(fn)).
void cf_rt_on_alloc_family(cf_alloc_fn fn, unsigned family, void *p, size_t size);
static inline void cf_rt_on_alloc(cf_alloc_fn fn, void *p, size_t size) {
    cf_rt_on_alloc_family(fn, cf_family_of_alloc(fn), p, size);
}
// The same for operator new, also remembering the alignment `align` its
// aligned forms were asked for (0: an unaligned form), which the aligned
// operator delete must be given again.
void cf_rt_on_alloc_aligned(cf_alloc_fn fn, void *p, size_t size, size_t align);

// Block headers (core/header.h; platforms with CF_BLOCK_HEADERS): the
// bytes a wrapper adds in front of each malloc-like request, CF_HEADER_SIZE
// when this process is checked and 0 otherwise. Set before the runtime is
// ready and never changed after.
extern size_t cf_rt_header_bytes;

// Records a block the real allocator returned at `real` (may be NULL) for
// a request of `size` + cf_rt_header_bytes bytes, and returns the pointer
// the program gets: real + cf_rt_header_bytes, its header written.
void *cf_rt_on_alloc_header(cf_alloc_fn fn, void *real, size_t size);

// Where the real allocator's block of the program's pointer `p` starts:
// p - CF_HEADER_SIZE for a live block with a header, else p.
uintptr_t cf_rt_real_block(const void *p);

// The live record of `p` (header or table); false if there is none.
bool cf_rt_lookup(const void *p, cf_record *out);

// Handles a deallocation call `fn` (a built-in or CF_DEALLOC_CUSTOM of
// `family`) of p != NULL: checks it, reports, and releases the block
// through cf_platform_release now or after its time in the quarantine.
// Blocks of program-registered families are checked but never quarantined
// or released. A block with no record that the quarantine does not hold
// is released unchecked when another allocator's malloc comes first
// (cf_platform_allocator_shadowed): that allocator made it unseen. Returns
// false when an error was reported (and the run goes on because
// halt_on_error=0).
bool cf_rt_on_free(cf_dealloc_fn fn, unsigned family, void *p);

// cf_rt_on_free for a C++ operator delete, with the `size` of a sized form
// and the `align` of an aligned one (0 for a form without them): a block
// of the right family given a size other than its own, or an alignment its
// address lacks, is reported as a new-delete-size-mismatch or
// new-delete-alignment-mismatch.
bool cf_rt_on_delete(cf_dealloc_fn fn, unsigned family, void *p, size_t size, size_t align);

// realloc in two steps around the real call. begin checks and detaches the
// record of `p`; false means the pointer must not be touched (an invalid
// or double free was reported and halt_on_error=0). The real call is made
// on cf_record_real_addr(saved); a block with a header (cf_record_has_header)
// asks for `size` + CF_HEADER_SIZE bytes, unless size is 0. end records the
// result `newp` of that call and returns the program's pointer (newp plus
// the header, when one was asked for). A block crossfree never saw, when
// another allocator's malloc comes first (cf_platform_allocator_shadowed),
// is that allocator's: *saved is then a stand-in (cf_record_is_foreign),
// and end returns newp as it is, untracked.
bool cf_rt_realloc_begin(cf_dealloc_fn fn, void *p, cf_record *saved);
// cf_rt_realloc_begin for the resizing call `fn` (CF_DEALLOC_CUSTOM for a
// registered family's) of `family`: Windows' LocalReAlloc, HeapReAlloc, ...
bool cf_rt_resize_begin(cf_dealloc_fn fn, unsigned family, void *p, cf_record *saved);
void *cf_rt_realloc_end(cf_alloc_fn fn, const cf_record *saved, void *newp, size_t size);

// A deallocation call `fn` of p != NULL that the platform hands on to a
// deallocator of the program's own (a replaced operator delete) rather
// than to crossfree's release: checks it and detaches the record into
// *saved, judging a family difference as cf_rt_on_free does (a module's
// private operators match). Returns -1 when an invalid or double free was
// reported and p must not be touched (halt_on_error=0), 0 after a reported
// mismatch, 1 when the pair is right.
int cf_rt_release_begin(cf_dealloc_fn fn, void *p, cf_record *saved);

// Errors reported so far, all kinds.
uint64_t cf_rt_error_count(void);

// Called by the platform at process exit (a destructor): with
// halt_on_error=0 and errors reported, prints the summary and exits with
// `exitcode`.
void cf_rt_at_exit(void);

// A module is about to load, or was unloaded: every cache keyed by code
// address (the unwinders' rules and chains, semantics=windows' frame
// classes) forgets what it knew, since other code may now sit there. Safe
// before start-up.
void cf_rt_modules_changed(void);

// Whether this process is checked (true until start-up decides otherwise:
// `only` may exclude it).
bool cf_rt_checking(void);

// Lists the FFI bridges' (libffi's) address ranges again: a release called
// from one keeps enough frames to reach the FFI host (free_context_size=1
// keeps one otherwise). Called at start-up and from cf_rt_modules_changed;
// never allocates.
void cf_rt_bridges_refresh(void);
// Lists where crossfree's private code lies (runtime/hooks.c). Called once,
// at start-up, where the loader may be entered.
void cf_rt_private_code_note(void);

// fork handlers (registered by the platform).
void cf_rt_fork_prepare(void);
void cf_rt_fork_parent(void);
void cf_rt_fork_child(void);

#endif
