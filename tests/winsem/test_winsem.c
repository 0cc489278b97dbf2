// SPDX-License-Identifier: MIT
// Unit tests for semantics=windows: the decision (runtime/winsem.c) over
// stacks made of fake frames (a plugin, Dart's libapp.so, libc, libffi,
// Python's _ctypes, JIT code), the words (report/windows_view.c), and how
// the text and JSON reports carry the view. No preloading: the symbolizer
// is a table, and the cache is checked by changing that table under it.
#include "runtime/winsem.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "core/family.h"
#include "report/json.h"
#include "report/report.h"
#include "stack/depot.h"

// ---------------------------------------------------------------------------
// Fake frames

#define PC_PLUGIN ((uintptr_t)0x7f0000001000)      // make_buffer in libplugin.so
#define PC_DART_MALLOC ((uintptr_t)0x7f0000001100) // dart_malloc in libplugin.so (C++)
#define PC_DART_FREE ((uintptr_t)0x7f0000001200)   // dart_free, mangled (no demangler)
#define PC_NEW_OP ((uintptr_t)0x7f0000001300)      // DartReadable::operator new[]
#define PC_OTHER ((uintptr_t)0x7f0000002000)       // libother.so
#define PC_APP ((uintptr_t)0x7f0000003000)         // Dart code in libapp.so
#define PC_APP2 ((uintptr_t)0x7f0000003100)
#define PC_EXE ((uintptr_t)0x401000)               // the embedder executable
#define PC_LIBC ((uintptr_t)0x7f0000004000)        // strdup in libc.so.6
#define PC_LIBC2 ((uintptr_t)0x7f0000004100)       // start_thread in libc.so.6
#define PC_FFI ((uintptr_t)0x7f0000005000)         // libffi.so.8
#define PC_CTYPES ((uintptr_t)0x7f0000006000)      // Python's _ctypes
#define PC_PYTHON ((uintptr_t)0x7f0000007000)      // libpython3.11.so
#define PC_JIT ((uintptr_t)0x7f0000008000)         // anonymous executable memory
#define PC_MOVING ((uintptr_t)0x7f0000009000)      // its module changes (dlclose/dlopen)
#define PC_JIT_FREEHG ((uintptr_t)0x7f000000a000)  // Mono's wrapper of Marshal.FreeHGlobal
#define PC_JIT_ALLOCHG ((uintptr_t)0x7f000000a100) // ... of Marshal.AllocHGlobal
#define PC_MONO ((uintptr_t)0x7f000000b000)        // the Mono runtime, mono-sgen

static const char *moving_module = "/opt/first.so";
static unsigned sym_calls;

static bool fake_symbolize(uintptr_t pc, bool names, cf_frame_info *f) {
    static const struct {
        uintptr_t pc;
        const char *module;
        const char *function;
    } known[] = {
        {PC_PLUGIN, "/app/lib/libplugin.so", "make_buffer"},
        {PC_DART_MALLOC, "/app/lib/libplugin.so", "dart_malloc(unsigned long) [clone .isra.0]"},
        {PC_DART_FREE, "/app/lib/libplugin.so", "_ZL9dart_freePv"},
        {PC_NEW_OP, "/app/lib/libplugin.so", "DartReadable::operator new[](unsigned long)"},
        {PC_OTHER, "/app/lib/libother.so", "other_free"},
        {PC_APP, "/app/lib/libapp.so", ""},
        {PC_APP2, "/app/lib/libapp.so", ""},
        {PC_EXE, "/app/runner", "main"},
        {PC_LIBC, "/lib/x86_64-linux-gnu/libc.so.6", "strdup"},
        {PC_LIBC2, "/lib/x86_64-linux-gnu/libc.so.6", "start_thread"},
        {PC_FFI, "/lib/x86_64-linux-gnu/libffi.so.8", "ffi_call"},
        {PC_CTYPES, "/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so", ""},
        {PC_PYTHON, "/usr/lib/libpython3.11.so.1.0", "_PyEval_EvalFrameDefault"},
        {PC_MONO, "/usr/bin/mono-sgen", ""},
    };
    sym_calls++;
    memset(f, 0, sizeof *f);
    f->pc = pc;
    if (pc == PC_JIT) {
        f->jit = true;
        return false;
    }
    if (pc == PC_JIT_FREEHG || pc == PC_JIT_ALLOCHG) {
        // Named from a perf map whether names are asked for or not.
        f->jit = true;
        snprintf(f->function, sizeof f->function,
                 "(wrapper managed-to-native) System.Runtime.InteropServices.Marshal:%s (intptr)",
                 pc == PC_JIT_FREEHG ? "FreeHGlobal" : "AllocHGlobal");
        return false;
    }
    if (pc == PC_MOVING) {
        snprintf(f->module, sizeof f->module, "%s", moving_module);
        return true;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].pc != pc)
            continue;
        snprintf(f->module, sizeof f->module, "%s", known[i].module);
        f->offset = pc & 0xfff;
        if (names)
            snprintf(f->function, sizeof f->function, "%s", known[i].function);
        return true;
    }
    return false;
}

