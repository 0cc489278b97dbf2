// SPDX-License-Identifier: MIT
// Suppression rules: parsing and matching. The table is static and bounded
// (CF_SUPP_MAX_RULES patterns of CF_SUPP_PATTERN_MAX bytes) because it is
// filled inside the first malloc of the process; a file that asks for more
// gets an error message, never an allocation or a crash.
#include "report/suppress.h"

#include <stdarg.h>

#include "stack/depot.h"
#include "support/fmt.h"
#include "support/glob.h"
#include "support/log.h"
#include "support/names.h"

#define KIND_ANY (-1)

typedef struct rule {
    int kind;      // cf_error_kind, or KIND_ANY for '*'
    unsigned line; // line number in its file, for messages
    size_t len;
    uint64_t hits;
    char pattern[CF_SUPP_PATTERN_MAX + 1];
} rule;

static rule rules[CF_SUPP_MAX_RULES];
static unsigned n_rules;

unsigned cf_suppressions_count(void) { return n_rules; }

void cf_suppressions_clear(void) { n_rules = 0; }

// ---------------------------------------------------------------------------
// Parsing

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n) {
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

// Quotes at most 64 bytes of user text into `out`, with anything
// unprintable as '?', so a binary file cannot put escape sequences on the
// user's terminal.
#define QUOTE_CAP (64 + 6)
static const char *quote(char out[QUOTE_CAP], const char *s, size_t n) {
    cf_buf b;
    cf_buf_init(&b, out, QUOTE_CAP);
    cf_buf_char(&b, '\'');
    for (size_t i = 0; i < n && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        cf_buf_char(&b, c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
    cf_buf_printf(&b, "%s'", n > 64 ? "..." : "");
    return out;
}

typedef struct parser {
    const char *file;
    cf_buf *errors;
    unsigned problems;
} parser;

// One error line for a problem on `line`: "suppressions file 'F', line N:
// WHAT". Past CF_SUPP_MAX_MESSAGES the problem is only counted.
static void problem(parser *p, unsigned line, const char *fmt, ...) CF_PRINTF_FORMAT(3, 4);
static void problem(parser *p, unsigned line, const char *fmt, ...) {
    p->problems++;
    if (p->problems > CF_SUPP_MAX_MESSAGES)
        return;
    char what[512];
    cf_buf b;
    cf_buf_init(&b, what, sizeof what);
    va_list ap;
    va_start(ap, fmt);
    cf_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cf_log_append(p->errors, CF_LOG_ERROR, "suppressions file '%s', line %u: %s", p->file, line,
                  what);
}

static int parse_kind(const char *s, size_t n) {
    if (n == 1 && s[0] == '*')
        return KIND_ANY;
    for (int k = 0; k < CF_ERR_KIND_COUNT; k++) {
        const char *name = cf_error_kind_name((cf_error_kind)k);
        if (cf_strlen(name) == n && cf_streqn(s, name, n))
            return k;
    }
    return -2;
}

// Parses one line (without its newline). Returns false when the table is
// full, which ends the file.
static bool parse_line(parser *p, unsigned line, const char *s, size_t n) {
    trim(&s, &n);
    if (n == 0 || s[0] == '#')
        return true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0') {
            problem(p, line, "contains a NUL byte (is this a text file?); the line is ignored");
            return true;
        }
    }
    size_t colon = 0;
    while (colon < n && s[colon] != ':')
        colon++;
    char q[QUOTE_CAP];
    if (colon == n) {
        problem(p, line, "expected KIND:PATTERN, found no ':' in %s; the line is ignored",
                quote(q, s, n));
        return true;
    }
    const char *k = s;
    size_t klen = colon;
    const char *pat = s + colon + 1;
    size_t plen = n - colon - 1;
    trim(&k, &klen);
    trim(&pat, &plen);
    int kind = parse_kind(k, klen);
    if (kind == -2) {
        problem(p, line,
                "unknown kind %s (expected alloc-dealloc-mismatch, double-free, invalid-free, "
                "new-delete-size-mismatch, new-delete-alignment-mismatch or *); the line is "
                "ignored",
                quote(q, k, klen));
        return true;
    }
    if (plen == 0) {
        problem(p, line,
                "empty pattern after %s (write KIND:PATTERN; '*' matches everything); the line "
                "is ignored",
                quote(q, k, klen));
        return true;
    }
    if (plen > CF_SUPP_PATTERN_MAX) {
        problem(p, line, "pattern of %zu bytes is longer than the limit of %d; the line is ignored",
                plen, CF_SUPP_PATTERN_MAX);
        return true;
    }
    if (n_rules == CF_SUPP_MAX_RULES) {
        problem(p, line, "more than %d rules; this line and the rest of the file are ignored",
                CF_SUPP_MAX_RULES);
        return false;
    }
    rule *r = &rules[n_rules++];
    r->kind = kind;
    r->line = line;
    r->len = plen;
    r->hits = 0;
    for (size_t i = 0; i < plen; i++)
        r->pattern[i] = pat[i];
    r->pattern[plen] = '\0';
    return true;
}

unsigned cf_suppressions_parse(const char *file, const char *text, size_t len, cf_buf *errors) {
    parser p = {file != NULL ? file : "?", errors, 0};
    unsigned line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        if (!parse_line(&p, line, text + start, i - start))
            break;
        line++;
        start = i + 1;
    }
    if (p.problems > CF_SUPP_MAX_MESSAGES)
        cf_log_append(errors, CF_LOG_ERROR,
                      "suppressions file '%s': %u more problem(s) not shown; those lines are "
                      "ignored too",
                      p.file, p.problems - CF_SUPP_MAX_MESSAGES);
    return p.problems;
}

