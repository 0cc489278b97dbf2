// SPDX-License-Identifier: MIT
// Known FFI hosts, by module file name. A host is where the freeing (or
// allocating) call came from; a bridge is what it called through. The
// first host or bridge frame, counting from the innermost, is where native
// code was entered; the host's name comes from the first host module at or
// above it.
#include "report/hosts.h"

#include "support/fmt.h"
#include "support/glob.h"

typedef struct host_rule {
    char glob[64];
    char name[64];
    bool bridge; // a bridge (libffi) names no host of its own
    bool dart;
} host_rule;

static const host_rule builtin[] = {
    {"libffi.so*", "libffi", true, false},
    {"_ctypes*.so", "Python (ctypes", false, false},
    {"_cffi_backend*.so", "Python (cffi", false, false},
    {"ffi_c.so", "Ruby (ffi gem", false, false},
    {"fiddle.so", "Ruby (Fiddle", false, false},
    {"libjnidispatch*.so", "Java (JNA", false, false},
    // Java code calling a native method that frees directly (JNA's
    // Native.free tail-calls free): JIT frames, then the JVM.
    {"libjvm.so", "Java (JVM", false, false},
    {"koffi.node", "Node.js (koffi", false, false},
    {"luajit*", "Lua (LuaJIT ffi", false, false},
    {"libluajit*.so*", "Lua (LuaJIT ffi", false, false},
    {"libapp.so", "Dart (AOT code in libapp.so", false, true},
    {"libflutter*.so", "Dart (Flutter engine", false, true},
    {"dartaotruntime*", "Dart (VM", false, true},
    {"dart", "Dart (VM", false, true},
};

#define EXTRA_MAX 16
static host_rule extra[EXTRA_MAX];
static unsigned extra_count;

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
        if (glen == 0 || nlen == 0 || glen >= sizeof extra[0].glob ||
            nlen >= sizeof extra[0].name - 2 || extra_count == EXTRA_MAX) {
            cf_buf_str(w, "crossfree: warning: host_modules entry '");
            cf_buf_strn(w, p, (size_t)(end - p) > 64 ? 64 : (size_t)(end - p));
            cf_buf_str(w, "' ignored (expected GLOB=Name, at most 16 entries)\n");
        } else {
            host_rule *r = &extra[extra_count++];
            cf_strlcpy(r->glob, p, glen + 1);
            cf_strlcpy(r->name, eq + 1, nlen + 1);
            r->bridge = false;
            r->dart = false;
        }
        p = *end == ',' ? end + 1 : end;
    }
}

// Program-given rules first, so they can override a built-in one.
static const host_rule *rule_for(const cf_frame_info *f) {
    if (f->module[0] == '\0')
        return NULL;
    const char *base = cf_path_base(f->module);
    for (unsigned i = 0; i < extra_count; i++)
        if (cf_glob_match(extra[i].glob, cf_strlen(extra[i].glob), base))
            return &extra[i];
    for (unsigned i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (cf_glob_match(builtin[i].glob, cf_strlen(builtin[i].glob), base))
            return &builtin[i];
    return NULL;
}

void cf_hosts_find(const uintptr_t *pcs, unsigned n, cf_symbolizer sym, cf_host_side *out) {
    out->found = false;
    out->frame = 0;
    out->host[0] = '\0';
    out->dart = false;
    cf_frame_info f;
    const host_rule *bridge = NULL;
    bool jit = false;
    for (unsigned i = 0; i < n; i++) {
        cf_frame_resolve(sym, pcs[i], false, &f);
        const host_rule *r = rule_for(&f);
        if (r == NULL && !f.jit)
            continue;
        if (!out->found) {
            out->found = true;
            out->frame = i;
        }
        if (r == NULL) {
            jit = true;
            continue;
        }
        if (r->bridge) {
            bridge = r;
            continue;
        }
        cf_buf b;
        cf_buf_init(&b, out->host, sizeof out->host);
        cf_buf_str(&b, r->name);
        if (bridge != NULL) {
            cf_buf_str(&b, " via ");
            cf_buf_str(&b, bridge->name);
        }
        if (r->name[cf_strlen(r->name) - 1] != ')' && r->name[0] != '\0') {
            // Built-in names leave their parenthesis open for "via ...".
            bool open = false;
            for (const char *c = r->name; *c != '\0'; c++)
                open = *c == '(' ? true : *c == ')' ? false : open;
            if (open)
                cf_buf_char(&b, ')');
        }
        out->dart = r->dart;
        return;
    }
    if (!out->found)
        return;
    cf_strlcpy(out->host,
               bridge != NULL ? "an FFI host (via libffi)"
               : jit          ? "JIT code"
                              : "",
               sizeof out->host);
}

static bool is_runtime_module(const char *module) {
    static const char *const globs[] = {
        "libc.so*",         "libc-*.so",     "libstdc++.so*", "libc++.so*", "libc++abi.so*",
        "libcrossfree.so*", "ld-linux*.so*", "libgcc_s.so*",  "libffi.so*",
    };
    const char *base = cf_path_base(module);
    for (unsigned i = 0; i < sizeof globs / sizeof globs[0]; i++)
        if (cf_glob_match(globs[i], cf_strlen(globs[i]), base))
            return true;
    return false;
}

int cf_hosts_native_frame(const uintptr_t *pcs, unsigned n, cf_symbolizer sym, bool names,
                          cf_frame_info *f) {
    for (unsigned i = 0; i < n; i++) {
        cf_frame_resolve(sym, pcs[i], false, f);
        if (f->module[0] == '\0' || is_runtime_module(f->module))
            continue;
        if (names)
            cf_frame_resolve(sym, pcs[i], true, f);
        return (int)i;
    }
    return -1;
}