static char warnings[2048];

static void configure(const char *semantics, const char *host, const char *host_allocators,
                      const char *static_crt) {
    cf_buf w;
    cf_buf_init(&w, warnings, sizeof warnings);
    cf_winsem_configure(semantics, host, host_allocators, static_crt, "", &w);
}

static uint32_t stack_of(unsigned n, ...) {
    uintptr_t pcs[16];
    va_list ap;
    va_start(ap, n);
    for (unsigned i = 0; i < n; i++)
        pcs[i] = va_arg(ap, uintptr_t);
    va_end(ap);
    return cf_depot_put(pcs, n);
}

static cf_record block(unsigned fn, uint32_t stack) {
    return cf_record_make(0x600000001000, 40, cf_family_of_alloc((cf_alloc_fn)fn), fn, stack, 0);
}

// Judges a malloc'd (or `fn`) block allocated on `astack` and released by
// `dfn` from the frames given.
static int judge(unsigned fn, uint32_t astack, unsigned dfn, const uintptr_t *pcs, unsigned n,
                 cf_winview *v) {
    cf_record r = block(fn, astack);
    bool linux_ok = cf_record_family(&r) == cf_family_of_dealloc((cf_dealloc_fn)dfn);
    memset(v, 0, sizeof *v);
    return cf_winsem_judge(&r, dfn, 0, pcs, n, linux_ok, fake_symbolize, v);
}

static const char *line_of(const cf_winview *v) {
    static char text[1024];
    cf_buf b;
    cf_buf_init(&b, text, sizeof text);
    cf_winview_format_line(v, &b);
    return text;
}

static int setup(void **state) {
    (void)state;
    return cf_depot_init((size_t)16 << 20) ? 0 : -1;
}

// ---------------------------------------------------------------------------
// Dart

static void test_dart_frees_plugin_malloc(void **state) {
    (void)state;
    configure("windows", "dart", "", "");
    assert_true(cf_winsem_enabled());
    assert_string_equal(warnings, "");
    uint32_t a = stack_of(3, PC_PLUGIN, PC_APP, PC_EXE);
    uintptr_t f[] = {PC_APP2, PC_APP, PC_EXE};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 3, &v), 0);
    assert_int_equal(v.alloc.kind, CF_WIN_CRT);
    assert_int_equal(v.alloc.origin, CF_WIN_FROM_NATIVE);
    assert_string_equal(v.alloc.module, "libplugin.so");
    assert_int_equal(v.dealloc.kind, CF_WIN_COTASKMEM);
    assert_int_equal(v.dealloc.origin, CF_WIN_FROM_HOST);
    assert_string_equal(v.dealloc.module, "libapp.so");
    assert_string_equal(line_of(&v),
                        "Linux: works here (malloc() freed by free()); on Windows this block comes "
                        "from the CRT heap of libplugin.so (malloc) and is freed by Dart's "
                        "package:ffi with CoTaskMemFree: that crashes there.");

    // Without a host profile, Dart's code is native code like any other.
    configure("windows", "none", "", "");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 3, &v), 1);
    // And with semantics=linux the runtime never asks; the option says so.
    configure("linux", "dart", "", "");
    assert_false(cf_winsem_enabled());
}

