// SPDX-License-Identifier: MIT
// Unit tests for the JSON report (docs/json-report.md): the exact line for
// each error kind with a fake symbolizer, nulls where something is unknown,
// the FFI host (freed_from) and JIT frames, hostile bytes in every string,
// and truncation into buffers of every size.
// A small strict JSON checker written here validates every line produced.
#include "report/json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>

#include <cmocka.h>

#include "core/family.h"
#include "stack/depot.h"

// ---------------------------------------------------------------------------
// A strict JSON checker (RFC 8259): one value, then "\n", then nothing.

typedef struct jcheck {
    const unsigned char *p, *end;
    const char *why;
} jcheck;

static bool jfail(jcheck *c, const char *why) {
    if (c->why == NULL)
        c->why = why;
    return false;
}

static bool jvalue(jcheck *c, int depth);

// One UTF-8 sequence at c->p (lead byte >= 0x80), strictly: no overlongs,
// no surrogates, nothing above U+10FFFF.
static bool jutf8(jcheck *c) {
    unsigned char b = *c->p;
    unsigned n;
    uint32_t cp;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
        cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        cp = b & 0x07;
    } else {
        return jfail(c, "byte that cannot start a UTF-8 sequence");
    }
    if (c->end - c->p < (ptrdiff_t)n)
        return jfail(c, "truncated UTF-8 sequence");
    for (unsigned i = 1; i < n; i++) {
        if ((c->p[i] & 0xc0) != 0x80)
            return jfail(c, "bad UTF-8 continuation byte");
        cp = cp << 6 | (c->p[i] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return jfail(c, "overlong, surrogate or out-of-range UTF-8");
    c->p += n;
    return true;
}

static bool jstring(jcheck *c) {
    c->p++; // the opening quote
    while (c->p < c->end) {
        unsigned char b = *c->p;
        if (b == '"') {
            c->p++;
            return true;
        }
        if (b < 0x20)
            return jfail(c, "raw control character in a string");
        if (b == '\\') {
            c->p++;
            if (c->p >= c->end)
                return jfail(c, "string ends in a backslash");
            if (*c->p == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (c->p + i >= c->end || strchr("0123456789abcdefABCDEF", c->p[i]) == NULL ||
                        c->p[i] == '\0')
                        return jfail(c, "bad \\u escape");
                }
                c->p += 5;
            } else if (strchr("\"\\/bfnrt", *c->p) != NULL && *c->p != '\0') {
                c->p++;
            } else {
                return jfail(c, "unknown escape");
            }
        } else if (b >= 0x80) {
            if (!jutf8(c))
                return false;
        } else {
            c->p++;
        }
    }
    return jfail(c, "unterminated string");
}

static bool jdigits(jcheck *c) {
    const unsigned char *s = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > s;
}

static bool jnumber(jcheck *c) {
    if (*c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (!jdigits(c))
        return jfail(c, "bad number");
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!jdigits(c))
            return jfail(c, "bad fraction");
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!jdigits(c))
            return jfail(c, "bad exponent");
    }
    return true;
}

static bool jword(jcheck *c, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
        return jfail(c, "unexpected character");
    c->p += n;
    return true;
}

static bool jcontainer(jcheck *c, int depth, char close) {
    c->p++;
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return true;
    }
    for (;;) {
        if (close == '}') {
            if (c->p >= c->end || *c->p != '"')
                return jfail(c, "object key is not a string");
            if (!jstring(c))
                return false;
            if (c->p >= c->end || *c->p++ != ':')
                return jfail(c, "missing ':' after a key");
        }
        if (!jvalue(c, depth + 1))
            return false;
        if (c->p >= c->end)
            return jfail(c, "unterminated object or array");
        if (*c->p == close) {
            c->p++;
            return true;
        }
        if (*c->p++ != ',')
            return jfail(c, "missing ',' between members");
    }
}

static bool jvalue(jcheck *c, int depth) {
    if (depth > 32)
        return jfail(c, "nested too deeply");
    if (c->p >= c->end)
        return jfail(c, "missing value");
    switch (*c->p) {
    case '{':
        return jcontainer(c, depth, '}');
    case '[':
        return jcontainer(c, depth, ']');
    case '"':
        return jstring(c);
    case 't':
        return jword(c, "true");
    case 'f':
        return jword(c, "false");
    case 'n':
        return jword(c, "null");
    default:
        if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
            return jnumber(c);
        return jfail(c, "unexpected character");
    }
}

