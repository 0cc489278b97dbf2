// SPDX-License-Identifier: MIT
// Unit tests for the text report: every error kind rendered with a fake
// symbolizer that knows a handful of program counters, with and without
// names, odd frames (no function, no module, unloaded, JIT code), FFI hosts
// (the `freed from` line, the host boundary tag, the HINT for each pair,
// host_modules), and truncation into buffers of every size. The expected
// text is the contract in docs/reports.md.
#include "report/report.h"

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>

#include "alloc_counter.h"
#include "core/family.h"
#include "report/hosts.h"
#include "report/json.h"
#include "stack/depot.h"

// ---------------------------------------------------------------------------
// The fake symbolizer
// ---------------------------------------------------------------------------

#define PC_FREE_IT ((uintptr_t)0x401111)         // free_it /src/app/ui.c:42
#define PC_MAIN ((uintptr_t)0x402222)            // main /src/app/main.c:7
#define PC_NEW_ARRAY ((uintptr_t)0x7f0000003333) // libstdc++, function+offset only
#define PC_LIBC ((uintptr_t)0x7f0000004444)      // libc, no function
#define PC_HELPER ((uintptr_t)0x405555)          // helper, file without a line
#define PC_PLUGIN ((uintptr_t)0x7f0000006666)    // in a dlclose'd plugin
#define PC_NOWHERE ((uintptr_t)0xdead0000)       // in no module at all
// FFI hosts and what they call through.
#define PC_FFI ((uintptr_t)0x7f0000008888)       // ffi_call in libffi.so.8, no file
#define PC_CTYPES ((uintptr_t)0x7f0000009999)    // Python's _ctypes module, no function
#define PC_BUFFERS ((uintptr_t)0x7f000000c164)   // make_array in libbuffers.so
#define PC_LIBAPP ((uintptr_t)0x7f000000d000)    // Dart AOT code in libapp.so
#define PC_DART_VM ((uintptr_t)0x7f000000e000)   // the dart executable
#define PC_GODOT ((uintptr_t)0x7f000000f000)     // a host only host_modules knows
#define PC_JIT_NAMED ((uintptr_t)0x7f000000aaaa) // JIT code that a perf map names
#define PC_JIT ((uintptr_t)0x7f000000bbbb)       // JIT code without a name
#define PC_INLINED ((uintptr_t)0x401777)         // main, with two functions inlined
#define PC_RUST ((uintptr_t)0x7f0000011cd5)      // a Rust library's Drop, called via ctypes
#define PC_LIBRUBY ((uintptr_t)0x7f00000d6680)   // ruby_sized_xfree in libruby
#define PC_FIDDLE ((uintptr_t)0x7f0000016264)    // Ruby's Fiddle, no function

#define ADDR ((uintptr_t)0x602000000010)

static unsigned sym_calls, sym_calls_with_names;

static void set(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src); }

static bool fake_symbolize(uintptr_t pc, bool names, cf_frame_info *f) {
    static const struct {
        uintptr_t pc;
        const char *module;
        uintptr_t offset;
        const char *function;
        uintptr_t func_offset;
        const char *file;
        unsigned line;
        bool unloaded;
    } known[] = {
        {PC_FREE_IT, "/usr/bin/app", 0x1111, "free_it", 0x21, "/src/app/ui.c", 42, false},
        {PC_MAIN, "/usr/bin/app", 0x2222, "main", 0x5, "/src/app/main.c", 7, false},
        {PC_NEW_ARRAY, "/usr/lib/libstdc++.so.6", 0x3333, "operator new[](unsigned long)", 0x13, "",
         0, false},
        {PC_LIBC, "/lib/x86_64-linux-gnu/libc.so.6", 0x4444, "", 0, "", 0, false},
        {PC_HELPER, "/usr/bin/app", 0x5555, "helper", 0x8, "/src/app/h.c", 0, false},
        {PC_PLUGIN, "/tmp/plugin.so", 0x6666, "plugin_free", 0x2, "plugin.c", 3, true},
        {PC_FFI, "/lib/x86_64-linux-gnu/libffi.so.8", 0x6b0d, "ffi_call", 0xcd, "", 0, false},
        {PC_CTYPES, "/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so",
         0xa42b, "", 0, "", 0, false},
        {PC_BUFFERS, "/build/tests/ffi/libbuffers.so", 0x1164, "make_array", 0x24,
         "/src/tests/ffi/buffers.cc", 10, false},
        {PC_LIBAPP, "/data/app/lib/arm64/libapp.so", 0x2d000, "", 0, "", 0, false},
        {PC_DART_VM, "/usr/lib/dart/bin/dart", 0xe000, "", 0, "", 0, false},
        {PC_GODOT, "/opt/godot/libgodot.linuxbsd.so", 0xf000, "", 0, "", 0, false},
        {PC_INLINED, "/usr/bin/app", 0x1777, "main", 0x40, "/src/app/main.c", 30, false},
        {PC_RUST, "/build/tests/ffi/librsfree.so", 0x11cd5,
         "<rsfree::Buffer as core::ops::drop::Drop>::drop", 0x15, "/src/tests/ffi/rsfree.rs", 26,
         false},
        {PC_LIBRUBY, "/lib/x86_64-linux-gnu/libruby-3.1.so.3.1", 0xd6680, "ruby_sized_xfree", 0x30,
         "", 0, false},
        {PC_FIDDLE, "/usr/lib/x86_64-linux-gnu/ruby/3.1.0/fiddle.so", 0x6264, "", 0, "", 0, false},
    };
    sym_calls++;
    sym_calls_with_names += names;
    // Like the runtime's report symbolizer: JIT code is in no module (false)
    // but is marked, and named from a perf map when one covers it.
    if (pc == PC_JIT_NAMED || pc == PC_JIT) {
        f->jit = true;
        set(f->function, sizeof f->function,
            pc == PC_JIT_NAMED ? "LazyCompile:*releaseBuffer /app/main.js:12" : "");
        return false;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].pc != pc)
            continue;
        set(f->module, sizeof f->module, known[i].module);
        f->offset = known[i].offset;
        f->unloaded = known[i].unloaded;
        // Like cf_symbolize: without names, module and offset only.
        if (names) {
            set(f->function, sizeof f->function, known[i].function);
            f->func_offset = known[i].func_offset;
            set(f->file, sizeof f->file, known[i].file);
            f->line = known[i].line;
            if (pc == PC_INLINED) {
                cf_frame_add_inline(f, "release_buf(char*)", "/src/app/buf.h", 9);
                cf_frame_add_inline(f, "drop", "/src/app/buf.h", 20);
            }
        }
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

static char text[1 << 16];

static const uintptr_t free_pcs[] = {PC_FREE_IT, PC_MAIN};
static const uintptr_t alloc_pcs[] = {PC_NEW_ARRAY, PC_HELPER, PC_MAIN};
static const uintptr_t first_free_pcs[] = {PC_PLUGIN, PC_MAIN};
// make_array in libbuffers.so called from Python through ctypes and libffi.
static const uintptr_t ffi_alloc_pcs[] = {PC_NEW_ARRAY, PC_BUFFERS, PC_FFI, PC_CTYPES};
static uint32_t alloc_stack, first_free_stack, ffi_alloc_stack;

static int setup_depot(void **state) {
    (void)state;
    if (!cf_depot_init((size_t)64 << 20))
        return -1;
    alloc_stack = cf_depot_put(alloc_pcs, 3);
    first_free_stack = cf_depot_put(first_free_pcs, 2);
    ffi_alloc_stack = cf_depot_put(ffi_alloc_pcs, 4);
    return alloc_stack != 0 && first_free_stack != 0 && ffi_alloc_stack != 0 ? 0 : -1;
}

// operator new[] of 160 bytes in T0, freed by free() in T0.
static cf_error mismatch_error(void) {
    cf_error e;
    memset(&e, 0, sizeof e);
    e.kind = CF_ERR_MISMATCH;
    e.pid = 4242;
    e.addr = ADDR;
    e.tid = 0;
    e.dealloc_fn = CF_DEALLOC_FREE;
    e.dealloc_family = CF_FAM_MALLOC;
    e.pcs = free_pcs;
    e.n_pcs = 2;
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 160, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 0);
    e.halts = true; // halt_on_error=1, the default
    return e;
}

static const char *render(const cf_error *e, bool names) {
    cf_buf b;
    cf_buf_init(&b, text, sizeof text);
    cf_report_format(e, names, fake_symbolize, &b);
    assert_false(b.truncated);
    assert_int_equal(strlen(text), b.len);
    return text;
}

