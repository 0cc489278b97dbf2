// SPDX-License-Identifier: MIT
// The crossfree command's log reader (tools/logs.c) over jansson: records
// read into the right fields, strings made valid UTF-8, lines that are not
// records skipped with a message, and garbage (random bytes, mutations,
// truncations) never crashing it; the SARIF writer's layout. Also built
// with ASan and UBSan, where a stray read fails the test.
#include "logs.h"
#include "report_out.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// Reads `text` as a log named "t.log" into logs (a copy with the extra byte
// cli_logs_parse writes, sized exactly so ASan sees any read past it).
static void parse_n(cli_logs *logs, const char *text, size_t len) {
    char *copy = malloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    cli_logs_parse(logs, "t.log", copy, len);
    free(copy);
}

static void parse(cli_logs *logs, const char *text) { parse_n(logs, text, strlen(text)); }

// Standard error goes to a temporary file between these two; the second
// returns what was written (malloc'd).
static int saved_stderr = -1;
static FILE *captured;

static void capture_stderr(void) {
    fflush(stderr);
    captured = tmpfile();
    assert_non_null(captured);
    saved_stderr = dup(2);
    dup2(fileno(captured), 2);
}

static char *captured_stderr(void) {
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    long n = ftell(captured);
    char *text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    rewind(captured);
    if (n > 0)
        assert_int_equal(fread(text, 1, (size_t)n, captured), (size_t)n);
    fclose(captured);
    return text;
}

static bool valid_utf8(const char *s) {
    if (s == NULL)
        return true;
    size_t n = strlen(s);
    for (size_t i = 0, len; i < n; i += len) {
        len = cli_utf8_seq_len((const unsigned char *)s + i, n - i);
        if (len == 0)
            return false;
    }
    return true;
}

static void check_frames(const cli_stack *s) {
    for (size_t i = 0; i < s->n; i++) {
        const cli_frame *f = &s->frames[i];
        assert_true(valid_utf8(f->pc) && valid_utf8(f->module) && valid_utf8(f->offset));
        assert_true(valid_utf8(f->function) && valid_utf8(f->file));
        assert_true(f->line >= 0);
    }
}

// What every record read from any input must satisfy.
static void check_records(const cli_logs *logs) {
    for (size_t i = 0; i < logs->n; i++) {
        const cli_record *r = &logs->records[i];
        assert_non_null(r->kind);
        assert_true(r->kind[0] != '\0');
        assert_non_null(r->message);
        assert_true(valid_utf8(r->kind) && valid_utf8(r->message) && valid_utf8(r->executable));
        assert_true(valid_utf8(r->address) && valid_utf8(r->time));
        for (size_t a = 0; a < r->argc; a++)
            assert_true(valid_utf8(r->argv[a]));
        check_frames(&r->dealloc_stack);
        check_frames(&r->alloc_stack);
        check_frames(&r->first_free_stack);
    }
}

static const char sample[] =
    "{\"crossfree\":1,\"kind\":\"alloc-dealloc-mismatch\",\"pid\":1234,\"executable\":"
    "\"/abs/exe\",\"command_line\":[\"exe\",\"arg1\"],\"thread\":0,\"address\":\"0x55d4\","
    "\"size\":160,\"message\":\"allocated by operator new[], freed by free()\","
    "\"allocated_by\":{\"family\":\"new[]\",\"function\":\"operator new[]\",\"thread\":3},"
    "\"freed_by\":{\"family\":\"malloc\",\"function\":\"free()\"},"
    "\"deallocation_stack\":[{\"pc\":\"0x7f\",\"module\":\"/abs/lib.so\",\"offset\":\"0x1139\","
    "\"function\":\"get_ui_command()\",\"file\":\"/abs/lib.cc\",\"line\":8,\"unloaded\":true},"
    "{\"pc\":\"0x1\",\"module\":null,\"offset\":null,\"function\":null,\"file\":null,"
    "\"line\":null}],\"allocation_stack\":[],"
    "\"esc\":\"\\u00e9\\ud83d\\ude00\\n\",\"truncated\":true,"
    "\"time\":\"2026-11-26T05:40:00.123456Z\"}";

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