// NULL when `s` (len bytes) is exactly one JSON object and "\n"; else why not.
static const char *json_line_problem(const char *s, size_t len) {
    jcheck c = {(const unsigned char *)s, (const unsigned char *)s + len, NULL};
    if (len == 0 || s[0] != '{')
        return "does not start with '{'";
    if (!jvalue(&c, 0))
        return c.why;
    if (c.end - c.p != 1 || *c.p != '\n')
        return "not exactly one value followed by a newline";
    return NULL;
}

static void assert_json_line(const char *s, size_t len) {
    const char *why = json_line_problem(s, len);
    if (why != NULL)
        fail_msg("invalid JSON line (%s):\n%.*s", why, (int)len, s);
}

// The checker itself must reject what is not JSON.
static void test_checker_rejects(void **state) {
    (void)state;
    static const char *const bad[] = {
        "{\"a\":1}",
        "{\"a\":1,}\n",
        "{\"a\":[1,2]\n",
        "{\"a\":\"x\ty\"}\n",
        "{\"a\":\"\xff\"}\n",
        "{\"a\":01}\n",
        "{\"a\":\"\\x\"}\n",
        "{\"a\":nul}\n",
        "{a:1}\n",
        "{\"a\":1}\n{}\n",
        "{\"a\":\"\xed\xa0\x80\"}\n",
        "{\"a\":\"\xc0\xaf\"}\n",
        "{\"a\":\"\\u12\"}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (json_line_problem(bad[i], strlen(bad[i])) == NULL)
            fail_msg("the checker accepted %s", bad[i]);
    static const char good[] = "{\"a\":[1,-2.5e3,true,false,null,{}],\"b\":\"\\u00e9\xc3\xa9\"}\n";
    assert_null(json_line_problem(good, strlen(good)));
}

// ---------------------------------------------------------------------------
// The fake symbolizer

#define PC_FREE_IT ((uintptr_t)0x401111)
#define PC_MAIN ((uintptr_t)0x402222)
#define PC_NEW_ARRAY ((uintptr_t)0x7f0000003333) // no file
#define PC_PLUGIN ((uintptr_t)0x7f0000006666)    // unloaded
#define PC_NOWHERE ((uintptr_t)0xdead0000)       // no module
#define PC_HOSTILE ((uintptr_t)0x7f0000007777)   // names full of awkward bytes
#define PC_FFI ((uintptr_t)0x7f0000008888)       // libffi, no function
#define PC_CTYPES ((uintptr_t)0x7f0000009999)    // Python's _ctypes module
#define PC_JIT_NAMED ((uintptr_t)0x7f000000aaaa) // JIT code a perf map names
#define PC_JIT ((uintptr_t)0x7f000000bbbb)       // JIT code without a name
#define ADDR ((uintptr_t)0x602000000010)

static const char hostile_fn[] = "f\"q\\\n\t\x01\x7f caf\xc3\xa9 \xe9\xff\xc3";
static const char hostile_module[] = "/tmp/\xe9t\xe9/lib\"x\".so";

static void set(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src); }

static bool fake_symbolize(uintptr_t pc, bool names, cf_frame_info *f) {
    static const struct {
        uintptr_t pc;
        const char *module;
        uintptr_t offset;
        const char *function;
        const char *file;
        unsigned line;
        bool unloaded;
    } known[] = {
        {PC_FREE_IT, "/usr/bin/app", 0x1111, "free_it(char*)", "/src/app/ui.c", 42, false},
        {PC_MAIN, "/usr/bin/app", 0x2222, "main", "/src/app/main.c", 7, false},
        {PC_NEW_ARRAY, "/usr/lib/libstdc++.so.6", 0x3333, "operator new[](unsigned long)", "", 0,
         false},
        {PC_PLUGIN, "/tmp/plugin.so", 0x6666, "plugin_free", "plugin.c", 3, true},
        {PC_HOSTILE, hostile_module, 0x7777, hostile_fn, hostile_fn, 1, false},
        {PC_FFI, "/lib/x86_64-linux-gnu/libffi.so.8", 0x6f7a, "", "", 0, false},
        {PC_CTYPES, "/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so",
         0xa42b, "", "", 0, false},
    };
    // Like the runtime's report symbolizer: JIT code is in no module, but is
    // marked, and named from a perf map whatever `names` says.
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
        if (names) {
            set(f->function, sizeof f->function, known[i].function);
            set(f->file, sizeof f->file, known[i].file);
            f->line = known[i].line;
        }
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------
// Errors and rendering

static const uintptr_t free_pcs[] = {PC_FREE_IT, PC_MAIN};
static const uintptr_t alloc_pcs[] = {PC_NEW_ARRAY, PC_MAIN};
static const uintptr_t first_free_pcs[] = {PC_PLUGIN, PC_NOWHERE};
static uint32_t alloc_stack, first_free_stack;

static const char cmdline[] = "app\0--flag\0x y"; // the last argument without its NUL
static const cf_report_meta meta = {"/usr/bin/app", cmdline, sizeof cmdline - 1,
                                    UINT64_C(1795671600123456)};

static int setup_depot(void **state) {
    (void)state;
    if (!cf_depot_init((size_t)64 << 20))
        return -1;
    alloc_stack = cf_depot_put(alloc_pcs, 2);
    first_free_stack = cf_depot_put(first_free_pcs, 2);
    return alloc_stack != 0 && first_free_stack != 0 ? 0 : -1;
}

static cf_error base_error(cf_error_kind kind) {
    cf_error e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.pid = 4242;
    e.addr = ADDR;
    e.tid = 3;
    e.dealloc_fn = CF_DEALLOC_FREE;
    e.dealloc_family = CF_FAM_MALLOC;
    e.pcs = free_pcs;
    e.n_pcs = 2;
    return e;
}

static cf_error mismatch_error(void) {
    cf_error e = base_error(CF_ERR_MISMATCH);
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 160, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 1);
    return e;
}

