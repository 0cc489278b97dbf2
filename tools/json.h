// SPDX-License-Identifier: MIT
// A small JSON reader and writer for the crossfree command. The reader takes
// untrusted bytes (logs can be truncated, mixed with other output, or
// garbage) and either returns a tree or a one-line error: it never reads
// outside its input, bounds nesting, and repairs invalid UTF-8 to U+FFFD.
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

// ---------------------------------------------------------------------------
// Arena: every node and string of a parsed document lives here
// ---------------------------------------------------------------------------

typedef struct cli_arena {
    struct cli_chunk *chunks;
} cli_arena;

void *cli_arena_alloc(cli_arena *a, size_t bytes); // zeroed; exits on out-of-memory
char *cli_arena_strdup(cli_arena *a, const char *s);
void cli_arena_free(cli_arena *a);

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

typedef enum cli_json_type {
    CLI_JSON_NULL,
    CLI_JSON_FALSE,
    CLI_JSON_TRUE,
    CLI_JSON_NUMBER,
    CLI_JSON_STRING,
    CLI_JSON_ARRAY,
    CLI_JSON_OBJECT,
} cli_json_type;

typedef struct cli_json {
    cli_json_type type;
    const char *key;        // member name inside an object, else NULL
    const char *str;        // STRING: decoded UTF-8; NUMBER: its text as written
    size_t len;             // bytes of str (a decoded string never holds a NUL)
    struct cli_json *first; // ARRAY, OBJECT: children in document order
    struct cli_json *next;  // next sibling
    size_t count;           // ARRAY, OBJECT: number of children
} cli_json;

// Deepest nesting of arrays and objects the reader accepts.
#define CLI_JSON_MAX_DEPTH 128

typedef struct cli_json_error {
    size_t offset;     // byte offset of the problem in the input
    char message[128]; // "expected ':' after an object key", ...
} cli_json_error;

// Parses exactly one JSON value, with optional whitespace around it, from
// [text, text+len). Returns NULL and fills *err (which may be NULL) on any
// error. The tree lives in `arena` until cli_arena_free. Duplicate keys are
// kept; lookups find the first.
cli_json *cli_json_parse(cli_arena *arena, const char *text, size_t len, cli_json_error *err);

// The member `key` of an object, NULL if v is not an object or has none.
cli_json *cli_json_get(const cli_json *v, const char *key);
// v's string, or NULL when v is NULL or not a string.
const char *cli_json_str(const cli_json *v);
// Whether v is an integral number that fits a long long; stores it.
bool cli_json_int(const cli_json *v, long long *out);
bool cli_json_is_null(const cli_json *v); // true for NULL too

// Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0
// if the bytes there are not one (overlong, surrogate, beyond U+10FFFF,
// truncated). ASCII gives 1.
size_t cli_utf8_seq_len(const unsigned char *s, size_t n);

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

typedef struct cli_jw {
    FILE *out;
    int indent;     // spaces per level; 0 writes one line
    int depth;      // current nesting
    bool first;     // nothing written yet at this level
    bool after_key; // a key was written, its value comes next
    bool stack[CLI_JSON_MAX_DEPTH + 1];
} cli_jw;

void cli_jw_init(cli_jw *w, FILE *out, int indent);
void cli_jw_begin_object(cli_jw *w);
void cli_jw_end_object(cli_jw *w);
void cli_jw_begin_array(cli_jw *w);
void cli_jw_end_array(cli_jw *w);
void cli_jw_key(cli_jw *w, const char *key);
void cli_jw_string(cli_jw *w, const char *s); // NULL writes null
void cli_jw_int(cli_jw *w, long long v);
void cli_jw_null(cli_jw *w);
void cli_jw_bool(cli_jw *w, bool v);
// Writes a parsed value back (numbers as written, strings re-escaped).
void cli_jw_value(cli_jw *w, const cli_json *v);

// Writes s as a quoted JSON string: escapes '"', '\\' and controls, and
// writes invalid UTF-8 as U+FFFD, so the output is always valid JSON.
void cli_json_write_string(FILE *out, const char *s);

#endif