static void assert_contains(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected to find\n%s\nin:\n%s", needle, haystack);
}

static void assert_lacks(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) != NULL)
        fail_msg("did not expect\n%s\nin:\n%s", needle, haystack);
}

// On a difference, names the first line that differs (cmocka truncates
// long messages, so the whole report would not fit).
static void assert_text(const char *got, const char *want) {
    if (strcmp(got, want) == 0)
        return;
    const char *g = got, *w = want;
    unsigned line = 1;
    while (*g != '\0' && *g == *w) {
        line += *g == '\n';
        g++;
        w++;
    }
    while (g > got && g[-1] != '\n') {
        g--;
        w--;
    }
    fail_msg("report differs at line %u:\n  expected: %.*s\n  got:      %.*s", line,
             (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"), g);
}

#define FREE_STACK                                                                                 \
    "    #0 0x401111 in free_it /src/app/ui.c:42 (/usr/bin/app+0x1111)\n"                          \
    "    #1 0x402222 in main /src/app/main.c:7 (/usr/bin/app+0x2222)\n"
#define ALLOC_STACK                                                                                \
    "    #0 0x7f0000003333 in operator new[](unsigned long)+0x13 "                                 \
    "(/usr/lib/libstdc++.so.6+0x3333)\n"                                                           \
    "    #1 0x405555 in helper /src/app/h.c (/usr/bin/app+0x5555)\n"                               \
    "    #2 0x402222 in main /src/app/main.c:7 (/usr/bin/app+0x2222)\n"
#define HALT_NOTE " (CROSSFREE_OPTIONS=halt_on_error=0 continues after a report)\n"

// ---------------------------------------------------------------------------
// alloc-dealloc-mismatch
// ---------------------------------------------------------------------------

static void test_mismatch_full_text(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    assert_text(render(&e, true),
                "==4242==ERROR: crossfree: alloc-dealloc-mismatch on address 0x602000000010 "
                "in thread T0\n"
                "allocated by operator new[], freed by free()\n" FREE_STACK
                "0x602000000010 is a 160-byte region allocated by operator new[] in thread T0 "
                "here:\n" ALLOC_STACK
                "SUMMARY: crossfree: alloc-dealloc-mismatch /src/app/ui.c:42 in free_it\n"
                "HINT: memory from operator new[] must be released with operator delete[]; if "
                "another language frees it, export a release function that uses operator "
                "delete[] and call that instead, or allocate the buffer with malloc()" HALT_NOTE);
}

static void test_mismatch_other_directions(void **state) {
    (void)state;
    // malloc'd memory given to operator delete, by thread 12.
    cf_error e = mismatch_error();
    e.tid = 12;
    e.dealloc_fn = CF_DEALLOC_DELETE;
    e.dealloc_family = CF_FAM_NEW;
    e.alloc = cf_record_make(ADDR, 7, CF_FAM_MALLOC, CF_ALLOC_CALLOC, alloc_stack, 9);
    const char *t = render(&e, true);
    assert_contains(t, "==4242==ERROR: crossfree: alloc-dealloc-mismatch on address "
                       "0x602000000010 in thread T12\n");
    assert_contains(t, "\nallocated by calloc(), freed by operator delete\n");
    assert_contains(t, "\n0x602000000010 is a 7-byte region allocated by calloc() in thread T9 "
                       "here:\n");
    assert_contains(t, "\nHINT: memory from calloc() must be released with free(); whoever "
                       "frees it must use free()");

    // A custom family's words appear on both sides.
    unsigned fam = cf_family_register("g_slice", "g_slice_alloc()", "g_slice_free1()");
    assert_int_not_equal(fam, 0);
    e.alloc = cf_record_make(ADDR, 64, fam, CF_ALLOC_CUSTOM, alloc_stack, 1);
    e.dealloc_fn = CF_DEALLOC_FREE;
    e.dealloc_family = CF_FAM_MALLOC;
    t = render(&e, true);
    assert_contains(t, "\nallocated by g_slice_alloc(), freed by free()\n");
    assert_contains(t, "\nHINT: memory from g_slice_alloc() must be released with "
                       "g_slice_free1() (CROSSFREE_OPTIONS");
}

static void test_inlined_frames(void **state) {
    (void)state;
    // Functions inlined at a pc are numbered frames of their own, innermost
    // first, and the SUMMARY names the innermost.
    static const uintptr_t pcs[] = {PC_INLINED, PC_LIBC};
    cf_error e = mismatch_error();
    e.pcs = pcs;
    e.n_pcs = 2;
    const char *t = render(&e, true);
    assert_contains(t, "    #0 0x401777 in release_buf(char*) /src/app/buf.h:9 "
                       "(/usr/bin/app+0x1777) [inlined]\n"
                       "    #1 0x401777 in drop /src/app/buf.h:20 (/usr/bin/app+0x1777) [inlined]\n"
                       "    #2 0x401777 in main /src/app/main.c:30 (/usr/bin/app+0x1777)\n"
                       "    #3 0x7f0000004444 (/lib/x86_64-linux-gnu/libc.so.6+0x4444)\n");
    assert_contains(t, "SUMMARY: crossfree: alloc-dealloc-mismatch /src/app/buf.h:9 in "
                       "release_buf(char*)\n");
    // Without names there is nothing inlined to show.
    t = render(&e, false);
    assert_contains(t, "    #0 0x401777 (/usr/bin/app+0x1777)\n    #1 0x7f0000004444");
}

static void test_mismatch_without_names(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    sym_calls = sym_calls_with_names = 0;
    const char *t = render(&e, false);
    assert_true(sym_calls > 0);
    assert_int_equal(sym_calls_with_names, 0); // names=false reaches the symbolizer
    assert_text(t,
                "==4242==ERROR: crossfree: alloc-dealloc-mismatch on address 0x602000000010 "
                "in thread T0\n"
                "allocated by operator new[], freed by free()\n"
                "    #0 0x401111 (/usr/bin/app+0x1111)\n"
                "    #1 0x402222 (/usr/bin/app+0x2222)\n"
                "0x602000000010 is a 160-byte region allocated by operator new[] in thread "
                "T0 here:\n"
                "    #0 0x7f0000003333 (/usr/lib/libstdc++.so.6+0x3333)\n"
                "    #1 0x405555 (/usr/bin/app+0x5555)\n"
                "    #2 0x402222 (/usr/bin/app+0x2222)\n"
                "SUMMARY: crossfree: alloc-dealloc-mismatch (app+0x1111)\n"
                "HINT: memory from operator new[] must be released with operator delete[]; "
                "if another language frees it, export a release function that uses operator "
                "delete[] and call that instead, or allocate the buffer with malloc()" HALT_NOTE);
    assert_lacks(t, " in free_it");
    assert_lacks(t, ".c:");
}

// ---------------------------------------------------------------------------
// double-free
// ---------------------------------------------------------------------------

static cf_error double_free_error(bool remembered) {
    cf_error e = mismatch_error();
    e.kind = CF_ERR_DOUBLE_FREE;
    e.tid = 5;
    e.dealloc_fn = CF_DEALLOC_DELETE_ARRAY;
    e.dealloc_family = CF_FAM_NEW_ARRAY;
    e.has_prev_free = remembered;
    if (remembered) {
        e.prev_free.rec = e.alloc;
        e.prev_free.free_stack = first_free_stack;
        e.prev_free.free_tid = 3;
        e.prev_free.dealloc_fn = CF_DEALLOC_DELETE_ARRAY;
    }
    return e;
}

static void test_double_free_remembered(void **state) {
    (void)state;
    cf_error e = double_free_error(true);
    assert_text(render(&e, true),
                "==4242==ERROR: crossfree: double-free on address 0x602000000010 in thread T5\n"
                "freed twice: first by operator delete[], now by operator delete[]\n" FREE_STACK
                "0x602000000010 is a 160-byte region freed by operator delete[] in thread T3 "
                "here:\n"
                "    #0 0x7f0000006666 in plugin_free plugin.c:3 (/tmp/plugin.so+0x6666) "
                "[unloaded]\n"
                "    #1 0x402222 in main /src/app/main.c:7 (/usr/bin/app+0x2222)\n"
                "previously allocated by operator new[] in thread T0 here:\n" ALLOC_STACK
                "SUMMARY: crossfree: double-free /src/app/ui.c:42 in free_it\n"
                "HINT: the block was freed twice; clear the pointer after the first free or give "
                "the block a single owner" HALT_NOTE);
}

static void test_double_free_forgotten(void **state) {
    (void)state;
    cf_error e = double_free_error(false);
    e.dealloc_fn = CF_DEALLOC_FREE; // a different deallocator the second time
    e.dealloc_family = CF_FAM_MALLOC;
    assert_text(render(&e, true),
                "==4242==ERROR: crossfree: double-free on address 0x602000000010 in thread T5\n"
                "freed twice: first by an earlier deallocation, now by free()\n" FREE_STACK
                "0x602000000010 is a 160-byte region freed by an earlier deallocation (its stack "
                "is no longer remembered):\n"
                "previously allocated by operator new[] in thread T0 here:\n" ALLOC_STACK
                "SUMMARY: crossfree: double-free /src/app/ui.c:42 in free_it\n"
                "HINT: the block was freed twice; clear the pointer after the first free or give "
                "the block a single owner" HALT_NOTE);
}

// ---------------------------------------------------------------------------
// invalid-free, one test per cf_where
// ---------------------------------------------------------------------------

static cf_error invalid_free_error(cf_where where) {
    cf_error e;
    memset(&e, 0, sizeof e);
    e.kind = CF_ERR_INVALID_FREE;
    e.pid = 77;
    e.addr = ADDR + 16;
    e.tid = 2;
    e.dealloc_fn = CF_DEALLOC_FREE;
    e.dealloc_family = CF_FAM_MALLOC;
    e.pcs = free_pcs;
    e.n_pcs = 2;
    e.where = where;
    e.halts = true;
    return e;
}

#define INVALID_HEAD                                                                               \
    "==77==ERROR: crossfree: invalid-free on address 0x602000000020 in thread T2\n"                \
    "free() on an address that no tracked allocator handed out: "
#define INVALID_TAIL                                                                               \
    "SUMMARY: crossfree: invalid-free /src/app/ui.c:42 in free_it\n"                               \
    "HINT: pass a deallocator only the exact pointer its allocator returned; memory from "         \
    "another allocator must go back to that allocator" HALT_NOTE

static void test_invalid_free_unknown(void **state) {
    (void)state;
    cf_error e = invalid_free_error(CF_WHERE_UNKNOWN);
    assert_text(render(&e, true), INVALID_HEAD
                "memory crossfree does not track (an allocator that bypasses libc, "
                "or a block from before crossfree was loaded)\n" FREE_STACK INVALID_TAIL);
}

static void test_invalid_free_interior(void **state) {
    (void)state;
    cf_error e = invalid_free_error(CF_WHERE_INTERIOR);
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 160, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 0);
    assert_text(render(&e, true), INVALID_HEAD
                "16 bytes inside a 160-byte region allocated by operator new[]\n" FREE_STACK
                "0x602000000010 is a 160-byte region allocated by operator new[] in "
                "thread T0 here:\n" ALLOC_STACK INVALID_TAIL);
}

// An invalid free near (or inside) a block: where it points, and the
// words the second line gives it.
typedef struct near_case {
    uintptr_t addr;
    cf_where where;
    const char *words;
} near_case;

// The error of case `c` for a block of `size` bytes at ADDR.
static cf_error near_error(const near_case *c, uint64_t size) {
    cf_error e = invalid_free_error(c->where);
    e.addr = c->addr;
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, size, CF_FAM_MALLOC, CF_ALLOC_MALLOC, alloc_stack, 0);
    return e;
}

