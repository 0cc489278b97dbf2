// SPDX-License-Identifier: MIT
// The three forms of a function name (support/names.h). Demangled C++ is
// read with a depth count over <>, (), [] and {}, so the spaces, colons and
// parentheses inside template arguments, lambdas and "(anonymous
// namespace)" are never taken for the ones that separate a return type,
// a scope or a parameter list; an operator's own symbols ("operator<<",
// "operator()") are never counted at all.
#include "support/names.h"

#include "support/fmt.h"
#include "support/glob.h"

static bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Whether the keyword "operator" starts at s[i] (not "cooperator" nor
// "operators"). What follows it, up to the parameter list, is the
// operator's name: "operator new[]", "operator<<", "operator bool".
static bool operator_at(const char *s, size_t i, size_t n) {
    if (n - i < 8 || !cf_streqn(s + i, "operator", 8))
        return false;
    return (i == 0 || !is_ident(s[i - 1])) && (n - i == 8 || !is_ident(s[i + 8]));
}

static int depth_change(char c) {
    if (c == '<' || c == '(' || c == '[' || c == '{')
        return 1;
    if (c == '>' || c == ')' || c == ']' || c == '}')
        return -1;
    return 0;
}

// ---------------------------------------------------------------------------
// Mangled names

// The plain qualified name of a mangled one: nested names of source names
// only ("_ZN2ns4Pool5allocEm" -> "ns::Pool::alloc", "_ZL9dart_freePv" ->
// "dart_free", "_ZNSt6vector..." -> "std::vector..."). False for
// templates, constructors, operators and anything else.
static bool unmangle(const char *m, cf_buf *b) {
    if (m[0] != '_' || m[1] != 'Z')
        return false;
    const char *p = m + 2;
    if (*p == 'L')
        p++; // internal linkage
    bool nested = *p == 'N';
    if (nested) {
        p++;
        while (*p == 'K' || *p == 'V' || *p == 'r' || *p == 'R' || *p == 'O' || *p == 'L')
            p++; // qualifiers of the method, which the name does not show
    }
    if (p[0] == 'S' && p[1] == 't') {
        cf_buf_str(b, "std");
        p += 2;
    }
    while (*p >= '0' && *p <= '9') {
        size_t len = 0;
        while (*p >= '0' && *p <= '9' && len < CF_NAME_MAX)
            len = len * 10 + (size_t)(*p++ - '0');
        size_t avail = 0;
        while (avail < len && p[avail] != '\0')
            avail++;
        if (len == 0 || avail < len)
            return false;
        if (b->len > 0)
            cf_buf_str(b, "::");
        if (len >= 10 && cf_streqn(p, "_GLOBAL__N", 10))
            cf_buf_str(b, "(anonymous namespace)");
        else
            cf_buf_strn(b, p, len);
        p += len;
        if (!nested)
            break;
    }
    if (b->len == 0 || b->truncated)
        return false;
    return nested ? *p == 'E' : *p != 'I';
}

// ---------------------------------------------------------------------------
// Demangled names

static bool ends_with(const char *s, size_t n, const char *suffix) {
    size_t k = cf_strlen(suffix);
    return n >= k && cf_streqn(s + n - k, suffix, k);
}

// Length of `s` without its clone suffix, qualifiers and parameter list;
// *has_list says whether it had a parameter list (a C++ function).
static size_t without_parameters(const char *s, size_t n, bool *has_list) {
    for (size_t i = 0; i + 8 <= n; i++) {
        if (cf_streqn(s + i, " [clone ", 8)) {
            n = i;
            break;
        }
    }
    *has_list = false;
    for (size_t i = 0; i < n && !*has_list; i++)
        *has_list = s[i] == '(';
    if (!*has_list) {
        // A C name with a clone suffix: "dart_malloc.constprop.0",
        // "dart_free.cold". Other names (a JIT's "LazyCompile:*f x.js")
        // stay whole.
        size_t i = 0;
        while (i < n && is_ident(s[i]))
            i++;
        return i > 0 && i < n && s[i] == '.' ? i : n;
    }
    static const char *const quals[] = {" const", " volatile", " &&", " &", " noexcept"};
    for (bool more = true; more;) {
        more = false;
        for (size_t i = 0; i < sizeof quals / sizeof quals[0]; i++) {
            if (ends_with(s, n, quals[i])) {
                n -= cf_strlen(quals[i]);
                more = true;
            }
        }
    }
    if (n == 0 || s[n - 1] != ')')
        return n;
    // The parameter list is the last balanced (...) group; the name before
    // it may hold parentheses of its own.
    int depth = 0;
    for (size_t i = n; i > 0; i--) {
        if (s[i - 1] == ')') {
            depth++;
        } else if (s[i - 1] == '(' && --depth == 0) {
            return i - 1 > 0 ? i - 1 : n;
        }
    }
    return n; // unbalanced: keep it
}

// Where the name starts after its return type ("void ns::f<int>" ->
// "ns::f<int>"): past the last space outside any brackets, before an
// operator keyword.
static size_t after_return_type(const char *s, size_t n) {
    size_t start = 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (operator_at(s, i, n))
            break;
        int d = depth_change(s[i]);
        if (d != 0)
            depth = depth + d < 0 ? 0 : depth + d;
        else if (s[i] == ' ' && depth == 0)
            start = i + 1;
    }
    return start;
}

// The last scope component: what follows the last "::" outside brackets
// (not one that opens Rust's generic arguments, "drop_in_place::<T>").
static const char *last_component(const char *s) {
    size_t n = cf_strlen(s);
    const char *u = s;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (operator_at(s, i, n))
            break;
        int d = depth_change(s[i]);
        if (d != 0) {
            depth = depth + d < 0 ? 0 : depth + d;
        } else if (depth == 0 && s[i] == ':' && s[i + 1] == ':' && s[i + 2] != '<') {
            // Rust's "f::<T>" keeps its arguments, as C++'s "f<T>" does.
            u = s + i + 2;
            i++;
        }
    }
    return u;
}

void cf_function_names_of(const char *function, cf_function_names *out) {
    const char *s = function != NULL ? function : "";
    out->given = s;
    cf_buf b;
    cf_buf_init(&b, out->qualified, sizeof out->qualified);
    if (!unmangle(s, &b)) {
        bool has_list;
        size_t n = without_parameters(s, cf_strlen(s), &has_list);
        size_t start = has_list ? after_return_type(s, n) : 0;
        cf_buf_init(&b, out->qualified, sizeof out->qualified);
        cf_buf_strn(&b, s + start, n - start);
    }
    out->unqualified = last_component(out->qualified);
}

static bool match_form(const char *pat, size_t len, const char *text) {
    return text[0] != '\0' && cf_glob_match(pat, len, text);
}

bool cf_function_names_match(const cf_function_names *names, const char *pat, size_t len) {
    return match_form(pat, len, names->given) || match_form(pat, len, names->qualified) ||
           match_form(pat, len, names->unqualified);
}
