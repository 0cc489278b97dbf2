// SPDX-License-Identifier: MIT
// The crossfree command's JSON reader and writer (tools/json.c): valid
// documents read right, malformed ones rejected with a message, and
// garbage (random bytes, mutations, truncations, deep nesting) never
// crashes it. Also built with ASan and UBSan, where a stray read fails.
#include "json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static cli_json *parse(cli_arena *a, const char *text, cli_json_error *err) {
    return cli_json_parse(a, text, strlen(text), err);
}

// The compact serialization of v, in a malloc'd string.
static char *dump(const cli_json *v, int indent) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cli_jw w;
    cli_jw_init(&w, f, indent);
    cli_jw_value(&w, v);
    fclose(f);
    return buf;
}

// ---------------------------------------------------------------------------
// Valid documents
// ---------------------------------------------------------------------------

static void test_record(void **state) {
    (void)state;
    cli_arena a = {0};
    const char *text =
        " {\"crossfree\":1,\"kind\":\"double-free\",\"pid\":1234,\"size\":-0.5e+3,"
        "\"ok\":true,\"no\":false,\"first_free\":null,\"stack\":[{\"line\":8},{},[]],"
        "\"esc\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}\r\n";
    cli_json_error err;
    cli_json *v = parse(&a, text, &err);
    assert_non_null(v);
    assert_int_equal(v->type, CLI_JSON_OBJECT);
    assert_int_equal(v->count, 9);
    assert_string_equal(cli_json_str(cli_json_get(v, "kind")), "double-free");
    long long pid = 0;
    assert_true(cli_json_int(cli_json_get(v, "pid"), &pid));
    assert_int_equal(pid, 1234);
    long long size = 0;
    assert_false(cli_json_int(cli_json_get(v, "size"), &size));
    assert_string_equal(cli_json_get(v, "size")->str, "-0.5e+3");
    assert_int_equal(cli_json_get(v, "ok")->type, CLI_JSON_TRUE);
    assert_int_equal(cli_json_get(v, "no")->type, CLI_JSON_FALSE);
    assert_true(cli_json_is_null(cli_json_get(v, "first_free")));
    assert_true(cli_json_is_null(cli_json_get(v, "absent")));
    cli_json *stack = cli_json_get(v, "stack");
    assert_int_equal(stack->count, 3);
    long long line = 0;
    assert_true(cli_json_int(cli_json_get(stack->first, "line"), &line));
    assert_int_equal(line, 8);
    assert_int_equal(stack->first->next->type, CLI_JSON_OBJECT);
    assert_int_equal(stack->first->next->next->type, CLI_JSON_ARRAY);
    assert_string_equal(cli_json_str(cli_json_get(v, "esc")),
                        "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    assert_null(cli_json_str(cli_json_get(v, "pid")));
    cli_arena_free(&a);
}

static void test_scalars(void **state) {
    (void)state;
    static const char *const ok[] = {"0",         "-0",    "1.5", "1e9",     "1E-9",
                                     "-12.25e+2", "\"\"",  "[]",  "{}",      "null",
                                     "true",      "false", " 7 ", "[1,[2]]", "{\"\":0}"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cli_arena a = {0};
        cli_json_error err;
        if (parse(&a, ok[i], &err) == NULL)
            fail_msg("'%s' rejected: %s", ok[i], err.message);
        cli_arena_free(&a);
    }
    cli_arena a = {0};
    long long n;
    assert_true(cli_json_int(parse(&a, "-9223372036854775808", NULL), &n));
    assert_true(n == INT64_MIN);
    assert_false(cli_json_int(parse(&a, "9223372036854775808", NULL), &n));
    assert_false(cli_json_int(parse(&a, "1.0", NULL), &n));
    assert_false(cli_json_int(parse(&a, "\"5\"", NULL), &n));
    assert_false(cli_json_int(NULL, &n));
    cli_arena_free(&a);
}

// Duplicate keys are kept; lookups find the first.
static void test_duplicate_keys(void **state) {
    (void)state;
    cli_arena a = {0};
    cli_json *v = parse(&a, "{\"k\":1,\"k\":2}", NULL);
    assert_int_equal(v->count, 2);
    assert_string_equal(cli_json_get(v, "k")->str, "1");
    cli_arena_free(&a);
}

// ---------------------------------------------------------------------------
// Malformed documents
// ---------------------------------------------------------------------------

static void test_rejects(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",         " ",         "{",        "}",         "[",           "[1,]",
        "[1 2]",    "{\"a\"}",   "{\"a\":}", "{a:1}",     "{\"a\":1,}",  "{\"a\":1 \"b\":2}",
        "01",       "-",         "1.",       ".5",        "1e",          "1e+",
        "+1",       "0x10",      "NaN",      "Infinity",  "tru",         "nul",
        "truex",    "\"abc",     "\"\\x\"",  "\"\\u12\"", "\"\\u12G4\"", "\"a\tb\"",
        "\"a\nb\"", "[1]x",      "{} {}",    "\"\\",      "[\"\\\"]",    "'x'",
        "[-]",      "{\"a\":1]", "[1}",      "\x01",      "\xff",        "[1,,2]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli_arena a = {0};
        cli_json_error err = {.offset = 999};
        cli_json *v = parse(&a, bad[i], &err);
        if (v != NULL)
            fail_msg("'%s' accepted", bad[i]);
        assert_true(err.message[0] != '\0');
        assert_true(err.offset <= strlen(bad[i]));
        cli_arena_free(&a);
    }
    // A NUL byte inside the buffer is just a bad character.
    cli_arena a = {0};
    assert_null(cli_json_parse(&a, "[1,\0 2]", 7, NULL));
    assert_null(cli_json_parse(&a, "\"a\0b\"", 5, NULL));
    cli_arena_free(&a);
}

static void test_messages(void **state) {
    (void)state;
    cli_arena a = {0};
    cli_json_error err;
    assert_null(parse(&a, "{\"a\" 1}", &err));
    assert_string_equal(err.message, "expected ':' after an object key, found '1'");
    assert_int_equal(err.offset, 5);
    assert_null(parse(&a, "[1, 2", &err));
    assert_string_equal(err.message, "expected ',' or ']' in an array, found the end of the input");
    assert_null(parse(&a, "\"abc", &err));
    assert_string_equal(err.message, "unterminated string");
    assert_null(parse(&a, "[\x80]", &err));
    assert_string_equal(err.message, "expected a value, found byte 0x80");
    cli_arena_free(&a);
}

static void test_depth(void **state) {
    (void)state;
    char deep[CLI_JSON_MAX_DEPTH * 2 + 8];
    size_t n = 0;
    for (int i = 0; i < CLI_JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < CLI_JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    cli_arena a = {0};
    assert_non_null(cli_json_parse(&a, deep, n, NULL)); // exactly the limit
    // One more level is refused, with a message, not a stack overflow;
    // a million is refused just as quickly.
    char deeper[CLI_JSON_MAX_DEPTH * 2 + 8];
    memset(deeper, '[', CLI_JSON_MAX_DEPTH + 1);
    memset(deeper + CLI_JSON_MAX_DEPTH + 1, ']', CLI_JSON_MAX_DEPTH + 1);
    cli_json_error err;
    assert_null(cli_json_parse(&a, deeper, (CLI_JSON_MAX_DEPTH + 1) * 2, &err));
    assert_string_equal(err.message, "arrays and objects nested too deeply");
    size_t huge = 1000000;
    char *opens = malloc(huge);
    memset(opens, '{', huge);
    assert_null(cli_json_parse(&a, opens, huge, &err));
    memset(opens, '[', huge);
    assert_null(cli_json_parse(&a, opens, huge, &err));
    free(opens);
    cli_arena_free(&a);
}

// ---------------------------------------------------------------------------
// UTF-8 and the writer
// ---------------------------------------------------------------------------

static void test_utf8_repair(void **state) {
    (void)state;
    cli_arena a = {0};
    // Invalid bytes, an overlong '/', an encoded surrogate, a lone escaped
    // surrogate, an escaped NUL: each becomes U+FFFD (EF BF BD).
    cli_json *v = parse(&a,
                        "\"a\xff"
                        "b\xc0\xaf"
                        "c\xed\xa0\x80"
                        "d\\ud800e\\u0000f\xe2\x82\"",
                        NULL);
    assert_non_null(v);
    assert_string_equal(v->str, "a\xef\xbf\xbd"
                                "b\xef\xbf\xbd\xef\xbf\xbd"
                                "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                "d\xef\xbf\xbd"
                                "e\xef\xbf\xbd"
                                "f\xef\xbf\xbd\xef\xbf\xbd");
    assert_int_equal(v->len, strlen(v->str));
    assert_int_equal(cli_utf8_seq_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
    assert_int_equal(cli_utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
    assert_int_equal(cli_utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
    cli_arena_free(&a);
}

static void test_writer(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_jw w;
    cli_jw_init(&w, f, 0);
    cli_jw_begin_object(&w);
    cli_jw_key(&w, "s");
    cli_jw_string(&w, "q\"\\\n\t\x01\x7f\xff\xc3\xa9");
    cli_jw_key(&w, "n");
    cli_jw_int(&w, -42);
    cli_jw_key(&w, "a");
    cli_jw_begin_array(&w);
    cli_jw_null(&w);
    cli_jw_bool(&w, true);
    cli_jw_string(&w, NULL);
    cli_jw_begin_object(&w);
    cli_jw_end_object(&w);
    cli_jw_end_array(&w);
    cli_jw_end_object(&w);
    fclose(f);
    assert_string_equal(buf, "{\"s\":\"q\\\"\\\\\\n\\t\\u0001\\u007f\\ufffd\xc3\xa9\",\"n\":-42,"
                             "\"a\":[null,true,null,{}]}");
    // The pretty form reads back to the same document (escapes written
    // as \u are read back as characters, so compare after one trip).
    cli_arena a = {0};
    cli_json *v = parse(&a, buf, NULL);
    assert_non_null(v);
    assert_string_equal(cli_json_str(cli_json_get(v, "s")),
                        "q\"\\\n\t\x01\x7f\xef\xbf\xbd\xc3\xa9");
    char *pretty = dump(v, 2);
    assert_non_null(strchr(pretty, '\n'));
    cli_json *again = parse(&a, pretty, NULL);
    assert_non_null(again);
    char *compact = dump(again, 0);
    char *first = dump(v, 0);
    assert_string_equal(compact, first);
    free(first);
    free(pretty);
    free(compact);
    free(buf);
    cli_arena_free(&a);
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

// Whatever parses must write out as JSON that parses to the same text.
static void check_round_trip(const char *text, size_t len) {
    cli_arena a = {0};
    cli_json_error err;
    cli_json *v = cli_json_parse(&a, text, len, &err);
    if (v == NULL) {
        assert_true(err.offset <= len);
        assert_true(err.message[0] != '\0');
    } else {
        char *out = dump(v, 0);
        cli_json *back = parse(&a, out, NULL);
        assert_non_null(back);
        char *out2 = dump(back, 0);
        assert_string_equal(out, out2);
        free(out);
        free(out2);
    }
    cli_arena_free(&a);
}

static const char sample[] =
    "{\"crossfree\":1,\"kind\":\"alloc-dealloc-mismatch\",\"pid\":1234,\"executable\":"
    "\"/abs/exe\",\"command_line\":[\"exe\",\"arg1\"],\"thread\":0,\"address\":\"0x55d4\","
    "\"size\":160,\"message\":\"allocated by operator new[], freed by free()\","
    "\"allocated_by\":{\"family\":\"new[]\",\"function\":\"operator new[]\",\"thread\":0},"
    "\"deallocation_stack\":[{\"pc\":\"0x7f\",\"module\":\"/abs/lib.so\",\"offset\":\"0x1139\","
    "\"function\":\"get_ui_command()\",\"file\":\"/abs/lib.cc\",\"line\":8},{\"pc\":\"0x1\","
    "\"module\":null,\"offset\":null,\"function\":null,\"file\":null,\"line\":null}],"
    "\"esc\":\"\\u00e9\\ud83d\\ude00\\n\",\"time\":\"2026-11-26T05:40:00.123456Z\"}";

static void test_truncations(void **state) {
    (void)state;
    size_t n = strlen(sample);
    for (size_t len = 0; len < n; len++) {
        cli_arena a = {0};
        // Every proper prefix of an object is incomplete. Copied to a
        // buffer of exactly that size, so ASan sees any read past it.
        char *copy = malloc(len == 0 ? 1 : len);
        memcpy(copy, sample, len);
        assert_null(cli_json_parse(&a, copy, len, NULL));
        free(copy);
        cli_arena_free(&a);
    }
    check_round_trip(sample, n);
}

static void test_random_bytes(void **state) {
    (void)state;
    static const char alphabet[] = "{}[]\":,\\ tfn0123456789.eE+-uabcdef\x80\xc3\xff\n";
    for (int round = 0; round < 20000; round++) {
        size_t len = next_random() % 64;
        char *buf = malloc(len == 0 ? 1 : len);
        bool structured = round % 2 == 0;
        for (size_t i = 0; i < len; i++) {
            uint64_t r = next_random();
            buf[i] = structured ? alphabet[r % (sizeof alphabet - 1)] : (char)(r & 0xff);
        }
        check_round_trip(buf, len);
        free(buf);
    }
}

static void test_mutations(void **state) {
    (void)state;
    size_t n = strlen(sample);
    for (int round = 0; round < 20000; round++) {
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
        char *exact = malloc(len);
        memcpy(exact, buf, len);
        check_round_trip(exact, len);
        free(exact);
        free(buf);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record),         cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_duplicate_keys), cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_messages),       cmocka_unit_test(test_depth),
        cmocka_unit_test(test_utf8_repair),    cmocka_unit_test(test_writer),
        cmocka_unit_test(test_truncations),    cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