// Near a live block: the offset in front of it or past its end, then the
// block and its allocation stack.
static void test_invalid_free_near_live(void **state) {
    (void)state;
    static const near_case cases[] = {
        {ADDR - 8, CF_WHERE_BEFORE, "8 bytes before a 1-byte region"},
        {ADDR + 1, CF_WHERE_AFTER, "0 bytes after the end of a 1-byte region"},
        {ADDR + 40, CF_WHERE_AFTER, "39 bytes after the end of a 1-byte region"},
    };
    char want[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cf_error e = near_error(&cases[i], 1);
        snprintf(want, sizeof want,
                 "\nfree() on an address that no tracked allocator handed out: %s allocated by "
                 "malloc()\n" FREE_STACK "0x602000000010 is a 1-byte region allocated by malloc() "
                 "in thread T0 here:\n" ALLOC_STACK INVALID_TAIL,
                 cases[i].words);
        assert_contains(render(&e, true), want);
    }
}

// Near or inside a freed block: the offset, then who freed it and who
// allocated it, as a double free shows them.
static void test_invalid_free_near_freed(void **state) {
    (void)state;
    static const near_case cases[] = {
        {ADDR + 8, CF_WHERE_FREED_INSIDE, "8 bytes inside a freed 64-byte region"},
        {ADDR - 16, CF_WHERE_FREED_BEFORE, "16 bytes before a freed 64-byte region"},
        {ADDR + 70, CF_WHERE_FREED_AFTER, "6 bytes after the end of a freed 64-byte region"},
    };
    char want[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cf_error e = near_error(&cases[i], 64);
        e.has_prev_free = true;
        e.prev_free.rec = e.alloc;
        e.prev_free.free_stack = first_free_stack;
        e.prev_free.free_tid = 3;
        e.prev_free.dealloc_fn = CF_DEALLOC_FREE;
        const char *t = render(&e, true);
        snprintf(want, sizeof want,
                 "\nfree() on an address that no tracked allocator handed out: %s allocated by "
                 "malloc()\n" FREE_STACK "0x602000000010 is a 64-byte region freed by free() in "
                 "thread T3 here:\n",
                 cases[i].words);
        assert_contains(t, want);
        assert_contains(
            t, "previously allocated by malloc() in thread T0 here:\n" ALLOC_STACK INVALID_TAIL);
    }
}

// A block of crossfree's own: its own words, no allocation stack, and a
// hint that says the block was kept.
static void test_invalid_free_own(void **state) {
    (void)state;
    cf_error e = invalid_free_error(CF_WHERE_OWN);
    e.addr = ADDR;
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 112, CF_FAM_MALLOC, CF_ALLOC_INTERNAL, 0, 0);
    assert_text(render(&e, true),
                "==77==ERROR: crossfree: invalid-free on address 0x602000000010 in thread T2\n"
                "free() on crossfree's own memory: a 112-byte block that crossfree's libraries "
                "allocated for it, not the program; it was not released\n" FREE_STACK
                "0x602000000010 is a 112-byte region of crossfree's own (its allocation stack is "
                "not recorded)\n"
                "SUMMARY: crossfree: invalid-free /src/app/ui.c:42 in free_it\n"
                "HINT: the program never allocated this block, so the pointer is stale, "
                "uninitialised or computed wrongly; crossfree kept the block, which its own code "
                "still uses" HALT_NOTE);
}

static void test_invalid_free_stack(void **state) {
    (void)state;
    cf_error e = invalid_free_error(CF_WHERE_STACK);
    e.addr = (uintptr_t)0x7ffc12345670;
    const char *t = render(&e, true);
    assert_contains(t, "==77==ERROR: crossfree: invalid-free on address 0x7ffc12345670 in "
                       "thread T2\n");
    assert_contains(t, "\nfree() on an address that no tracked allocator handed out: an address "
                       "on the stack of thread T2\n" FREE_STACK "SUMMARY:");
    assert_contains(t, "\n" INVALID_TAIL);
    assert_lacks(t, "region");
}

static void test_invalid_free_static(void **state) {
    (void)state;
    cf_error e = invalid_free_error(CF_WHERE_STATIC);
    e.dealloc_fn = CF_DEALLOC_DELETE;
    e.dealloc_family = CF_FAM_NEW;
    set(e.where_module, sizeof e.where_module, "/usr/lib/libfoo.so.1");
    const char *t = render(&e, true);
    assert_contains(t, "\noperator delete on an address that no tracked allocator handed out: a "
                       "static address in /usr/lib/libfoo.so.1\n" FREE_STACK "SUMMARY:");
    assert_lacks(t, "region");
}

// ---------------------------------------------------------------------------
// FFI hosts: which side freed, which allocated, and the fix for the pair
// ---------------------------------------------------------------------------

// A new[] buffer from libbuffers.so, freed with free() by Python's ctypes.
static const uintptr_t ctypes_free_pcs[] = {PC_FFI, PC_CTYPES, PC_MAIN};

static cf_error ffi_mismatch_error(const uintptr_t *pcs, unsigned n) {
    cf_error e = mismatch_error();
    e.pcs = pcs;
    e.n_pcs = n;
    e.alloc = cf_record_make(ADDR, 40, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, ffi_alloc_stack, 0);
    return e;
}

