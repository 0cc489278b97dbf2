// SPDX-License-Identifier: MIT
// Suppression rules: parsing and matching. The table is static and bounded
// (CF_SUPP_MAX_RULES patterns of CF_SUPP_PATTERN_MAX bytes) because it is
// filled inside the first malloc of the process; a file that asks for more
// gets an error message, never an allocation or a crash.
#include "report/suppress.h"

#include "stack/depot.h"
#include "support/fmt.h"
#include "support/glob.h"
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

// Quotes at most 64 bytes of user text, with anything unprintable as '?',
// so a binary file cannot put escape sequences on the user's terminal.
static void quote(cf_buf *b, const char *s, size_t n) {
    cf_buf_char(b, '\'');
    for (size_t i = 0; i < n && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        cf_buf_char(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
    if (n > 64)
        cf_buf_str(b, "...");
    cf_buf_char(b, '\'');
}

typedef struct parser {
    const char *file;
    cf_buf *errors;
    unsigned problems;
} parser;

// Starts the message for a problem on `line`; false once enough messages
// were written (the problem is then only counted).
static bool problem(parser *p, unsigned line) {
    p->problems++;
    if (p->problems > CF_SUPP_MAX_MESSAGES)
        return false;
    cf_buf_str(p->errors, "crossfree: error: suppressions file '");
    cf_buf_str(p->errors, p->file);
    cf_buf_str(p->errors, "', line ");
    cf_buf_dec(p->errors, line);
    cf_buf_str(p->errors, ": ");
    return true;
}

static void ignored(parser *p) { cf_buf_str(p->errors, "; the line is ignored\n"); }

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
            if (problem(p, line)) {
                cf_buf_str(p->errors, "contains a NUL byte (is this a text file?)");
                ignored(p);
            }
            return true;
        }
    }
    size_t colon = 0;
    while (colon < n && s[colon] != ':')
        colon++;
    if (colon == n) {
        if (problem(p, line)) {
            cf_buf_str(p->errors, "expected KIND:PATTERN, found no ':' in ");
            quote(p->errors, s, n);
            ignored(p);
        }
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
        if (problem(p, line)) {
            cf_buf_str(p->errors, "unknown kind ");
            quote(p->errors, k, klen);
            cf_buf_str(p->errors, " (expected alloc-dealloc-mismatch, double-free, invalid-free "
                                  "or *)");
            ignored(p);
        }
        return true;
    }
    if (plen == 0) {
        if (problem(p, line)) {
            cf_buf_str(p->errors, "empty pattern after ");
            quote(p->errors, k, klen);
            cf_buf_str(p->errors, " (write KIND:PATTERN; '*' matches everything)");
            ignored(p);
        }
        return true;
    }
    if (plen > CF_SUPP_PATTERN_MAX) {
        if (problem(p, line)) {
            cf_buf_str(p->errors, "pattern of ");
            cf_buf_dec(p->errors, plen);
            cf_buf_str(p->errors, " bytes is longer than the limit of ");
            cf_buf_dec(p->errors, CF_SUPP_PATTERN_MAX);
            ignored(p);
        }
        return true;
    }
    if (n_rules == CF_SUPP_MAX_RULES) {
        if (problem(p, line)) {
            cf_buf_str(p->errors, "more than ");
            cf_buf_dec(p->errors, CF_SUPP_MAX_RULES);
            cf_buf_str(p->errors, " rules; this line and the rest of the file are ignored\n");
        }
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
    if (p.problems > CF_SUPP_MAX_MESSAGES) {
        cf_buf_str(errors, "crossfree: error: suppressions file '");
        cf_buf_str(errors, p.file);
        cf_buf_str(errors, "': ");
        cf_buf_dec(errors, p.problems - CF_SUPP_MAX_MESSAGES);
        cf_buf_str(errors, " more problem(s) not shown; those lines are ignored too\n");
    }
    return p.problems;
}

// ---------------------------------------------------------------------------
// Matching

static bool match_text(const rule *r, const char *text) {
    return text[0] != '\0' && cf_glob_match(r->pattern, r->len, text);
}

static rule *match_frame(int kind, const cf_frame_info *f) {
    // The function in the forms every glob over function names sees.
    cf_function_names names;
    cf_function_names_of(f->function, &names);
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

void cf_suppressions_format_used(cf_buf *out, const char *line_prefix) {
    for (unsigned i = 0; i < n_rules; i++) {
        const rule *r = &rules[i];
        if (r->hits == 0)
            continue;
        cf_buf_str(out, line_prefix);
        cf_buf_dec(out, r->hits);
        cf_buf_char(out, ' ');
        cf_buf_str(out, r->kind == KIND_ANY ? "*" : cf_error_kind_name((cf_error_kind)r->kind));
        cf_buf_char(out, ':');
        cf_buf_str(out, r->pattern);
        cf_buf_str(out, " (line ");
        cf_buf_dec(out, r->line);
        cf_buf_str(out, ")\n");
    }
}