static cf_error double_free_error(void) {
    cf_error e = base_error(CF_ERR_DOUBLE_FREE);
    e.dealloc_fn = CF_DEALLOC_DELETE_ARRAY;
    e.dealloc_family = CF_FAM_NEW_ARRAY;
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 48, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 0);
    e.has_prev_free = true;
    e.prev_free.rec = e.alloc;
    e.prev_free.free_stack = first_free_stack;
    e.prev_free.free_tid = 5;
    e.prev_free.dealloc_fn = CF_DEALLOC_FREE; // a mismatched first free
    return e;
}

static char out[1 << 16];

static const char *render(const cf_error *e, bool names) {
    cf_buf b;
    cf_buf_init(&b, out, sizeof out);
    cf_report_format_json(e, &meta, names, fake_symbolize, &b);
    assert_false(b.truncated);
    assert_int_equal(strlen(out), b.len);
    assert_json_line(out, b.len);
    return out;
}

static void assert_contains(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected to find\n%s\nin:\n%s", needle, haystack);
}

static void assert_lacks(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) != NULL)
        fail_msg("did not expect\n%s\nin:\n%s", needle, haystack);
}

static void assert_text(const char *got, const char *want) {
    if (strcmp(got, want) == 0)
        return;
    size_t i = 0;
    while (got[i] != '\0' && got[i] == want[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    fail_msg("line differs at byte %zu:\n  expected: ...%.80s\n  got:      ...%.80s", i,
             want + from, got + from);
}

#define META_JSON "\"executable\":\"/usr/bin/app\",\"command_line\":[\"app\",\"--flag\",\"x y\"]"
#define FRAME_FREE_IT                                                                              \
    "{\"pc\":\"0x401111\",\"module\":\"/usr/bin/app\",\"offset\":\"0x1111\",\"function\":"         \
    "\"free_it(char*)\",\"file\":\"/src/app/ui.c\",\"line\":42,\"unloaded\":false,"                \
    "\"jit\":false,\"inlined\":false}"
#define FRAME_MAIN                                                                                 \
    "{\"pc\":\"0x402222\",\"module\":\"/usr/bin/app\",\"offset\":\"0x2222\",\"function\":"         \
    "\"main\",\"file\":\"/src/app/"                                                                \
    "main.c\",\"line\":7,\"unloaded\":false,\"jit\":false,\"inlined\":false}"
#define FRAME_NEW_ARRAY                                                                            \
    "{\"pc\":\"0x7f0000003333\",\"module\":\"/usr/lib/libstdc++.so.6\",\"offset\":\"0x3333\","     \
    "\"function\":\"operator new[](unsigned long)\",\"file\":null,\"line\":null,"                  \
    "\"unloaded\":false,\"jit\":false,\"inlined\":false}"
#define FRAME_PLUGIN                                                                               \
    "{\"pc\":\"0x7f0000006666\",\"module\":\"/tmp/plugin.so\",\"offset\":\"0x6666\",\"function\":" \
    "\"plugin_free\",\"file\":\"plugin.c\",\"line\":3,\"unloaded\":true,\"jit\":false,"            \
    "\"inlined\":false}"
#define FRAME_NOWHERE                                                                              \
    "{\"pc\":\"0xdead0000\",\"module\":null,\"offset\":null,\"function\":null,\"file\":null,"      \
    "\"line\":null,\"unloaded\":false,\"jit\":false,\"inlined\":false}"
#define TIME_JSON "\"time\":\"2026-11-26T05:40:00.123456Z\"}\n"

// ---------------------------------------------------------------------------
// Each kind, whole lines

static void test_mismatch_line(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    assert_text(render(&e, true),
                "{\"crossfree\":1,\"kind\":\"alloc-dealloc-mismatch\",\"pid\":4242," META_JSON
                ",\"thread\":3,\"address\":\"0x602000000010\",\"size\":160,"
                "\"message\":\"allocated by operator new[], freed by free()\","
                "\"hint\":\"memory from operator new[] must be released with operator delete[]; "
                "if another language frees it, export a release function that uses operator "
                "delete[] and call that instead, or allocate the buffer with malloc()\","
                "\"allocated_by\":{\"family\":\"new[]\",\"function\":\"operator new[]\","
                "\"thread\":1},\"freed_by\":{\"family\":\"malloc\",\"function\":\"free()\"},"
                "\"freed_from\":null,"
                "\"deallocation_stack\":[" FRAME_FREE_IT "," FRAME_MAIN "],"
                "\"allocation_stack\":[" FRAME_NEW_ARRAY "," FRAME_MAIN "],"
                "\"threads\":[],\"truncated\":false," TIME_JSON);
}

static void test_double_free_line(void **state) {
    (void)state;
    cf_error e = double_free_error();
    assert_text(render(&e, true),
                "{\"crossfree\":1,\"kind\":\"double-free\",\"pid\":4242," META_JSON
                ",\"thread\":3,\"address\":\"0x602000000010\",\"size\":48,"
                "\"message\":\"freed twice: first by free(), now by operator delete[]\","
                "\"hint\":\"the block was freed twice; clear the pointer after the first free or "
                "give the block a single owner\","
                "\"allocated_by\":{\"family\":\"new[]\",\"function\":\"operator new[]\","
                "\"thread\":0},\"freed_by\":{\"family\":\"new[]\",\"function\":"
                "\"operator delete[]\"},\"freed_from\":null,"
                "\"deallocation_stack\":[" FRAME_FREE_IT "," FRAME_MAIN "],"
                "\"allocation_stack\":[" FRAME_NEW_ARRAY "," FRAME_MAIN "],"
                "\"first_free\":{\"family\":\"malloc\",\"function\":\"free()\",\"thread\":5,"
                "\"stack\":[" FRAME_PLUGIN "," FRAME_NOWHERE "]},"
                "\"threads\":[],\"truncated\":false," TIME_JSON);

    // The first free forgotten: first_free is null, the rest stays.
    e.has_prev_free = false;
    const char *t = render(&e, true);
    assert_contains(t, ",\"first_free\":null,\"threads\":[],\"truncated\":false,");
    assert_contains(t, "\"message\":\"freed twice: first by an earlier deallocation, now by "
                       "operator delete[]\"");
}

// The given size or alignment of a delete-shape error, beside the block's.
static void test_delete_shape_size_and_alignment_fields(void **state) {
    (void)state;
    cf_error e = base_error(CF_ERR_SIZE_MISMATCH);
    e.dealloc_fn = CF_DEALLOC_DELETE;
    e.dealloc_family = CF_FAM_NEW;
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 24, CF_FAM_NEW, CF_ALLOC_NEW, alloc_stack, 0);
    e.delete_size = 8;
    const char *t = render(&e, true);
    assert_contains(t, "\"kind\":\"new-delete-size-mismatch\"");
    assert_contains(t, "\"size\":24,");
    assert_contains(t, ",\"delete_size\":8,");
    assert_true(strstr(t, "delete_alignment") == NULL);

    e.kind = CF_ERR_ALIGN_MISMATCH;
    e.dealloc_fn = CF_DEALLOC_DELETE_ALIGN;
    e.dealloc_family = CF_FAM_NEW_ALIGN;
    e.alloc = cf_record_make(ADDR, 24, CF_FAM_NEW_ALIGN, CF_ALLOC_NEW_ALIGN, alloc_stack, 0);
    e.delete_align = 32;
    t = render(&e, true);
    assert_contains(t, "\"kind\":\"new-delete-alignment-mismatch\"");
    assert_contains(t, ",\"delete_alignment\":32,");
    assert_true(strstr(t, "delete_size") == NULL);
}

static void test_invalid_free_lines(void **state) {
    (void)state;
    // Interior: the block's allocation and its start address.
    cf_error e = base_error(CF_ERR_INVALID_FREE);
    e.addr = ADDR + 16;
    e.where = CF_WHERE_INTERIOR;
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 64, CF_FAM_MALLOC, CF_ALLOC_MALLOC, alloc_stack, 0);
    const char *t = render(&e, true);
    assert_contains(t, "\"kind\":\"invalid-free\"");
    assert_contains(t, "\"address\":\"0x602000000020\",\"size\":64,");
    assert_contains(t, "\"message\":\"free() on an address that no tracked allocator handed out: "
                       "16 bytes inside a 64-byte region allocated by malloc()\"");
    assert_contains(t, "\"allocated_by\":{\"family\":\"malloc\",\"function\":\"malloc()\","
                       "\"thread\":0}");
    assert_contains(t, "\"where\":\"interior\",\"where_module\":null,"
                       "\"block_address\":\"0x602000000010\",\"freed_from\":null,");
    assert_contains(t, "\"allocation_stack\":[" FRAME_NEW_ARRAY "," FRAME_MAIN "]");
    assert_lacks(t, "first_free");

    // Near a block, live or freed, or exactly one of crossfree's own: the
    // block's start and allocation, with the kind's own name.
    static const struct {
        cf_where where;
        uintptr_t addr;
        const char *json;
    } near[] = {
        {CF_WHERE_BEFORE, ADDR - 8, "\"where\":\"before\""},
        {CF_WHERE_AFTER, ADDR + 64, "\"where\":\"after\""},
        {CF_WHERE_FREED_INSIDE, ADDR + 8, "\"where\":\"freed-interior\""},
        {CF_WHERE_FREED_BEFORE, ADDR - 8, "\"where\":\"freed-before\""},
        {CF_WHERE_FREED_AFTER, ADDR + 70, "\"where\":\"freed-after\""},
        {CF_WHERE_OWN, ADDR, "\"where\":\"crossfree-own\""},
    };
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        e = base_error(CF_ERR_INVALID_FREE);
        e.addr = near[i].addr;
        e.where = near[i].where;
        e.has_alloc = true;
        e.alloc = cf_record_make(ADDR, 64, CF_FAM_MALLOC, CF_ALLOC_MALLOC, alloc_stack, 0);
        t = render(&e, true);
        assert_contains(t, near[i].json);
        assert_contains(t, ",\"where_module\":null,\"block_address\":\"0x602000000010\",");
        assert_contains(t, "\"size\":64,");
        assert_lacks(t, "first_free");
    }
    e = base_error(CF_ERR_INVALID_FREE);
    e.where = CF_WHERE_OWN;
    e.has_alloc = true;
    e.alloc = cf_record_make(ADDR, 112, CF_FAM_MALLOC, CF_ALLOC_PRIVATE, 0, 0);
    t = render(&e, true);
    assert_contains(t, "\"message\":\"free() on crossfree's own memory: a 112-byte block that "
                       "crossfree's libraries allocated for it, not the program; it was not "
                       "released\"");
    assert_contains(t, "\"allocated_by\":{\"family\":\"malloc\",\"function\":\"malloc() "
                       "(inside crossfree)\",\"thread\":0}");
    assert_contains(t, "\"allocation_stack\":[]");

    // Stack, static and unknown: nothing about an allocation.
    static const struct {
        cf_where where;
        const char *json;
    } kinds[] = {
        {CF_WHERE_STACK, "\"where\":\"stack\",\"where_module\":null,\"block_address\":null"},
        {CF_WHERE_STATIC,
         "\"where\":\"static\",\"where_module\":\"/usr/bin/app\",\"block_address\":null"},
        {CF_WHERE_UNKNOWN, "\"where\":\"unknown\",\"where_module\":null,\"block_address\":null"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        e = base_error(CF_ERR_INVALID_FREE);
        e.where = kinds[i].where;
        set(e.where_module, sizeof e.where_module, "/usr/bin/app");
        t = render(&e, true);
        assert_contains(t, kinds[i].json);
        assert_contains(t, "\"size\":null,");
        assert_contains(t, "\"allocated_by\":null,");
        assert_contains(t, "\"allocation_stack\":null,");
        assert_contains(t, "\"deallocation_stack\":[" FRAME_FREE_IT "," FRAME_MAIN "]");
    }
}