// ---------------------------------------------------------------------------
// Matching

static bool match_text(const rule *r, const char *text) {
    return text[0] != '\0' && cf_glob_match(r->pattern, r->len, text);
}

// A rule matching `function` (a frame's, or one inlined at its pc) or the
// frame's module.
static rule *match_function(int kind, const char *function, const cf_frame_info *f) {
    // The function in the forms every glob over function names sees.
    cf_function_names names;
    cf_function_names_of(function, &names);
    const char *file_name = cf_path_base(f->module);
    for (unsigned i = 0; i < n_rules; i++) {
        rule *r = &rules[i];
        if (r->kind != KIND_ANY && r->kind != kind)
            continue;
        if (cf_function_names_match(&names, r->pattern, r->len) || match_text(r, f->module) ||
            match_text(r, file_name))
            return r;
    }
    return NULL;
}

// Functions inlined at the pc are frames of the report too, innermost first.
static rule *match_frame(int kind, const cf_frame_info *f) {
    for (unsigned i = 0; i < f->n_inlined; i++) {
        rule *r = match_function(kind, cf_inline_function(f, i), f);
        if (r != NULL)
            return r;
    }
    return match_function(kind, f->function, f);
}

static rule *match_stack(int kind, const uintptr_t *pcs, unsigned n, cf_symbolizer sym) {
    cf_frame_info f;
    for (unsigned i = 0; i < n; i++) {
        cf_frame_resolve(sym, pcs[i], true, &f);
        rule *r = match_frame(kind, &f);
        if (r != NULL)
            return r;
    }
    return NULL;
}

bool cf_suppressions_match(const cf_error *e, cf_symbolizer sym) {
    bool relevant = false;
    for (unsigned i = 0; i < n_rules && !relevant; i++)
        relevant = rules[i].kind == KIND_ANY || rules[i].kind == (int)e->kind;
    if (!relevant)
        return false; // no symbolizing for errors no rule could match
    int kind = (int)e->kind;
    rule *r = match_stack(kind, e->pcs, e->n_pcs, sym);
    const uintptr_t *pcs = NULL;
    if (r == NULL && e->has_alloc) {
        unsigned n = cf_depot_get(e->alloc.stack, &pcs);
        r = match_stack(kind, pcs, n, sym);
    }
    if (r == NULL && e->has_prev_free) {
        unsigned n = cf_depot_get(e->prev_free.free_stack, &pcs);
        r = match_stack(kind, pcs, n, sym);
    }
    if (r == NULL)
        return false;
    r->hits++;
    return true;
}

static const char *rule_kind(const rule *r) {
    return r->kind == KIND_ANY ? "*" : cf_error_kind_name((cf_error_kind)r->kind);
}

void cf_suppressions_log_used(cf_buf *out) {
    for (unsigned i = 0; i < n_rules; i++) {
        const rule *r = &rules[i];
        if (r->hits > 0)
            cf_log_append(out, CF_LOG_NOTE, "  %llu %s:%s (line %u)", (unsigned long long)r->hits,
                          rule_kind(r), r->pattern, r->line);
    }
}

void cf_suppressions_format_used(cf_buf *out, const char *line_prefix) {
    for (unsigned i = 0; i < n_rules; i++) {
        const rule *r = &rules[i];
        if (r->hits > 0)
            cf_buf_printf(out, "%s%llu %s:%s (line %u)\n", line_prefix, (unsigned long long)r->hits,
                          rule_kind(r), r->pattern, r->line);
    }
}