static void test_record(void **state) {
    (void)state;
    cli_logs logs = {0};
    parse(&logs, "some output\n  \n");
    capture_stderr();
    parse(&logs, sample);
    char *err = captured_stderr();
    assert_string_equal(err, "");
    free(err);
    assert_int_equal(logs.n, 1);
    const cli_record *r = &logs.records[0];
    assert_string_equal(r->kind, "alloc-dealloc-mismatch");
    assert_string_equal(r->message, "allocated by operator new[], freed by free()");
    assert_int_equal(r->pid, 1234);
    assert_string_equal(r->executable, "/abs/exe");
    assert_int_equal(r->argc, 2);
    assert_string_equal(r->argv[1], "arg1");
    assert_int_equal(r->thread, 0);
    assert_string_equal(r->address, "0x55d4");
    assert_int_equal(r->size, 160);
    assert_true(r->allocated_by.present && r->freed_by.present && !r->first_free.present);
    assert_string_equal(r->allocated_by.family, "new[]");
    assert_int_equal(r->allocated_by.thread, 3);
    assert_int_equal(r->freed_by.thread, -1);
    assert_true(r->dealloc_stack.present && r->alloc_stack.present);
    assert_false(r->first_free_stack.present);
    assert_int_equal(r->dealloc_stack.n, 2);
    assert_int_equal(r->alloc_stack.n, 0);
    const cli_frame *f = &r->dealloc_stack.frames[0];
    assert_string_equal(f->module, "/abs/lib.so");
    assert_string_equal(f->offset, "0x1139");
    assert_string_equal(f->function, "get_ui_command()");
    assert_int_equal(f->line, 8);
    assert_true(f->unloaded);
    f = &r->dealloc_stack.frames[1];
    assert_null(f->module);
    assert_null(f->function);
    assert_int_equal(f->line, 0);
    assert_false(f->unloaded);
    assert_true(r->truncated);
    assert_string_equal(r->time, "2026-11-26T05:40:00.123456Z");
    assert_string_equal(r->log, "t.log");
    assert_int_equal(r->line_no, 1);
    cli_logs_free(&logs);
}

// Members of the wrong type read as absent.
static void test_wrong_types(void **state) {
    (void)state;
    cli_logs logs = {0};
    parse(&logs, "{\"crossfree\":1,\"kind\":\"double-free\",\"pid\":\"7\",\"size\":1.5,"
                 "\"thread\":1e2,\"message\":3,\"deallocation_stack\":{},"
                 "\"allocation_stack\":[1,\"x\",null,{\"line\":-3,\"file\":4}],"
                 "\"first_free\":[],\"command_line\":[\"a\",2,\"b\"],\"truncated\":1}\n");
    assert_int_equal(logs.n, 1);
    const cli_record *r = &logs.records[0];
    assert_int_equal(r->pid, -1);
    assert_int_equal(r->size, -1);
    assert_int_equal(r->thread, -1);
    assert_string_equal(r->message, "");
    assert_false(r->dealloc_stack.present);
    assert_true(r->alloc_stack.present);
    assert_int_equal(r->alloc_stack.n, 1);
    assert_int_equal(r->alloc_stack.frames[0].line, 0);
    assert_null(r->alloc_stack.frames[0].file);
    assert_false(r->first_free.present);
    assert_int_equal(r->argc, 2);
    assert_string_equal(r->argv[1], "b");
    assert_false(r->truncated);
    cli_logs_free(&logs);
}

