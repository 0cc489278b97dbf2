// SPDX-License-Identifier: MIT
// Reads crossfree logs into error records. A line that starts with '{' is a
// JSON record; any other line may belong to a text report (ERROR header,
// plain words, frames, region lines, SUMMARY, HINT), which is parsed into
// the same record with less detail. Everything else is counted and skipped.
#include "logs.h"

#include "cli.h"

#include "core/hosts.h"
#include "report/report.h"
#include "support/demangle_rust.h"
#include "support/fmt.h"

#include <ctype.h>
#include <errno.h>
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
        c = cli_xmalloc(sizeof *c + cap);
        c->used = 0;
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
// Small helpers
// ---------------------------------------------------------------------------

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static char *arena_strndup(cli_arena *a, const char *s, size_t n) {
    char *p = cli_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    return p;
}

// A Rust name as reports show it now: logs written by a crossfree that did
// not know Rust hold it mangled (no C++ runtime in the process) or half
// demangled by the C++ runtime ("a::f::h0123456789abcdef").
static const char *plain_function(cli_arena *a, const char *name) {
    char plain[1024];
    if (name != NULL && (cf_demangle_rust(name, plain, sizeof plain) ||
                         cf_demangle_rust_tidy(name, plain, sizeof plain)))
        return cli_arena_strdup(a, plain);
    return name;
}

bool cli_frame_is_user(const cli_frame *f) {
    if (f->file == NULL || f->file[0] == '\0')
        return false;
    if (f->module == NULL)
        return true;
    // Never "user code": the C and C++ runtimes, the loader, libffi, crossfree.
    return !cf_runtime_module(f->module);
}

static cli_record *new_record(cli_logs *logs, const char *path, size_t line_no) {
    if (logs->n == logs->cap) {
        logs->cap = logs->cap == 0 ? 16 : logs->cap * 2;
        logs->records = cli_xrealloc(logs->records, logs->cap * sizeof *logs->records);
    }
    cli_record *r = &logs->records[logs->n++];
    memset(r, 0, sizeof *r);
    r->message = "";
    r->pid = r->thread = r->size = r->freed_from_frame = -1;
    r->allocated_by.thread = r->freed_by.thread = r->first_free.thread = -1;
    r->log = path;
    r->line_no = line_no;
    return r;
}

void cli_logs_free(cli_logs *logs) {
    free(logs->records);
    cli_arena_free(&logs->arena);
    memset(logs, 0, sizeof *logs);
}

// ---------------------------------------------------------------------------
// JSON records
// ---------------------------------------------------------------------------

void cli_json_init(void) { json_set_alloc_funcs(cli_xmalloc, free); }

json_t *cli_json_parse(const char *text, size_t len, json_error_t *err) {
    // Most lines are valid UTF-8 and go to jansson as they are. A raw NUL
    // becomes U+FFFD with the rest: a NUL in a string is repaired like any
    // other bad byte, and outside strings the line stays malformed.
    const unsigned char *u = (const unsigned char *)text;
    size_t i = 0, n;
    while (i < len && u[i] != 0 && (n = cli_utf8_seq_len(u + i, len - i)) > 0)
        i += n;
    if (i == len)
        return json_loadb(text, len, JSON_ALLOW_NUL, err);
    cli_str fixed = {0};
    cli_str_add_utf8(&fixed, text, len);
    json_t *v = json_loadb(fixed.data, fixed.len, JSON_ALLOW_NUL, err);
    cli_str_free(&fixed);
    return v;
}

json_t *cli_json_string(const char *s) {
    if (s == NULL)
        return json_null();
    json_t *v = json_string(s); // NULL when s is not UTF-8
    if (v == NULL) {
        cli_str fixed = {0};
        cli_str_add_utf8(&fixed, s, strlen(s));
        v = json_stringn(fixed.data, fixed.len);
        cli_str_free(&fixed);
    }
    return v;
}

// v's string copied into the arena (an escaped NUL becomes U+FFFD), or
// NULL when v is not a string.
static const char *str_of(cli_arena *a, const json_t *v) {
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (memchr(s, '\0', n) == NULL)
        return arena_strndup(a, s, n);
    cli_str fixed = {0};
    cli_str_add_utf8(&fixed, s, n);
    const char *copy = arena_strndup(a, fixed.data, fixed.len);
    cli_str_free(&fixed);
    return copy;
}

