// SPDX-License-Identifier: MIT
// The JSON reader and writer declared in json.h. The reader is a recursive
// descent parser over a bounded buffer: every access is checked against the
// end, recursion is capped at CLI_JSON_MAX_DEPTH, and a malformed input gives
// an error message with its offset, never a crash or a partial tree.
#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Arena
// ---------------------------------------------------------------------------

struct cli_chunk {
    struct cli_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

#define CHUNK_BYTES (64 * 1024)

void *cli_arena_alloc(cli_arena *a, size_t bytes) {
    size_t align = sizeof(max_align_t);
    bytes = (bytes + align - 1) / align * align;
    struct cli_chunk *c = a->chunks;
    if (c == NULL || c->cap - c->used < bytes) {
        size_t cap = bytes > CHUNK_BYTES ? bytes : CHUNK_BYTES;
        c = calloc(1, sizeof *c + cap);
        if (c == NULL) {
            fputs("crossfree: out of memory\n", stderr);
            exit(2);
        }
        c->cap = cap;
        // A big block gets a chunk of its own behind the current one, so
        // the space left in the current chunk stays usable.
        if (a->chunks != NULL && bytes > CHUNK_BYTES) {
            c->next = a->chunks->next;
            a->chunks->next = c;
        } else {
            c->next = a->chunks;
            a->chunks = c;
        }
    }
    void *p = (char *)c->data + c->used;
    c->used += bytes;
    memset(p, 0, bytes);
    return p;
}

char *cli_arena_strdup(cli_arena *a, const char *s) {
    size_t n = strlen(s);
    char *p = cli_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    return p;
}

void cli_arena_free(cli_arena *a) {
    struct cli_chunk *c = a->chunks;
    while (c != NULL) {
        struct cli_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = NULL;
}

// ---------------------------------------------------------------------------
// UTF-8
// ---------------------------------------------------------------------------

size_t cli_utf8_seq_len(const unsigned char *s, size_t n) {
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static size_t put_utf8(char *out, unsigned cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

#define REPLACEMENT 0xfffdu

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

typedef struct parser {
    cli_arena *arena;
    const unsigned char *s;
    size_t len, pos;
    cli_json_error *err;
    bool failed;
} parser;

static void fail(parser *p, const char *what) {
    if (p->failed)
        return;
    p->failed = true;
    if (p->err == NULL)
        return;
    p->err->offset = p->pos;
    snprintf(p->err->message, sizeof p->err->message, "%s", what);
}

static void fail_char(parser *p, const char *expected) {
    char msg[96];
    if (p->pos >= p->len) {
        snprintf(msg, sizeof msg, "%s, found the end of the input", expected);
    } else {
        unsigned c = p->s[p->pos];
        if (c >= 0x20 && c < 0x7f)
            snprintf(msg, sizeof msg, "%s, found '%c'", expected, (char)c);
        else
            snprintf(msg, sizeof msg, "%s, found byte 0x%02x", expected, c);
    }
    fail(p, msg);
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static bool literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int hex_digit(unsigned c) {
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

// Reads the 4 hex digits after "\u"; -1 if they are not there.
static long read_hex4(parser *p) {
    if (p->len - p->pos < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p->s[p->pos + (size_t)i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    p->pos += 4;
    return v;
}

// Parses a string starting at the opening quote. Returns the decoded text
// (NUL-terminated, in the arena) and its length.
static const char *parse_string(parser *p, size_t *out_len) {
    p->pos++; // the quote
    size_t start = p->pos;
    // First pass: find the closing quote, to size the output. Every input
    // byte decodes to at most 3 output bytes (a stray byte becomes U+FFFD).
    size_t end = start;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len) {
        fail(p, "unterminated string");
        return NULL;
    }
    char *out = cli_arena_alloc(p->arena, (end - start) * 3 + 1);
    size_t o = 0;
    while (p->pos < end) {
        unsigned c = p->s[p->pos];
        if (c < 0x20) {
            fail(p, "control character in a string (must be escaped)");
            return NULL;
        }
        if (c != '\\') {
            size_t n = cli_utf8_seq_len(p->s + p->pos, end - p->pos);
            if (n == 0) {
                o += put_utf8(out + o, REPLACEMENT);
                p->pos++;
            } else {
                memcpy(out + o, p->s + p->pos, n);
                o += n;
                p->pos += n;
            }
            continue;
        }
        p->pos++;
        unsigned e = p->s[p->pos++];
        switch (e) {
        case '"':
        case '\\':
        case '/':
            out[o++] = (char)e;
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            long cp = read_hex4(p);
            if (cp < 0) {
                fail(p, "\\u must be followed by 4 hex digits");
                return NULL;
            }
            if (cp >= 0xd800 && cp <= 0xdbff && end - p->pos >= 6 && p->s[p->pos] == '\\' &&
                p->s[p->pos + 1] == 'u') {
                size_t save = p->pos;
                p->pos += 2;
                long lo = read_hex4(p);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else {
                    p->pos = save; // not a pair: the high half stands alone
                }
            }
            // A lone surrogate has no UTF-8 form, and a NUL would cut the C
            // string short: both become U+FFFD.
            if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                cp = REPLACEMENT;
            o += put_utf8(out + o, (unsigned)cp);
            break;
        }
        default:
            p->pos--;
            fail_char(p, "expected an escape character after '\\'");
            return NULL;
        }
    }
    p->pos = end + 1;
    out[o] = '\0';
    *out_len = o;
    return out;
}

static bool is_digit(unsigned c) { return c >= '0' && c <= '9'; }

static void parse_number(parser *p, cli_json *v) {
    size_t start = p->pos;
    if (p->pos < p->len && p->s[p->pos] == '-')
        p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '0') {
        p->pos++;
    } else if (p->pos < p->len && is_digit(p->s[p->pos])) {
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    } else {
        fail_char(p, "expected a digit");
        return;
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos])) {
            fail_char(p, "expected a digit after '.'");
            return;
        }
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos])) {
            fail_char(p, "expected a digit in the exponent");
            return;
        }
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    size_t n = p->pos - start;
    char *text = cli_arena_alloc(p->arena, n + 1);
    memcpy(text, p->s + start, n);
    v->type = CLI_JSON_NUMBER;
    v->str = text;
    v->len = n;
}