#define FFI_ALLOC_STACK                                                                            \
    "    #0 0x7f0000003333 in operator new[](unsigned long)+0x13 "                                 \
    "(/usr/lib/libstdc++.so.6+0x3333)\n"                                                           \
    "    #1 0x7f000000c164 in make_array /src/tests/ffi/buffers.cc:10 "                            \
    "(/build/tests/ffi/libbuffers.so+0x1164)\n"                                                    \
    "    #2 0x7f0000008888 in ffi_call+0xcd (/lib/x86_64-linux-gnu/libffi.so.8+0x6b0d)\n"          \
    "    #3 0x7f0000009999 "                                                                       \
    "(/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so+0xa42b)\n"

static void test_ffi_sides_full_text(void **state) {
    (void)state;
    cf_error e = ffi_mismatch_error(ctypes_free_pcs, 3);
    assert_text(
        render(&e, true),
        "==4242==ERROR: crossfree: alloc-dealloc-mismatch on address 0x602000000010 in thread "
        "T0\n"
        "allocated by operator new[], freed by free()\n"
        "freed from Python (ctypes via libffi) (frame #0); allocated in libbuffers.so by operator "
        "new[] in make_array\n"
        "    #0 0x7f0000008888 in ffi_call+0xcd (/lib/x86_64-linux-gnu/libffi.so.8+0x6b0d) "
        "[host boundary: Python (ctypes via libffi)]\n"
        "    #1 0x7f0000009999 "
        "(/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so+0xa42b)\n"
        "    #2 0x402222 in main /src/app/main.c:7 (/usr/bin/app+0x2222)\n"
        "0x602000000010 is a 40-byte region allocated by operator new[] in thread T0 "
        "here:\n" FFI_ALLOC_STACK
        "SUMMARY: crossfree: alloc-dealloc-mismatch (libffi.so.8+0x6b0d) in ffi_call\n"
        "HINT: memory from operator new[] must be released with operator delete[]; export a "
        "release function from libbuffers.so that uses operator delete[] and call it from Python "
        "(ctypes via libffi) instead of free(), or allocate the buffer with malloc() if the host "
        "must free it" HALT_NOTE);
}

static void test_ffi_boundary_above_frame_0(void **state) {
    (void)state;
    // free() reached libffi through a libc frame: the boundary is #1, and
    // only #1 carries the tag.
    static const uintptr_t pcs[] = {PC_LIBC, PC_FFI, PC_CTYPES, PC_MAIN};
    cf_error e = ffi_mismatch_error(pcs, 4);
    const char *t = render(&e, true);
    assert_contains(t, "\nfreed from Python (ctypes via libffi) (frame #1); allocated in "
                       "libbuffers.so by operator new[] in make_array\n"
                       "    #0 0x7f0000004444 (/lib/x86_64-linux-gnu/libc.so.6+0x4444)\n"
                       "    #1 0x7f0000008888 in ffi_call+0xcd "
                       "(/lib/x86_64-linux-gnu/libffi.so.8+0x6b0d) [host boundary: Python "
                       "(ctypes via libffi)]\n"
                       "    #2 0x7f0000009999 (");
    // One tag in the whole report: not on the allocation stack's libffi frame.
    const char *first = strstr(t, "[host boundary: ");
    assert_non_null(first);
    assert_null(strstr(first + 1, "[host boundary: "));
}

static void test_ffi_without_names(void **state) {
    (void)state;
    // symbolize=0: the sides line names modules, never functions, and the
    // symbolizer is never asked for names (docs/options.md, `symbolize`).
    cf_error e = ffi_mismatch_error(ctypes_free_pcs, 3);
    sym_calls = sym_calls_with_names = 0;
    const char *t = render(&e, false);
    assert_true(sym_calls > 0);
    assert_contains(t, "\nfreed from Python (ctypes via libffi) (frame #0); allocated in "
                       "libbuffers.so by operator new[]\n"
                       "    #0 0x7f0000008888 (/lib/x86_64-linux-gnu/libffi.so.8+0x6b0d) [host "
                       "boundary: Python (ctypes via libffi)]\n");
    assert_lacks(t, "make_array");
    assert_int_equal(sym_calls_with_names, 0);
}

static void test_ffi_bridge_without_host(void **state) {
    (void)state;
    // libffi with no known host module above it.
    static const uintptr_t pcs[] = {PC_FFI, PC_MAIN};
    cf_error e = ffi_mismatch_error(pcs, 2);
    const char *t = render(&e, true);
    assert_contains(t, "\nfreed from an FFI host (via libffi) (frame #0); allocated in "
                       "libbuffers.so by operator new[] in make_array\n");
    assert_contains(t, "(/lib/x86_64-linux-gnu/libffi.so.8+0x6b0d) [host boundary: an FFI host "
                       "(via libffi)]\n");
    assert_contains(t, "and call it from an FFI host (via libffi) instead of free()");
}

static void test_ffi_library_freed(void **state) {
    (void)state;
    // Python called a Rust library, which called free() (through libc):
    // the library freed the block, not Python, and the HINT says so.
    static const uintptr_t pcs[] = {PC_LIBC, PC_RUST, PC_FFI, PC_CTYPES, PC_MAIN};
    cf_error e = ffi_mismatch_error(pcs, 5);
    const char *t = render(&e, true);
    assert_lacks(t, "freed from ");
    assert_lacks(t, "[host boundary");
    assert_lacks(t, "Python");
    assert_contains(t, "    #1 0x7f0000011cd5 in <rsfree::Buffer as core::ops::drop::Drop>::drop "
                       "/src/tests/ffi/rsfree.rs:26 (/build/tests/ffi/librsfree.so+0x11cd5)\n");
    assert_contains(t,
                    "\nHINT: librsfree.so freed memory that libbuffers.so allocated with "
                    "operator new[]: memory from operator new[] must be released with "
                    "operator delete[]; export a release function from libbuffers.so that "
                    "uses operator delete[] and call it from librsfree.so instead of free(), "
                    "or allocate the buffer with malloc() if librsfree.so must free it" HALT_NOTE);
    cf_ffi_facts facts;
    cf_report_ffi_facts(&e, false, fake_symbolize, &facts);
    assert_false(facts.side.found);
    assert_string_equal(facts.side.library, "librsfree.so");
    assert_int_equal(facts.side.library_frame, 1);
    // No host above the freeing code (a C program freeing a library's
    // buffer): nothing to tell apart from a host, the HINT stays general.
    static const uintptr_t no_host[] = {PC_FREE_IT, PC_MAIN};
    e = ffi_mismatch_error(no_host, 2);
    t = render(&e, true);
    assert_lacks(t, "freed memory that");
    cf_report_ffi_facts(&e, false, fake_symbolize, &facts);
    assert_string_equal(facts.side.library, "");
    // The same library allocating and freeing: no one else to name.
    static const uintptr_t own[] = {PC_BUFFERS, PC_FFI, PC_CTYPES};
    e = ffi_mismatch_error(own, 3);
    t = render(&e, true);
    assert_lacks(t, "freed memory that");
    assert_contains(t, "\nHINT: memory from operator new[] must be released with operator "
                       "delete[]; if another language frees it");
}

static void test_ffi_interpreter_passed_over(void **state) {
    (void)state;
    // Fiddle frees through libruby's ruby_sized_xfree: libruby is Ruby's
    // own code, so the host is Ruby, entered at Fiddle's frame.
    static const uintptr_t pcs[] = {PC_LIBRUBY, PC_FIDDLE, PC_MAIN};
    cf_error e = ffi_mismatch_error(pcs, 3);
    const char *t = render(&e, true);
    assert_contains(t, "\nfreed from Ruby (Fiddle) (frame #1); allocated in libbuffers.so by "
                       "operator new[] in make_array\n");
    assert_contains(t, "and call it from Ruby (Fiddle) instead of free()");
}

