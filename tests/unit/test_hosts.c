// SPDX-License-Identifier: MIT
// Unit tests for the one table of modules and hosts (core/hosts.h) that
// the reports, semantics=windows and `crossfree report` all read: which
// file names are runtime modules, bridges and hosts' modules, the hosts of
// the host= option, and host_modules entries overriding built-in ones.
#include "core/hosts.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>

// The runtime modules: the C and C++ runtimes, the loader, crossfree and
// the FFI bridges, by file name or by path, and nothing else.
static void test_runtime_modules(void **state) {
    (void)state;
    static const char *const runtime[] = {
        "libc.so.6",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "libc-2.31.so",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "libstdc++.so.6",
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30",
        "libc++.so.1",
        "libc++abi.so.1",
        "libgcc_s.so.1",
        "/lib64/ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
        "/lib/ld-musl-x86_64.so.1",
        "/opt/crossfree/lib/libcrossfree.so",
        "libffi.so.8", // a bridge is a runtime module too
        "C:\\windows\\system32\\libffi.so.7",
    };
    static const char *const other[] = {
        "",
        "libplugin.so",
        "/usr/lib/libcrypto.so.3",
        "libcustom.so",
        "libcx.so",
        "libc.a",
        "mylibc.so.6",
        "_ctypes.cpython-311-x86_64-linux-gnu.so",
        "libapp.so",
        "/app/runner",
        "libstdc++fs.a",
    };
    for (size_t i = 0; i < sizeof runtime / sizeof runtime[0]; i++)
        if (!cf_runtime_module(runtime[i]))
            fail_msg("%s: not a runtime module", runtime[i]);
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (cf_runtime_module(other[i]))
            fail_msg("%s: a runtime module", other[i]);
    assert_false(cf_runtime_module(NULL));
}

// The interpreters a host's FFI frees through (report/hosts.h passes
// over them); a program's own libraries are not among them.
static void test_interpreters(void **state) {
    (void)state;
    static const char *const interpreters[] = {
        "/lib/x86_64-linux-gnu/libruby-3.1.so.3.1",
        "/usr/bin/ruby3.1",
        "libpython3.11.so.1.0",
        "/usr/bin/python3.11",
        "/usr/bin/node",
        "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
        "/usr/bin/perl",
        "libperl.so.5.36",
        "/usr/bin/php8.2",
    };
    static const char *const other[] = {
        "", "librsfree.so", "libbuffers.so", "/app/runner", "libplugin.so", "libc.so.6",
    };
    for (size_t i = 0; i < sizeof interpreters / sizeof interpreters[0]; i++)
        if (!cf_host_interpreter(interpreters[i]))
            fail_msg("%s: not an interpreter", interpreters[i]);
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (cf_host_interpreter(other[i]))
            fail_msg("%s: an interpreter", other[i]);
    assert_false(cf_host_interpreter(NULL));
}