static void test_dart_memory_freed_by_plugin(void **state) {
    (void)state;
    configure("windows", "dart", "", "");
    uint32_t a = stack_of(2, PC_APP, PC_EXE); // package:ffi's malloc.allocate
    uintptr_t f[] = {PC_PLUGIN, PC_APP};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_CALLOC, a, CF_DEALLOC_FREE, f, 2, &v), 0);
    assert_int_equal(v.alloc.kind, CF_WIN_COTASKMEM);
    assert_string_equal(
        line_of(&v), "Linux: works here (calloc() freed by free()); on Windows this block comes "
                     "from Dart's package:ffi (CoTaskMemAlloc) and is freed by libplugin.so with "
                     "free() on the shared CRT heap: that crashes there.");
    // Dart's own memory freed by Dart: CoTaskMem on both sides.
    uintptr_t g[] = {PC_APP2};
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, g, 1, &v), 1);
    // JIT code (flutter test, debug builds) is Dart's too.
    uintptr_t j[] = {PC_JIT, PC_EXE};
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, j, 2, &v), 1);
}

// .NET: the marshaller (JIT code) frees with CoTaskMemFree on Windows;
// Marshal.AllocHGlobal/FreeHGlobal, named by Mono's perf map, are
// LocalAlloc/LocalFree, also when the runtime under them made the call.
static void test_dotnet_marshaller_and_hglobal(void **state) {
    (void)state;
    configure("windows", "dotnet", "", "");
    uint32_t plugin = stack_of(2, PC_PLUGIN, PC_JIT);
    uintptr_t marshaller[] = {PC_JIT, PC_MONO};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_MALLOC, plugin, CF_DEALLOC_FREE, marshaller, 2, &v), 0);
    assert_int_equal(v.dealloc.kind, CF_WIN_COTASKMEM);
    assert_string_equal(line_of(&v),
                        "Linux: works here (malloc() freed by free()); on Windows this block comes "
                        "from the CRT heap of libplugin.so (malloc) and is freed by .NET's "
                        "marshaller with CoTaskMemFree: that crashes there.");
    char hint[1024];
    cf_buf h;
    cf_buf_init(&h, hint, sizeof hint);
    cf_winview_format_hint(&v, &h);
    assert_non_null(strstr(hint, "return it as IntPtr and free it with a release function "
                                 "exported from libplugin.so"));

    uintptr_t freehg[] = {PC_JIT_FREEHG, PC_MONO};
    assert_int_equal(judge(CF_ALLOC_MALLOC, plugin, CF_DEALLOC_FREE, freehg, 2, &v), 0);
    assert_int_equal(v.dealloc.kind, CF_WIN_LOCAL);
    assert_string_equal(line_of(&v),
                        "Linux: works here (malloc() freed by free()); on Windows this block comes "
                        "from the CRT heap of libplugin.so (malloc) and is freed by "
                        "Marshal.FreeHGlobal with LocalFree: that crashes there.");

    // AllocHGlobal: the runtime's malloc under the wrapper. Paired: clean.
    uint32_t hglobal = stack_of(3, PC_MONO, PC_JIT_ALLOCHG, PC_MONO);
    assert_int_equal(judge(CF_ALLOC_MALLOC, hglobal, CF_DEALLOC_FREE, freehg, 2, &v), 1);
    // Freed by the library's free(): LocalAlloc against the CRT heap.
    uintptr_t byplugin[] = {PC_PLUGIN, PC_JIT};
    assert_int_equal(judge(CF_ALLOC_MALLOC, hglobal, CF_DEALLOC_FREE, byplugin, 2, &v), 0);
    assert_int_equal(v.alloc.kind, CF_WIN_LOCAL);
    assert_non_null(strstr(line_of(&v),
                           "comes from Marshal.AllocHGlobal (LocalAlloc) and is "
                           "freed by libplugin.so with free() on the shared CRT heap"));
    // And by the marshaller: LocalAlloc against CoTaskMem.
    assert_int_equal(judge(CF_ALLOC_MALLOC, hglobal, CF_DEALLOC_FREE, marshaller, 2, &v), 0);

    // Without the .NET profile, the names mean nothing: the runtime's malloc
    // and unknown JIT code share the CRT heap.
    configure("windows", "none", "", "");
    assert_int_equal(judge(CF_ALLOC_MALLOC, hglobal, CF_DEALLOC_FREE, byplugin, 2, &v), 1);
}