static void test_ffi_other_kinds(void **state) {
    (void)state;
    // A double free by ctypes: the boundary is tagged, but only a mismatch
    // has the sides line (there is no pair of allocators to name).
    cf_error e = double_free_error(true);
    e.pcs = ctypes_free_pcs;
    e.n_pcs = 3;
    const char *t = render(&e, true);
    assert_contains(t, "\nfreed twice: first by operator delete[], now by operator delete[]\n"
                       "    #0 0x7f0000008888 in ffi_call+0xcd "
                       "(/lib/x86_64-linux-gnu/libffi.so.8+0x6b0d) [host boundary: Python "
                       "(ctypes via libffi)]\n");
    assert_lacks(t, "freed from ");
    assert_contains(t, "\nHINT: the block was freed twice;");

    // A mismatch the wrong way round (malloc'd, freed by delete) from a
    // host: the sides line, and the usual advice for malloc'd memory.
    e = ffi_mismatch_error(ctypes_free_pcs, 3);
    e.dealloc_fn = CF_DEALLOC_DELETE;
    e.dealloc_family = CF_FAM_NEW;
    e.alloc = cf_record_make(ADDR, 40, CF_FAM_MALLOC, CF_ALLOC_MALLOC, ffi_alloc_stack, 0);
    t = render(&e, true);
    assert_contains(t, "\nfreed from Python (ctypes via libffi) (frame #0); allocated in "
                       "libbuffers.so by malloc() in make_array\n");
    assert_contains(t, "\nHINT: memory from malloc() must be released with free(); whoever frees "
                       "it must use free()");

    // No allocation stack recorded: the host is still named.
    e = ffi_mismatch_error(ctypes_free_pcs, 3);
    e.alloc.stack = 0;
    t = render(&e, true);
    assert_contains(t, "\nfreed from Python (ctypes via libffi) (frame #0)\n    #0 ");
    assert_contains(t, "export a release function from the native library that uses operator "
                       "delete[] and call it from Python (ctypes via libffi) instead of free()");
}

static void test_jit_frames(void **state) {
    (void)state;
    char s[1024];
    cf_buf b;
    cf_frame_info f;

    // JIT code: never "<unknown module>"; named from a perf map when it can be.
    memset(&f, 0, sizeof f);
    f.pc = PC_JIT;
    f.jit = true;
    cf_buf_init(&b, s, sizeof s);
    cf_report_format_frame(&b, 4, &f);
    assert_string_equal(s, "    #4 0x7f000000bbbb ([jit] 0x7f000000bbbb)\n");
    set(f.function, sizeof f.function, "LazyCompile:*releaseBuffer /app/main.js:12");
    cf_buf_init(&b, s, sizeof s);
    cf_report_format_frame(&b, 5, &f);
    assert_string_equal(s, "    #5 0x7f000000bbbb in LazyCompile:*releaseBuffer /app/main.js:12 "
                           "([jit] 0x7f000000bbbb)\n");

    // In a report: JIT frames freeing directly make "JIT code" the host.
    static const uintptr_t pcs[] = {PC_JIT_NAMED, PC_JIT, PC_MAIN};
    cf_error e = mismatch_error();
    e.pcs = pcs;
    e.n_pcs = 3;
    const char *t = render(&e, true);
    assert_contains(t, "\nallocated by operator new[], freed by free()\n"
                       "freed from JIT code (frame #0); allocated in app by operator new[] in "
                       "helper\n"
                       "    #0 0x7f000000aaaa in LazyCompile:*releaseBuffer /app/main.js:12 "
                       "([jit] 0x7f000000aaaa) [host boundary: JIT code]\n"
                       "    #1 0x7f000000bbbb ([jit] 0x7f000000bbbb)\n"
                       "    #2 0x402222 in main /src/app/main.c:7 (/usr/bin/app+0x2222)\n");
    assert_lacks(t, "<unknown module>");
}

#define DART_NOTE                                                                                  \
    "; on Windows package:ffi frees with CoTaskMemFree, so memory Dart frees must come from a "    \
    "DartReadable-style allocator (CoTaskMemAlloc on Windows, malloc elsewhere): see "             \
    "docs/ffi-hosts.md"

static void test_dart_hint(void **state) {
    (void)state;
    // Dart AOT code in libapp.so calling free() directly.
    static const uintptr_t aot_pcs[] = {PC_LIBAPP, PC_MAIN};
    cf_error e = ffi_mismatch_error(aot_pcs, 2);
    const char *t = render(&e, true);
    assert_contains(t, "\nfreed from Dart (AOT code in libapp.so) (frame #0); allocated in "
                       "libbuffers.so by operator new[] in make_array\n"
                       "    #0 0x7f000000d000 (/data/app/lib/arm64/libapp.so+0x2d000) [host "
                       "boundary: Dart (AOT code in libapp.so)]\n");
    assert_contains(t, "\nHINT: memory from operator new[] must be released with operator "
                       "delete[]; export a release function from libbuffers.so that uses "
                       "operator delete[] and call it from Dart (AOT code in libapp.so) instead "
                       "of free(), or allocate the buffer with malloc() if the host must free "
                       "it" DART_NOTE HALT_NOTE);

    // JIT code of the Dart VM: the boundary is the JIT frame, the host is
    // named after the VM above it, and the note is there too.
    static const uintptr_t jit_pcs[] = {PC_JIT, PC_DART_VM, PC_MAIN};
    e = ffi_mismatch_error(jit_pcs, 3);
    t = render(&e, true);
    assert_contains(t, "\nfreed from Dart (VM) (frame #0); allocated in libbuffers.so");
    assert_contains(t, "\n    #0 0x7f000000bbbb ([jit] 0x7f000000bbbb) [host boundary: Dart "
                       "(VM)]\n");
    assert_contains(t, DART_NOTE HALT_NOTE);

    // malloc'd memory freed by Dart: no new[] advice, but the note.
    e = ffi_mismatch_error(aot_pcs, 2);
    e.dealloc_fn = CF_DEALLOC_DELETE;
    e.dealloc_family = CF_FAM_NEW;
    e.alloc = cf_record_make(ADDR, 40, CF_FAM_MALLOC, CF_ALLOC_MALLOC, ffi_alloc_stack, 0);
    t = render(&e, true);
    assert_contains(t, "\nHINT: memory from malloc() must be released with free(); whoever frees "
                       "it must use free(), or allocate it with the allocator that matches the "
                       "freeing code" DART_NOTE HALT_NOTE);

    // Other hosts get no Dart note.
    e = ffi_mismatch_error(ctypes_free_pcs, 3);
    assert_lacks(render(&e, true), "CoTaskMemFree");
}

// ---------------------------------------------------------------------------
// The HINT's halt_on_error suggestion, and the same words in JSON
// ---------------------------------------------------------------------------

static void test_hint_without_halt(void **state) {
    (void)state;
    // halt_on_error=0 is set: suggesting it would be noise.
    cf_error errors[] = {mismatch_error(), double_free_error(true),
                         invalid_free_error(CF_WHERE_STACK),
                         ffi_mismatch_error(ctypes_free_pcs, 3)};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        errors[i].halts = false;
        const char *t = render(&errors[i], true);
        assert_contains(t, "\nHINT: ");
        assert_lacks(t, "halt_on_error");
        errors[i].halts = true;
        assert_contains(render(&errors[i], true), HALT_NOTE);
    }
    errors[3].halts = false;
    assert_true(strstr(render(&errors[3], true), "if the host must free it\n") != NULL);
}

// The text of JSON string member `key` (escapes undone only for `\"` and
// `\\`, enough for crossfree's own words), into `dst`; false when absent
// or null.
static bool json_member(const char *line, const char *key, char *dst, size_t cap) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(line, pattern);
    if (p == NULL)
        return false;
    p += strlen(pattern);
    if (*p != '"')
        return false;
    size_t n = 0;
    for (p++; *p != '\0' && *p != '"' && n + 1 < cap; p++) {
        if (*p == '\\')
            p++;
        dst[n++] = *p;
    }
    dst[n] = '\0';
    return true;
}