// semantics=windows: a pair only Windows rejects is summed up in the
// Windows words; the message stays the Linux one, as in the text report.
static void test_windows_view(void **state) {
    (void)state;
    cli_logs logs = {0};
    parse(&logs,
          "{\"crossfree\":1,\"kind\":\"alloc-dealloc-mismatch\",\"message\":\"linux words\","
          "\"windows_view\":{\"linux\":\"works\",\"message\":\"windows words\"}}\n"
          "{\"crossfree\":1,\"kind\":\"alloc-dealloc-mismatch\",\"message\":\"linux words\","
          "\"windows_view\":{\"linux\":\"mismatch\",\"message\":\"windows words\"}}\n"
          "{\"crossfree\":1,\"kind\":\"alloc-dealloc-mismatch\",\"message\":\"linux words\"}\n");
    assert_int_equal(logs.n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(logs.records[i].message, "linux words");
    assert_true(logs.records[0].windows_only);
    assert_false(logs.records[1].windows_only || logs.records[2].windows_only);
    assert_string_equal(logs.records[1].windows_view, "windows words");
    assert_null(logs.records[2].windows_view);
    assert_string_equal(cli_record_headline(&logs.records[0]), "windows words");
    assert_string_equal(cli_record_headline(&logs.records[1]), "linux words");
    cli_logs_free(&logs);
}

// The FFI facts of a text report and of a JSON record: the host line, the
// tagged frame, the Windows view and the HINT, as the library wrote them.
static void test_ffi_facts(void **state) {
    (void)state;
    cli_logs logs = {0};
    parse(&logs,
          "==7==ERROR: crossfree: alloc-dealloc-mismatch on address 0x10 in thread T0\n"
          "allocated by operator new[], freed by free()\n"
          "freed from Python (ctypes via libffi) (frame #1); allocated in libb.so by operator "
          "new[] in make_array\n"
          "Linux: mismatch (operator new[] freed by free()); on Windows ...: that crashes there "
          "too.\n"
          "    #0 0x7f01 (/lib/x86_64-linux-gnu/libc.so.6+0x1)\n"
          "    #1 0x7f02 in ffi_call+0xcd (/lib/libffi.so.8+0x6b0d) [host boundary: Python "
          "(ctypes via libffi)]\n"
          "    #2 0x7f03 in f /src/callproc.c:9 (/lib/_ctypes.so+0x3)\n"
          "0x10 is a 40-byte region allocated by operator new[] in thread T0 here:\n"
          "    #0 0x7f04 in make_array /src/b.cc:10 (/lib/libb.so+0x4)\n"
          "SUMMARY: crossfree: alloc-dealloc-mismatch (libc.so.6+0x1)\n"
          "HINT: memory from operator new[] must be released with operator delete[]\n"
          "{\"crossfree\":1,\"kind\":\"alloc-dealloc-mismatch\",\"message\":\"m\",\"hint\":\"h\","
          "\"freed_from\":{\"host\":\"JIT code\",\"frame\":0,\"message\":\"freed from JIT code "
          "(frame #0)\"}}\n"
          "{\"crossfree\":1,\"kind\":\"double-free\",\"freed_from\":{\"host\":\"Lua (LuaJIT ffi)\","
          "\"frame\":2,\"message\":null}}\n");
    assert_int_equal(logs.n, 3);
    const cli_record *r = &logs.records[0];
    assert_string_equal(r->sides, "freed from Python (ctypes via libffi) (frame #1); allocated "
                                  "in libb.so by operator new[] in make_array");
    assert_string_equal(r->windows_view, "Linux: mismatch (operator new[] freed by free()); on "
                                         "Windows ...: that crashes there too.");
    assert_false(r->windows_only);
    assert_string_equal(r->freed_from, "Python (ctypes via libffi)");
    assert_int_equal(r->freed_from_frame, 1);
    assert_int_equal(r->dealloc_stack.n, 3);
    assert_string_equal(r->dealloc_stack.frames[1].module, "/lib/libffi.so.8");
    assert_string_equal(r->dealloc_stack.frames[1].function, "ffi_call");
    assert_string_equal(r->hint, "memory from operator new[] must be released with operator "
                                 "delete[]");

    // Frame #2 has a file, but it is above the host boundary: the host's
    // own code, not the user's. The allocation is where to look.
    bool from_free = true;
    const cli_frame *f = cli_primary_frame(r, &from_free);
    assert_non_null(f);
    assert_string_equal(f->file, "/src/b.cc");
    assert_false(from_free);
    cli_str s = {0};
    cli_record_text(r, &s);
    assert_non_null(strstr(s.data, "\nfreed from Python (ctypes via libffi) (frame #1); "
                                   "allocated in libb.so by operator new[] in make_array\n"
                                   "Linux: mismatch "));
    assert_non_null(strstr(s.data, "(/lib/libffi.so.8+0x6b0d) [host boundary: Python (ctypes via "
                                   "libffi)]\n    #2 "));
    assert_non_null(strstr(s.data, "\nHINT: memory from operator new[] must be released with "
                                   "operator delete[]\n"));
    cli_str_free(&s);

    r = &logs.records[1];
    assert_string_equal(r->hint, "h");
    assert_string_equal(r->freed_from, "JIT code");
    assert_int_equal(r->freed_from_frame, 0);
    assert_string_equal(r->sides, "freed from JIT code (frame #0)");
    r = &logs.records[2];
    assert_null(r->sides);
    assert_null(r->hint);
    assert_int_equal(r->freed_from_frame, 2);
    cli_logs_free(&logs);
}

// Lines that are not records are skipped, each kind with its own message,
// at most three per file and then a count.
static void test_not_records(void **state) {
    (void)state;
    cli_logs logs = {0};
    capture_stderr();
    parse(&logs, "{\"kind\":\"double-free\"}\n"
                 "{\"crossfree\":1}\n"
                 "{\"crossfree\":1,\"kind\":\"double-free\"\n"
                 "{\"a\" 1}\n"
                 "{} {}\n"
                 "{\"crossfree\":2,\"kind\":\"someday\"}\n"
                 "[\"crossfree\", 1]\n");
    char *err = captured_stderr();
    assert_int_equal(logs.n, 1);
    assert_string_equal(logs.records[0].kind, "someday");
    assert_non_null(strstr(err, "t.log:1: a JSON object without \"crossfree\" (not a crossfree "
                                "record); line skipped\n"));
    assert_non_null(strstr(err, "t.log:2: a crossfree record without a \"kind\"; line skipped\n"));
    assert_non_null(strstr(err, "t.log:3: malformed JSON at column "));
    assert_null(strstr(err, "t.log:4:"));
    assert_non_null(strstr(err, "t.log: 2 more lines skipped as above\n"));
    assert_non_null(strstr(err, "t.log:6: record version 2 (this crossfree reads version 1)"));
    // The array does not start with '{': not JSON to this reader at all.
    assert_non_null(strstr(err, "t.log: skipped 1 line that is not"));
    free(err);
    cli_logs_free(&logs);
}

// ---------------------------------------------------------------------------
// UTF-8
// ---------------------------------------------------------------------------

static void test_utf8_repair(void **state) {
    (void)state;
    cli_logs logs = {0};
    // Invalid bytes, an overlong '/', an encoded surrogate, a raw NUL and an
    // escaped one: each becomes U+FFFD (EF BF BD); valid escapes stay.
    static const char line[] = "{\"crossfree\":1,\"kind\":\"k\",\"message\":\"a\xff"
                               "b\xc0\xaf"
                               "c\xed\xa0\x80"
                               "d\\u0000e\0f\\u00e9\\ud83d\\ude00\xe2\x82\"}";
    parse_n(&logs, line, sizeof line - 1);
    assert_int_equal(logs.n, 1);
    assert_string_equal(logs.records[0].message,
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd\xef\xbf\xbd"
                        "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "d\xef\xbf\xbd"
                        "e\xef\xbf\xbd"
                        "f\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd");
    cli_logs_free(&logs);

    assert_int_equal(cli_utf8_seq_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
    assert_int_equal(cli_utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
    assert_int_equal(cli_utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 2), 0);

    // Strings written out are valid UTF-8 too, whatever they held.
    json_t *s = cli_json_string("x\xff\xc3\xa9");
    assert_non_null(s);
    assert_string_equal(json_string_value(s), "x\xef\xbf\xbd\xc3\xa9");
    json_decref(s);
    s = cli_json_string(NULL);
    assert_true(json_is_null(s));
    json_decref(s);
}

// ---------------------------------------------------------------------------
// The SARIF writer's layout
// ---------------------------------------------------------------------------

static void test_sarif(void **state) {
    (void)state;
    cli_logs logs = {0};
    parse(&logs, sample);
    parse(&logs, "{\"crossfree\":1,\"kind\":\"brand-new\",\"executable\":\"/bin/\xc3(\"}\n");
    assert_int_equal(logs.n, 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_report_opts o = {.out = f, .source_root = "/abs"};
    cli_write_sarif(&logs, &o);
    fclose(f);
    // Two-space indentation, members in SARIF's order, a final newline.
    static const char start[] =
        "{\n"
        "  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
        "  \"version\": \"2.1.0\",\n"
        "  \"runs\": [\n"
        "    {\n"
        "      \"tool\": {\n"
        "        \"driver\": {\n"
        "          \"name\": \"crossfree\",\n";
    assert_memory_equal(buf, start, sizeof start - 1);
    assert_true(len > 2 && buf[len - 2] == '}' && buf[len - 1] == '\n');
    json_error_t err;
    json_t *doc = json_loadb(buf, len, 0, &err);
    assert_non_null(doc);
    json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *rules =
        json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
    assert_int_equal(json_array_size(rules), cli_n_known_kinds + 1);
    json_t *results = json_object_get(run, "results");
    assert_int_equal(json_array_size(results), 2);
    json_t *loc = json_array_get(json_object_get(json_array_get(results, 0), "locations"), 0);
    json_t *artifact =
        json_object_get(json_object_get(loc, "physicalLocation"), "artifactLocation");
    assert_string_equal(json_string_value(json_object_get(artifact, "uri")), "lib.cc");
    assert_string_equal(json_string_value(json_object_get(artifact, "uriBaseId")), "SRCROOT");
    json_t *props = json_object_get(json_array_get(results, 1), "properties");
    assert_string_equal(json_string_value(json_object_get(props, "executable")),
                        "/bin/\xef\xbf\xbd(");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(results, 1), "ruleIndex")),
                     cli_n_known_kinds);
    json_decref(doc);
    free(buf);
    cli_logs_free(&logs);
}