// The string member `key` of o; NULL when o is no object or has none.
static const char *get_str(cli_arena *a, const json_t *o, const char *key) {
    return str_of(a, json_object_get(o, key));
}

// An integer member, -1 when absent or not an integer.
static long long get_int(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static void read_side(cli_arena *a, const json_t *o, cli_side *side) {
    if (!json_is_object(o))
        return;
    side->present = true;
    side->family = get_str(a, o, "family");
    side->function = get_str(a, o, "function");
    side->thread = get_int(o, "thread");
}

static void read_stack(cli_arena *a, const json_t *arr, cli_stack *stack) {
    if (!json_is_array(arr))
        return;
    stack->present = true;
    stack->frames = cli_arena_alloc(a, (json_array_size(arr) + 1) * sizeof *stack->frames);
    size_t i;
    const json_t *f;
    json_array_foreach(arr, i, f) {
        if (!json_is_object(f))
            continue;
        cli_frame *out = &stack->frames[stack->n++];
        out->pc = get_str(a, f, "pc");
        out->module = get_str(a, f, "module");
        out->offset = get_str(a, f, "offset");
        out->function = plain_function(a, get_str(a, f, "function"));
        out->file = get_str(a, f, "file");
        long long line = get_int(f, "line");
        out->line = line > 0 ? line : 0;
        out->unloaded = json_is_true(json_object_get(f, "unloaded"));
        out->inlined = json_is_true(json_object_get(f, "inlined"));
    }
}

static void read_threads(cli_arena *a, const json_t *arr, cli_record *r) {
    if (!json_is_array(arr))
        return;
    r->threads = cli_arena_alloc(a, (json_array_size(arr) + 1) * sizeof *r->threads);
    size_t i;
    const json_t *t;
    json_array_foreach(arr, i, t) {
        if (!json_is_object(t) || !json_is_integer(json_object_get(t, "id")))
            continue;
        cli_thread *out = &r->threads[r->n_threads++];
        out->id = get_int(t, "id");
        out->os_tid = get_int(t, "os_tid");
        out->name = get_str(a, t, "name");
        out->main = json_is_true(json_object_get(t, "main"));
        out->created_by = get_int(t, "created_by");
        read_stack(a, json_object_get(t, "creation_stack"), &out->creation_stack);
    }
}

bool cli_record_from_json(cli_arena *a, const json_t *o, cli_record *r, const char **why) {
    if (!json_is_object(o)) {
        *why = "a JSON value that is not an object";
        return false;
    }
    if (json_object_get(o, "crossfree") == NULL) {
        *why = "a JSON object without \"crossfree\" (not a crossfree record)";
        return false;
    }
    r->kind = get_str(a, o, "kind");
    if (r->kind == NULL || r->kind[0] == '\0') {
        *why = "a crossfree record without a \"kind\"";
        return false;
    }
    const char *message = get_str(a, o, "message");
    r->message = message != NULL ? message : "";
    r->hint = get_str(a, o, "hint");
    const json_t *from = json_object_get(o, "freed_from");
    r->freed_from = get_str(a, from, "host");
    if (r->freed_from != NULL)
        r->freed_from_frame = get_int(from, "frame");
    r->sides = get_str(a, from, "message");
    // semantics=windows: a pair only Windows rejects reads "allocated by
    // malloc(), freed by free()" on Linux; the Windows view says what is wrong.
    const json_t *win = json_object_get(o, "windows_view");
    r->windows_view = get_str(a, win, "message");
    const char *win_linux = json_string_value(json_object_get(win, "linux"));
    r->windows_only =
        r->windows_view != NULL && win_linux != NULL && strcmp(win_linux, "works") == 0;
    r->pid = get_int(o, "pid");
    r->executable = get_str(a, o, "executable");
    const json_t *cmd = json_object_get(o, "command_line");
    if (json_is_array(cmd)) {
        r->argv = cli_arena_alloc(a, (json_array_size(cmd) + 1) * sizeof *r->argv);
        size_t i;
        const json_t *v;
        json_array_foreach(cmd, i, v) {
            const char *arg = str_of(a, v);
            if (arg != NULL)
                r->argv[r->argc++] = arg;
        }
    }
    r->thread = get_int(o, "thread");
    r->address = get_str(a, o, "address");
    r->size = get_int(o, "size");
    read_side(a, json_object_get(o, "allocated_by"), &r->allocated_by);
    read_side(a, json_object_get(o, "freed_by"), &r->freed_by);
    const json_t *first = json_object_get(o, "first_free");
    read_side(a, first, &r->first_free);
    read_stack(a, json_object_get(first, "stack"), &r->first_free_stack);
    read_stack(a, json_object_get(o, "deallocation_stack"), &r->dealloc_stack);
    read_stack(a, json_object_get(o, "allocation_stack"), &r->alloc_stack);
    r->where = get_str(a, o, "where");
    r->where_module = get_str(a, o, "where_module");
    r->block_address = get_str(a, o, "block_address");
    read_threads(a, json_object_get(o, "threads"), r);
    r->truncated = json_is_true(json_object_get(o, "truncated"));
    r->time = get_str(a, o, "time");
    return true;
}

// ---------------------------------------------------------------------------
// Text reports
// ---------------------------------------------------------------------------

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Finds the last occurrence of needle in [s, s+n).
static const char *find_last(const char *s, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = n >= k ? n - k + 1 : 0; i-- > 0;) {
        if (memcmp(s + i, needle, k) == 0)
            return s + i;
    }
    return NULL;
}