static cli_json *parse_value(parser *p, int depth);

// Appends child to v's list (tail kept in *tail).
static void append(cli_json *v, cli_json ***tail, cli_json *child) {
    **tail = child;
    *tail = &child->next;
    v->count++;
}

static void parse_array(parser *p, cli_json *v, int depth) {
    v->type = CLI_JSON_ARRAY;
    cli_json **tail = &v->first;
    p->pos++; // '['
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return;
    }
    for (;;) {
        cli_json *item = parse_value(p, depth + 1);
        if (item == NULL)
            return;
        append(v, &tail, item);
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return;
        }
        fail_char(p, "expected ',' or ']' in an array");
        return;
    }
}

static void parse_object(parser *p, cli_json *v, int depth) {
    v->type = CLI_JSON_OBJECT;
    cli_json **tail = &v->first;
    p->pos++; // '{'
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            fail_char(p, "expected a string key in an object");
            return;
        }
        size_t key_len;
        const char *key = parse_string(p, &key_len);
        if (key == NULL)
            return;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            fail_char(p, "expected ':' after an object key");
            return;
        }
        p->pos++;
        cli_json *member = parse_value(p, depth + 1);
        if (member == NULL)
            return;
        member->key = key;
        append(v, &tail, member);
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            return;
        }
        fail_char(p, "expected ',' or '}' in an object");
        return;
    }
}

// `depth` counts the arrays and objects around the value.
static cli_json *parse_value(parser *p, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, "expected a value, found the end of the input");
        return NULL;
    }
    unsigned c = p->s[p->pos];
    if ((c == '{' || c == '[') && depth >= CLI_JSON_MAX_DEPTH) {
        fail(p, "arrays and objects nested too deeply");
        return NULL;
    }
    cli_json *v = cli_arena_alloc(p->arena, sizeof *v);
    switch (c) {
    case '{':
        parse_object(p, v, depth);
        break;
    case '[':
        parse_array(p, v, depth);
        break;
    case '"':
        v->type = CLI_JSON_STRING;
        v->str = parse_string(p, &v->len);
        break;
    case 't':
        v->type = CLI_JSON_TRUE;
        if (!literal(p, "true"))
            fail_char(p, "expected a value");
        break;
    case 'f':
        v->type = CLI_JSON_FALSE;
        if (!literal(p, "false"))
            fail_char(p, "expected a value");
        break;
    case 'n':
        v->type = CLI_JSON_NULL;
        if (!literal(p, "null"))
            fail_char(p, "expected a value");
        break;
    default:
        if (c == '-' || is_digit(c))
            parse_number(p, v);
        else
            fail_char(p, "expected a value");
        break;
    }
    return p->failed ? NULL : v;
}

cli_json *cli_json_parse(cli_arena *arena, const char *text, size_t len, cli_json_error *err) {
    parser p = {.arena = arena, .s = (const unsigned char *)text, .len = len, .err = err};
    if (err != NULL) {
        err->offset = 0;
        err->message[0] = '\0';
    }
    cli_json *v = parse_value(&p, 0);
    if (v == NULL)
        return NULL;
    skip_ws(&p);
    if (p.pos != p.len) {
        fail_char(&p, "expected the end of the input after the value");
        return NULL;
    }
    return v;
}