// The text of the report line that starts with `prefix`, without it.
static bool text_line(const char *report, const char *prefix, char *dst, size_t cap) {
    const char *p = strstr(report, prefix);
    if (p == NULL || (p != report && p[-1] != '\n'))
        return false;
    p += strlen(prefix);
    size_t n = strcspn(p, "\n");
    assert_true(n < cap);
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

static void test_json_says_the_same(void **state) {
    (void)state;
    // JSON's "hint" is the text's HINT line, and "freed_from"."message" its
    // "freed from" line, for every kind, host and halt_on_error.
    static const uintptr_t aot_pcs[] = {PC_LIBAPP, PC_MAIN};
    static const uintptr_t bridge_pcs[] = {PC_FFI, PC_MAIN};
    cf_error errors[] = {
        mismatch_error(),
        double_free_error(true),
        invalid_free_error(CF_WHERE_UNKNOWN),
        invalid_free_error(CF_WHERE_STATIC),
        ffi_mismatch_error(ctypes_free_pcs, 3),
        ffi_mismatch_error(aot_pcs, 2),
        ffi_mismatch_error(bridge_pcs, 2),
    };
    static char json[1 << 16];
    char from_text[2048], from_json[2048];
    unsigned sides = 0;
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        for (int halts = 0; halts < 2; halts++) {
            for (int names = 0; names < 2; names++) {
                errors[i].halts = halts;
                const char *t = render(&errors[i], names);
                cf_buf b;
                cf_buf_init(&b, json, sizeof json);
                cf_report_format_json(&errors[i], NULL, names, fake_symbolize, &b);
                assert_true(text_line(t, "HINT: ", from_text, sizeof from_text));
                assert_true(json_member(json, "hint", from_json, sizeof from_json));
                assert_string_equal(from_json, from_text);
                bool in_text = text_line(t, "freed from ", from_text, sizeof from_text);
                const char *from = strstr(json, "\"freed_from\":{");
                bool in_json =
                    from != NULL && json_member(from, "message", from_json, sizeof from_json);
                assert_int_equal(in_text, in_json);
                if (in_text) {
                    assert_string_equal(from_json + strlen("freed from "), from_text);
                    sides++;
                }
            }
        }
    }
    assert_int_equal(sides, 3 * 4); // the three FFI errors, each way
}

// Runs last: host_modules rules stay for the rest of the process.
static void test_host_modules_option(void **state) {
    (void)state;
    static const uintptr_t pcs[] = {PC_GODOT, PC_MAIN};
    static const uintptr_t bridged_pcs[] = {PC_FFI, PC_GODOT, PC_MAIN};
    cf_error e = ffi_mismatch_error(pcs, 2);
    // Unknown until configured.
    assert_lacks(render(&e, true), "freed from ");

    char storage[2048];
    cf_buf w;
    cf_buf_init(&w, storage, sizeof storage);
    cf_hosts_configure("libgodot*.so=Godot,=Nameless,no-equals,libx.so=", &w);
    // The warnings' words are test_hosts.c's: here, one line for each bad entry.
    assert_contains(storage, "entry '=Nameless' ignored");
    assert_contains(storage, "entry 'no-equals' ignored");
    assert_contains(storage, "entry 'libx.so=' ignored");

    const char *t = render(&e, true);
    assert_contains(t, "\nfreed from Godot (frame #0); allocated in libbuffers.so by operator "
                       "new[] in make_array\n"
                       "    #0 0x7f000000f000 (/opt/godot/libgodot.linuxbsd.so+0xf000) [host "
                       "boundary: Godot]\n");
    assert_contains(t, "and call it from Godot instead of free()");

    // Through libffi, the bridge is named too.
    e = ffi_mismatch_error(bridged_pcs, 3);
    assert_contains(render(&e, true), "\nfreed from Godot via libffi (frame #0);");

    // A program-given rule wins over a built-in one.
    cf_buf_init(&w, storage, sizeof storage);
    cf_hosts_configure("_ctypes*.so=CPython", &w);
    assert_int_equal(w.len, 0);
    e = ffi_mismatch_error(ctypes_free_pcs, 3);
    assert_contains(render(&e, true), "\nfreed from CPython via libffi (frame #0);");

    // At most 16 entries: 2 are taken, the 17th is refused.
    cf_buf_init(&w, storage, sizeof storage);
    cf_hosts_configure("a1=A,a2=A,a3=A,a4=A,a5=A,a6=A,a7=A,a8=A,a9=A,a10=A,a11=A,a12=A,a13=A,"
                       "a14=A,a15=A",
                       &w);
    assert_contains(storage, "entry 'a15=A' ignored");
    assert_lacks(storage, "entry 'a14=A'");
}

// ---------------------------------------------------------------------------
// Odd frames and stacks
// ---------------------------------------------------------------------------

static void test_frame_shapes(void **state) {
    (void)state;
    char s[1024];
    cf_buf b;
    cf_frame_info f;

    // No function: module+offset only.
    memset(&f, 0, sizeof f);
    f.pc = PC_LIBC;
    set(f.module, sizeof f.module, "/lib/x86_64-linux-gnu/libc.so.6");
    f.offset = 0x4444;
    cf_buf_init(&b, s, sizeof s);
    cf_report_format_frame(&b, 3, &f);
    assert_string_equal(s, "    #3 0x7f0000004444 (/lib/x86_64-linux-gnu/libc.so.6+0x4444)\n");

    // Unknown module.
    memset(&f, 0, sizeof f);
    f.pc = PC_NOWHERE;
    cf_buf_init(&b, s, sizeof s);
    cf_report_format_frame(&b, 0, &f);
    assert_string_equal(s, "    #0 0xdead0000 (<unknown module>)\n");

    // A function but no module (a JIT frame, say).
    set(f.function, sizeof f.function, "jitted");
    f.func_offset = 0x40;
    cf_buf_init(&b, s, sizeof s);
    cf_report_format_frame(&b, 12, &f);
    assert_string_equal(s, "    #12 0xdead0000 in jitted+0x40 (<unknown module>)\n");

    // Function at offset 0 without a file: no "+0x0".
    f.func_offset = 0;
    cf_buf_init(&b, s, sizeof s);
    cf_report_format_frame(&b, 1, &f);
    assert_string_equal(s, "    #1 0xdead0000 in jitted (<unknown module>)\n");
}

static void test_stack_with_odd_frames(void **state) {
    (void)state;
    static const uintptr_t odd[] = {PC_NOWHERE, PC_LIBC, PC_FREE_IT};
    cf_error e = invalid_free_error(CF_WHERE_UNKNOWN);
    e.pcs = odd;
    e.n_pcs = 3;
    const char *t = render(&e, true);
    assert_contains(t, "\n    #0 0xdead0000 (<unknown module>)\n"
                       "    #1 0x7f0000004444 (/lib/x86_64-linux-gnu/libc.so.6+0x4444)\n"
                       "    #2 0x401111 in free_it /src/app/ui.c:42 (/usr/bin/app+0x1111)\n");
    // Frame 0 is nowhere: the SUMMARY has nothing to name.
    assert_contains(t, "\nSUMMARY: crossfree: invalid-free\nHINT: ");

    // Frame 0 in a module without a function: module basename and offset.
    e.pcs = odd + 1;
    e.n_pcs = 2;
    t = render(&e, true);
    assert_contains(t, "\nSUMMARY: crossfree: invalid-free (libc.so.6+0x4444)\nHINT: ");
}

static void test_no_stacks_recorded(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    e.pcs = NULL;
    e.n_pcs = 0;
    e.alloc.stack = 0;
    const char *t = render(&e, true);
    assert_text(t,
                "==4242==ERROR: crossfree: alloc-dealloc-mismatch on address 0x602000000010 in "
                "thread T0\n"
                "allocated by operator new[], freed by free()\n"
                "    <no stack recorded: malloc_context_size=0 or depot full>\n"
                "0x602000000010 is a 160-byte region allocated by operator new[] in thread T0 "
                "here:\n"
                "    <no stack recorded: malloc_context_size=0 or depot full>\n"
                "SUMMARY: crossfree: alloc-dealloc-mismatch\n"
                "HINT: memory from operator new[] must be released with operator delete[]; if "
                "another language frees it, export a release function that uses operator "
                "delete[] and call that instead, or allocate the buffer with malloc()" HALT_NOTE);
}

static void test_no_symbolizer(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    cf_buf b;
    cf_buf_init(&b, text, sizeof text);
    cf_report_format(&e, true, NULL, &b);
    assert_false(b.truncated);
    assert_contains(text, "\n    #0 0x401111 (<unknown module>)\n");
    assert_contains(text, "\nSUMMARY: crossfree: alloc-dealloc-mismatch\n");
}