bool cli_parse_frame_line(const char *line, size_t len, cli_text_frame *out) {
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len && line[i] == ' ')
        i++;
    if (i == 0 || i >= len || line[i] != '#')
        return false;
    i++;
    size_t digits = i;
    while (i < len && line[i] >= '0' && line[i] <= '9')
        out->n = out->n * 10 + (size_t)(line[i++] - '0');
    if (i == digits || len - i < 4 || line[i] != ' ' || line[i + 1] != '0' || line[i + 2] != 'x')
        return false;
    i++;
    out->pc = line + i;
    i += 2;
    while (i < len && is_hex(line[i]))
        i++;
    out->pc_len = (size_t)(line + i - out->pc);
    if (out->pc_len == 2)
        return false;

    size_t end = len;
    // The tag of the frame where an FFI host entered native code comes last.
    static const char boundary[] = " [host boundary: ";
    const char *tag =
        end > i && line[end - 1] == ']' ? find_last(line + i, end - i, boundary) : NULL;
    if (tag != NULL) {
        out->host = tag + sizeof boundary - 1;
        out->host_len = (size_t)(line + end - 1 - out->host);
        end = (size_t)(tag - line);
    }
    static const char unloaded[] = " [unloaded]";
    if (end - i >= sizeof unloaded - 1 &&
        memcmp(line + end - (sizeof unloaded - 1), unloaded, sizeof unloaded - 1) == 0) {
        out->unloaded = true;
        end -= sizeof unloaded - 1;
    }
    static const char inlined[] = " [inlined]";
    if (end - i >= sizeof inlined - 1 &&
        memcmp(line + end - (sizeof inlined - 1), inlined, sizeof inlined - 1) == 0) {
        out->inlined = true;
        end -= sizeof inlined - 1;
    }
    if (end <= i || line[end - 1] != ')')
        return false;
    // The module part opens at the last " (" followed by a '/' (module
    // paths are absolute, and may hold " (" themselves), else at the last
    // " (": C++ names may hold one too ("std::function<void ()>").
    const char *paren = find_last(line + i, end - i, " (");
    for (const char *p = paren; p != NULL && paren[2] != '/';
         p = find_last(line + i, (size_t)(p - (line + i)), " (")) {
        if (p[2] == '/')
            paren = p;
    }
    if (paren == NULL)
        return false;
    const char *mod = paren + 2;
    size_t mod_len = (size_t)(line + end - 1 - mod);
    static const char unknown[] = "<unknown module>";
    if (mod_len == sizeof unknown - 1 && memcmp(mod, unknown, mod_len) == 0) {
        out->module = NULL;
    } else {
        const char *plus = find_last(mod, mod_len, "+0x");
        if (plus == NULL || plus == mod)
            return false;
        for (const char *h = plus + 3; h < line + end - 1; h++) {
            if (!is_hex(*h))
                return false;
        }
        if (plus + 3 == line + end - 1)
            return false;
        out->module = mod;
        out->module_len = (size_t)(plus - mod);
        out->offset = strtoull(plus + 3, NULL, 16);
    }

    const char *mid = line + i;
    size_t mid_len = (size_t)(paren - mid);
    if (mid_len == 0)
        return true;
    if (mid_len < 5 || memcmp(mid, " in ", 4) != 0)
        return false;
    const char *fn = mid + 4;
    size_t fn_len = mid_len - 4;
    // "FUNC FILE:LINE": the last space-separated token, when it is a file.
    const char *sp = find_last(fn, fn_len, " ");
    if (sp != NULL) {
        const char *tok = sp + 1;
        size_t tok_len = (size_t)(fn + fn_len - tok);
        const char *colon = find_last(tok, tok_len, ":");
        bool has_line = colon != NULL && colon > tok && colon + 1 < tok + tok_len;
        for (const char *d = colon != NULL ? colon + 1 : tok; has_line && d < tok + tok_len; d++)
            has_line = *d >= '0' && *d <= '9';
        bool is_path = memchr(tok, '/', tok_len) != NULL && memchr(tok, '(', tok_len) == NULL;
        if (has_line || is_path) {
            out->file = tok;
            out->file_len = has_line ? (size_t)(colon - tok) : tok_len;
            out->line = has_line ? strtoull(colon + 1, NULL, 10) : 0;
            fn_len = (size_t)(sp - fn);
        }
    }
    if (out->file == NULL) {
        const char *plus = find_last(fn, fn_len, "+0x");
        bool hex = plus != NULL && plus > fn && plus + 3 < fn + fn_len;
        for (const char *h = hex ? plus + 3 : fn; hex && h < fn + fn_len; h++)
            hex = is_hex(*h);
        if (hex) {
            out->func_offset = strtoull(plus + 3, NULL, 16);
            fn_len = (size_t)(plus - fn);
        }
    }
    out->function = fn;
    out->function_len = fn_len;
    return true;
}

