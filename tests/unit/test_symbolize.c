// SPDX-License-Identifier: MIT
// Unit tests for the ELF symbolizer: frames in this program, in a dlopen'd
// C++ plugin before and after dlclose, and pcs in no module. Expectations come
// from the loader or the compiler (__LINE__, dladdr1, dlinfo), never from the
// code under test.
#include "platform/platform.h"
#include "stack/symbolize.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef CF_FIXTURE_PATH
#error "CF_FIXTURE_PATH must name the fixture library (an absolute path)"
#endif

#define FIXTURE_FUNCTION "cf_fixture::Probe::where(unsigned int*, void**)"

typedef void *probe_fn(unsigned *line);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// Keeps the optimizer from inlining, cloning or renaming a probe (a clone
// would be named "static_probe.isra.0"); clang knows only noinline.
#if defined(__clang__)
#define NO_IPA __attribute__((noinline))
#else
#define NO_IPA __attribute__((noipa))
#endif

// Returns its own return address: a pc inside the caller, right after the call.
static NO_IPA uintptr_t return_address(void) { return (uintptr_t)__builtin_return_address(0); }

// A static function, so only .symtab names it, never .dynsym. The pc is
// stored after the call, so the call cannot become a tail call.
static NO_IPA void static_probe_at(unsigned *line, uintptr_t *pc) {
    *line = __LINE__ + 1;
    *pc = return_address();
}

