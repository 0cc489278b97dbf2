// SPDX-License-Identifier: MIT
// semantics=windows: judges each release on Linux as a Windows build of the
// same program would make it. A call from the FFI host's own code uses the
// host's Windows allocator (Dart's package:ffi and .NET: CoTaskMem; Python,
// Ruby, Java, Node, Lua: their C runtime heap); a call from a native module
// uses that module's CRT heap (the one shared UCRT heap, or its own for a
// module linked with a static CRT); a stack that passes through a listed
// host-compatible allocator (dart_malloc) belongs to the host.
//
// Nothing here runs unless semantics=windows: the allocation path is
// unchanged, and the release path asks for each frame's module once, then
// reads it from a lock-free cache keyed by the program counter.
#ifndef CF_RUNTIME_WINSEM_H
#define CF_RUNTIME_WINSEM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/table.h"
#include "report/report.h"
#include "report/windows_view.h"
#include "support/fmt.h"

// Reads the four options. Problems become one warning line each and keep
// the default. host_modules is not read here any more: its entries, which
// count as the active host's code, come from the table in core/hosts.h
// (cf_hosts_configure, which the runtime calls first); the parameter stays
// until runtime.c stops passing it. Returns true when semantics=windows is
// on. May be called again (tests): the previous configuration and cache
// are dropped.
bool cf_winsem_configure(const char *semantics, const char *host, const char *host_allocators,
                         const char *static_crt_modules, const char *host_modules,
                         cf_buf *warnings);

// Whether semantics=windows is on.
bool cf_winsem_enabled(void);

// Adds a host-compatible allocator (a glob over function names) at run
// time, for crossfree_host_allocator(). False when the name is empty or too
// long, or the list (32 entries) is full.
bool cf_winsem_add_host_allocator(const char *glob);

// Code may have moved (a module was unloaded): cached frame classes are
// dropped lazily.
void cf_winsem_modules_changed(void);

// Judges the release of `rec` by `dealloc_fn` (of `dealloc_family`) from
// the stack `pcs`. `linux_ok` says whether the Linux families match.
// Returns -1 when the pair cannot be judged (a program-registered family,
// no allocation or release stack), else 1 when Windows would accept the
// pair and 0 when it would not. The words of `*v` are filled only when a
// report follows (Windows rejects the pair, or Linux did). The caller holds
// the recursion guard: the symbolizer may allocate.
int cf_winsem_judge(const cf_record *rec, unsigned dealloc_fn, unsigned dealloc_family,
                    const uintptr_t *pcs, unsigned n, bool linux_ok, cf_symbolizer sym,
                    cf_winview *v);

// A fork child must not inherit a lock held by a thread that is gone.
void cf_winsem_fork_child(void);

#endif