enum which { NO_STACK, DEALLOC_STACK, ALLOC_STACK, FIRST_FREE_STACK, THREAD_STACK };

typedef struct text_state {
    long cur; // index of the record being read, -1 outside a report
    enum which stack;
    bool want_message;
} text_state;

static cli_stack *stack_of(cli_record *r, enum which w) {
    switch (w) {
    case DEALLOC_STACK:
        return &r->dealloc_stack;
    case ALLOC_STACK:
        return &r->alloc_stack;
    case FIRST_FREE_STACK:
        return &r->first_free_stack;
    case THREAD_STACK:
        return r->n_threads > 0 ? &r->threads[r->n_threads - 1].creation_stack : NULL;
    default:
        return NULL;
    }
}

static void push_frame(cli_arena *a, cli_stack *s, const cli_text_frame *t) {
    // Capacity is the next power of two: grow by copying into the arena.
    if (s->n == 0 || (s->n >= 4 && (s->n & (s->n - 1)) == 0)) {
        size_t cap = s->n < 4 ? 4 : s->n * 2;
        cli_frame *grown = cli_arena_alloc(a, cap * sizeof *grown);
        if (s->n > 0)
            memcpy(grown, s->frames, s->n * sizeof *grown);
        s->frames = grown;
    }
    cli_frame *f = &s->frames[s->n++];
    f->pc = arena_strndup(a, t->pc, t->pc_len);
    if (t->module != NULL) {
        f->module = arena_strndup(a, t->module, t->module_len);
        char off[32];
        snprintf(off, sizeof off, "0x%llx", t->offset);
        f->offset = cli_arena_strdup(a, off);
    }
    if (t->function_len > 0)
        f->function = plain_function(a, arena_strndup(a, t->function, t->function_len));
    if (t->file_len > 0)
        f->file = arena_strndup(a, t->file, t->file_len);
    f->line = (long long)t->line;
    f->unloaded = t->unloaded;
    f->inlined = t->inlined;
}