// ---------------------------------------------------------------------------
// Nulls, names off, empty stacks, meta

static void test_unsymbolized_and_empty(void **state) {
    (void)state;
    cf_error e = mismatch_error();
    const char *t = render(&e, false);
    assert_contains(t, "\"deallocation_stack\":[{\"pc\":\"0x401111\",\"module\":\"/usr/bin/app\","
                       "\"offset\":\"0x1111\",\"function\":null,\"file\":null,\"line\":null,"
                       "\"unloaded\":false,\"jit\":false,\"inlined\":false},");

    // No stacks recorded (malloc_context_size=0): empty arrays.
    e.n_pcs = 0;
    e.alloc = cf_record_make(ADDR, 160, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, 0, 1);
    t = render(&e, true);
    assert_contains(t, "\"deallocation_stack\":[],\"allocation_stack\":[],");

    // No symbolizer at all: frames keep their pc and nothing else.
    cf_buf b;
    cf_buf_init(&b, out, sizeof out);
    e = mismatch_error();
    cf_report_format_json(&e, &meta, true, NULL, &b);
    assert_json_line(out, b.len);
    assert_contains(out, "[{\"pc\":\"0x401111\",\"module\":null,\"offset\":null,");

    // No meta: executable null, no arguments, the epoch.
    cf_buf_init(&b, out, sizeof out);
    cf_report_format_json(&e, NULL, true, fake_symbolize, &b);
    assert_json_line(out, b.len);
    assert_contains(out, "\"executable\":null,\"command_line\":[],");
    assert_contains(out, "\"time\":\"1970-01-01T00:00:00.000000Z\"}\n");

    // An empty command line and executable.
    cf_report_meta m = {"", "", 0, 0};
    cf_buf_init(&b, out, sizeof out);
    cf_report_format_json(&e, &m, true, fake_symbolize, &b);
    assert_contains(out, "\"executable\":null,\"command_line\":[],");

    // cf_os_cmdline's form: every argument NUL-terminated, empty ones kept.
    static const char args[] = "a\0\0b\0";
    m.cmdline = args;
    m.cmdline_len = sizeof args - 1;
    cf_buf_init(&b, out, sizeof out);
    cf_report_format_json(&e, &m, true, fake_symbolize, &b);
    assert_contains(out, "\"command_line\":[\"a\",\"\",\"b\"],");
}

