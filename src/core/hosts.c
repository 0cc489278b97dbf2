// SPDX-License-Identifier: MIT
// The table of known modules and hosts. A module is matched by its file
// name only, so a host found under any install prefix is still the host.
// The program-given entries (host_modules) live in a fixed array filled at
// start-up: no allocation, ever.
#include "core/hosts.h"

#include "support/glob.h"
#include "support/log.h"

// ---------------------------------------------------------------------------
// Hosts

// What each host's FFI uses on Windows. Dart's package:ffi and .NET's
// marshaller call CoTaskMemAlloc/CoTaskMemFree there; the others call the C
// runtime the interpreter was built with, the shared UCRT in the usual
// builds.
static const cf_host hosts[CF_HOST_COUNT] = {
    [CF_HOST_NONE] = {"none", "the host", false, false, false},
    [CF_HOST_DART] = {"dart", "Dart's package:ffi", true, true, false},
    [CF_HOST_DOTNET] = {"dotnet", ".NET's marshaller", true, true, false},
    [CF_HOST_PYTHON] = {"python", "Python's ctypes/cffi", false, false, true},
    [CF_HOST_NODE] = {"node", "Node.js's koffi", false, false, false},
    [CF_HOST_RUBY] = {"ruby", "Ruby's ffi gem/Fiddle", false, false, true},
    [CF_HOST_LUA] = {"lua", "LuaJIT's ffi", false, true, false},
    [CF_HOST_JAVA] = {"java", "Java's JNA", false, false, true},
};

const cf_host *cf_host_get(cf_host_id id) {
    return (unsigned)id < CF_HOST_COUNT ? &hosts[id] : &hosts[CF_HOST_NONE];
}

bool cf_host_find(const char *name, cf_host_id *id) {
    for (unsigned i = 0; i < CF_HOST_COUNT; i++) {
        if (cf_strcmp(name, hosts[i].name) == 0) {
            *id = (cf_host_id)i;
            return true;
        }
    }
    return false;
}

void cf_host_names(cf_buf *out) {
    for (unsigned i = CF_HOST_NONE + 1; i < CF_HOST_COUNT; i++)
        cf_buf_printf(out, "%s%s", i > CF_HOST_NONE + 1 ? ", " : "", hosts[i].name);
    cf_buf_printf(out, " or %s", hosts[CF_HOST_NONE].name);
}

// ---------------------------------------------------------------------------
// Modules

// The C and C++ runtimes, the loader and crossfree: their frames are
// charged to whoever called them (as a Windows CRT serves the module that
// calls it). FFI bridges count too; they are in `builtin` below.
static const char runtime_globs[] = "libc.so*,libc-*.so,libm.so*,libpthread.so*,libdl.so*,"
                                    "libstdc++.so*,libc++.so*,libc++abi.so*,libgcc_s.so*,"
                                    "ld-linux*.so*,ld-musl*,libcrossfree.so*";

// The Flutter engine, the Dart VM and the JVM are hosts' modules for
// reports (a free from there is a free from the host's side), but not the
// host's own code for semantics=windows: on Windows they call the CRT like
// any native module; only Dart code calls package:ffi, only Java code JNA.
static const cf_host_module builtin[] = {
    // glob, label, host, bridge, code, given, cgo
    {"libffi.so*", "libffi", CF_HOST_NONE, true, false, false, false},
    {"_ctypes*.so", "Python (ctypes", CF_HOST_PYTHON, false, true, false, false},
    {"_cffi_backend*.so", "Python (cffi", CF_HOST_PYTHON, false, true, false, false},
    {"ffi_c.so", "Ruby (ffi gem", CF_HOST_RUBY, false, true, false, false},
    {"fiddle.so", "Ruby (Fiddle", CF_HOST_RUBY, false, true, false, false},
    {"libjnidispatch*.so", "Java (JNA", CF_HOST_JAVA, false, true, false, false},
    // Java code calling a native method that frees directly (JNA's
    // Native.free tail-calls free): JIT frames, then the JVM.
    {"libjvm.so", "Java (JVM", CF_HOST_JAVA, false, false, false, false},
    {"koffi.node", "Node.js (koffi", CF_HOST_NODE, false, true, false, false},
    // Perl's FFI::Platypus (auto/FFI/Platypus/Platypus.so) and PHP's FFI
    // extension (ffi.so) call through libffi.
    {"Platypus.so", "Perl (FFI::Platypus", CF_HOST_NONE, false, false, false, false},
    {"ffi.so", "PHP (FFI", CF_HOST_NONE, false, false, false, false},
    {"luajit*", "Lua (LuaJIT ffi", CF_HOST_LUA, false, true, false, false},
    {"libluajit*.so*", "Lua (LuaJIT ffi", CF_HOST_LUA, false, true, false, false},
    {"libapp.so", "Dart (AOT code in libapp.so", CF_HOST_DART, false, true, false, false},
    {"libflutter*.so", "Dart (Flutter engine", CF_HOST_DART, false, false, false, false},
    {"dartaotruntime*", "Dart (VM", CF_HOST_DART, false, false, false, false},
    {"dart", "Dart (VM", CF_HOST_DART, false, false, false, false},
    // .NET's marshaller frees through SystemNative_Free.
    {"libSystem.Native.so", ".NET (System.Native", CF_HOST_DOTNET, false, true, false, false},
    // Mono's marshaller is JIT code (a managed-to-native wrapper) that calls
    // free itself; the runtime under it is the first named frame. On Windows
    // the runtime calls the CRT like any native module: not the host's code.
    {"mono-sgen", ".NET (Mono marshaller", CF_HOST_DOTNET, false, false, false, false},
    {"mono", ".NET (Mono marshaller", CF_HOST_DOTNET, false, false, false, false},
    {"libmonosgen-2.0.so*", ".NET (Mono marshaller", CF_HOST_DOTNET, false, false, false, false},
    // CoreCLR (Windows, and Linux): the marshaller's CoTaskMemFree and
    // Marshal.FreeHGlobal's LocalFree are precompiled code of the core library.
    {"System.Private.CoreLib.dll", ".NET (CoreCLR marshaller", CF_HOST_DOTNET, false, false, false,
     false},
    {"coreclr.dll", ".NET (CoreCLR", CF_HOST_DOTNET, false, false, false, false},
    {"libcoreclr.so", ".NET (CoreCLR", CF_HOST_DOTNET, false, false, false, false},
};