// ---------------------------------------------------------------------------
// Garbage
// ---------------------------------------------------------------------------

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_truncations(void **state) {
    (void)state;
    size_t n = strlen(sample);
    capture_stderr();
    for (size_t len = 0; len < n; len++) {
        cli_logs logs = {0};
        parse_n(&logs, sample, len); // every proper prefix is incomplete
        assert_int_equal(logs.n, 0);
        cli_logs_free(&logs);
    }
    free(captured_stderr());
}

static void test_random_bytes(void **state) {
    (void)state;
    static const char alphabet[] = "{}[]\":,\\ tfn0123456789.eE+-uabcdef\x80\xc3\xff\n";
    capture_stderr();
    for (int round = 0; round < 5000; round++) {
        size_t len = next_random() % 96;
        char *buf = malloc(len + 1);
        bool structured = round % 2 == 0;
        for (size_t i = 0; i < len; i++) {
            uint64_t r = next_random();
            buf[i] = structured ? alphabet[r % (sizeof alphabet - 1)] : (char)(r & 0xff);
        }
        if (len > 0)
            buf[0] = '{';
        cli_logs logs = {0};
        parse_n(&logs, buf, len);
        check_records(&logs);
        cli_logs_free(&logs);
        free(buf);
    }
    free(captured_stderr());
}

static void test_mutations(void **state) {
    (void)state;
    size_t n = strlen(sample);
    size_t read = 0;
    capture_stderr();
    for (int round = 0; round < 5000; round++) {
        char *buf = malloc(n + 8);
        memcpy(buf, sample, n);
        size_t len = n;
        int edits = 1 + (int)(next_random() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = next_random() % len;
            switch (next_random() % 3) {
            case 0: // flip a byte
                buf[at] = (char)(next_random() & 0xff);
                break;
            case 1: // delete a byte
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            default: // duplicate a byte
                memmove(buf + at + 1, buf + at, len - at);
                len++;
                break;
            }
        }
        cli_logs logs = {0};
        parse_n(&logs, buf, len);
        check_records(&logs);
        read += logs.n;
        cli_logs_free(&logs);
        free(buf);
    }
    free(captured_stderr());
    assert_true(read > 0); // some mutations leave a record
}

int main(void) {
    cli_json_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record),       cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_windows_view), cmocka_unit_test(test_ffi_facts),
        cmocka_unit_test(test_not_records),  cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_sarif),        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_random_bytes), cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