// ---------------------------------------------------------------------------
// FFI hosts and JIT frames

#define FRAME_FFI                                                                                  \
    "{\"pc\":\"0x7f0000008888\",\"module\":\"/lib/x86_64-linux-gnu/libffi.so.8\",\"offset\":"      \
    "\"0x6f7a\",\"function\":null,\"file\":null,\"line\":null,\"unloaded\":false,\"jit\":false,"   \
    "\"inlined\":false}"
#define FRAME_JIT_NAMED                                                                            \
    "{\"pc\":\"0x7f000000aaaa\",\"module\":null,\"offset\":null,\"function\":"                     \
    "\"LazyCompile:*releaseBuffer /app/main.js:12\",\"file\":null,\"line\":null,"                  \
    "\"unloaded\":false,\"jit\":true,\"inlined\":false}"
#define FRAME_JIT                                                                                  \
    "{\"pc\":\"0x7f000000bbbb\",\"module\":null,\"offset\":null,\"function\":null,\"file\":null,"  \
    "\"line\":null,\"unloaded\":false,\"jit\":true,\"inlined\":false}"

static void test_freed_from(void **state) {
    (void)state;
    // free() called through libffi from Python's ctypes: the host is named
    // after the first host module above the bridge, the frame is libffi's.
    static const uintptr_t ctypes_pcs[] = {PC_FFI, PC_CTYPES, PC_MAIN};
    cf_error e = mismatch_error();
    e.pcs = ctypes_pcs;
    e.n_pcs = 3;
    const char *t = render(&e, true);
    assert_contains(t, "\"freed_by\":{\"family\":\"malloc\",\"function\":\"free()\"},"
                       "\"freed_from\":{\"host\":\"Python (ctypes via libffi)\",\"frame\":0,"
                       "\"message\":\"freed from Python (ctypes via libffi) (frame #0); "
                       "allocated in app by operator new[] in main\"},"
                       "\"deallocation_stack\":[" FRAME_FFI ",");
    // The hint names the host too.
    assert_contains(t, "\"hint\":\"memory from operator new[] must be released with operator "
                       "delete[]; export a release function from app that uses operator delete[] "
                       "and call it from Python (ctypes via libffi) instead of free(), or "
                       "allocate the buffer with malloc() if the host must free it\",");
    // The same without names: hosts are found by module, so only the
    // allocating function goes.
    t = render(&e, false);
    assert_contains(t, "\"freed_from\":{\"host\":\"Python (ctypes via libffi)\",\"frame\":0,"
                       "\"message\":\"freed from Python (ctypes via libffi) (frame #0); "
                       "allocated in app by operator new[]\"},");

    // A host frame further up, above a runtime frame: its index, not 0.
    static const uintptr_t deeper_pcs[] = {PC_NEW_ARRAY, PC_FFI, PC_CTYPES};
    e.pcs = deeper_pcs;
    t = render(&e, true);
    assert_contains(t, "\"freed_from\":{\"host\":\"Python (ctypes via libffi)\",\"frame\":1,"
                       "\"message\":\"freed from Python (ctypes via libffi) (frame #1); ");

    // The program's own code called free(), whoever called it: no host.
    static const uintptr_t own_pcs[] = {PC_FREE_IT, PC_FFI, PC_CTYPES};
    e.pcs = own_pcs;
    t = render(&e, true);
    assert_contains(t, "\"freed_from\":null,");
    assert_lacks(t, "Python");

    e = base_error(CF_ERR_INVALID_FREE);
    e.pcs = ctypes_pcs;
    e.n_pcs = 3;
    t = render(&e, true);
    // Every kind carries it, but only a mismatch names both sides.
    assert_contains(t, "\"block_address\":null,\"freed_from\":{\"host\":\"Python (ctypes via "
                       "libffi)\",\"frame\":0,\"message\":null},\"deallocation_stack\":[");
}

