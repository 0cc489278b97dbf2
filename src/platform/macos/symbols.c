// SPDX-License-Identifier: MIT
// The Mach-O symbolizer: module and offset from dyld's image list (or the
// history of unloaded images), function names from dladdr. No file:line:
// that needs the DWARF in a .dSYM, which `atos` reads offline from the
// module+offset every frame prints (docs/macos.md). With names == false it
// never allocates, because it runs inside the malloc and free wrappers.
#include "stack/history.h"
#include "stack/symbolize.h"

#include <dlfcn.h>
#include <mach-o/dyld.h>
#include <mach-o/loader.h>
#include <stdatomic.h>
#include <string.h>

#include "platform/macos/macos.h"
#include "platform/platform.h"
#include "support/demangle_rust.h"
#include "support/fmt.h"

#define MODULE_CAP sizeof(((cf_frame_info *)0)->module)

// ---------------------------------------------------------------------------
// Live images

// Calls `visit` with the slid bounds of each mapped segment of `h` (not
// __PAGEZERO, which maps nothing) until it returns true.
typedef bool segment_visitor(uintptr_t lo, uintptr_t hi, void *data);

static bool each_segment(const struct mach_header_64 *h, intptr_t slide, segment_visitor *visit,
                         void *data) {
    const struct load_command *lc = (const struct load_command *)(h + 1);
    for (uint32_t i = 0; i < h->ncmds; i++) {
        if (lc->cmd == LC_SEGMENT_64) {
            const struct segment_command_64 *seg = (const struct segment_command_64 *)lc;
            if (seg->vmsize != 0 && seg->initprot != 0) {
                uintptr_t lo = (uintptr_t)seg->vmaddr + (uintptr_t)slide;
                if (visit(lo, lo + (uintptr_t)seg->vmsize, data))
                    return true;
            }
        }
        lc = (const struct load_command *)((const char *)lc + lc->cmdsize);
    }
    return false;
}

static bool contains_pc(uintptr_t lo, uintptr_t hi, void *data) {
    uintptr_t pc = *(const uintptr_t *)data;
    return pc - lo < hi - lo; // one unsigned comparison: pc below lo wraps
}

typedef struct live_image {
    const struct mach_header_64 *header;
    intptr_t slide;
    const char *path;
} live_image;