static uintptr_t static_probe(unsigned *line) {
    uintptr_t pc = 0;
    static_probe_at(line, &pc);
    return pc;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void exe_path(char *buf, size_t cap) {
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    assert_true(n > 0);
    buf[n] = '\0';
}

// The executable's load bias from the kernel's aux vector: where its program
// headers are minus where the file says they are.
static uintptr_t exe_bias(void) {
    const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    size_t phnum = getauxval(AT_PHNUM);
    for (size_t i = 0; i < phnum; i++) {
        if (phdr[i].p_type == PT_PHDR)
            return (uintptr_t)phdr - phdr[i].p_vaddr;
    }
    fail_msg("the test program has no PT_PHDR");
    return 0;
}

typedef struct plugin {
    void *handle;
    probe_fn *probe;
    uintptr_t bias;
} plugin;

static void plugin_open(plugin *p) {
    // RTLD_LOCAL, as FFI hosts load plugins: the plugin's libstdc++ is then
    // invisible to dlsym(RTLD_DEFAULT), and demangling must still work.
    p->handle = dlopen(CF_FIXTURE_PATH, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(p->handle);
    void *sym = dlsym(p->handle, "cf_fixture_probe");
    assert_non_null(sym);
    memcpy(&p->probe, &sym, sizeof p->probe);
    struct link_map *map = NULL;
    assert_int_equal(dlinfo(p->handle, RTLD_DI_LINKMAP, &map), 0);
    p->bias = (uintptr_t)map->l_addr;
}

static void plugin_close(plugin *p) {
    void *handle = p->handle;
    p->handle = NULL;
    assert_int_equal(dlclose(handle), 0);
    // If the plugin stayed mapped, the unloaded case would not be tested.
    void *again = dlopen(CF_FIXTURE_PATH, RTLD_NOW | RTLD_NOLOAD);
    assert_null(again);
}

// Closes a plugin a failed test left open, so the next test starts clean.
static int close_leftover_plugin(void **state) {
    plugin *p = *state;
    if (p->handle != NULL)
        dlclose(p->handle);
    p->handle = NULL;
    return 0;
}

static int start_without_plugin(void **state) {
    static plugin slot;
    slot.handle = NULL;
    *state = &slot;
    return 0;
}

static void assert_no_names(const cf_frame_info *f) {
    assert_string_equal(f->function, "");
    assert_int_equal(f->func_offset, 0);
    assert_string_equal(f->file, "");
    assert_int_equal(f->line, 0);
}

// ---------------------------------------------------------------------------
// Frames in this program
// ---------------------------------------------------------------------------

static void test_static_function_has_name_file_and_line(void **state) {
    (void)state;
    unsigned line = 0;
    uintptr_t pc = static_probe(&line);
    char exe[256];
    exe_path(exe, sizeof exe);

    cf_frame_info f;
    assert_true(cf_symbolize(pc, true, &f));
    assert_int_equal(f.pc, pc);
    assert_string_equal(f.module, exe);
    assert_int_equal(f.offset, pc - exe_bias());
    assert_false(f.unloaded);
    assert_string_equal(f.function, "static_probe_at");
    assert_int_equal(f.func_offset, pc - (uintptr_t)&static_probe_at);
    assert_true(f.file[0] == '/');
    assert_true(ends_with(f.file, "/test_symbolize.c"));
    assert_int_equal(f.line, line);
}

static void test_without_names_only_module_and_offset(void **state) {
    (void)state;
    unsigned line = 0;
    uintptr_t pc = static_probe(&line);
    cf_frame_info named, bare;
    assert_true(cf_symbolize(pc, true, &named));
    assert_true(cf_symbolize(pc, false, &bare));
    assert_int_equal(bare.pc, pc);
    assert_string_equal(bare.module, named.module);
    assert_int_equal(bare.offset, named.offset);
    assert_false(bare.unloaded);
    assert_no_names(&bare);
}

static void test_reset_then_names_again(void **state) {
    (void)state;
    unsigned line = 0;
    uintptr_t pc = static_probe(&line);
    cf_frame_info f;
    cf_symbolize_reset();
    cf_symbolize_reset(); // twice in a row is harmless
    assert_true(cf_symbolize(pc, true, &f));
    assert_string_equal(f.function, "static_probe_at");
    assert_int_equal(f.line, line);
}

// ---------------------------------------------------------------------------
// Frames in a plugin
// ---------------------------------------------------------------------------

static void test_plugin_frame_is_demangled_with_offset(void **state) {
    plugin *p = *state;
    // Cache debug info before the plugin exists, so naming its frame needs
    // the cache to notice the dlopen.
    unsigned line = 0;
    cf_frame_info f;
    assert_true(cf_symbolize(static_probe(&line), true, &f));

    plugin_open(p);
    uintptr_t pc = (uintptr_t)p->probe(&line);
    assert_true(cf_symbolize(pc, true, &f));
    assert_string_equal(f.module, CF_FIXTURE_PATH);
    assert_int_equal(f.offset, pc - p->bias);
    assert_false(f.unloaded);
    assert_string_equal(f.function, FIXTURE_FUNCTION);
    assert_true(f.func_offset > 0);
    assert_true(ends_with(f.file, "/fixture_symbolize.cpp"));
    assert_int_equal(f.line, line);

    // The offset of an exported function is its st_value in the file, which
    // the loader reports independently of any load bias.
    void *entry;
    memcpy(&entry, &p->probe, sizeof entry);
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    assert_true(dladdr1(entry, &info, (void **)&sym, RTLD_DL_SYMENT) != 0);
    assert_non_null(sym);
    assert_true(cf_symbolize((uintptr_t)entry, false, &f));
    assert_string_equal(f.module, CF_FIXTURE_PATH);
    assert_int_equal(f.offset, sym->st_value);
    assert_no_names(&f);

    plugin_close(p);
}

static void test_unloaded_plugin_keeps_module_and_offset(void **state) {
    plugin *p = *state;
    plugin_open(p);
    unsigned line = 0;
    uintptr_t pc = (uintptr_t)p->probe(&line);
    uintptr_t offset = pc - p->bias;
    cf_symbolize_note_modules();
    plugin_close(p);

    cf_frame_info f;
    assert_true(cf_symbolize(pc, false, &f));
    assert_int_equal(f.pc, pc);
    assert_string_equal(f.module, CF_FIXTURE_PATH);
    assert_int_equal(f.offset, offset);
    assert_true(f.unloaded);
    assert_no_names(&f);

    // With names, the file is read again from its path.
    assert_true(cf_symbolize(pc, true, &f));
    assert_string_equal(f.module, CF_FIXTURE_PATH);
    assert_int_equal(f.offset, offset);
    assert_true(f.unloaded);
    assert_string_equal(f.function, FIXTURE_FUNCTION);
    assert_true(ends_with(f.file, "/fixture_symbolize.cpp"));
    assert_int_equal(f.line, line);
}

static void test_live_module_wins_over_history(void **state) {
    plugin *p = *state;
    plugin_open(p);
    cf_symbolize_note_modules();
    plugin_close(p);
    // Loaded again (usually at the same address): the live copy answers.
    plugin_open(p);
    unsigned line = 0;
    uintptr_t pc = (uintptr_t)p->probe(&line);
    cf_frame_info f;
    assert_true(cf_symbolize(pc, true, &f));
    assert_false(f.unloaded);
    assert_int_equal(f.offset, pc - p->bias);
    assert_string_equal(f.function, FIXTURE_FUNCTION);
    plugin_close(p);
}

// ---------------------------------------------------------------------------
// pcs in no module
// ---------------------------------------------------------------------------

static void assert_unknown(uintptr_t pc) {
    for (int names = 0; names <= 1; names++) {
        cf_frame_info f;
        memset(&f, 0x5a, sizeof f); // stale contents must not leak through
        assert_false(cf_symbolize(pc, names != 0, &f));
        assert_int_equal(f.pc, pc);
        assert_string_equal(f.module, "");
        assert_false(f.unloaded);
        assert_no_names(&f);
    }
}

static void test_unknown_pcs_return_false(void **state) {
    (void)state;
    assert_unknown(0);
    assert_unknown(1);
    assert_unknown(UINTPTR_MAX);
    assert_unknown(UINTPTR_MAX - 4096);
    // Anonymous memory is where JIT code lives.
    size_t size = 2 * (size_t)sysconf(_SC_PAGESIZE);
    char *anon = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(anon != MAP_FAILED);
    assert_unknown((uintptr_t)anon);
    assert_unknown((uintptr_t)anon + 100);
    assert_int_equal(munmap(anon, size), 0);
    int local = 0;
    assert_unknown((uintptr_t)&local); // the stack
}

static void test_vdso_does_not_crash(void **state) {
    (void)state;
    uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (vdso == 0) {
        // Nothing to symbolize: valgrind hides the vDSO, and qemu-user
        // before 8.1 maps none for an aarch64 guest (the aarch64 suite).
        // cmocka's skip() would print `not ok # SKIP`, which meson's TAP
        // reader counts as a failure.
        print_message("# no vDSO in this process (valgrind or qemu-user)\n");
        return;
    }
    cf_frame_info f;
    // The vDSO is a module the loader lists, with no file behind it.
    assert_true(cf_symbolize(vdso + 0x100, true, &f));
    assert_true(f.module[0] != '\0');
    assert_false(f.unloaded);
}

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------

static atomic_int thread_failures;

static void *note_and_lookup(void *arg) {
    uintptr_t pc = *(const uintptr_t *)arg;
    for (int i = 0; i < 300; i++) {
        cf_symbolize_note_modules();
        cf_frame_info f;
        if (!cf_symbolize(pc, false, &f) || f.module[0] == '\0' || f.unloaded)
            atomic_fetch_add(&thread_failures, 1);
        // Now and then through the locked, allocating path as well.
        if (i % 50 == 0 &&
            (!cf_symbolize(pc, true, &f) || strcmp(f.function, "static_probe_at") != 0))
            atomic_fetch_add(&thread_failures, 1);
    }
    return NULL;
}

static void test_threads_note_and_lookup_together(void **state) {
    (void)state;
    unsigned line = 0;
    uintptr_t pc = static_probe(&line);
    pthread_t threads[4];
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, note_and_lookup, &pc), 0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(atomic_load(&thread_failures), 0);
}

static int teardown_group(void **state) {
    (void)state;
    cf_symbolize_reset();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_function_has_name_file_and_line),
        cmocka_unit_test(test_without_names_only_module_and_offset),
        cmocka_unit_test(test_reset_then_names_again),
        // Before any plugin is unloaded: an anonymous mapping may later land
        // where the plugin was, and then history rightly names the plugin.
        cmocka_unit_test(test_unknown_pcs_return_false),
        cmocka_unit_test(test_vdso_does_not_crash),
        cmocka_unit_test_setup_teardown(test_plugin_frame_is_demangled_with_offset,
                                        start_without_plugin, close_leftover_plugin),
        cmocka_unit_test_setup_teardown(test_unloaded_plugin_keeps_module_and_offset,
                                        start_without_plugin, close_leftover_plugin),
        cmocka_unit_test_setup_teardown(test_live_module_wins_over_history, start_without_plugin,
                                        close_leftover_plugin),
        cmocka_unit_test(test_threads_note_and_lookup_together),
    };
    return cmocka_run_group_tests_name("symbolize", tests, NULL, teardown_group);
}