// Each host's modules, how reports name them, and which of them are the
// host's own code for semantics=windows.
static void test_host_modules(void **state) {
    (void)state;
    static const struct {
        const char *module;
        const char *label; // NULL: no rule
        cf_host_id host;
        bool bridge, code;
    } cases[] = {
        {"/usr/lib/x86_64-linux-gnu/libffi.so.8", "libffi", CF_HOST_NONE, true, false},
        {"/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so",
         "Python (ctypes", CF_HOST_PYTHON, false, true},
        {"_cffi_backend.cpython-311-x86_64-linux-gnu.so", "Python (cffi", CF_HOST_PYTHON, false,
         true},
        {"/var/lib/gems/3.1.0/gems/ffi-1.15.5/lib/ffi_c.so", "Ruby (ffi gem", CF_HOST_RUBY, false,
         true},
        {"fiddle.so", "Ruby (Fiddle", CF_HOST_RUBY, false, true},
        {"/tmp/jna-123/jna456/libjnidispatch.so", "Java (JNA", CF_HOST_JAVA, false, true},
        {"/usr/lib/jvm/java-17/lib/server/libjvm.so", "Java (JVM", CF_HOST_JAVA, false, false},
        {"/app/node_modules/koffi/build/koffi/linux_x64/koffi.node", "Node.js (koffi", CF_HOST_NODE,
         false, true},
        {"/usr/bin/luajit-2.1.0-beta3", "Lua (LuaJIT ffi", CF_HOST_LUA, false, true},
        {"libluajit-5.1.so.2", "Lua (LuaJIT ffi", CF_HOST_LUA, false, true},
        {"/app/lib/libapp.so", "Dart (AOT code in libapp.so", CF_HOST_DART, false, true},
        {"/app/lib/libflutter_linux_gtk.so", "Dart (Flutter engine", CF_HOST_DART, false, false},
        {"dartaotruntime", "Dart (VM", CF_HOST_DART, false, false},
        {"/usr/lib/dart/bin/dart", "Dart (VM", CF_HOST_DART, false, false},
        {"/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/libSystem.Native.so",
         ".NET (System.Native", CF_HOST_DOTNET, false, true},
        {"/usr/lib/x86_64-linux-gnu/perl5/5.36/auto/FFI/Platypus/Platypus.so",
         "Perl (FFI::Platypus", CF_HOST_NONE, false, false},
        {"/usr/lib/php/20220829/ffi.so", "PHP (FFI", CF_HOST_NONE, false, false},
        {"/app/lib/libplugin.so", NULL, CF_HOST_NONE, false, false},
        {"libc.so.6", NULL, CF_HOST_NONE, false, false},
        {"dart2", NULL, CF_HOST_NONE, false, false},
        {"", NULL, CF_HOST_NONE, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const cf_host_module *m = cf_host_module_of(cases[i].module);
        if (cases[i].label == NULL) {
            if (m != NULL)
                fail_msg("%s: rule %s", cases[i].module, m->glob);
            continue;
        }
        if (m == NULL)
            fail_msg("%s: no rule", cases[i].module);
        assert_string_equal(m->label, cases[i].label);
        assert_int_equal(m->host, cases[i].host);
        assert_int_equal(m->bridge, cases[i].bridge);
        assert_int_equal(m->code, cases[i].code);
        assert_false(m->given);
    }
    assert_null(cf_host_module_of(NULL));
}

static void test_hosts(void **state) {
    (void)state;
    char s[256];
    cf_buf b;
    cf_buf_init(&b, s, sizeof s);
    cf_host_names(&b);
    assert_string_equal(s, "dart, dotnet, python, node, ruby, lua, java or none");
    static const struct {
        const char *name;
        cf_host_id id;
        bool cotaskmem, jit, bridge;
    } cases[] = {
        {"none", CF_HOST_NONE, false, false, false},
        {"dart", CF_HOST_DART, true, true, false},
        {"dotnet", CF_HOST_DOTNET, true, true, false},
        {"python", CF_HOST_PYTHON, false, false, true},
        {"node", CF_HOST_NODE, false, false, false},
        {"ruby", CF_HOST_RUBY, false, false, true},
        {"lua", CF_HOST_LUA, false, true, false},
        {"java", CF_HOST_JAVA, false, false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cf_host_id id = CF_HOST_COUNT;
        assert_true(cf_host_find(cases[i].name, &id));
        assert_int_equal(id, cases[i].id);
        const cf_host *h = cf_host_get(id);
        assert_string_equal(h->name, cases[i].name);
        assert_int_equal(h->cotaskmem, cases[i].cotaskmem);
        assert_int_equal(h->jit, cases[i].jit);
        assert_int_equal(h->bridge, cases[i].bridge);
    }
    cf_host_id id = CF_HOST_JAVA;
    assert_false(cf_host_find("flutter", &id));
    assert_false(cf_host_find("", &id));
    assert_int_equal(id, CF_HOST_JAVA); // unchanged
    assert_string_equal(cf_host_get(CF_HOST_COUNT)->name, "none");
    assert_string_equal(cf_host_get(CF_HOST_DART)->words, "Dart's package:ffi");
}

// host_modules: entries come first (and so override built-in rules), bad
// entries become one warning line each; 16 at most.
static void test_configure(void **state) {
    (void)state;
    char s[2048];
    cf_buf w;
    cf_buf_init(&w, s, sizeof s);
    cf_hosts_configure("libgodot*.so=Godot,_ctypes*.so=CPython,=Nameless,no-equals,libx.so=", &w);
    char want[1024];
    int pid = (int)getpid();
    snprintf(want, sizeof want,
             "==%d==crossfree: warning: option 'host_modules': entry '=Nameless' ignored "
             "(expected GLOB=Name, at most 16 entries)\n"
             "==%d==crossfree: warning: option 'host_modules': entry 'no-equals' ignored "
             "(expected GLOB=Name, at most 16 entries)\n"
             "==%d==crossfree: warning: option 'host_modules': entry 'libx.so=' ignored "
             "(expected GLOB=Name, at most 16 entries)\n",
             pid, pid, pid);
    assert_string_equal(s, want);

    const cf_host_module *m = cf_host_module_of("/opt/godot/libgodot.linuxbsd.so");
    assert_non_null(m);
    assert_string_equal(m->label, "Godot");
    assert_true(m->given);
    assert_int_equal(m->host, CF_HOST_NONE);
    m = cf_host_module_of("_ctypes.cpython-311-x86_64-linux-gnu.so");
    assert_string_equal(m->label, "CPython");
    assert_true(m->given);
    assert_null(cf_host_module_of("libx.so"));
    // Runtime modules do not change with host_modules.
    assert_false(cf_runtime_module("libgodot.so"));

    cf_buf_init(&w, s, sizeof s);
    cf_hosts_configure("a1=A,a2=A,a3=A,a4=A,a5=A,a6=A,a7=A,a8=A,a9=A,a10=A,a11=A,a12=A,a13=A,"
                       "a14=A,a15=A",
                       &w);
    snprintf(want, sizeof want,
             "==%d==crossfree: warning: option 'host_modules': entry 'a15=A' ignored (expected "
             "GLOB=Name, at most 16 entries)\n",
             pid);
    assert_string_equal(s, want);
    assert_non_null(cf_host_module_of("a14"));
    assert_null(cf_host_module_of("a15"));
}

static void test_go_functions(void **state) {
    (void)state;
    // Go's cgo call path, known by function name.
    const char *go[] = {"runtime.asmcgocall.abi0", "runtime.asmcgocall", "runtime.cgocall",
                        "_cgo_915ed0dbc09d_Cfunc_free", "_cgo_8623bd94c899_Cfunc_make_buffer"};
    for (size_t i = 0; i < sizeof go / sizeof go[0]; i++) {
        const cf_host_module *m = cf_host_function_of(go[i]);
        if (m == NULL)
            fail_msg("%s: no rule", go[i]);
        assert_string_equal(m->label, "Go (cgo");
        assert_true(m->cgo);
        assert_false(m->bridge);
    }
    const char *not_go[] = {
        "runtime.cgocallback", "main.release", "_cgo_topofstack", "free", "", NULL};
    for (size_t i = 0; i < sizeof not_go / sizeof not_go[0]; i++)
        assert_null(cf_host_function_of(not_go[i]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_modules), cmocka_unit_test(test_interpreters),
        cmocka_unit_test(test_host_modules),    cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_go_functions),
        cmocka_unit_test(test_configure), // last: its entries stay
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