// A sized delete of a new block with the wrong size, and an aligned delete
// with an alignment the address lacks: right family, wrong shape.
static void test_delete_shape(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    e.kind = CF_ERR_SIZE_MISMATCH;
    e.dealloc_fn = CF_DEALLOC_DELETE;
    e.dealloc_family = CF_FAM_NEW;
    e.alloc = cf_record_make(ADDR, 24, CF_FAM_NEW, CF_ALLOC_NEW, alloc_stack, 0);
    e.delete_size = 8;
    const char *t = render(&e, true);
    assert_contains(t, "==4242==ERROR: crossfree: new-delete-size-mismatch on address "
                       "0x602000000010 in thread T0\n"
                       "sized operator delete was given 8 bytes for a 24-byte region allocated "
                       "by operator new\n");
    assert_contains(t, "\n0x602000000010 is a 24-byte region allocated by operator new in thread "
                       "T0 here:\n");
    assert_contains(t, "\nSUMMARY: crossfree: new-delete-size-mismatch ");
    assert_contains(t, "\nHINT: pass operator delete the size that operator new was given; ");

    e.kind = CF_ERR_ALIGN_MISMATCH;
    e.dealloc_fn = CF_DEALLOC_DELETE_ALIGN;
    e.dealloc_family = CF_FAM_NEW_ALIGN;
    e.alloc = cf_record_make(ADDR, 24, CF_FAM_NEW_ALIGN, CF_ALLOC_NEW_ALIGN, alloc_stack, 0);
    e.delete_size = 0;
    e.delete_align = 32;
    t = render(&e, true);
    assert_contains(t, "ERROR: crossfree: new-delete-alignment-mismatch on address "
                       "0x602000000010 in thread T0\n"
                       "operator delete(align_val_t) was given an alignment of 32 bytes, which "
                       "the address of a block allocated by operator new(align_val_t) does not "
                       "have\n");
    assert_contains(t, "\nHINT: pass operator delete the alignment that operator new was given");
}

static void test_kind_names(void **state) {
    (void)state;
    assert_string_equal(cf_error_kind_name(CF_ERR_MISMATCH), "alloc-dealloc-mismatch");
    assert_string_equal(cf_error_kind_name(CF_ERR_DOUBLE_FREE), "double-free");
    assert_string_equal(cf_error_kind_name(CF_ERR_INVALID_FREE), "invalid-free");
    assert_string_equal(cf_error_kind_name(CF_ERR_SIZE_MISMATCH), "new-delete-size-mismatch");
    assert_string_equal(cf_error_kind_name(CF_ERR_ALIGN_MISMATCH), "new-delete-alignment-mismatch");
    assert_string_equal(cf_error_kind_name(CF_ERR_KIND_COUNT), "unknown-error");
}

// ---------------------------------------------------------------------------
// Truncation
// ---------------------------------------------------------------------------

// Renders into heap buffers of exactly `cap` bytes (so ASan sees any write
// past the end) and checks the result is a terminated prefix of the full
// report, flagged as truncated exactly when it does not fit.
static void check_every_size(const cf_error *e) {
    char full[8192];
    cf_buf b;
    cf_buf_init(&b, full, sizeof full);
    cf_report_format(e, true, fake_symbolize, &b);
    assert_false(b.truncated);
    size_t len = b.len;
    assert_true(len > 200);

    // cap 0 with no storage at all.
    cf_buf_init(&b, NULL, 0);
    cf_report_format(e, true, fake_symbolize, &b);
    assert_true(b.truncated);
    assert_int_equal(b.len, 0);

    for (size_t cap = 1; cap <= len + 2; cap++) {
        // Guard bytes after the buffer catch overflow in the plain build.
        char *mem = malloc(cap + 16);
        assert_non_null(mem);
        memset(mem, 0x5c, cap + 16);
        cf_buf_init(&b, mem, cap);
        cf_report_format(e, true, fake_symbolize, &b);
        size_t want = len < cap - 1 ? len : cap - 1;
        assert_int_equal(b.len, want);
        assert_int_equal(b.truncated, cap <= len);
        assert_int_equal(mem[want], '\0');
        assert_memory_equal(mem, full, want);
        for (size_t i = cap; i < cap + 16; i++)
            assert_int_equal((unsigned char)mem[i], 0x5c);
        free(mem);
    }
}

static void test_truncation_every_size(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    check_every_size(&e);
    e = double_free_error(true);
    check_every_size(&e);
    e = invalid_free_error(CF_WHERE_INTERIOR);
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 160, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 0);
    check_every_size(&e);
}

// The sides line, and the boundary tag that is added to a frame line after
// the line was written: a cut report must still be a prefix of the whole.
static void test_truncation_host_report(void **state) {
    (void)state;
    cf_error e = ffi_mismatch_error(ctypes_free_pcs, 3);
    check_every_size(&e);
    static const uintptr_t boundary_1[] = {PC_LIBC, PC_FFI, PC_CTYPES, PC_MAIN};
    e = ffi_mismatch_error(boundary_1, 4);
    check_every_size(&e);
}

static void test_tiny_buffer(void **state) {
    (void)state;
    char area[48];
    memset(area, 0x11, sizeof area);
    cf_buf b;
    cf_buf_init(&b, area, 16);
    cf_error e = mismatch_error();
    cf_report_format(&e, true, fake_symbolize, &b);
    assert_true(b.truncated);
    assert_int_equal(b.len, 15);
    assert_string_equal(area, "==4242==ERROR: ");
    for (size_t i = 16; i < sizeof area; i++)
        assert_int_equal(area[i], 0x11);
}

// A report of an impossible error stops the process with one line naming
// the check, rather than describe nonsense (or read a stack from NULL).
static void test_impossible_error_aborts(void **state) {
    (void)state;
    cf_error bad[3] = {mismatch_error(), mismatch_error(), invalid_free_error(CF_WHERE_INTERIOR)};
    bad[0].kind = CF_ERR_KIND_COUNT;
    bad[1].pcs = NULL; // with n_pcs 2
    // bad[2]: an interior pointer without its block
    for (size_t i = 0; i < 3; i++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            dup2(fds[1], 2);
            cf_buf b;
            cf_buf_init(&b, text, sizeof text);
            cf_report_format(&bad[i], true, fake_symbolize, &b);
            _exit(0);
        }
        close(fds[1]);
        char got[512] = "";
        ssize_t n = read(fds[0], got, sizeof got - 1);
        close(fds[0]);
        got[n > 0 ? n : 0] = '\0';
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
        assert_contains(got, "==crossfree: error: internal check failed at ");
        assert_contains(got, "report.c:");
    }
}

// ---------------------------------------------------------------------------
// Threads: names, OS ids, creation
// ---------------------------------------------------------------------------

// T0 is the main thread (pid 4242); T1 "producer" was created by T0, T3
// "consumer" by T1; T5 is known by its OS id alone; T7 is unknown.
static bool fake_threads(uint32_t tid, cf_thread_desc *d) {
    switch (tid) {
    case 0:
        d->main = true;
        d->os_tid = 4242;
        set(d->name, sizeof d->name, "app");
        return true;
    case 1:
        d->os_tid = 4243;
        set(d->name, sizeof d->name, "producer");
        d->created = true;
        d->created_by = 0;
        d->create_stack = first_free_stack;
        return true;
    case 3:
        d->os_tid = 4245;
        set(d->name, sizeof d->name, "consumer");
        d->created = true;
        d->created_by = 1;
        d->create_stack = alloc_stack;
        return true;
    case 5:
        d->os_tid = 4247;
        return true;
    default:
        return false;
    }
}

static void test_thread_descriptions(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    e.threads = fake_threads;
    e.tid = 3;
    e.alloc = cf_record_make(ADDR, 160, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 1);
    const char *t = render(&e, true);
    assert_contains(t, "==4242==ERROR: crossfree: alloc-dealloc-mismatch on address "
                       "0x602000000010 in thread T3 (consumer, tid 4245)\n");
    assert_contains(t, "\n0x602000000010 is a 160-byte region allocated by operator new[] in "
                       "thread T1 (producer, tid 4243) here:\n" ALLOC_STACK
                       "Thread T3 (consumer, tid 4245) created by T1 (producer, tid 4243) "
                       "here:\n" ALLOC_STACK "Thread T1 (producer, tid 4243) created by T0 here:\n"
                       "    #0 0x7f0000006666 in plugin_free plugin.c:3 (/tmp/plugin.so+0x6666) "
                       "[unloaded]\n"
                       "    #1 0x402222 in main /src/app/main.c:7 (/usr/bin/app+0x2222)\n"
                       "SUMMARY: ");
    assert_lacks(t, "Thread T0");

    // JSON: every thread named, the calling thread first, then the
    // allocating thread and the creators.
    static char json[1 << 16];
    cf_buf b;
    cf_buf_init(&b, json, sizeof json);
    cf_report_format_json(&e, NULL, false, fake_symbolize, &b);
    assert_contains(json, ",\"threads\":[{\"id\":3,\"os_tid\":4245,\"name\":\"consumer\","
                          "\"main\":false,\"created_by\":1,\"creation_stack\":[{");
    assert_contains(json, "{\"id\":1,\"os_tid\":4243,\"name\":\"producer\",\"main\":false,"
                          "\"created_by\":0,\"creation_stack\":[{\"pc\":\"0x7f0000006666\"");
    assert_contains(json, ",{\"id\":0,\"os_tid\":4242,\"name\":\"app\",\"main\":true,"
                          "\"created_by\":null,\"creation_stack\":null}],\"truncated\":false");

    // A thread known by its OS id only, and one nothing is known of.
    e.tid = 5;
    e.alloc = cf_record_make(ADDR, 160, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 7);
    t = render(&e, true);
    assert_contains(t, " in thread T5 (tid 4247)\n");
    assert_contains(t, " allocated by operator new[] in thread T7 here:\n");
    assert_lacks(t, "created by");

    // A double free names the first freeing thread too.
    e = mismatch_error();
    e.kind = CF_ERR_DOUBLE_FREE;
    e.threads = fake_threads;
    e.has_prev_free = true;
    e.prev_free.rec = e.alloc;
    e.prev_free.dealloc_fn = CF_DEALLOC_FREE;
    e.prev_free.free_stack = first_free_stack;
    e.prev_free.free_tid = 3;
    t = render(&e, true);
    assert_contains(t, "region freed by free() in thread T3 (consumer, tid 4245) here:\n");
    assert_contains(t, "Thread T3 (consumer, tid 4245) created by T1 (producer, tid 4243) here:");
    assert_contains(t, "Thread T1 (producer, tid 4243) created by T0 here:");
}

