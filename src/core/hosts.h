// SPDX-License-Identifier: MIT
// What crossfree knows about a module from its file name alone: the C and
// C++ runtimes (never a program's own code), the FFI bridges (libffi) and
// the FFI hosts (Python, Ruby, Java, Node.js, Lua, Dart, .NET), with what
// each host's FFI allocates with on Windows. One table for the reports
// (report/hosts.h: which side of an FFI freed) and for semantics=windows
// (runtime/winsem.h: whose allocator a frame uses). Pure data and glob
// matching: no platform call, no allocation.
#ifndef CF_CORE_HOSTS_H
#define CF_CORE_HOSTS_H

#include <stdbool.h>

#include "support/fmt.h"

// The hosts of the host= option (semantics=windows), in its order.
typedef enum cf_host_id {
    CF_HOST_NONE = 0,
    CF_HOST_DART,
    CF_HOST_DOTNET,
    CF_HOST_PYTHON,
    CF_HOST_NODE,
    CF_HOST_RUBY,
    CF_HOST_LUA,
    CF_HOST_JAVA,
    CF_HOST_COUNT,
} cf_host_id;

typedef struct cf_host {
    const char *name;  // "dart": the value of host=
    const char *words; // "Dart's package:ffi": who frees on the host's side
    bool cotaskmem;    // on Windows its FFI uses COM's task allocator (else the CRT)
    bool jit;          // code outside any module (JIT, hand-mapped AOT code) is its own
    bool bridge;       // calls it makes through libffi are its own
} cf_host;

// A module known by name: built in, or given by the host_modules option.
typedef struct cf_host_module {
    const char *glob;  // over the module's file name
    const char *label; // the side, in reports: "Python (ctypes"; a built-in
                       // label leaves its parenthesis open for " via libffi)"
    cf_host_id host;   // CF_HOST_NONE for a bridge and for host_modules entries
    bool bridge;       // an FFI bridge: names no host of its own
    bool code;         // semantics=windows: the host's own code, which allocates
                       // with the host's Windows allocator (an engine or VM
                       // written in C++ uses the CRT like any native module)
    bool given;        // from host_modules
    bool cgo;          // Go's cgo: stacks end where cgo switched to the system stack
} cf_host_module;

// The host `id` (CF_HOST_NONE: "none", "the host", no flags).
const cf_host *cf_host_get(cf_host_id id);

// The host whose name is `name`; false (and *id unchanged) when none is.
bool cf_host_find(const char *name, cf_host_id *id);

// "dart, dotnet, python, node, ruby, lua, java or none": the values of host=.
void cf_host_names(cf_buf *out);

// The module rule for `module` (a path or a file name; only the file name
// is matched): host_modules entries first, so they can override a built-in
// rule, then the built-in ones. NULL when none matches.
const cf_host_module *cf_host_module_of(const char *module);

// The rule for a frame known by its function name rather than its module:
// Go links its runtime and cgo's C wrappers (_cgo_HASH_Cfunc_NAME) into
// the executable, whatever that is called. NULL when none matches.
const cf_host_module *cf_host_function_of(const char *function);

// Whether frames in `module` (a path or a file name) are never a
// program's own code, but run on behalf of whoever called them: the C and
// C++ runtimes, the loader, crossfree itself, and the FFI bridges.
bool cf_runtime_module(const char *module);

// Whether `module` is an interpreter or VM of a known host (libruby,
// libpython, node, java, ...): code that runs on behalf of the host's FFI,
// never a library of the program's own.
bool cf_host_interpreter(const char *module);

// Adds host modules from the host_modules option: "GLOB=Name,GLOB=Name".
// Entries accumulate over calls (at most 16 in all). Each entry that
// cannot be taken appends one warning line to `warnings`.
void cf_hosts_configure(const char *spec, cf_buf *warnings);

// Forgets every host_modules entry (tests and fuzzing: start-up adds them once).
void cf_hosts_forget_given(void);

#endif