static void test_jit_frames(void **state) {
    (void)state;
    // JIT code: no module and no offset, "jit":true, and a name from the
    // perf map when there is one. With only JIT frames below the program,
    // the host is "JIT code".
    static const uintptr_t pcs[] = {PC_JIT_NAMED, PC_JIT, PC_MAIN};
    cf_error e = mismatch_error();
    e.pcs = pcs;
    e.n_pcs = 3;
    const char *t = render(&e, true);
    assert_contains(t,
                    "\"freed_from\":{\"host\":\"JIT code\",\"frame\":0,\"message\":"
                    "\"freed from JIT code (frame #0); allocated in app by operator new[] in "
                    "main\"},"
                    "\"deallocation_stack\":[" FRAME_JIT_NAMED "," FRAME_JIT "," FRAME_MAIN "],");
    // An ordinary frame says "jit":false; one in no module and not JIT code
    // too.
    e.pcs = first_free_pcs;
    e.n_pcs = 2;
    t = render(&e, true);
    assert_contains(t, "\"freed_from\":null,\"deallocation_stack\":[" FRAME_PLUGIN "," FRAME_NOWHERE
                       "],");
}

static void test_custom_family_names(void **state) {
    (void)state;
    unsigned fam = cf_family_register("my\"pool", "pool_get\\()", "pool_put\n()");
    assert_true(fam != 0);
    cf_error e = mismatch_error();
    e.dealloc_fn = CF_DEALLOC_CUSTOM;
    e.dealloc_family = fam;
    const char *t = render(&e, true);
    assert_contains(t, "\"freed_by\":{\"family\":\"my\\\"pool\",\"function\":\"pool_put\\n()\"}");
}