// The thread `id` of r's list, added (unknown but for its number) if it is
// not there; NULL when the list is full.
static cli_thread *text_thread(cli_arena *a, cli_record *r, long long id) {
    for (size_t i = 0; i < r->n_threads; i++)
        if (r->threads[i].id == id)
            return &r->threads[i];
    if (r->threads == NULL)
        r->threads = cli_arena_alloc(a, CF_REPORT_THREADS_MAX * sizeof *r->threads);
    if (r->n_threads == CF_REPORT_THREADS_MAX)
        return NULL;
    cli_thread *t = &r->threads[r->n_threads++];
    t->id = id;
    t->os_tid = t->created_by = -1;
    return t;
}

// A thread as the text report names it, "T2 (consumer, tid 4242)",
// "T2 (tid 4242)" or "T2", at the start of [s, end): fills what it says and
// returns where it ends (NULL if s does not start with one).
static const char *read_thread_words(cli_arena *a, cli_record *r, const char *s, const char *end,
                                     long long *id) {
    if (s >= end || *s != 'T' || !isdigit((unsigned char)s[1]))
        return NULL;
    char *after;
    *id = strtoll(s + 1, &after, 10);
    cli_thread *t = text_thread(a, r, *id);
    if (after + 2 > end || after[0] != ' ' || after[1] != '(')
        return after;
    const char *close = memchr(after, ')', (size_t)(end - after));
    // The name may hold parentheses: the desc ends at the last ')' before
    // " created by" / " here:" (end).
    for (const char *c = close; c != NULL && c < end; c = memchr(c + 1, ')', (size_t)(end - c - 1)))
        close = c;
    if (close == NULL)
        return after;
    const char *open = after + 2;
    const char *tid = find_last(open, (size_t)(close - open), "tid ");
    if (tid == NULL)
        return close + 1;
    if (t != NULL) {
        t->os_tid = strtoll(tid + 4, NULL, 10);
        if (tid >= open + 2 && tid[-2] == ',')
            t->name = arena_strndup(a, open, (size_t)(tid - 2 - open));
    }
    return close + 1;
}

// "Thread T2 (consumer, tid 4242) created by T0 here:": the creation
// stack of T2 follows.
static bool read_thread_line(cli_arena *a, cli_record *r, const char *line, size_t len) {
    const char *end = line + len;
    const char *by = find_last(line, len, " created by ");
    if (!starts_with(line, "Thread T") || by == NULL || len < 6 || strcmp(end - 6, " here:") != 0)
        return false;
    long long id, creator;
    if (read_thread_words(a, r, line + 7, by, &id) == NULL ||
        read_thread_words(a, r, by + 12, end - 6, &creator) == NULL)
        return false;
    // The creator was added last if it was new: find the created thread
    // again and move it to the end, where THREAD_STACK looks.
    for (size_t i = 0; i < r->n_threads; i++) {
        if (r->threads[i].id != id)
            continue;
        cli_thread t = r->threads[i];
        memmove(&r->threads[i], &r->threads[i + 1], (r->n_threads - i - 1) * sizeof t);
        t.created_by = creator;
        t.creation_stack.present = true;
        r->threads[r->n_threads - 1] = t;
        return true;
    }
    return false;
}

// "WORDS in thread TN here:" after `lead`: fills the side's words and thread.
static void read_region_side(cli_arena *a, const char *after, cli_side *side) {
    side->present = true;
    const char *in = strstr(after, " in thread T");
    if (in == NULL)
        return;
    side->function = arena_strndup(a, after, (size_t)(in - after));
    side->thread = strtoll(in + strlen(" in thread T"), NULL, 10);
}