// ---------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------

cli_json *cli_json_get(const cli_json *v, const char *key) {
    if (v == NULL || v->type != CLI_JSON_OBJECT)
        return NULL;
    for (cli_json *m = v->first; m != NULL; m = m->next) {
        if (strcmp(m->key, key) == 0)
            return m;
    }
    return NULL;
}

const char *cli_json_str(const cli_json *v) {
    return v != NULL && v->type == CLI_JSON_STRING ? v->str : NULL;
}

bool cli_json_int(const cli_json *v, long long *out) {
    if (v == NULL || v->type != CLI_JSON_NUMBER || strpbrk(v->str, ".eE") != NULL)
        return false;
    errno = 0;
    char *end;
    long long n = strtoll(v->str, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = n;
    return true;
}

bool cli_json_is_null(const cli_json *v) { return v == NULL || v->type == CLI_JSON_NULL; }

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

void cli_json_write_string(FILE *out, const char *s) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            i++;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            fputc('\\', out);
            fputc(c == '\n' ? 'n' : c == '\t' ? 't' : 'r', out);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            i++;
        } else {
            size_t len = cli_utf8_seq_len(u + i, n - i);
            if (len == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(u + i, 1, len, out);
                i += len;
            }
        }
    }
    fputc('"', out);
}

void cli_jw_init(cli_jw *w, FILE *out, int indent) {
    memset(w, 0, sizeof *w);
    w->out = out;
    w->indent = indent;
    w->first = true;
}

static void newline(cli_jw *w) {
    if (w->indent == 0)
        return;
    fputc('\n', w->out);
    for (int i = 0; i < w->depth * w->indent; i++)
        fputc(' ', w->out);
}

// Called before every value and every key: the separator and indentation.
static void before_item(cli_jw *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    if (!w->first)
        fputc(',', w->out);
    w->first = false;
    newline(w);
}

static void open_level(cli_jw *w, char c) {
    before_item(w);
    fputc(c, w->out);
    if (w->depth < CLI_JSON_MAX_DEPTH)
        w->stack[w->depth] = w->first;
    w->depth++;
    w->first = true;
}

static void close_level(cli_jw *w, char c) {
    bool empty = w->first;
    w->depth--;
    if (w->depth < CLI_JSON_MAX_DEPTH)
        w->first = w->stack[w->depth];
    if (!empty)
        newline(w);
    fputc(c, w->out);
    if (w->depth == 0 && w->indent != 0)
        fputc('\n', w->out);
}

void cli_jw_begin_object(cli_jw *w) { open_level(w, '{'); }
void cli_jw_end_object(cli_jw *w) { close_level(w, '}'); }
void cli_jw_begin_array(cli_jw *w) { open_level(w, '['); }
void cli_jw_end_array(cli_jw *w) { close_level(w, ']'); }

void cli_jw_key(cli_jw *w, const char *key) {
    before_item(w);
    cli_json_write_string(w->out, key);
    fputs(w->indent != 0 ? ": " : ":", w->out);
    w->after_key = true;
}

void cli_jw_string(cli_jw *w, const char *s) {
    before_item(w);
    if (s == NULL)
        fputs("null", w->out);
    else
        cli_json_write_string(w->out, s);
}

void cli_jw_int(cli_jw *w, long long v) {
    before_item(w);
    fprintf(w->out, "%lld", v);
}

void cli_jw_null(cli_jw *w) {
    before_item(w);
    fputs("null", w->out);
}

void cli_jw_bool(cli_jw *w, bool v) {
    before_item(w);
    fputs(v ? "true" : "false", w->out);
}

void cli_jw_value(cli_jw *w, const cli_json *v) {
    switch (v->type) {
    case CLI_JSON_NULL:
        cli_jw_null(w);
        break;
    case CLI_JSON_FALSE:
    case CLI_JSON_TRUE:
        cli_jw_bool(w, v->type == CLI_JSON_TRUE);
        break;
    case CLI_JSON_NUMBER:
        before_item(w);
        fputs(v->str, w->out);
        break;
    case CLI_JSON_STRING:
        cli_jw_string(w, v->str);
        break;
    case CLI_JSON_ARRAY:
        cli_jw_begin_array(w);
        for (const cli_json *c = v->first; c != NULL; c = c->next)
            cli_jw_value(w, c);
        cli_jw_end_array(w);
        break;
    case CLI_JSON_OBJECT:
        cli_jw_begin_object(w);
        for (const cli_json *c = v->first; c != NULL; c = c->next) {
            cli_jw_key(w, c->key);
            cli_jw_value(w, c);
        }
        cli_jw_end_object(w);
        break;
    }
}