static void test_cxx_blocks_keep_their_operator(void **state) {
    (void)state;
    configure("windows", "dart", "", "");
    uint32_t a = stack_of(2, PC_PLUGIN, PC_APP);
    uintptr_t f[] = {PC_APP};
    cf_winview v;
    // The seed example: new[] freed by Dart. Linux and Windows both object.
    assert_int_equal(judge(CF_ALLOC_NEW_ARRAY, a, CF_DEALLOC_FREE, f, 1, &v), 0);
    assert_false(v.linux_ok);
    assert_int_equal(v.alloc.kind, CF_WIN_NEW_ARRAY);
    assert_string_equal(line_of(&v), "Linux: mismatch (operator new[] freed by free()); on Windows "
                                     "this block comes from operator new[] on the CRT heap of "
                                     "libplugin.so and is freed by Dart's package:ffi with "
                                     "CoTaskMemFree: that crashes there too.");
    // new[] and delete[] in the plugin: right everywhere.
    uintptr_t d[] = {PC_PLUGIN};
    assert_int_equal(judge(CF_ALLOC_NEW_ARRAY, a, CF_DEALLOC_DELETE_ARRAY, d, 1, &v), 1);
}

static void test_runtime_frames_charge_their_caller(void **state) {
    (void)state;
    configure("windows", "dart", "", "");
    // Dart calls strdup: the block is the CRT's, charged to libapp.so...
    uint32_t a = stack_of(3, PC_LIBC, PC_APP, PC_EXE);
    uintptr_t f[] = {PC_APP};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 0);
    assert_int_equal(v.alloc.origin, CF_WIN_FROM_RUNTIME);
    assert_int_equal(v.alloc.kind, CF_WIN_CRT);
    assert_string_equal(v.alloc.module, "libapp.so");
    // ...and freeing it through libc (free called by the C runtime for the
    // embedder) is the same CRT.
    uintptr_t g[] = {PC_LIBC, PC_EXE};
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, g, 2, &v), 1);
    // A release the runtime makes entirely on its own is not judged.
    uintptr_t t[] = {PC_LIBC2, PC_LIBC};
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, t, 2, &v), -1);
}

// ---------------------------------------------------------------------------
// Host allocators

static void test_host_allocators_option(void **state) {
    (void)state;
    // The DartReadable fix: new UICommand[10] -> operator new[] -> dart_malloc -> malloc.
    uint32_t a = stack_of(4, PC_DART_MALLOC, PC_NEW_OP, PC_PLUGIN, PC_APP);
    uintptr_t f[] = {PC_APP};
    uintptr_t d[] = {PC_DART_FREE, PC_PLUGIN};
    cf_winview v;
    configure("windows", "dart", "", "");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 0);
    configure("windows", "dart", "dart_malloc,dart_free", "");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 1);
    // The plugin's own delete[] goes through dart_free (a mangled name).
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, d, 2, &v), 1);
    // A plain free() in the plugin of a dart_malloc block crashes on Windows.
    uintptr_t p[] = {PC_PLUGIN, PC_APP};
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, p, 2, &v), 0);
    assert_int_equal(v.alloc.origin, CF_WIN_FROM_HOST_ALLOCATOR);
    assert_string_equal(v.alloc.function, "dart_malloc");
    assert_string_equal(line_of(&v),
                        "Linux: works here (malloc() freed by free()); on Windows this block comes "
                        "from CoTaskMemAlloc through dart_malloc, a host allocator, and is freed "
                        "by libplugin.so with free() on the shared CRT heap: that crashes there.");
    // Globs, and qualified names.
    configure("windows", "dart", "dart_*", "");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 1);
    configure("windows", "dart", "DartReadable::operator*", "");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 1);
    configure("windows", "dart", "dart_malloc_x", "");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 0);
}

static void test_host_allocator_registered_late(void **state) {
    (void)state;
    configure("windows", "dart", "", "");
    uint32_t a = stack_of(3, PC_DART_MALLOC, PC_PLUGIN, PC_APP);
    uintptr_t f[] = {PC_APP};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 0);
    // What CROSSFREE_HOST_ALLOCATOR does when the plugin loads: frames
    // classified before must be looked at again.
    assert_true(cf_winsem_add_host_allocator("dart_malloc"));
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 1);
    assert_false(cf_winsem_add_host_allocator(""));
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(cf_winsem_add_host_allocator(big));
}

// ---------------------------------------------------------------------------
// Python and static CRTs