// The plain-words line names the functions on each side.
static void read_message(cli_arena *a, cli_record *r) {
    const char *m = r->message;
    const char *sep;
    if (starts_with(m, "allocated by ") && (sep = strstr(m, ", freed by ")) != NULL) {
        r->allocated_by.present = r->freed_by.present = true;
        r->allocated_by.function = arena_strndup(a, m + 13, (size_t)(sep - m - 13));
        r->freed_by.function = sep + strlen(", freed by ");
    } else if (starts_with(m, "freed twice: first by ") && (sep = strstr(m, ", now by ")) != NULL) {
        r->first_free.present = r->freed_by.present = true;
        r->first_free.function = arena_strndup(a, m + 22, (size_t)(sep - m - 22));
        r->freed_by.function = sep + strlen(", now by ");
    } else if ((sep = strstr(m, " on an address that no tracked allocator handed out: ")) != NULL) {
        r->freed_by.present = true;
        r->freed_by.function = arena_strndup(a, m, (size_t)(sep - m));
        const char *what = sep + strlen(" on an address that no tracked allocator handed out: ");
        if (strstr(what, " bytes inside a ") != NULL) {
            r->where = "interior";
        } else if (starts_with(what, "an address on the stack")) {
            r->where = "stack";
        } else if (starts_with(what, "a static address in ")) {
            r->where = "static";
            r->where_module = what + strlen("a static address in ");
        } else {
            r->where = "unknown";
        }
    }
}