// Finds the loaded image with a segment holding pc. dyld's accessors take
// its own lock, never crossfree's, and do not allocate.
static bool find_live(uintptr_t pc, live_image *out) {
    uint32_t count = _dyld_image_count();
    for (uint32_t i = 0; i < count; i++) {
        const struct mach_header_64 *h = (const struct mach_header_64 *)_dyld_get_image_header(i);
        if (h == NULL || h->magic != MH_MAGIC_64)
            continue;
        intptr_t slide = _dyld_get_image_vmaddr_slide(i);
        if (each_segment(h, slide, contains_pc, &pc)) {
            out->header = h;
            out->slide = slide;
            const char *path = _dyld_get_image_name(i);
            out->path = path != NULL ? path : "";
            return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------------------
// History of images, for frames in libraries dlclose'd since

// (stack/history.c); images in the dyld shared cache never unload and are
// not recorded.

typedef struct span {
    uintptr_t lo, hi;
} span;

static bool widen(uintptr_t lo, uintptr_t hi, void *data) {
    span *s = data;
    if (lo < s->lo)
        s->lo = lo;
    if (hi > s->hi)
        s->hi = hi;
    return false;
}

static void note_one(const struct mach_header_64 *h, intptr_t slide, const char *path,
                     uint64_t gen) {
    span s = {UINTPTR_MAX, 0};
    each_segment(h, slide, widen, &s);
    if (s.lo >= s.hi)
        return;
    cf_history_entry m = {.bias = (uintptr_t)slide, .lo = s.lo, .hi = s.hi};
    cf_strlcpy(m.path, path, sizeof m.path);
    cf_history_note(gen, &m);
}

void cf_symbolize_note_modules(void) {
    uint64_t gen = cf_history_begin();
    if (gen == 0)
        return;
    uint32_t count = _dyld_image_count();
    for (uint32_t i = 0; i < count; i++) {
        const struct mach_header_64 *h = (const struct mach_header_64 *)_dyld_get_image_header(i);
        if (h == NULL || h->magic != MH_MAGIC_64 || (h->flags & MH_DYLIB_IN_CACHE) != 0)
            continue;
        const char *path = _dyld_get_image_name(i);
        note_one(h, _dyld_get_image_vmaddr_slide(i), path != NULL ? path : "", gen);
    }
}

// Reports only: the FFI bridges' ranges (runtime/hooks.c) are a Linux
// refinement, so the first free of a double free keeps one frame here.
unsigned cf_os_module_ranges(bool (*want)(const char *path), uintptr_t *lo, uintptr_t *hi,
                             unsigned max) {
    (void)want, (void)lo, (void)hi, (void)max;
    return 0;
}

void cf_symbolize_reset(void) {
    // Nothing is cached: dladdr reads dyld's current state every time.
}

// ---------------------------------------------------------------------------
// Names (error path: may allocate)

// __cxa_demangle is libc++abi's, which this library links (libc++ is one
// of its load commands), so RTLD_DEFAULT finds it.
typedef char *demangle_fn(const char *mangled, char *buf, size_t *len, int *status);
static _Atomic(demangle_fn *) demangler;

static demangle_fn *find_demangler(void) {
    demangle_fn *fn = atomic_load_explicit(&demangler, memory_order_acquire);
    if (fn != NULL)
        return fn;
    void *sym = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    if (sym == NULL)
        return NULL;
    // ISO C has no object-to-function pointer conversion; POSIX guarantees
    // that dlsym's result can be converted, and memcpy says so portably.
    memcpy(&fn, &sym, sizeof fn);
    atomic_store_explicit(&demangler, fn, memory_order_release);
    return fn;
}

static void demangle(cf_frame_info *out) {
    // dladdr gives C-level names: "_ZN3app4mainEv", without Mach-O's extra
    // leading underscore. Rust first: its legacy names are C++ names too.
    char rust[sizeof out->function];
    if (cf_demangle_rust(out->function, rust, sizeof rust)) {
        cf_strlcpy(out->function, rust, sizeof out->function);
        return;
    }
    if (out->function[0] != '_' || out->function[1] != 'Z')
        return;
    demangle_fn *fn = find_demangler();
    if (fn == NULL)
        return;
    int status = -1;
    char *plain = fn(out->function, NULL, NULL, &status);
    if (plain != NULL && status == 0)
        cf_strlcpy(out->function, plain, sizeof out->function);
    // __cxa_demangle's malloc went through crossfree's wrapper; so must the
    // free (a plain free() from this image would bypass it).
    cf_macos_free(plain);
}

static void fill_names(uintptr_t pc, cf_frame_info *out) {
    // pc is a return address: the call itself ends one byte earlier, and pc
    // may already belong to the next function.
    Dl_info info;
    if (dladdr((const void *)(pc - 1), &info) == 0 || info.dli_sname == NULL ||
        info.dli_sname[0] == '\0')
        return;
    cf_strlcpy(out->function, info.dli_sname, sizeof out->function);
    out->func_offset = pc - (uintptr_t)info.dli_saddr;
    demangle(out);
}

// ---------------------------------------------------------------------------
// Entry point

bool cf_symbolize(uintptr_t pc, bool names, cf_frame_info *out) {
    memset(out, 0, sizeof *out);
    out->pc = pc;
    if (pc == 0)
        return false;
    // The offset is pc minus the image's slide: the address in the file's
    // own address space, which `atos -o MODULE OFFSET` takes as it is.
    live_image img;
    cf_history_entry gone;
    if (find_live(pc, &img)) {
        cf_strlcpy(out->module, img.path, sizeof out->module);
        out->offset = pc - (uintptr_t)img.slide;
    } else if (cf_history_find(pc, &gone)) {
        cf_strlcpy(out->module, gone.path, sizeof out->module);
        out->offset = pc - gone.bias;
        out->unloaded = true;
        return true; // dladdr knows nothing of an unloaded image
    } else {
        return false;
    }
    if (names)
        fill_names(pc, out);
    return true;
}