static void test_python_shared_and_static_crt(void **state) {
    (void)state;
    uint32_t a = stack_of(4, PC_PLUGIN, PC_FFI, PC_CTYPES, PC_PYTHON);
    uintptr_t f[] = {PC_FFI, PC_FFI, PC_CTYPES, PC_PYTHON};
    cf_winview v;
    configure("windows", "python", "", "");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 4, &v), 1);
    configure("windows", "python", "", "libplugin*.so");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 4, &v), 0);
    assert_int_equal(v.alloc.heap, 1);
    assert_int_equal(v.dealloc.origin, CF_WIN_FROM_HOST);
    assert_string_equal(v.dealloc.module, "_ctypes.cpython-311-x86_64-linux-gnu.so");
    assert_string_equal(line_of(&v),
                        "Linux: works here (malloc() freed by free()); on Windows this block comes "
                        "from the static CRT heap of libplugin.so (malloc) and is freed by "
                        "Python's ctypes/cffi with free() on the shared CRT heap: that crashes "
                        "there.");
    char hint[1024];
    cf_buf h;
    cf_buf_init(&h, hint, sizeof hint);
    cf_winview_format_hint(&v, &h);
    assert_non_null(strstr(hint, "libplugin.so links its C runtime statically"));
    // The plugin freeing its own block uses its own heap.
    uintptr_t own[] = {PC_PLUGIN, PC_FFI};
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, own, 2, &v), 1);
}

static void test_two_static_modules(void **state) {
    (void)state;
    configure("windows", "none", "", "libplugin.so,libother.so");
    uint32_t a = stack_of(1, PC_PLUGIN);
    uintptr_t other[] = {PC_OTHER};
    uintptr_t exe[] = {PC_EXE};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, other, 1, &v), 0);
    assert_int_not_equal(v.alloc.heap, v.dealloc.heap);
    assert_string_equal(line_of(&v), "Linux: works here (malloc() freed by free()); on Windows "
                                     "this block comes from the static CRT heap of libplugin.so "
                                     "(malloc) and is freed by libother.so with free() on the "
                                     "static CRT heap of libother.so: that crashes there.");
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, exe, 1, &v), 0);
    // A module that is not static shares the UCRT heap with the executable.
    uint32_t b = stack_of(1, PC_APP);
    assert_int_equal(judge(CF_ALLOC_MALLOC, b, CF_DEALLOC_FREE, exe, 1, &v), 1);
}

// ---------------------------------------------------------------------------
// What is not judged, options, the cache

static void test_not_judged(void **state) {
    (void)state;
    configure("windows", "dart", "", "");
    uintptr_t f[] = {PC_APP};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_MALLOC, 0, CF_DEALLOC_FREE, f, 1, &v), -1); // no stack
    uint32_t a = stack_of(1, PC_PLUGIN);
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 0, &v), -1);
    unsigned fam = cf_family_register("winsem_pool", "pool_get", "pool_put");
    assert_int_not_equal(fam, 0);
    cf_record r = cf_record_make(0x1000, 8, fam, CF_ALLOC_CUSTOM, a, 0);
    assert_int_equal(cf_winsem_judge(&r, CF_DEALLOC_CUSTOM, fam, f, 1, true, fake_symbolize, &v),
                     -1);
}

static void test_bad_options_warn_and_keep_defaults(void **state) {
    (void)state;
    configure("macos", "flutter", "", "");
    assert_false(cf_winsem_enabled());
    assert_non_null(strstr(warnings, "==crossfree: warning: option 'semantics' has a malformed "
                                     "value 'macos' (expected linux or windows); keeping the "
                                     "default\n"));
    assert_non_null(strstr(warnings, "==crossfree: warning: option 'host' has a malformed value "
                                     "'flutter' (expected dart, dotnet, python, node, ruby, lua, "
                                     "java or none); keeping the default\n"));
    // host fell back to none: Dart's code is judged as native code.
    configure("windows", "flutter", "", "");
    uint32_t a = stack_of(1, PC_PLUGIN);
    uintptr_t f[] = {PC_APP};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 1);
    char list[40 * 8];
    list[0] = '\0';
    for (int i = 0; i < 33; i++)
        strcat(list, i == 0 ? "f0" : ",fn");
    configure("windows", "dart", list, "");
    assert_non_null(
        strstr(warnings, "==crossfree: warning: option 'host_allocators': entry 'fn' ignored"));
}