// Quotes, backslashes, controls and bytes that are not UTF-8 in function,
// file and module names, the executable and the arguments.
static void test_hostile_strings(void **state) {
    (void)state;
    static const uintptr_t pcs[] = {PC_HOSTILE};
    static const char args[] = "\xff\x01\"\\\0ok\xe9";
    cf_report_meta m = {hostile_module, args, sizeof args - 1, 0};
    cf_error e = base_error(CF_ERR_INVALID_FREE);
    e.pcs = pcs;
    e.n_pcs = 1;
    e.where = CF_WHERE_STATIC;
    set(e.where_module, sizeof e.where_module, hostile_module);
    cf_buf b;
    cf_buf_init(&b, out, sizeof out);
    cf_report_format_json(&e, &m, true, fake_symbolize, &b);
    assert_false(b.truncated);
    assert_json_line(out, b.len);
    assert_contains(out, "\"function\":\"f\\\"q\\\\\\n\\t\\u0001\x7f caf\xc3\xa9 "
                         "\\u00e9\\u00ff\\u00c3\"");
    assert_contains(out, "\"module\":\"/tmp/\\u00e9t\\u00e9/lib\\\"x\\\".so\"");
    assert_contains(out, "\"command_line\":[\"\\u00ff\\u0001\\\"\\\\\",\"ok\\u00e9\"]");
}

// ---------------------------------------------------------------------------
// Truncation: every buffer size gives one valid line