// Go: a call from Go to C goes through runtime.cgocall and
// runtime.asmcgocall (which switches to the thread's system stack) to the
// C wrapper cgo generated for the function. A deallocator C.free calls
// comes straight from the wrapper, or from asmcgocall when the wrapper
// tail-called it.
static const cf_host_module by_function[] = {
    // glob, label, host, bridge, code, given, cgo
    {"_cgo_*_Cfunc_*", "Go (cgo", CF_HOST_NONE, false, false, false, true},
    {"runtime.asmcgocall*", "Go (cgo", CF_HOST_NONE, false, false, false, true},
    {"runtime.cgocall", "Go (cgo", CF_HOST_NONE, false, false, false, true},
};

const cf_host_module *cf_host_function_of(const char *function) {
    if (function == NULL || function[0] == '\0')
        return NULL;
    for (unsigned i = 0; i < sizeof by_function / sizeof by_function[0]; i++)
        if (cf_glob_match(by_function[i].glob, cf_strlen(by_function[i].glob), function))
            return &by_function[i];
    return NULL;
}

#define GIVEN_MAX 16
#define GIVEN_LEN 64

static struct given {
    cf_host_module rule;
    char glob[GIVEN_LEN];
    char name[GIVEN_LEN];
} given[GIVEN_MAX];
static unsigned given_count;

static bool matches(const cf_host_module *m, const char *base) {
    return cf_glob_match(m->glob, cf_strlen(m->glob), base);
}

const cf_host_module *cf_host_module_of(const char *module) {
    if (module == NULL || module[0] == '\0')
        return NULL;
    const char *base = cf_path_base(module);
    for (unsigned i = 0; i < given_count; i++)
        if (matches(&given[i].rule, base))
            return &given[i].rule;
    for (unsigned i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (matches(&builtin[i], base))
            return &builtin[i];
    return NULL;
}

// The interpreters and VMs themselves, when they are not a host module
// above: their code runs on behalf of the host's FFI (Fiddle frees through
// libruby's ruby_xfree), so it neither names a host nor counts as a
// library that freed on its own.
static const char interpreter_globs[] =
    "libruby*.so*,ruby*,libpython*.so*,python*,node,nodejs,libnode.so*,java,libjli.so,"
    "perl*,libperl.so*,php*,libphp*.so,mono*,libmonosgen*.so*,libcoreclr.so,dotnet,"
    "lua*,liblua*.so*";

bool cf_host_interpreter(const char *module) {
    if (module == NULL || module[0] == '\0')
        return false;
    return cf_glob_match_list(interpreter_globs, cf_path_base(module));
}

bool cf_runtime_module(const char *module) {
    if (module == NULL || module[0] == '\0')
        return false;
    const char *base = cf_path_base(module);
    if (cf_glob_match_list(runtime_globs, base))
        return true;
    for (unsigned i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (builtin[i].bridge && matches(&builtin[i], base))
            return true;
    return false;
}

void cf_hosts_configure(const char *spec, cf_buf *w) {
    const char *p = spec;
    while (p != NULL && *p != '\0') {
        const char *end = p;
        while (*end != '\0' && *end != ',')
            end++;
        const char *eq = p;
        while (eq < end && *eq != '=')
            eq++;
        size_t glen = (size_t)(eq - p);
        size_t nlen = eq < end ? (size_t)(end - eq - 1) : 0;
        if (glen == 0 || nlen == 0 || glen >= GIVEN_LEN || nlen >= GIVEN_LEN - 2 ||
            given_count == GIVEN_MAX) {
            int shown = end - p > 64 ? 64 : (int)(end - p);
            cf_log_append(w, CF_LOG_WARNING,
                          "option 'host_modules': entry '%.*s' ignored (expected GLOB=Name, at "
                          "most %d entries)",
                          shown, p, GIVEN_MAX);
        } else {
            struct given *g = &given[given_count++];
            cf_strlcpy(g->glob, p, glen + 1);
            cf_strlcpy(g->name, eq + 1, nlen + 1);
            g->rule = (cf_host_module){g->glob, g->name, CF_HOST_NONE, false, false, true, false};
        }
        p = *end == ',' ? end + 1 : end;
    }
}

void cf_hosts_forget_given(void) { given_count = 0; }