// Go: a free whose stack ends in Go's cgo call path names Go as the side
// (by function name: a Go program is an executable of any name), and the
// HINT says where the Go frames went.
static bool go_symbolize(uintptr_t pc, bool names, cf_frame_info *f) {
    static const struct {
        uintptr_t pc;
        const char *function;
    } go[] = {
        {0x481ea4, "runtime.asmcgocall.abi0"},
        {0x4a1600, "_cgo_915ed0dbc09d_Cfunc_release"},
        {0x4a1700, "release"},
    };
    for (size_t i = 0; i < sizeof go / sizeof go[0]; i++) {
        if (go[i].pc != pc)
            continue;
        set(f->module, sizeof f->module, "/home/u/cgo_app");
        f->offset = pc - 0x400000;
        if (names)
            set(f->function, sizeof f->function, go[i].function);
        return true;
    }
    return fake_symbolize(pc, names, f);
}

static void test_go_host(void **state) {
    (void)state;
    static const uintptr_t tail_called[] = {0x481ea4};
    static const uintptr_t through_c[] = {0x4a1700, 0x4a1600, 0x481ea4};
    cf_error e = mismatch_error();
    e.pcs = tail_called;
    e.n_pcs = 1;
    cf_buf b;
    cf_buf_init(&b, text, sizeof text);
    cf_report_format(&e, true, go_symbolize, &b);
    assert_contains(text, "\nfreed from Go (cgo) (frame #0); allocated in app by operator new[] "
                          "in helper\n");
    assert_contains(text, "    #0 0x481ea4 in runtime.asmcgocall.abi0 (/home/u/cgo_app+0x81ea4) "
                          "[host boundary: Go (cgo)]\n");
    assert_contains(text, "; the stacks end where cgo switched to the system stack, so the Go "
                          "code that called C is not in them: Go's goroutine dump after the "
                          "abort lists it");
    e.pcs = through_c;
    e.n_pcs = 3;
    cf_buf_init(&b, text, sizeof text);
    cf_report_format(&e, true, go_symbolize, &b);
    assert_contains(text, "\nfreed from Go (cgo) (frame #1)");
    assert_contains(text, "in _cgo_915ed0dbc09d_Cfunc_release (/home/u/cgo_app+0xa1600) "
                          "[host boundary: Go (cgo)]\n");
    // Without names a Go program is just an executable.
    cf_buf_init(&b, text, sizeof text);
    cf_report_format(&e, false, go_symbolize, &b);
    assert_lacks(text, "Go (cgo)");
}

#if CF_TEST_COUNTS_ALLOCS
// Reports are made inside free: formatting one, as text or JSON, must never
// call the allocator (the symbolizer may; this fake one does not).
static void test_no_malloc(void **state) {
    (void)state;
    cf_error errors[] = {
        mismatch_error(),
        double_free_error(true),
        double_free_error(false),
        invalid_free_error(CF_WHERE_UNKNOWN),
        invalid_free_error(CF_WHERE_INTERIOR),
        invalid_free_error(CF_WHERE_STACK),
        invalid_free_error(CF_WHERE_STATIC),
        ffi_mismatch_error(ctypes_free_pcs, 3),
        invalid_free_error(CF_WHERE_BEFORE),
        invalid_free_error(CF_WHERE_FREED_AFTER),
        invalid_free_error(CF_WHERE_OWN),
    };
    for (size_t i = 8; i < 11; i++) {
        errors[i].has_alloc = true;
        errors[i].alloc =
            cf_record_make(ADDR + 64, 8, CF_FAM_MALLOC, CF_ALLOC_MALLOC, alloc_stack, 0);
    }
    errors[9].alloc = cf_record_make(ADDR - 64, 8, CF_FAM_MALLOC, CF_ALLOC_MALLOC, alloc_stack, 0);
    errors[9].has_prev_free = true;
    errors[9].prev_free.rec = errors[9].alloc;
    errors[9].prev_free.free_stack = first_free_stack;
    errors[0].threads = fake_threads; // names, OS ids and creation stacks too
    errors[0].tid = 3;
    errors[4].has_alloc = true; // the interior pointer's block
    errors[4].alloc =
        cf_record_make(ADDR, 160, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 0);
    cf_report_meta meta = {"/usr/bin/app", "app\0--flag", 11, 1700000000000000};
    static char small[512];
    cf_buf b;
    unsigned long bytes = 0;
    cf_test_alloc_count_start();
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        for (int names = 0; names < 2; names++) {
            cf_buf_init(&b, text, sizeof text);
            cf_report_format(&errors[i], names, fake_symbolize, &b);
            cf_report_format_json(&errors[i], &meta, names, fake_symbolize, &b);
            bytes += b.len;
            cf_buf_init(&b, small, sizeof small); // truncated on the way
            cf_report_format(&errors[i], names, fake_symbolize, &b);
            cf_report_format_json(&errors[i], &meta, names, fake_symbolize, &b);
        }
    }
    unsigned long calls = cf_test_alloc_count_stop();
    assert_int_equal(calls, 0);
    assert_true(bytes > 8 * 1000);
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mismatch_full_text),
        cmocka_unit_test(test_mismatch_other_directions),
        cmocka_unit_test(test_mismatch_without_names),
        cmocka_unit_test(test_inlined_frames),
        cmocka_unit_test(test_thread_descriptions),
        cmocka_unit_test(test_go_host),
        cmocka_unit_test(test_double_free_remembered),
        cmocka_unit_test(test_double_free_forgotten),
        cmocka_unit_test(test_delete_shape),
        cmocka_unit_test(test_invalid_free_unknown),
        cmocka_unit_test(test_invalid_free_interior),
        cmocka_unit_test(test_invalid_free_near_live),
        cmocka_unit_test(test_invalid_free_near_freed),
        cmocka_unit_test(test_invalid_free_own),
        cmocka_unit_test(test_invalid_free_stack),
        cmocka_unit_test(test_invalid_free_static),
        cmocka_unit_test(test_ffi_sides_full_text),
        cmocka_unit_test(test_ffi_boundary_above_frame_0),
        cmocka_unit_test(test_ffi_without_names),
        cmocka_unit_test(test_ffi_bridge_without_host),
        cmocka_unit_test(test_ffi_library_freed),
        cmocka_unit_test(test_ffi_interpreter_passed_over),
        cmocka_unit_test(test_ffi_other_kinds),
        cmocka_unit_test(test_jit_frames),
        cmocka_unit_test(test_dart_hint),
        cmocka_unit_test(test_hint_without_halt),
        cmocka_unit_test(test_json_says_the_same),
        cmocka_unit_test(test_frame_shapes),
        cmocka_unit_test(test_stack_with_odd_frames),
        cmocka_unit_test(test_no_stacks_recorded),
        cmocka_unit_test(test_no_symbolizer),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_truncation_every_size),
        cmocka_unit_test(test_truncation_host_report),
        cmocka_unit_test(test_tiny_buffer),
        cmocka_unit_test(test_impossible_error_aborts),
#if CF_TEST_COUNTS_ALLOCS
        cmocka_unit_test(test_no_malloc),
#endif
        cmocka_unit_test(test_host_modules_option), // last: its rules stay
    };
    return cmocka_run_group_tests(tests, setup_depot, NULL);
}