// Returns true when the line belonged to a text report (or was one of
// crossfree's own lines) and so is not "skipped".
static bool text_line(cli_logs *logs, text_state *st, const char *path, size_t line_no, char *line,
                      size_t len) {
    cli_arena *a = &logs->arena;
    long long pid, tid;
    char kind[64], addr[32];
    if (starts_with(line, "==") &&
        sscanf(line, "==%lld==ERROR: crossfree: %63s on address %31s in thread T%lld", &pid, kind,
               addr, &tid) == 4) {
        cli_record *r = new_record(logs, path, line_no);
        r->kind = cli_arena_strdup(a, kind);
        r->pid = pid;
        r->address = cli_arena_strdup(a, addr);
        r->thread = tid;
        const char *in = strstr(line, " in thread T");
        long long id;
        if (in != NULL)
            read_thread_words(a, r, in + 11, line + len, &id);
        r->dealloc_stack.present = true;
        st->cur = (long)(logs->n - 1);
        st->stack = DEALLOC_STACK;
        st->want_message = true;
        return true;
    }
    // crossfree's own lines: the exit summary, warnings.
    if (starts_with(line, "crossfree: ") ||
        (starts_with(line, "==") && strstr(line, "==crossfree: ") != NULL))
        return true;
    if (st->cur < 0)
        return false;
    cli_record *r = &logs->records[st->cur];
    cli_text_frame t;
    if (cli_parse_frame_line(line, len, &t)) {
        cli_stack *s = stack_of(r, st->stack);
        if (st->stack == DEALLOC_STACK && t.host != NULL && r->freed_from == NULL) {
            r->freed_from = arena_strndup(a, t.host, t.host_len);
            r->freed_from_frame = (long long)s->n;
        }
        if (s != NULL)
            push_frame(a, s, &t);
        st->want_message = false;
        return true;
    }
    if (st->want_message) {
        r->message = arena_strndup(a, line, len);
        read_message(a, r);
        st->want_message = false;
        return true;
    }
    if (starts_with(line, "    <no stack recorded"))
        return true;
    // Between the message and the first frame: which FFI host freed
    // ("freed from ..."), and with semantics=windows both views ("Linux: ...").
    if (st->stack == DEALLOC_STACK && r->dealloc_stack.n == 0) {
        if (starts_with(line, "freed from ")) {
            r->sides = arena_strndup(a, line, len);
            return true;
        }
        if (starts_with(line, "Linux: ")) {
            r->windows_view = arena_strndup(a, line, len);
            r->windows_only = starts_with(line, "Linux: works here");
            return true;
        }
    }
    const char *p;
    if ((p = strstr(line, "-byte region allocated by ")) != NULL && strstr(line, " is a ")) {
        r->size = strtoll(strstr(line, " is a ") + 6, NULL, 10);
        if (r->where != NULL && strcmp(r->where, "interior") == 0)
            r->block_address = arena_strndup(a, line, strcspn(line, " "));
        read_region_side(a, p + strlen("-byte region allocated by "), &r->allocated_by);
        r->alloc_stack.present = true;
        st->stack = ALLOC_STACK;
        return true;
    }
    if ((p = strstr(line, "-byte region freed by ")) != NULL && strstr(line, " is a ")) {
        r->size = strtoll(strstr(line, " is a ") + 6, NULL, 10);
        const char *words = p + strlen("-byte region freed by ");
        if (starts_with(words, "an earlier deallocation")) {
            r->first_free.present = true;
            st->stack = NO_STACK;
        } else {
            read_region_side(a, words, &r->first_free);
            r->first_free_stack.present = true;
            st->stack = FIRST_FREE_STACK;
        }
        return true;
    }
    if (starts_with(line, "previously allocated by ")) {
        read_region_side(a, line + strlen("previously allocated by "), &r->allocated_by);
        r->alloc_stack.present = true;
        st->stack = ALLOC_STACK;
        return true;
    }
    if (starts_with(line, "Thread T") && read_thread_line(a, r, line, len)) {
        st->stack = THREAD_STACK;
        return true;
    }
    if (starts_with(line, "SUMMARY: crossfree: ")) {
        st->stack = NO_STACK;
        return true;
    }
    if (starts_with(line, "HINT: ")) {
        r->hint = arena_strndup(a, line + strlen("HINT: "), len - strlen("HINT: "));
        st->cur = -1;
        return true;
    }
    // Anything else ends the report (the process printed over it).
    st->cur = -1;
    return false;
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

#define MAX_LINE_WARNINGS 3

bool cli_logs_read(cli_logs *logs, const char *path) {
    char *data;
    size_t size;
    if (!cli_read_file(path, &data, &size)) {
        cli_error("cannot read %s: %s", path, strerror(errno));
        logs->unreadable = true;
        return false;
    }
    cli_logs_parse(logs, strcmp(path, "-") == 0 ? "<stdin>" : path, data, size);
    free(data);
    return true;
}

void cli_logs_parse(cli_logs *logs, const char *label, char *data, size_t size) {
    const char *name = cli_arena_strdup(&logs->arena, label);
    text_state st = {.cur = -1};
    size_t skipped = 0, first_skipped = 0, bad_json = 0;
    bool warned_version = false;
    size_t line_no = 0;
    for (char *line = data; line < data + size;) {
        char *nl = memchr(line, '\n', (size_t)(data + size - line));
        char *end = nl != NULL ? nl : data + size;
        line_no++;
        size_t len = (size_t)(end - line);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        line[len] = '\0';
        char *next = nl != NULL ? nl + 1 : data + size;

        size_t lead = strspn(line, " \t");
        if (lead == len) {
            line = next;
            continue;
        }
        if (line[lead] == '{') {
            st.cur = -1;
            json_error_t err;
            json_t *v = cli_json_parse(line, len, &err);
            const char *why = NULL;
            cli_record *r = NULL;
            if (v != NULL) {
                r = new_record(logs, name, line_no);
                if (!cli_record_from_json(&logs->arena, v, r, &why)) {
                    logs->n--;
                    r = NULL;
                }
            }
            if (r == NULL) {
                if (++bad_json <= MAX_LINE_WARNINGS) {
                    if (v == NULL)
                        cli_error("%s:%zu: malformed JSON at column %d: %s; line skipped", name,
                                  line_no, err.column, err.text);
                    else
                        cli_error("%s:%zu: %s; line skipped", name, line_no, why);
                }
            } else if (!warned_version) {
                long long version = get_int(v, "crossfree");
                if (version != 1) {
                    cli_error("%s:%zu: record version %lld (this crossfree reads version 1); "
                              "reading the fields it knows",
                              name, line_no, version);
                    warned_version = true;
                }
            }
            json_decref(v);
        } else if (!text_line(logs, &st, name, line_no, line, len)) {
            if (skipped++ == 0)
                first_skipped = line_no;
        }
        line = next;
    }
    if (bad_json > MAX_LINE_WARNINGS)
        cli_error("%s: %zu more lines skipped as above", name, bad_json - MAX_LINE_WARNINGS);
    if (skipped > 0)
        cli_error("%s: skipped %zu line%s that %s not crossfree JSON records or text reports "
                  "(the first is line %zu)",
                  name, skipped, skipped == 1 ? "" : "s", skipped == 1 ? "is" : "are",
                  first_skipped);
}