static void test_cache_follows_unloaded_modules(void **state) {
    (void)state;
    configure("windows", "dart", "", "");
    uint32_t a = stack_of(1, PC_MOVING);
    uintptr_t f[] = {PC_APP};
    cf_winview v;
    moving_module = "/opt/first.so";
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 0);
    // Seen once, a frame is not symbolized again.
    unsigned before = sym_calls;
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 0);
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 0);
    assert_true(sym_calls - before <= 4); // the words of the two reports only
    // Another module now lives at that address: stale until a dlclose says so.
    moving_module = "/app/lib/libapp.so";
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 0);
    cf_winsem_modules_changed();
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 1, &v), 1);
}

// ---------------------------------------------------------------------------
// The reports

static void test_text_and_json_reports(void **state) {
    (void)state;
    configure("windows", "dart", "", "");
    uint32_t a = stack_of(2, PC_PLUGIN, PC_APP);
    uintptr_t f[] = {PC_APP, PC_EXE};
    cf_winview v;
    assert_int_equal(judge(CF_ALLOC_MALLOC, a, CF_DEALLOC_FREE, f, 2, &v), 0);
    cf_error e = {0};
    e.kind = CF_ERR_MISMATCH;
    e.pid = 7;
    e.addr = 0x600000001000;
    e.dealloc_fn = CF_DEALLOC_FREE;
    e.dealloc_family = CF_FAM_MALLOC;
    e.pcs = f;
    e.n_pcs = 2;
    e.has_alloc = true;
    e.alloc = block(CF_ALLOC_MALLOC, a);
    e.win = &v;
    static char text[16384];
    cf_buf b;
    cf_buf_init(&b, text, sizeof text);
    cf_report_format(&e, true, fake_symbolize, &b);
    // The message keeps Linux's words; the view follows the "freed from" line.
    const char *second = strchr(text, '\n') + 1;
    assert_true(strncmp(second, "allocated by malloc(), freed by free()\nfreed from Dart", 54) ==
                0);
    const char *view = strstr(text, "\nLinux: works here (malloc() freed by free()); on Windows");
    assert_non_null(view);
    assert_true(view < strstr(text, "    #0 "));
    assert_non_null(strstr(text, "\nHINT: on Windows Dart's package:ffi frees with CoTaskMemFree: "
                                 "allocate what the host frees with a host-compatible allocator"));
    assert_null(strstr(text, "whoever frees it must use free()"));

    cf_buf_init(&b, text, sizeof text);
    cf_report_format_json(&e, NULL, true, fake_symbolize, &b);
    assert_non_null(strstr(text, "\"windows_view\":{\"host\":\"dart\",\"linux\":\"works\","
                                 "\"windows\":\"crashes\",\"allocated\":{\"allocator\":\"malloc\","
                                 "\"heap\":\"crt\",\"module\":\"libplugin.so\",\"origin\":"
                                 "\"native\",\"host_allocator\":null},\"freed\":{\"deallocator\":"
                                 "\"CoTaskMemFree\",\"heap\":\"cotaskmem\",\"module\":"
                                 "\"libapp.so\",\"origin\":\"host\",\"host_allocator\":null},"
                                 "\"message\":\"Linux: works here"));
    // Without a view, neither report changes.
    e.win = NULL;
    cf_buf_init(&b, text, sizeof text);
    cf_report_format_json(&e, NULL, true, fake_symbolize, &b);
    assert_null(strstr(text, "windows_view"));
    cf_buf_init(&b, text, sizeof text);
    cf_report_format(&e, true, fake_symbolize, &b);
    assert_null(strstr(text, "Linux: "));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dart_frees_plugin_malloc),
        cmocka_unit_test(test_dart_memory_freed_by_plugin),
        cmocka_unit_test(test_dotnet_marshaller_and_hglobal),
        cmocka_unit_test(test_cxx_blocks_keep_their_operator),
        cmocka_unit_test(test_runtime_frames_charge_their_caller),
        cmocka_unit_test(test_host_allocators_option),
        cmocka_unit_test(test_host_allocator_registered_late),
        cmocka_unit_test(test_python_shared_and_static_crt),
        cmocka_unit_test(test_two_static_modules),
        cmocka_unit_test(test_not_judged),
        cmocka_unit_test(test_bad_options_warn_and_keep_defaults),
        cmocka_unit_test(test_cache_follows_unloaded_modules),
        cmocka_unit_test(test_text_and_json_reports),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