static void test_every_buffer_size(void **state) {
    (void)state;
    // A long stack of long names, so the full line is several KiB.
    static uintptr_t pcs[64];
    for (size_t i = 0; i < 64; i++)
        pcs[i] = i % 2 ? PC_HOSTILE : PC_FREE_IT;
    cf_error errors[3] = {mismatch_error(), double_free_error(), base_error(CF_ERR_INVALID_FREE)};
    errors[2].where = CF_WHERE_STATIC;
    memset(errors[2].where_module, 'm', sizeof errors[2].where_module - 1);
    for (size_t k = 0; k < 3; k++) {
        cf_error *e = &errors[k];
        e->pcs = pcs;
        e->n_pcs = 64;
        static char full[1 << 16];
        cf_buf b;
        cf_buf_init(&b, full, sizeof full);
        cf_report_format_json(e, &meta, true, fake_symbolize, &b);
        assert_false(b.truncated);
        size_t full_len = b.len;
        assert_true(full_len > 4 * CF_JSON_RESERVE);
        assert_contains(full, "\"truncated\":false,");

        // Below full_len + 1 + CF_JSON_RESERVE the reserve may cost the
        // last frames; from there on nothing is lost.
        static char small[1 << 16];
        size_t roomy = full_len + 1 + CF_JSON_RESERVE;
        size_t cut = 0;
        for (size_t cap = CF_JSON_RESERVE; cap <= roomy; cap++) {
            cf_buf_init(&b, small, cap);
            cf_report_format_json(e, &meta, true, fake_symbolize, &b);
            if (b.truncated)
                fail_msg("kind %zu, cap %zu: output cut", k, cap);
            assert_json_line(small, b.len);
            assert_contains(small, "\"kind\":\"");
            assert_contains(small, "\"time\":\"2026-11-26T05:40:00.123456Z\"}\n");
            if (strcmp(small, full) != 0) {
                assert_contains(small, "\"truncated\":true,");
                cut++;
            } else {
                assert_true(cap > full_len);
            }
        }
        assert_string_equal(small, full);
        assert_true(cut >= full_len - CF_JSON_RESERVE);
    }
}

// Appending after existing text keeps that text and still fits.
static void test_appends(void **state) {
    (void)state;
    cf_buf b;
    cf_buf_init(&b, out, 3000);
    cf_buf_str(&b, "previous line\n");
    cf_error e = mismatch_error();
    cf_report_format_json(&e, &meta, true, fake_symbolize, &b);
    assert_false(b.truncated);
    assert_memory_equal(out, "previous line\n", 14);
    assert_json_line(out + 14, b.len - 14);
}

// ---------------------------------------------------------------------------
// Time

static const char *fmt_time(uint64_t us) {
    static char t[64];
    cf_buf b;
    cf_buf_init(&b, t, sizeof t);
    cf_json_format_time(&b, us);
    assert_false(b.truncated);
    return t;
}

static void test_time_known(void **state) {
    (void)state;
    assert_string_equal(fmt_time(0), "1970-01-01T00:00:00.000000Z");
    assert_string_equal(fmt_time(UINT64_C(1795671600123456)), "2026-11-26T05:40:00.123456Z");
    assert_string_equal(fmt_time(UINT64_C(951868799999999)), "2000-02-29T23:59:59.999999Z");
    assert_string_equal(fmt_time(UINT64_C(4107542400000000)), "2100-03-01T00:00:00.000000Z");
    assert_string_equal(fmt_time(UINT64_C(253402300799999999)), "9999-12-31T23:59:59.999999Z");
}

// Against the C library, over a spread of days from 1970 to 2400.
static void test_time_matches_gmtime(void **state) {
    (void)state;
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t us = x % UINT64_C(13569465600000000); // up to 2400-01-01
        time_t secs = (time_t)(us / 1000000u);
        struct tm tm;
        assert_non_null(gmtime_r(&secs, &tm));
        char want[64];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(us % 1000000u));
        const char *got = fmt_time(us);
        if (strcmp(got, want) != 0)
            fail_msg("%llu us: got %s, want %s", (unsigned long long)us, got, want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_rejects),
        cmocka_unit_test(test_mismatch_line),
        cmocka_unit_test(test_double_free_line),
        cmocka_unit_test(test_invalid_free_lines),
        cmocka_unit_test(test_delete_shape_size_and_alignment_fields),
        cmocka_unit_test(test_unsymbolized_and_empty),
        cmocka_unit_test(test_freed_from),
        cmocka_unit_test(test_jit_frames),
        cmocka_unit_test(test_custom_family_names),
        cmocka_unit_test(test_hostile_strings),
        cmocka_unit_test(test_every_buffer_size),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_time_known),
        cmocka_unit_test(test_time_matches_gmtime),
    };
    return cmocka_run_group_tests(tests, setup_depot, NULL);
}
