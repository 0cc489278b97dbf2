// SPDX-License-Identifier: MIT
// Which side of an FFI made a call: the innermost frame of a stack in a
// known FFI host or bridge (core/hosts.h has the table, and the
// host_modules option that adds to it), or in JIT code. Error path only;
// never allocates itself (the symbolizer may).
#ifndef CF_REPORT_HOSTS_H
#define CF_REPORT_HOSTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hosts.h"
#include "stack/symbolize.h"

typedef struct cf_host_side {
    bool found;
    unsigned frame; // index of the frame where the host crossed into native code
    char host[128]; // "Python (ctypes via libffi)"
    bool dart;      // the host is Dart (package:ffi frees with CoTaskMemFree on Windows)
    bool cgo;       // Go's cgo: the stack ends where cgo switched stacks, below the Go code
    // When native code called the deallocator and a host called that code
    // (found is false then): the file name of its module ("librsfree.so")
    // and the frame's index. "" when there is no host above it.
    char library[128];
    unsigned library_frame;
} cf_host_side;

// Finds who made the call of `pcs`. Runtime frames (libc, the C++
// runtime, crossfree) are passed over; the first frame after them decides:
// an FFI host or bridge (or JIT code) names the host, the frame where the
// host crossed into native code and, from the first host module at or
// above it, the host's name; code in any other module (a library, or the
// program) made the call itself, whatever called it, and is named in
// `library` when a host frame is further up (where the host would have been
// blamed). A host's own modules are the ones core/hosts.h lists; with
// `names`, frames are also known by function name (cf_host_function_of:
// Go's cgo call path).
void cf_hosts_find(const uintptr_t *pcs, unsigned n, cf_symbolizer sym, bool names,
                   cf_host_side *out);

// The native side of an allocation: the innermost frame outside the
// runtime modules (cf_runtime_module). Fills `f` (with names when `names`)
// and returns its index, or -1 when every frame is a runtime frame.
int cf_hosts_native_frame(const uintptr_t *pcs, unsigned n, cf_symbolizer sym, bool names,
                          cf_frame_info *f);

#endif
