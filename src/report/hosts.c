// SPDX-License-Identifier: MIT
// Known FFI hosts in a stack. A host is where the freeing (or allocating)
// call came from; a bridge is what it called through. The first host or
// bridge frame, counting from the innermost, is where native code was
// entered; the host's name comes from the first host module at or above it.
#include "report/hosts.h"

#include "support/fmt.h"
#include "support/glob.h"

// "Python (ctypes via libffi)", "Godot via libffi", "Java (JNA)": a
// built-in label leaves its parenthesis open for the bridge.
static void name_host(cf_host_side *out, const cf_host_module *host, const cf_host_module *bridge) {
    cf_buf b;
    cf_buf_init(&b, out->host, sizeof out->host);
    bool open = false;
    for (const char *c = host->label; *c != '\0'; c++)
        open = *c == '(' ? true : *c == ')' ? false : open;
    cf_buf_printf(&b, "%s%s%s%s", host->label, bridge != NULL ? " via " : "",
                  bridge != NULL ? bridge->label : "", open ? ")" : "");
}

void cf_hosts_find(const uintptr_t *pcs, unsigned n, cf_symbolizer sym, bool names,
                   cf_host_side *out) {
    out->found = false;
    out->frame = 0;
    out->host[0] = '\0';
    out->dart = false;
    out->cgo = false;
    out->library[0] = '\0';
    out->library_frame = 0;
    cf_frame_info f;
    const cf_host_module *bridge = NULL;
    bool jit = false;
    int lib = -1; // the first frame of native code that called the deallocator
    for (unsigned i = 0; i < n; i++) {
        cf_frame_resolve(sym, pcs[i], false, &f);
        const cf_host_module *m = cf_host_module_of(f.module);
        if (m == NULL && !f.jit && names && f.module[0] != '\0') {
            cf_frame_resolve(sym, pcs[i], true, &f);
            m = cf_host_function_of(f.function);
        }
        if (m == NULL && !f.jit) {
            if (lib < 0 && !out->found && f.module[0] != '\0' && !cf_runtime_module(f.module) &&
                !cf_host_interpreter(f.module)) {
                lib = (int)i;
                cf_strlcpy(out->library, cf_path_base(f.module), sizeof out->library);
            }
            continue;
        }
        if (lib >= 0 && cf_strcmp(cf_path_base(f.module), out->library) != 0) {
            // A host called native code, and that code called the
            // deallocator: a Rust library called through ctypes, not
            // Python, chose free(). (C code in the host's own module, as
            // cgo's preamble is in a Go program, is the host's.)
            out->library_frame = (unsigned)lib;
            return;
        }
        if (lib >= 0) {
            lib = -1;
            out->library[0] = '\0';
        }
        if (!out->found) {
            out->found = true;
            out->frame = i;
        }
        if (m == NULL) {
            // Mono names every marshalling stub "(wrapper managed-to-native)
            // ..." in its perf map: that names the host even where the
            // unwinder stops at the stub, before any runtime frame.
            static const char mono_stub[] = "(wrapper *";
            if (!jit && bridge == NULL &&
                cf_glob_match(mono_stub, sizeof mono_stub - 1, f.function)) {
                cf_strlcpy(out->host, ".NET (Mono marshaller)", sizeof out->host);
                return;
            }
            jit = true;
            continue;
        }
        if (m->bridge) {
            bridge = m;
            continue;
        }
        name_host(out, m, bridge);
        out->dart = m->host == CF_HOST_DART;
        out->cgo = m->cgo;
        return;
    }
    if (!out->found) {
        out->library[0] = '\0'; // no host above it: nothing to tell apart
        return;
    }
    cf_strlcpy(out->host,
               bridge != NULL ? "an FFI host (via libffi)"
               : jit          ? "JIT code"
                              : "",
               sizeof out->host);
}

int cf_hosts_native_frame(const uintptr_t *pcs, unsigned n, cf_symbolizer sym, bool names,
                          cf_frame_info *f) {
    for (unsigned i = 0; i < n; i++) {
        cf_frame_resolve(sym, pcs[i], false, f);
        if (f->module[0] == '\0' || cf_runtime_module(f->module))
            continue;
        if (names)
            cf_frame_resolve(sym, pcs[i], true, f);
        return (int)i;
    }
    return -1;
}
